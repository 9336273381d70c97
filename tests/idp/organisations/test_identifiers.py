"""Seed 002's identifier rule: any name gives a valid identifier, unique among those taken."""

from hypothesis import given, settings
from hypothesis import strategies as st

from idp.services.identifiers import (
    MAX_LENGTH,
    base_identifier,
    is_valid_identifier,
    make_identifier,
)


def test_seed_example():
    assert base_identifier("Frédéric", "DUPONT DURAND") == "frederic-dupont-dura"


def test_accents_apostrophes_and_hyphens():
    assert base_identifier("Éloïse", "D'Aubigné-Lefèvre") == "eloise-d-aubigne-lef"
    assert base_identifier("Zoë", "Ørsted") == "zoe-orsted"
    assert base_identifier("  Jean  ", "  LE   GOFF ") == "jean-le-goff"


def test_name_without_latin_letters_falls_back():
    assert base_identifier("李", "小龍") == "utilisateur"


def test_cut_never_ends_with_a_hyphen():
    # 'abcdefghijklmnopqrs' is 19 letters: the 20th character would be the separator.
    assert base_identifier("abcdefghijklmnopqrs", "tuv") == "abcdefghijklmnopqrs"


def test_taken_identifiers_get_a_suffix_within_twenty_characters():
    taken = {"frederic-dupont-dura", "frederic-dupont-du-2"}
    result = make_identifier("Frédéric", "DUPONT DURAND", taken.__contains__)
    assert result == "frederic-dupont-du-3"
    assert len(result) <= MAX_LENGTH


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60), st.text(max_size=60))
def test_any_unicode_name_gives_a_valid_identifier(given_name, family_name):
    identifier = base_identifier(given_name, family_name)
    assert is_valid_identifier(identifier), identifier
    assert len(identifier) <= MAX_LENGTH


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=30), st.text(max_size=30)), min_size=1, max_size=40))
def test_identifiers_are_unique_among_many_registrations(names):
    taken: set[str] = set()
    for given_name, family_name in names:
        identifier = make_identifier(given_name, family_name, taken.__contains__)
        assert is_valid_identifier(identifier)
        assert identifier not in taken
        taken.add(identifier)
