"""Finding 7 of the OpenID Provider review: any standards-compliant OP works as an upstream, for the
portals that need no FranceConnect pivot; the justice space still gets only the pivot.

The upstream here is real third-party software: node-oidc-provider configured as an ordinary OP
(``nodestd``: standard OIDC claims only, no ``birth`` scope, no ``acr`` in its ID tokens, a client
secret full of reserved characters checked with ``client_secret_basic``), and the FranceConnect-
claims node-oidc-provider declared once as trusted (``nodeop``) and once as not (``nodeop_untrusted``).
Runs on SQLite + fakeredis and on PostgreSQL + real Redis.
"""

from __future__ import annotations

import pytest
import requests

from idp.upstream.base import UpstreamError, new_transaction
from idp.upstream.oidc import OIDCUpstream, UpstreamConfig, basic_credentials

from .helpers import (
    REDIRECT,
    RESERVED_SECRET,
    Browser,
    authorize_url,
    federated_sign_in,
    forms,
    query,
)


def no_nulls_nor_empties(claims: dict) -> None:
    """OIDC Core §5.3.2: a claim without a value is omitted, never null nor empty."""
    assert not [name for name, value in claims.items() if value in (None, "", [])], claims


def test_a_standard_upstream_signs_in_at_a_portal_that_needs_no_pivot(fed):
    """eComms and e-services accept any upstream's standard claims (finding 7: it was refused for
    lacking FranceConnect's birthcountry)."""
    result = federated_sign_in(fed, "nodestd", "marc.leroy", "Node-Op-Pass-2", client=fed["standard_client"])
    info, id_claims = result["userinfo"], result["id"]
    assert info["given_name"] == "Marc" and info["family_name"] == "Leroy"
    assert info["email"] == "marc.leroy@node-op.example" and info["email_verified"] is True
    assert "fed" in id_claims["amr"]
    # what the provider did not give is absent, never null or empty (finding 8), in both documents
    for claims in (info, id_claims):
        no_nulls_nor_empties(claims)
        assert not {"birthdate", "gender", "birthplace", "birthcountry", "locale", "preferred_username"} & set(claims)
        assert "federation.invalid" not in str(claims)


def test_an_upstream_that_states_no_acr_gets_its_declared_default_level(fed):
    """nodestd's ID tokens carry no acr; it is declared default_acr = eidas1: a level request for
    eidas1 succeeds with that level, instead of failing for no reason."""
    result = federated_sign_in(fed, "nodestd", "angela.dubois", "Node-Op-Pass-1", acr_values="eidas1",
                               client=fed["standard_client"])
    assert result["id"]["acr"] == "eidas1"
    # a level above what it is declared for is not offered at all
    browser = Browser()
    url, _, _ = authorize_url(fed, "eidas2", fed["standard_client"])
    choice = browser.get(url)
    assert "/providers" in choice.url and "standard-op" not in choice.text


def test_the_justice_space_is_offered_only_pivot_providers_and_refuses_a_forged_choice(fed):
    browser = Browser()
    choice = browser.get(authorize_url(fed)[0])
    assert "/providers" in choice.url
    assert "Se connecter avec impots" in choice.text and "standard-op" not in choice.text
    assert "untrusted-op" not in choice.text
    uid = choice.url.split("/interaction/")[1].split("/")[0]
    csrf = forms(choice.text)[-1]["fields"]["csrf_token"]
    for provider in ("nodestd", "nodeop_untrusted"):
        forged = browser.http.post(f"{fed['idp'].url}/federation/{provider}/start", data={"uid": uid, "csrf_token": csrf},
                                   allow_redirects=False)
        assert forged.status_code == 400 and "n'est pas proposé pour ce service" in forged.text.replace("&#39;", "'")


def test_a_standard_sign_in_does_not_open_the_justice_space(fed):
    """Single sign-on never turns a standard provider's sign-in into the pivot identity justice needs."""
    result = federated_sign_in(fed, "nodestd", "marc.leroy", "Node-Op-Pass-2", client=fed["standard_client"])
    browser = result["browser"]
    silent, params, _ = authorize_url(fed, prompt="none")
    answer = browser.get(silent, allow_redirects=False)
    assert answer.status_code in (302, 303)
    back = query(answer.headers["Location"])
    assert back.get("error") == "login_required" and "code" not in back and back["state"] == params["state"]
    interactive = browser.get(authorize_url(fed)[0])
    assert "/providers" in interactive.url and "standard-op" not in interactive.text
    # a pivot provider's sign-in in the same browser then opens it
    justice = federated_sign_in(fed, "impots", "1234567890123", "Sandbox-Impots-1", browser=browser)
    assert justice["userinfo"]["birthcountry"] == "99100"


def test_an_upstream_nobody_vouches_for_cannot_sign_in_as_a_pivot_person(fed):
    """Threat: an upstream asserting a pivot identity for someone else. The very same node-oidc-provider
    sends Angela's FranceConnect claims; declared trusted it reaches her account, declared standard it
    gets an account of its own, without her birth place or country, and never hers."""
    angela = federated_sign_in(fed, "impots", "1234567890123", "Sandbox-Impots-1", client=fed["standard_client"])
    trusted = federated_sign_in(fed, "nodeop", "angela.dubois", "Node-Op-Pass-1", client=fed["standard_client"])
    assert trusted["id"]["sub"] == angela["id"]["sub"]
    untrusted = federated_sign_in(fed, "nodeop_untrusted", "angela.dubois", "Node-Op-Pass-1",
                                  client=fed["standard_client"])
    assert untrusted["id"]["sub"] != angela["id"]["sub"]
    assert not {"birthplace", "birthcountry"} & set(untrusted["userinfo"])
    assert untrusted["userinfo"]["birthdate"] == "1962-08-24"  # a standard claim, passed on as the OP said


def test_client_secret_basic_form_urlencodes_a_secret_with_reserved_characters(fed):
    """RFC 6749 §2.3.1 against node-oidc-provider itself, which decodes as the RFC says. Our upstream
    client presents a bad code with RESERVED_SECRET: node-oidc-provider authenticates it and refuses
    only the code (invalid_grant); the same secret sent unencoded is not the client (invalid_client)."""
    upstream = OIDCUpstream(UpstreamConfig(key="nodestd", issuer=fed["nodestd"], client_id="civic-idp",
                                           client_secret=RESERVED_SECRET, display_name="standard-op"))
    with pytest.raises(UpstreamError) as refused:
        upstream.exchange_code("not-a-code", new_transaction("nodestd", REDIRECT, None))
    assert refused.value.detail == "token endpoint: invalid_grant"
    raw = requests.post(upstream.discovery()["token_endpoint"], auth=("civic-idp", RESERVED_SECRET), data={
        "grant_type": "authorization_code", "code": "not-a-code", "redirect_uri": REDIRECT})
    assert raw.status_code == 401 and raw.json()["error"] == "invalid_client"
    assert basic_credentials("a b", "x:y+%") == ("a+b", "x%3Ay%2B%25")


def test_null_claims_are_omitted_for_every_federated_account(fed):
    """Finding 8: ID token and userinfo of federated accounts carry no null (locale, preferred_username,
    email of an identity without one) — pivot and standard providers alike."""
    for provider, login, password in (("impots", "1234567890123", "Sandbox-Impots-1"),
                                      ("nodestd", "angela.dubois", "Node-Op-Pass-1")):
        result = federated_sign_in(fed, provider, login, password, client=fed["standard_client"])
        for claims in (result["userinfo"], result["id"]):
            no_nulls_nor_empties(claims)
            assert "locale" not in claims and "preferred_username" not in claims
