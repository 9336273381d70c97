"""Hypothesis on the parsers and rules people's input goes through: password rules, file names,
application numbers, phone numbers."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idp.services.passwords import common_passwords, unmet_rules
from portals.ecomms.models import Application
from portals.ecomms.services import NUMBER_RE, Refused, check_file_name
from portals.justice import services as justice

FAST = settings(max_examples=300, deadline=None)


@FAST
@given(st.text())
def test_password_rules_are_exactly_the_seed_rules(password):
    unmet = set(unmet_rules(password))
    assert ("min_length" in unmet) == (len(password) < 8)
    assert ("digit" in unmet) == (not any(c.isdigit() for c in password))
    assert ("lowercase" in unmet) == (not any(c.islower() for c in password))
    assert ("uppercase" in unmet) == (not any(c.isupper() for c in password))
    assert ("not_common" in unmet) == (password.lower() in common_passwords())


@FAST
@given(st.text(max_size=300))
def test_file_names_are_ascii_without_path_or_control_or_refused(name):
    try:
        accepted = check_file_name(name)
    except Refused as refusal:
        assert refusal.code in {"no_file", "path_in_name", "not_ascii", "name_too_long", "not_pdf_name"}
        return
    assert accepted.isascii() and "/" not in accepted and "\\" not in accepted
    assert accepted.lower().endswith(".pdf")  # the Court's documents are PDFs, named as such
    assert not any(ord(c) < 32 or ord(c) == 127 for c in accepted) and 0 < len(accepted) <= 200


@FAST
@given(st.text(max_size=12))
def test_application_numbers_and_their_file_prefix(number):
    if NUMBER_RE.match(number):
        prefix = Application(number=number).file_prefix
        assert "/" not in prefix and re.fullmatch(r"[1-9]\d{0,6}-\d{2}", prefix)
    else:
        assert not re.fullmatch(r"[1-9]\d{0,6}/\d{2}", number)


@FAST
@given(st.builds(lambda prefix, rest: prefix + rest,
                 st.sampled_from(["061", "062", "063", "064", "065", "066", "067", "068", "075", "076", "077", "078"]),
                 st.from_regex(r"[0-9]{7}", fullmatch=True)))
def test_french_mobiles_normalise_and_mask_to_the_last_two_digits(national):
    import phonenumbers
    from hypothesis import assume

    assume(phonenumbers.is_valid_number(phonenumbers.parse(national, "FR")))  # the plan has unassigned blocks
    e164 = justice.normalise_phone(national)
    assert e164 == "+33" + national[1:]
    masked = justice.masked_phone(e164)
    digits = [c for c in masked if c.isdigit()]
    assert digits == list(national[-2:]) and national[:-2] not in masked.replace(" ", "")


@FAST
@given(st.text(max_size=20))
def test_any_phone_input_is_normalised_or_refused(raw):
    try:
        e164 = justice.normalise_phone(raw)
    except justice.Refused as refusal:
        assert refusal.code == "phone"
        return
    assert e164 is None or re.fullmatch(r"\+\d{8,15}", e164)


@pytest.mark.parametrize("raw", ["12", "abc", "+33 1", "06 12"])
def test_impossible_phone_numbers_are_refused(raw):
    with pytest.raises(justice.Refused):
        justice.normalise_phone(raw)
