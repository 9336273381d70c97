"""response_mode=form_post (OAuth 2.0 Form Post Response Mode): the code reaches the client in a
POST body, never in a URL. In Chromium the IdP's page submits itself to the relying party's
callback; an error (consent refused) goes the same way."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
import requests
from flask import Flask, request

from tests.idp.helpers import (
    exchange_code_for_tests,
    follow_until_redirect_to,
    make_client,
    make_user,
    pkce,
    start_idp,
    submit_sign_in,
)
from tests.servers import LiveServer, free_port

EMAIL, PASSWORD = "formpost@example.org", "Correct-Horse-1"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    idp = start_idp(f"sqlite:///{tmp_path_factory.mktemp('formpost') / 'idp.db'}", raw={"outbox": {"manual": True}})
    make_user(idp.app, EMAIL, PASSWORD)
    received: list[dict] = []
    rp = Flask("rp")

    @rp.post("/callback")
    def callback():
        received.append({"method": request.method, "form": dict(request.form), "query": dict(request.args)})
        return "<!doctype html><title>RP</title><p id=done>received</p>"

    rp_server = LiveServer(rp, free_port()).start()
    client = make_client(idp.app, [f"{rp_server.url}/callback"], scope="openid", first_party=True)
    yield idp, rp_server, client, received
    rp_server.stop()
    idp.stop()


class Form(HTMLParser):
    def __init__(self):
        super().__init__()
        self.action, self.fields = None, {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.action = attributes.get("action")
        if tag == "input" and attributes.get("type") == "hidden":
            self.fields[attributes["name"]] = attributes["value"]


def authorize_params(rp_server, client_id: str, challenge: str) -> dict:
    return {"response_type": "code", "client_id": client_id, "redirect_uri": f"{rp_server.url}/callback",
            "scope": "openid", "state": "st", "code_challenge": challenge, "code_challenge_method": "S256",
            "response_mode": "form_post"}


def test_the_code_comes_in_a_form_post(setup):
    idp, rp_server, (client_id, secret), _received = setup
    verifier, challenge = pkce()
    http = requests.Session()
    page = follow_until_redirect_to(http, http.get(f"{idp.url}/authorize?" + urlencode(
        authorize_params(rp_server, client_id, challenge)), allow_redirects=False), rp_server.url)
    answer = follow_until_redirect_to(http, submit_sign_in(http, page, EMAIL, PASSWORD), rp_server.url)
    assert answer.status_code == 200 and "Location" not in answer.headers
    form = Form()
    form.feed(answer.text)
    assert form.action == f"{rp_server.url}/callback"
    assert form.fields["state"] == "st" and form.fields["iss"] == idp.url
    assert exchange_code_for_tests(idp.url, client_id, secret, form.fields["code"], verifier,
                                   f"{rp_server.url}/callback")["id_token"]
    assert answer.headers["Cache-Control"] == "no-store"


@pytest.mark.browser
def test_in_chromium_the_page_posts_itself_to_the_client(setup, chromium):
    idp, rp_server, (client_id, _secret), received = setup
    _verifier, challenge = pkce()
    context = chromium.new_context()
    page = context.new_page()
    page.goto(f"{idp.url}/authorize?" + urlencode(authorize_params(rp_server, client_id, challenge)))
    page.locator("input[name=identifier]").fill(EMAIL)
    page.get_by_role("button", name="Continuer").click()
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_selector("#done")
    assert received[-1]["method"] == "POST" and received[-1]["query"] == {}
    assert received[-1]["form"]["code"] and received[-1]["form"]["state"] == "st"
    assert "code=" not in page.url
    context.close()


def test_an_error_is_form_posted_too(setup):
    idp, rp_server, (client_id, _secret), _received = setup
    _verifier, challenge = pkce()
    params = {**authorize_params(rp_server, client_id, challenge), "prompt": "none"}  # no session: login_required
    answer = requests.get(f"{idp.url}/authorize", params=params, allow_redirects=False)
    assert answer.status_code == 200
    form = Form()
    form.feed(answer.text)
    assert form.fields["error"] == "login_required" and form.fields["state"] == "st"
