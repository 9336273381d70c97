"""Seed 000 §1, §2 and §5 followed from eComms (issue 17, finding 9): the IdP's pages reached from
the portal keep its Help and terms links, its Strasbourg time and the manual's button labels; a reset
or a self-registration started there ends with the way back to the portal (its registered sign-in
address only: no open redirect); "Inscription" is on the password page; the address just typed is
already in the recovery form, and nothing there tells whether it has an account."""

from __future__ import annotations

import html as html_lib
import re
import secrets
from urllib.parse import urlencode, urlsplit

import pytest
import requests

from idp.services import clients
from tests.idp.helpers import csrf_token, make_user, pkce
from tests.idp.lifecycle.conftest import PORTAL, link_in, post_form

GOOD = "Bonne-Passe-2026"
NEW = "Nouvelle-Passe-7"
ECOMMS_HELP = "http://localhost:8001/help"  # config/clients.toml [ecomms.branding], the portal's own pages
ECOMMS_TERMS = "http://localhost:8001/terms"


def unique_email(tag: str) -> str:
    return f"{tag}-{secrets.token_hex(4)}@example.org"


def portal_name(idp) -> str:
    with idp.app.app_context():
        return clients.get("ecomms").name


def from_ecomms(idp, portal_client, language: str = "fr") -> tuple[requests.Session, requests.Response]:
    """A browser sent by eComms' authorization request: the identifier page it lands on."""
    http = requests.Session()
    http.get(f"{idp.url}/lang/{language}?next=/")
    _verifier, challenge = pkce()
    query = urlencode({"response_type": "code", "client_id": portal_client[0], "redirect_uri": f"{PORTAL}/callback",
                       "scope": "openid email", "state": "s", "nonce": "n", "code_challenge": challenge,
                       "code_challenge_method": "S256"})
    page = http.get(f"{idp.url}/authorize?{query}")
    assert page.status_code == 200 and "/interaction/" in page.url
    return http, page


def typed_identifier(http: requests.Session, page: requests.Response, email: str) -> requests.Response:
    return http.post(page.url, data={"csrf_token": csrf_token(page.text), "identifier": email})


def buttons(html: str) -> list[str]:
    return [html_lib.unescape(re.sub(r"<[^>]+>", "", b)).strip()
            for b in re.findall(r'<button type="submit" class="button[^"]*"[^>]*>(.*?)</button>', html, re.S)]


def links(html: str) -> dict[str, str]:
    """Link text → href, for every link of the page."""
    return {html_lib.unescape(re.sub(r"<[^>]+>", "", text)).strip(): html_lib.unescape(href)
            for href, text in re.findall(r'<a [^>]*href="([^"]*)"[^>]*>(.*?)</a>', html, re.S)}


def assert_ecomms_frame(html: str, language: str = "fr") -> None:
    """The seed's "haut à droite": Aide, Conditions générales d'utilisation, English, Strasbourg time."""
    found = links(html)
    help_text, terms_text, clock = {"fr": ("Aide", "Conditions générales d'utilisation", "Heure locale de Strasbourg :"),
                                    "en": ("Help", "Terms of use", "Strasbourg local time:")}[language]
    assert found.get(help_text) == ECOMMS_HELP, found
    assert found.get(terms_text) == ECOMMS_TERMS, found
    assert re.search(rf'<p class="local-time">{re.escape(clock)} <time datetime="[^"]+">\d\d/\d\d/\d{{4}} \d\d:\d\d</time>', html)
    assert "branding/echr.svg" in html  # the portal's logo in the header


