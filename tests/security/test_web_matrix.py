"""An attacker's view of every app's web surface (issue 9): CSRF on every state-changing form,
security headers, cookie flags, open redirects, session fixation."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

from shared.web import csrf

# Views that take POSTs without a CSRF token, and why. Adding one means adding it here.
CSRF_EXEMPT_VIEWS = {
    "idp.web.oidc.authorize": "OAuth authorization request (GET/POST per OIDC Core), no session change by itself",
    "idp.web.oidc.token": "token endpoint: client authentication, no cookies",
    "idp.web.oidc.userinfo": "bearer token",
    "idp.web.oidc.revoke": "token revocation (RFC 7009): client authentication, no cookies",
    "idp.web.oidc.introspect": "token introspection (RFC 7662): resource server authentication, no cookies",
    "idp.web.oidc.register_client": "dynamic registration (RFC 7591): initial access token, JSON, no cookies",
    "idp.web.oidc.client_configuration": "client configuration (RFC 7592): registration access token, no cookies",
    "idp.web.oidc.pushed_authorization_request": "PAR (RFC 9126): client authentication, no cookies, no session change",
    "idp.web.oidc.end_session": "RP-initiated logout asks for confirmation on its own page",
    "shared.rp.views.backchannel_logout": "signed logout token from the IdP, no cookies",
    "portals.ecomms.views.account_events": "signed Security Event Token from the IdP (RFC 8935 push), no cookies",
    "idp.web.federation.callback": "state/nonce/PKCE round trip with the upstream provider",
    "idp.web.federation.backchannel_logout": "signed logout token from an upstream provider, no cookies",
    "idp.upstream.sandbox.token": "sandbox upstream provider's token endpoint (client authentication)",
    "idp.upstream.sandbox.userinfo": "sandbox upstream provider's userinfo (bearer token)",
    "idp.upstream.sandbox.end_session": "sandbox upstream provider's RP-initiated logout",
}
CSRF_EXEMPT_BLUEPRINTS = {"management_api", "provisioning_api", "court_api", "support_api"}  # bearer-token JSON APIs


def apps(tmp_path):
    from idp import create_app as idp_app
    from idp import upgrade_database as idp_upgrade
    from portals.ecomms import create_app as ecomms_app
    from portals.eservices import create_app as eservices_app
    from portals.justice import create_app as justice_app

    built = {}
    for name, factory in (("idp", idp_app), ("ecomms", ecomms_app), ("justice", justice_app),
                          ("eservices", eservices_app)):
        folder = tmp_path / name
        folder.mkdir()
        url = f"sqlite:///{folder / 'db.sqlite'}"
        if name == "idp":
            idp_upgrade(url)
        else:
            __import__(f"portals.{name}", fromlist=["upgrade_database"]).upgrade_database(url)
        built[name] = factory({"database_url": url, "instance_path": folder, "_quiet": True,
                               "raw": {"outbox": {"manual": True}}})
    return built


@pytest.fixture(scope="module")
def all_apps(tmp_path_factory):
    return apps(tmp_path_factory.mktemp("matrix"))


def fill(rule) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", "x", rule.rule)


def test_every_state_changing_route_needs_a_csrf_token(all_apps):
    exempt_views = {v for v in csrf._exempt_views if not v.startswith("shared.outbox")}
    assert exempt_views <= set(CSRF_EXEMPT_VIEWS), f"undocumented CSRF exemptions: {exempt_views - set(CSRF_EXEMPT_VIEWS)}"
    assert {getattr(b, "name", b) for b in csrf._exempt_blueprints} <= CSRF_EXEMPT_BLUEPRINTS
    checked = []
    for name, app in all_apps.items():
        client = app.test_client()
        for rule in app.url_map.iter_rules():
            if "POST" not in rule.methods or rule.endpoint.split(".")[0] in CSRF_EXEMPT_BLUEPRINTS:
                continue
            view = app.view_functions[rule.endpoint]
            if f"{view.__module__}.{view.__name__}" in CSRF_EXEMPT_VIEWS:
                continue
            answer = client.post(fill(rule), data={"anything": "1"})
            assert answer.status_code == 400, f"{name} POST {rule.rule} answered {answer.status_code} without a token"
            checked.append(f"{name} {rule.rule}")
    assert len(checked) > 40, checked


def test_security_headers_on_every_app(all_apps):
    for name, app in all_apps.items():
        answer = app.test_client().get("/")
        policy = answer.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, name
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy, name
        assert answer.headers["Referrer-Policy"] == "same-origin"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert "Strict-Transport-Security" not in answer.headers  # development: plain http


def test_production_adds_hsts_and_secure_cookies(tmp_path):
    from idp import create_app, upgrade_database

    url = f"sqlite:///{tmp_path / 'idp.db'}"
    upgrade_database(url)
    app = create_app({"database_url": url, "instance_path": tmp_path, "_quiet": True, "production": True,
                      "raw": {"outbox": {"manual": True}}})
    client = app.test_client()
    answer = client.get("/registration")
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    # __Host-: Secure, Path=/, no Domain (shared.cookies): no subdomain or plain-HTTP page can plant one
    cookie = next(h for h in answer.headers.getlist("Set-Cookie") if h.startswith("__Host-idp_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie
    from idp.services import accounts

    with app.app_context():
        accounts.create("secure@example.org", "Bonne-Passe-2026")
    signed_in = sign_in(client, "secure@example.org", "Bonne-Passe-2026", base_url="https://localhost",
                        headers={"Referer": "https://localhost/signin"})  # strict CSRF referer check over HTTPS
    session_cookie = next(h for h in signed_in.headers.getlist("Set-Cookie") if h.startswith("__Host-idp_sid="))
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    assert "Path=/" in session_cookie and "Domain" not in session_cookie


def sign_in(client, email: str, password: str, before_submitting=None, **request_options):
    """Identifier, then password, from /signin; the answer to the password (not followed)."""
    page = client.get("/signin?next=/account", follow_redirects=True, **request_options)
    if before_submitting:
        before_submitting()
    token = unescape(re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1))
    page = client.post(page.request.path, data={"csrf_token": token, "identifier": email},
                       follow_redirects=True, **request_options)
    return client.post(page.request.path, data={"csrf_token": token, "password": password}, **request_options)


def session_id(answer) -> str:
    cookie = next(h for h in answer.headers.getlist("Set-Cookie") if h.startswith("idp_sid="))
    return cookie.split(";", 1)[0].split("=", 1)[1]


def test_cookie_flags_and_no_session_fixation(all_apps):
    from idp.services import accounts

    app = all_apps["idp"]
    with app.app_context():
        accounts.create("fixation@example.org", "Bonne-Passe-2026")
    client = app.test_client()
    client.set_cookie("idp_sid", "attacker-chosen-session-id")
    answer = sign_in(client, "fixation@example.org", "Bonne-Passe-2026")
    cookie = next(h for h in answer.headers.getlist("Set-Cookie") if h.startswith("idp_sid="))
    assert "attacker-chosen-session-id" not in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_planted_live_session_id_does_not_carry_the_victims_sign_in(all_apps):
    """The attacker signs in with their own account and plants that live session id in the victim's
    browser while the victim is on the sign-in page; the victim signs in: the victim gets a new id,
    and the attacker's id opens nothing of theirs."""
    from idp.services import accounts

    app = all_apps["idp"]
    with app.app_context():
        accounts.create("attacker@example.org", "Bonne-Passe-2026")
        accounts.create("victim@example.org", "Autre-Passe-2026")
    attacker = app.test_client()
    planted = session_id(sign_in(attacker, "attacker@example.org", "Bonne-Passe-2026"))
    assert attacker.get("/account").status_code == 200
    victim = app.test_client()
    victims_id = session_id(sign_in(victim, "victim@example.org", "Autre-Passe-2026",
                                    before_submitting=lambda: victim.set_cookie("idp_sid", planted)))
    assert victims_id != planted
    assert "victim@example.org" in victim.get("/account").get_data(as_text=True)
    seen_by_attacker = attacker.get("/account")
    assert "victim@example.org" not in seen_by_attacker.get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example",
                                    "javascript:alert(1)", "https:/evil.example"])
def test_no_open_redirect_through_next_parameters(all_apps, target):
    for name, app in all_apps.items():
        answer = app.test_client().get("/lang/en", query_string={"next": target})
        location = answer.headers.get("Location", "")
        assert answer.status_code in (302, 303) and location.startswith("/") and not location.startswith("//"), \
            (name, location)
        assert "evil" not in location and "javascript" not in location, (name, location)
    answer = all_apps["idp"].test_client().get("/signin", query_string={"next": target})
    assert "evil" not in answer.headers.get("Location", ""), answer.headers.get("Location")


def test_logout_never_redirects_to_an_unregistered_address(all_apps):
    answer = all_apps["idp"].test_client().get("/logout", query_string={
        "post_logout_redirect_uri": "https://evil.example/", "client_id": "ecomms"})
    assert "evil.example" not in answer.headers.get("Location", "")


def test_static_checks_config_is_in_ci():
    ci = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text()
    assert "make lint" in ci
