"""Per-client branding at the IdP (issues 20 and 16 §12): the sign-in and provider-choice pages a
person reaches from a portal carry that portal's name, logo, colour and help and terms links, as the
operators registered them (config/clients.toml); from no portal or an unknown one, the IdP's own
neutral name. Nothing a request says changes the brand."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from idp.services import branding
from tests.idp.helpers import make_client, pkce, start_idp

REDIRECT = "https://portal.example/callback"


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    server = start_idp(f"sqlite:///{tmp_path_factory.mktemp('branding')}/idp.db")
    for client_id, name, policy in (("ecomms", "ECHR eComms", {}),
                                    ("justice", "Justice – espace personnel",
                                     {"require_federation": True, "default_acr": "eidas1"}),
                                    ("eservices", "Portail e-services des organisations", {}),
                                    ("unbranded", "Test RP sans marque", {})):
        make_client(server.app, [REDIRECT], client_id=client_id, name=name, policy=policy, first_party=True,
                    scope="openid profile")
    yield server
    server.stop()


def page_from(idp, client_id: str, language: str = "fr"):
    """The first IdP page a portal's authorization request lands on, in the person's language."""
    client = idp.app.test_client()
    client.get(f"/lang/{language}?next=/")
    _verifier, challenge = pkce()
    query = urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
                       "scope": "openid profile", "state": "s", "nonce": "n", "code_challenge": challenge,
                       "code_challenge_method": "S256"})
    response = client.get(f"/authorize?{query}", follow_redirects=True)
    response.browser = client
    return response, response.get_data(as_text=True)


def header_name(html: str) -> str:
    return re.sub(r"<[^>]+>", "", re.search(r'<p class="site-name">(.*?)</p>', html, re.S).group(1)).strip()


def title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_sign_in_page_carries_the_name_and_look_of_the_portal_that_sent_the_person(idp, language):
    for client_id, name, account in (("ecomms", "ECHR eComms", "ECHR Services"),
                                     ("eservices", "Portail e-services des organisations", "e-services")):
        response, html = page_from(idp, client_id, language)
        assert response.status_code == 200 and response.request.path.startswith("/interaction/")
        assert header_name(html) == name and title(html).endswith(f"– {name}")
        assert f"<h1>{name}</h1>" in html
        assert f"/branding/{client_id}.css" in html and f"branding/{client_id.replace('ecomms', 'echr')}.svg" in html
        assert account in html
        assert "Civic ID" in html  # the footer says who holds the password: the IdP, by its own name
    _response, html = page_from(idp, "eservices", language)
    assert "ECHR" not in html  # e-services is not the Court's


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_provider_choice_reached_from_the_justice_space_is_the_justice_spaces(idp, language):
    response, html = page_from(idp, "justice", language)
    assert response.request.path.endswith("/providers")  # FranceConnect-style choice: the way in
    assert header_name(html) == "Justice – espace personnel"
    assert "ECHR" not in html  # issue 16 §12: not "ECHR Services"
    assert "/branding/justice.css" in html and "branding/justice.svg" in html
    assert 'class="providers"' in html
    assert "http://localhost:8002/help" in html or "/help" in html  # the justice space's help link


def test_a_client_without_branding_keeps_its_registered_name_and_the_neutral_look(idp):
    _response, html = page_from(idp, "unbranded")
    assert header_name(html) == "Test RP sans marque"
    assert "/branding/neutral.css" in html and "ECHR" not in html


@pytest.mark.parametrize("language", ["fr", "en"])
def test_no_client_or_an_unknown_one_gets_the_idps_neutral_name(idp, language):
    client = idp.app.test_client()
    client.get(f"/lang/{language}?next=/")
    html = client.get("/signin", follow_redirects=True).get_data(as_text=True)  # the IdP's own sign-in
    assert header_name(html) == "Civic ID" and "<h1>Civic ID</h1>" in html and "ECHR" not in html
    html = client.get("/account/nothing-here").get_data(as_text=True)
    assert header_name(html) == "Civic ID"
    response, html = page_from(idp, "not-registered", language)  # an unknown client: an error page
    assert response.status_code == 400 and header_name(html) == "Civic ID" and "ECHR" not in html
    # a made-up interaction in a link brands nothing
    html = client.get("/registration?interaction=made-up").get_data(as_text=True)
    assert header_name(html) == "Civic ID"


def test_the_registration_reached_from_a_portal_keeps_its_brand(idp):
    response, _html = page_from(idp, "ecomms")
    uid = response.request.path.split("/")[2]
    for path in (f"/registration?interaction={uid}", f"/recovery?interaction={uid}"):
        assert header_name(response.browser.get(path).get_data(as_text=True)) == "ECHR eComms"
    # the same link in another browser brands nothing: interactions are bound to their browser
    assert header_name(idp.app.test_client().get(f"/registration?interaction={uid}").get_data(as_text=True)) == "Civic ID"


@pytest.mark.parametrize("path", ["/organisations/inscription", "/organisations/confirmation"])
def test_the_organisations_pages_are_the_organisations_portals(idp, path):
    """Seed 002: registering an organisation, entering the legal representative's codes and the
    administration pages are the e-services portal's, even opened from an email or a bookmark
    (config/idp.toml [organisations] portal_client)."""
    response = idp.app.test_client().get(path, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert header_name(html) == "Portail e-services des organisations", (path, response.request.path)
    assert "/branding/eservices.css" in html and "branding/eservices.svg" in html


def test_brand_stylesheets_exist_only_for_configured_brands(idp):
    client = idp.app.test_client()
    css = client.get("/branding/justice.css")
    assert css.status_code == 200 and css.mimetype == "text/css" and "--brand: #000091" in css.get_data(as_text=True)
    assert client.get("/branding/neutral.css").status_code == 200
    assert client.get("/branding/unbranded.css").status_code == 404  # no lookup by a URL's word


def test_a_brand_colour_that_white_text_cannot_be_read_on_is_refused():
    assert branding.check_colour("#000091", "t") == "#000091"
    with pytest.raises(ValueError, match="contrast"):
        branding.check_colour("#ffd617", "t")  # yellow: 1.4:1 on white
    with pytest.raises(ValueError, match="rrggbb"):
        branding.check_colour("red; background: url(x)", "t")  # never copied into CSS unchecked


def test_a_brand_label_outside_the_known_wordings_is_refused():
    """An operator chooses a button's words only among the catalogued ones (the seeds' and the
    IdP's): anything else stops the start, as a bad colour does."""
    with pytest.raises(ValueError, match="label reset_button"):
        branding._check_labels({"reset_button": "Cliquez ici pour vérifier"}, "branding of x")
    with pytest.raises(ValueError, match="label nothing"):
        branding._check_labels({"nothing": "Continuer"}, "branding of x")
    with pytest.raises(ValueError, match="local_time"):
        branding._check_local_time("Europe/Paris", "branding of x")
    assert branding._check_labels({"reset_button": "Reset password"}, "x") == (("reset_button", "Reset password"),)


def test_every_wording_a_brand_may_choose_is_translated():
    """The words a brand chooses are rendered through gettext from a table (idp.services.branding),
    which the catalogue test's extraction cannot see: each must have its English here."""
    from tests.test_catalogues import REPO, translated

    english = translated(REPO / "idp")
    wordings = {text for choices in branding.LABELS.values() for text in choices} | set(branding.LOCAL_TIMES.values())
    assert not sorted(wordings - english)
