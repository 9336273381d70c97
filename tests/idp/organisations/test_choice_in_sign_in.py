"""The organisation a person with several chooses at sign-in is a post-login step: the
authorization's resume URL, typed before the choice, sends the browser to the choice, never
past it to the code (docs/threat-model.md, S10)."""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit

from idp.services import accounts
from tests.idp.helpers import make_client, pkce

REDIRECT = "http://rp.example/callback"
PASSWORD = "Correct-Horse-1"


def form_token(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def walk(browser, response):
    while response.status_code in (301, 302, 303) and not response.location.startswith(REDIRECT):
        response = browser.get(response.location)
    return response


def test_the_resume_url_does_not_skip_the_organisation_choice(app, world):
    client_id, _ = make_client(app, [REDIRECT], scope="openid organisation", first_party=True)
    with app.app_context():
        accounts.set_password(world["claire"], PASSWORD)
    browser = app.test_client()
    _verifier, challenge = pkce()
    page = walk(browser, browser.get("/authorize?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "scope": "openid organisation",
        "state": "s", "code_challenge": challenge, "code_challenge_method": "S256"})))
    uid = urlsplit(page.request.url).path.split("/")[2]
    page = walk(browser, browser.post(f"/interaction/{uid}", data={"csrf_token": form_token(page),
                                                                    "identifier": "claire@example.org"}))
    choice = walk(browser, browser.post(f"/interaction/{uid}/password", data={"csrf_token": form_token(page),
                                                                              "password": PASSWORD}))
    assert choice.status_code == 200 and choice.request.path == "/organisations/choix"

    typed = walk(browser, browser.get(f"/authorize/resume/{uid}"))
    assert typed.status_code == 200 and typed.request.path == "/organisations/choix", "no code before the choice"

    done = walk(browser, browser.post("/organisations/choix", data={
        "csrf_token": form_token(choice), "organisation_id": world["town"], "interaction": uid}))
    assert done.status_code == 302 and "code=" in done.location
