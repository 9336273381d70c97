"""Outside walk: a person who registered in English found their account page in French (the IdP
had no choice of theirs recorded, and no relying party asked for a language on that page)."""

from __future__ import annotations

import secrets

from tests.idp.helpers import make_user
from tests.idp.lifecycle.test_second_factor import GOOD, signed_in


def test_the_account_pages_speak_the_accounts_language_unless_the_switch_says_otherwise(idp):
    email = f"english-{secrets.token_hex(4)}@example.org"
    make_user(idp.app, email, GOOD, locale="en")
    http = signed_in(idp, email)
    assert "<h1>My account</h1>" in http.get(f"{idp.url}/account").text
    assert "Confirm it is you" in http.get(f"{idp.url}/account/totp").text
    http.get(f"{idp.url}/lang/fr?next=/account")  # the switch, a choice made here, wins
    assert "<h1>Mon compte</h1>" in http.get(f"{idp.url}/account").text