def test_the_manuals_sign_in_pages_from_ecomms(idp, portal_client):
    """§2, sentence by sentence: Adresse e-mail → Continuer; password page: the address with
    Modifier, Mot de passe, Mot de passe oublié ?, Continuer, and "Vous n'avez pas de compte ?
    Inscription"."""
    http, page = from_ecomms(idp, portal_client)
    assert_ecomms_frame(page.text)
    assert f"<h1>{portal_name(idp)}</h1>" in page.text
    assert "Connectez-vous avec votre compte ECHR Services." in page.text
    assert buttons(page.text) == ["Continuer", "Se connecter avec une clé d'accès"]  # the manual's, then passkeys (issue 23)
    assert "Inscription" in links(page.text)
    password_page = typed_identifier(http, page, "someone@example.org")
    assert_ecomms_frame(password_page.text)
    assert buttons(password_page.text) == ["Continuer"]
    found = links(password_page.text)
    assert "Mot de passe oublié ?" in found and "Modifier l'identifiant" in found
    assert "Vous n'avez pas de compte ?" in password_page.text
    assert found.get("Inscription", "").startswith("/registration?interaction=")
    registration = http.get(idp.url + found["Inscription"])
    assert registration.status_code == 200 and "<h1>Inscription</h1>" in registration.text
    assert_ecomms_frame(registration.text)


def test_recovery_from_ecomms_keeps_the_address_the_labels_and_returns_to_ecomms(idp, portal_client, devinbox):
    """§5: address, Continuer, Mot de passe oublié ? (the address already there), Continuer, the
    email's link, new password twice, Reset password, a message confirming the change; then the way
    back is eComms' sign-in, in eComms' frame throughout."""
    email = unique_email("manual-reset")
    make_user(idp.app, email, GOOD)
    http, page = from_ecomms(idp, portal_client)
    password_page = typed_identifier(http, page, email)
    recovery = http.get(idp.url + links(password_page.text)["Mot de passe oublié ?"])
    assert recovery.status_code == 200
    assert_ecomms_frame(recovery.text)
    assert re.search(rf'<input id="email" name="email" type="email" value="{re.escape(email)}"', recovery.text)
    assert buttons(recovery.text) == ["Continuer"]
    sent = http.post(recovery.url, data={"csrf_token": csrf_token(recovery.text), "email": email})
    assert sent.status_code == 200 and "Consultez votre messagerie" in sent.text
    assert_ecomms_frame(sent.text)

    link = link_in(devinbox.wait_for(email)[0])
    other_browser = requests.Session()  # the email is often opened elsewhere: the link carries the portal
    reset = other_browser.get(link)
    assert reset.status_code == 200
    assert_ecomms_frame(reset.text)
    assert buttons(reset.text) == ["Reset password"]
    done = other_browser.post(link, data={"csrf_token": csrf_token(reset.text), "password": NEW, "password_confirm": NEW})
    assert done.status_code == 200 and "Votre mot de passe a été modifié" in done.text
    assert_ecomms_frame(done.text)
    assert links(done.text).get(f"Se connecter à {portal_name(idp)}") == f"{PORTAL}/login"
    assert "/account" not in links(done.text).values()


def test_the_address_is_prefilled_only_for_the_browser_that_typed_it(idp, portal_client):
    """The recovery page shows what this browser typed, whatever the address (no account needed, so
    it tells nothing), and never what another browser typed under the same interaction URL."""
    unknown = unique_email("nobody")
    http, page = from_ecomms(idp, portal_client)
    password_page = typed_identifier(http, page, unknown)
    recovery_url = idp.url + links(password_page.text)["Mot de passe oublié ?"]
    assert f'value="{unknown}"' in http.get(recovery_url).text
    stranger = requests.Session().get(recovery_url)
    assert stranger.status_code == 200 and unknown not in stranger.text


def test_self_registration_from_ecomms_returns_to_ecomms(idp, portal_client, devinbox):
    """Inscription from eComms' password page: the activation page in eComms' frame with the
    manual's "Reset password", then the way back to eComms' sign-in, not the IdP's account page."""
    email = unique_email("manual-register")
    http, page = from_ecomms(idp, portal_client)
    password_page = typed_identifier(http, page, email)
    registration_url = idp.url + links(password_page.text)["Inscription"]
    answer = post_form(http, registration_url, email=email, terms="yes", given_name="Jeanne", family_name="Martin")
    assert answer.status_code == 200 and "Consultez votre messagerie" in answer.text
    assert_ecomms_frame(answer.text)
    link = link_in(devinbox.wait_for(email)[0])
    other_browser = requests.Session()
    activation = other_browser.get(link)
    assert_ecomms_frame(activation.text)
    assert buttons(activation.text) == ["Reset password"]
    done = other_browser.post(link, data={"csrf_token": csrf_token(activation.text), "password": NEW,
                                          "password_confirm": NEW})
    assert done.status_code == 200 and "Votre compte est activé" in done.text
    assert links(done.text).get(f"Se connecter à {portal_name(idp)}") == f"{PORTAL}/login"
    assert "/signin?next=/account" not in done.text


