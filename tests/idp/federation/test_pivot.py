"""The pivot identity: mapping upstream claims, and the linking key (never the email)."""

from __future__ import annotations

import pytest

from idp.upstream.pivot import PivotIdentityError, map_claims, normalise_name

BASE = {"given_name": "Jean-Éric", "family_name": "D'Arcy", "birthdate": "1975-11-30", "gender": "male",
        "birthplace": "13055", "birthcountry": "99100", "email": "je@example.fr", "email_verified": True,
        "phone_number": "+33600000000", "address": {"country": "FR"}}


def test_only_pivot_fields_are_kept():
    identity = map_claims(BASE)
    assert set(identity.claims()) == {"given_name", "family_name", "birthdate", "gender", "birthplace",
                                      "birthcountry", "email", "email_verified"}


def test_same_person_spelt_differently_has_the_same_key():
    other = dict(BASE, given_name="JEAN ERIC", family_name="d arcy", email="other@example.org")
    assert map_claims(BASE).linking_key() == map_claims(other).linking_key()


@pytest.mark.parametrize("field,value", [("birthdate", "1975-11-29"), ("gender", "female"),
                                         ("birthplace", "75056"), ("given_name", "Jean")])
def test_another_person_has_another_key(field, value):
    assert map_claims(BASE).linking_key() != map_claims(dict(BASE, **{field: value})).linking_key()


def test_email_is_not_part_of_the_key():
    assert map_claims(BASE).linking_key() == map_claims(dict(BASE, email="x@y.z")).linking_key()


def test_declarative_mapping_reaches_other_claim_names():
    upstream = {"prenoms": "Lucie", "nom": "Bernard", "date_naissance": "1990-05-03", "sexe": "female",
                "lieu": {"pays": "99134"}}
    identity = map_claims(upstream, {"given_name": "prenoms", "family_name": "nom", "birthdate": "date_naissance",
                                     "gender": "sexe", "birthcountry": "lieu.pays"})
    assert (identity.given_name, identity.birthcountry, identity.birthplace, identity.email) == \
        ("Lucie", "99134", "", None)


def test_incomplete_identity_is_refused():
    with pytest.raises(PivotIdentityError) as error:
        map_claims({k: v for k, v in BASE.items() if k not in ("birthdate", "gender")})
    assert error.value.missing == ["birthdate", "gender"]
    with pytest.raises(PivotIdentityError):  # born in France without a birthplace
        map_claims(dict(BASE, birthplace=""))


def test_normalise_name():
    assert normalise_name("  Jean-Éric  D’Arcy ") == "jean eric d arcy"
