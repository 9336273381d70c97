"""The applicant's language from the invitation on (seed 000 §1: "basculer l'interface en anglais"):
the IdP's activation page speaks the invitation's language, eComms' pages the account's language
or else the browser's, and the person's own switch beats both."""

from __future__ import annotations

import requests

from shared.rp.testing import sign_in
from tests.idp.helpers import csrf_token
from tests.idp.lifecycle.conftest import fresh_throttles, idp, link_in, portal_client  # noqa: F401 (fixtures)
from tests.idp.lifecycle.test_flows import client_token, unique_email


def test_an_english_invitation_activates_in_english(idp, devinbox, portal_client):  # noqa: F811
    email = unique_email("english")
    headers = {"Authorization": f"Bearer {client_token(idp, portal_client)}"}
    requests.post(f"{idp.url}/api/provisioning/invitations", json={"email": email, "locale": "en"}, headers=headers)
    link = link_in(devinbox.wait_for(email)[0])
    page = requests.get(link, headers={"Accept-Language": "fr-FR"}).text  # the invitation's language first
    assert '<html lang="en"' in page and "Repeat the password" in page
    assert "Répétez le mot de passe" not in page
    chosen = requests.get(link, cookies={"lang": "fr"}).text  # the person's own switch wins
    assert "Répétez le mot de passe" in chosen


def test_a_french_invitation_read_in_an_english_browser_stays_french_until_switched(idp, devinbox,  # noqa: F811
                                                                                    portal_client):  # noqa: F811
    email = unique_email("french")
    headers = {"Authorization": f"Bearer {client_token(idp, portal_client)}"}
    requests.post(f"{idp.url}/api/provisioning/invitations", json={"email": email, "locale": "fr"}, headers=headers)
    link = link_in(devinbox.wait_for(email)[0])
    http = requests.Session()
    page = http.get(link, headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "Répétez le mot de passe" in page.text
    assert csrf_token(page.text)


def test_ecomms_speaks_the_accounts_language_then_the_browsers(app):
    anonymous = app.test_client()
    assert "electronic communication service" in anonymous.get(
        "/", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert "service de communication électronique" in anonymous.get(
        "/", headers={"Accept-Language": "fr-FR"}).get_data(as_text=True)
    assert "service de communication électronique" in anonymous.get("/").get_data(as_text=True)  # French default

    invited_in_english = app.test_client()
    sign_in(invited_in_english, sub="applicant-1", claims={"email": "a@example.org", "locale": "en"})
    first_screen = invited_in_english.get("/", headers={"Accept-Language": "fr-FR"}).get_data(as_text=True)
    assert '<html lang="en"' in first_screen and "My applications" in first_screen
    invited_in_english.set_cookie("lang", "fr")
    assert "Mes requêtes" in invited_in_english.get("/").get_data(as_text=True)