@pytest.mark.parametrize("language", ["en"])
def test_the_english_pages_from_ecomms(idp, portal_client, language):
    http, page = from_ecomms(idp, portal_client, language)
    assert_ecomms_frame(page.text, language)
    assert buttons(page.text) == ["Continue", "Sign in with a passkey"]
    password_page = typed_identifier(http, page, "someone@example.org")
    assert "Sign up" in links(password_page.text)
    recovery = http.get(idp.url + links(password_page.text)["Forgot your password?"])
    assert buttons(recovery.text) == ["Continue"]


def test_pages_reached_from_nowhere_keep_the_idps_own_words(idp, devinbox):
    """Without a portal, the IdP's own labels and its own sign-in at the end (nothing to go back to)."""
    email = unique_email("own-reset")
    make_user(idp.app, email, GOOD)
    http = requests.Session()
    recovery = http.get(f"{idp.url}/recovery")
    assert buttons(recovery.text) == ["Envoyer le lien"] and "Heure locale de Strasbourg" not in recovery.text
    http.post(f"{idp.url}/recovery", data={"csrf_token": csrf_token(recovery.text), "email": email})
    link = link_in(devinbox.wait_for(email)[0])
    reset = http.get(link)
    assert buttons(reset.text) == ["Enregistrer le mot de passe"]
    done = http.post(link, data={"csrf_token": csrf_token(reset.text), "password": NEW, "password_confirm": NEW})
    assert links(done.text).get("Se connecter") == "/signin?next=/account"


# -- the way back is never an open redirect (docs/threat-model-design.md) ---------------------------

def test_no_request_parameter_chooses_where_the_way_back_leads(idp, portal_client, devinbox):
    """An attacker who sends a victim a crafted recovery or reset URL (return_to, next, redirect_uri,
    client_id pointing elsewhere) gets no link to their site on any page: the way back is the
    registered client's own sign-in address."""
    evil = "https://evil.example/phish"
    email = unique_email("crafted")
    make_user(idp.app, email, GOOD)
    http, page = from_ecomms(idp, portal_client)
    password_page = typed_identifier(http, page, email)
    crafted = {"return_to": evil, "next": evil, "redirect_uri": evil, "client_id": "unbranded", "post_logout_redirect_uri": evil}
    recovery_url = idp.url + links(password_page.text)["Mot de passe oublié ?"] + "&" + urlencode(crafted)
    recovery = http.get(recovery_url)
    sent = http.post(recovery_url, data={"csrf_token": csrf_token(recovery.text), "email": email, **crafted})
    link = link_in(devinbox.wait_for(email)[0])
    reset_url = f"{link}?{urlencode(crafted)}"
    reset = http.get(reset_url)
    done = http.post(reset_url, data={"csrf_token": csrf_token(reset.text), "password": NEW, "password_confirm": NEW, **crafted})
    for answer in (recovery, sent, reset, done):
        targets = list(links(answer.text).values()) + re.findall(r'action="([^"]*)"', answer.text)
        assert not [t for t in targets if urlsplit(html_lib.unescape(t)).netloc == "evil.example"], answer.url
        assert answer.status_code in (200, 302) and "evil.example" not in answer.headers.get("Location", "")
    assert links(done.text)[f"Se connecter à {portal_name(idp)}"] == f"{PORTAL}/login"


def test_another_browsers_interaction_gives_neither_brand_nor_way_back(idp, portal_client, devinbox):
    """An interaction URL copied into another browser (a link sent to a victim) binds nothing: the
    recovery started there wears the IdP's own look and ends on the IdP's own sign-in."""
    email = unique_email("copied")
    make_user(idp.app, email, GOOD)
    http, page = from_ecomms(idp, portal_client)
    recovery_url = idp.url + links(typed_identifier(http, page, email).text)["Mot de passe oublié ?"]
    victim = requests.Session()
    recovery = victim.get(recovery_url)
    assert "branding/echr.svg" not in recovery.text and buttons(recovery.text) == ["Envoyer le lien"]
    victim.post(recovery_url, data={"csrf_token": csrf_token(recovery.text), "email": email})
    link = link_in(devinbox.wait_for(email)[0])
    reset = victim.get(link)
    done = victim.post(link, data={"csrf_token": csrf_token(reset.text), "password": NEW, "password_confirm": NEW})
    assert links(done.text).get("Se connecter") == "/signin?next=/account"


def test_a_link_naming_a_client_that_is_gone_leads_nowhere_but_the_idp(idp, devinbox):
    """The link's data names a client id; a client removed since (or never registered) gives the
    neutral page and the IdP's own sign-in, never a guessed address."""
    from sqlalchemy import select

    from idp.storage.sql.lifecycle import AccountLink
    from idp.storage.sql.models import Account
    from shared.appkit import get_db

    email = unique_email("gone")
    make_user(idp.app, email, GOOD)
    post_form(requests.Session(), f"{idp.url}/recovery", email=email)
    link = link_in(devinbox.wait_for(email)[0])
    with idp.app.app_context(), get_db().session() as session:
        account_id = session.scalar(select(Account.id).where(Account.email == email))
        row = session.scalar(select(AccountLink).where(AccountLink.account_id == account_id, AccountLink.purpose == "reset"))
        row.data = {"return_client": "no-such-client"}
    http = requests.Session()
    reset = http.get(link)
    assert reset.status_code == 200 and "branding/" in reset.text and "Heure locale" not in reset.text
    done = http.post(link, data={"csrf_token": csrf_token(reset.text), "password": NEW, "password_confirm": NEW})
    assert links(done.text).get("Se connecter") == "/signin?next=/account"


def luhn_siren() -> str:
    """A SIREN of nine digits whose last is its Luhn key (a new one per run: look-alikes are refused)."""
    from idp.services.organisations import luhn_valid

    body = "".join(str(secrets.randbelow(10)) for _ in range(8))
    return next(body + key for key in "0123456789" if luhn_valid(body + key))


def test_an_organisation_registration_from_eservices_returns_to_eservices(idp, devinbox):
    """Outside review: the organisation registration reached from e-services' "Inscription" sent an
    activation link that ended on the IdP's neutral page and its account page."""
    with idp.app.app_context():
        if clients.get("eservices") is None:
            clients.create("Portail e-services des organisations", [f"{PORTAL}/callback"], client_id="eservices",
                           post_logout_redirect_uris=[f"{PORTAL}/"], scope="openid email", first_party=True)
        name = clients.get("eservices").name
    email = unique_email("org-register")
    http = requests.Session()
    _verifier, challenge = pkce()
    page = http.get(f"{idp.url}/authorize?" + urlencode({
        "response_type": "code", "client_id": "eservices", "redirect_uri": f"{PORTAL}/callback", "scope": "openid email",
        "state": "s", "nonce": "n", "code_challenge": challenge, "code_challenge_method": "S256"}))
    registration_url = idp.url + links(page.text)["Inscription"]
    assert urlsplit(registration_url).path == "/organisations/inscription"
    form = http.get(registration_url)
    action = idp.url + html_lib.unescape(re.search(r'<form method="post" action="([^"]*inscription[^"]*)"', form.text).group(1))
    answer = http.post(action, data={
        "csrf_token": csrf_token(form.text), "role": "administrator", "organisation_id": "new",
        "org_name": f"Mairie de Test {secrets.token_hex(3)}", "org_kind": "commune", "org_siren": luhn_siren(),
        "org_address_line": "1 place de la Mairie", "org_postcode": "68160", "org_city": "Lièpvre",
        "legal_rep_name": "Anne FAURE", "legal_rep_title": "Madame la Maire", "given_name": "Ada",
        "family_name": "LOVELACE", "email": email, "terms": "on"}, allow_redirects=True)
    assert answer.status_code == 200, answer.text
    link = link_in(next(m for m in devinbox.wait_for(email, count=2) if "/activate/" in m["text"]))
    other_browser = requests.Session()
    activation = other_browser.get(link)
    done = other_browser.post(link, data={"csrf_token": csrf_token(activation.text), "password": NEW,
                                          "password_confirm": NEW})
    assert done.status_code == 200 and "Votre compte est activé" in done.text
    assert f"Se connecter à {name}" in links(done.text)
    assert "/signin?next=/account" not in done.text


# -- the emails speak for the portal the flow started from (issue 20) ------------------------------

def test_emails_of_a_flow_started_at_ecomms_come_from_ecomms_and_name_its_account(idp, portal_client, devinbox):
    """Seed 000 §1: "le courriel de validation … du compte ECHR Services", a "courriel de la Cour".
    The activation and the reset emails of a person sent by eComms are sent in eComms' name, call
    the account what eComms calls it and are signed by eComms; the password-changed notice of that
    reset too."""
    email = unique_email("mail-brand")
    http, page = from_ecomms(idp, portal_client)
    password_page = typed_identifier(http, page, email)
    post_form(http, idp.url + links(password_page.text)["Inscription"], email=email, terms="yes",
              given_name="Jeanne", family_name="Martin")
    activation = devinbox.wait_for(email)[0]
    name = portal_name(idp)
    assert name in activation["from"] and "no-reply@" in activation["from"]
    assert "Pour activer votre compte ECHR Services, ouvrez ce lien" in activation["text"]
    assert "expire dans 7 jours." in activation["text"]  # not "168 heures" (outside review)
    assert activation["text"].rstrip().endswith(f"{name} — ce message est envoyé automatiquement, n'y répondez pas.")

    link = link_in(activation)
    other = requests.Session()  # the owner opens the link, then forgets the password and resets it from eComms
    activation_page = other.get(link)
    other.post(link, data={"csrf_token": csrf_token(activation_page.text), "password": NEW, "password_confirm": NEW})
    http, page = from_ecomms(idp, portal_client)
    password_page = typed_identifier(http, page, email)
    recovery = http.get(idp.url + links(password_page.text)["Mot de passe oublié ?"])
    http.post(recovery.url, data={"csrf_token": csrf_token(recovery.text), "email": email})
    reset = devinbox.wait_for(email, count=2)[0]
    assert "/recovery/" in reset["text"] and name in reset["from"]
    reset_link = link_in(reset)
    reset_page = other.get(reset_link)
    other.post(reset_link, data={"csrf_token": csrf_token(reset_page.text), "password": GOOD, "password_confirm": GOOD})
    changed = devinbox.wait_for(email, count=3)[0]
    assert "Le mot de passe de votre compte ECHR Services vient d'être modifié" in changed["text"]
    assert name in changed["from"]


def test_emails_of_the_idps_own_pages_speak_for_the_idp(idp, devinbox):
    """Registered at the IdP itself: the email is the IdP's, in English for an English page, and
    never says "ECHR Services" (the account is the IdP's, whichever portal the person uses later)."""
    with idp.app.app_context():
        from idp.services import branding

        own = branding.neutral()
    email = unique_email("mail-neutral")
    http = requests.Session()
    http.get(f"{idp.url}/lang/en?next=/")
    post_form(http, f"{idp.url}/registration", email=email, terms="yes", given_name="Jane", family_name="Martin")
    message = devinbox.wait_for(email)[0]
    assert own.name in message["from"] and "ECHR" not in message["from"]
    assert f"To activate your {own.account} account, open this link" in message["text"]
    assert "expires in 7 days." in message["text"]
    assert "ECHR" not in message["text"]
    assert message["text"].rstrip().endswith(f"{own.name} — this message is sent automatically; do not reply.")
