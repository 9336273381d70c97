"""The production topology as a test: nginx with the shipped configuration (deploy/nginx/)
terminating TLS with a throw-away CA, in front of two IdP instances and each portal under gunicorn,
APP_ENV=production with real secrets, on PostgreSQL and Redis.

- a person signs in to eComms through the proxy in Chromium; the browser holds only Secure
  cookies and sees HSTS on every answer;
- plain HTTP only redirects to https, and a client that offers no forward-secret cipher is refused;
- X-Forwarded-* is honoured only from the proxy: a request sent straight to an instance with forged
  X-Forwarded-Proto/For/Host is taken as what it is (http, its own address, its own host), and
  nginx replaces the ones a client sends it;
- one IdP instance killed (SIGKILL, master and worker) while sign-ins run: not one fails.
"""

from __future__ import annotations

import re
import socket
import ssl
import threading
import time
import uuid
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import create_engine, text

from tests.conftest import CHROMIUM_ARGS
from tests.idp.helpers import csrf_token, pkce, sign_in_with_requests
from tests.operations import topology as stack

pytestmark = [pytest.mark.slow, pytest.mark.browser]
PASSWORD = "Bonne-Passe-2026-topologie"
PROBE_REDIRECT = "https://rp.example/callback"
HSTS = re.compile(r"max-age=(\d+); includeSubDomains")


def seed(app, urls: dict[str, str]) -> dict[str, str]:
    """The portals' clients registered as `idp clients sync` does (config/clients.toml, on the
    public https addresses, secrets from the environment), the probe client of the sign-in loop,
    and the people who sign in."""
    import secrets

    from idp.services import accounts, clients
    from shared.appkit import get_settings

    portal_secrets = {name: secrets.token_urlsafe(32) for name in stack.PORTALS}
    with pytest.MonkeyPatch.context() as env, app.app_context():
        for name, url in urls.items():
            if name != "idp":
                env.setenv(f"{name.upper()}_PUBLIC_URL", url)
                env.setenv(f"{name.upper()}_CLIENT_SECRET", portal_secrets[name])
        clients.sync_from_config(get_settings())
        _client, probe_secret = clients.create("probe", [PROBE_REDIRECT], client_id="probe", first_party=True,
                                               scope="openid email")
        accounts.create("greffe.topologie@example.org", PASSWORD, roles=["registry"], given_name="Greta",
                        family_name="GREFFE")
        accounts.create("boucle.topologie@example.org", PASSWORD)
        accounts.create("forge.topologie@example.org", PASSWORD)
    return {**portal_secrets, "_probe": probe_secret}


@pytest.fixture(scope="module")
def topology(tmp_path_factory, postgres_server_url, real_redis_url, devinbox):
    seeded = {}

    def remember(app, urls):
        seeded.update(seed(app, urls))
        return {k: v for k, v in seeded.items() if not k.startswith("_")}

    running = stack.start(tmp_path_factory.mktemp("topology"), postgres_server_url, real_redis_url,
                          devinbox.smtp_url, remember)
    running.probe_secret = seeded["_probe"]
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser(topology, chromium):
    """A second Chromium from the session's Playwright, trusting the test's certificate by its key's
    pin (not an 'ignore every certificate error' switch; without the pin the first page fails with
    ERR_CERT_AUTHORITY_INVALID)."""
    launched = chromium.browser_type.launch(executable_path="/usr/bin/chromium", args=[
        *CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={topology.spki_pin}"])
    yield launched
    launched.close()


def test_a_person_signs_in_through_the_proxy_with_secure_cookies_and_hsts(topology, browser):
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    answers = []
    page.on("response", lambda answer: answers.append(answer))
    portal = topology.portal_urls["ecomms"]
    page.goto(portal + "/")
    page.get_by_role("link", name="Se connecter avec mon compte ECHR Services").click()
    page.wait_for_url(topology.idp_url + "/**")
    page.get_by_label("Adresse e-mail").fill("greffe.topologie@example.org")
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url(portal + "/")
    assert "Greta" in page.content() or "GREFFE" in page.content(), "signed in on eComms"

    seen = [a for a in answers if a.url.startswith(("https://localhost", portal))]
    assert {a.url.split("/")[2] for a in seen} >= {portal.split("/")[2], topology.idp_url.split("/")[2]}
    for answer in seen:
        assert answer.url.startswith("https://"), answer.url
        hsts = answer.headers.get("strict-transport-security", "")
        match = HSTS.fullmatch(hsts)
        assert match and int(match.group(1)) >= 31536000, (answer.url, hsts)
    cookies = context.cookies()
    # __Host-: Secure, Path=/, no Domain, so no subdomain or plain-HTTP page can plant or shadow them
    assert {"__Host-idp_session", "__Host-idp_sid", "__Host-ecomms_session"} <= {c["name"] for c in cookies}, cookies
    assert all(c["name"].startswith("__Host-") and c["path"] == "/" for c in cookies
               if c["name"].endswith(("_session", "_sid"))), cookies
    assert all(c["secure"] for c in cookies), [c["name"] for c in cookies if not c["secure"]]
    assert all(c["httpOnly"] for c in cookies if c["name"].endswith("_session"))
    context.close()


def test_plain_http_only_redirects_and_a_weak_tls_client_is_refused(topology):
    plain = requests.get(f"{topology.http_url}/signin?next=/account", allow_redirects=False, timeout=5)
    assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")
    assert plain.headers["Location"].endswith("/signin?next=/account") and "Set-Cookie" not in plain.headers

    port = int(topology.idp_url.rsplit(":", 1)[1])
    context = ssl.create_default_context(cafile=str(topology.ca_file))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname="localhost") as tls:
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
    weak = ssl.create_default_context(cafile=str(topology.ca_file))
    weak.maximum_version = ssl.TLSVersion.TLSv1_2
    weak.set_ciphers("AES128-SHA:AES256-SHA:AES128-GCM-SHA256")  # RSA key exchange: no forward secrecy
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, pytest.raises(ssl.SSLError):
        weak.wrap_socket(raw, server_hostname="localhost")


class FromAddress(HTTPAdapter):
    """Connections from another loopback address: a client that is not the proxy, on this machine."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def session_from(address: str) -> requests.Session:
    http = requests.Session()
    http.mount("http://", FromAddress(address))
    return http


FORGED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example", "X-Forwarded-Port": "443",
          "X-Forwarded-For": "203.0.113.7"}


def redirect_target(http: requests.Session, base: str, **kwargs) -> str:
    """Werkzeug answers a doubled slash with an absolute redirect built from the request's scheme
    and host: what the app believes them to be."""
    answer = http.get(f"{base}/.well-known//openid-configuration", allow_redirects=False, timeout=5, **kwargs)
    assert answer.status_code == 308, answer.status_code
    return answer.headers["Location"]


def visit(http: requests.Session, method: str, url: str, **kwargs) -> requests.Response:
    """One request and its redirects. The app's cookies are Secure, so over plain http they would
    not come back: an outsider sends them anyway (anyone holding a cookie can)."""
    while True:
        for cookie in http.cookies:
            cookie.secure = False
        answer = http.request(method, url, allow_redirects=False, timeout=10, **kwargs)
        if not answer.is_redirect:
            return answer
        url, method = urljoin(url, answer.headers["Location"]), "GET"
        kwargs.pop("data", None)


def failed_sign_in(http: requests.Session, base: str, email: str, headers: dict[str, str]) -> None:
    """A wrong password, as a browser sends it (the page as Referer)."""
    page = visit(http, "GET", f"{base}/signin?next=/account", headers=headers)
    page = visit(http, "POST", page.url, data={"csrf_token": csrf_token(page.text), "identifier": email},
                 headers={**headers, "Referer": page.url})
    refused = visit(http, "POST", page.url, data={"csrf_token": csrf_token(page.text), "password": "Mauvaise-Passe-1"},
                    headers={**headers, "Referer": page.url})
    assert refused.status_code == 400 and "mot de passe incorrect" in refused.text, refused.text[:300]


def audit_addresses(topology, email: str) -> list[str]:
    engine = create_engine(topology.database_urls["idp"].replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            return list(connection.scalars(text(
                "SELECT e.ip FROM audit_events e JOIN accounts a ON a.id = e.account_id "
                "WHERE a.email = :email AND e.kind = 'sign_in_failed' ORDER BY e.id"), {"email": email}))
    finally:
        engine.dispose()


def test_forwarded_headers_count_only_from_the_proxy(topology):
    instance = topology.idps[0].url
    outsider = session_from("127.0.0.9")  # straight to the instance, not through nginx
    assert redirect_target(outsider, instance, headers=FORGED) == \
        f"{instance}/.well-known/openid-configuration", "neither https nor the forged host believed"
    language = outsider.get(f"{instance}/lang/en?next=/", headers=FORGED, allow_redirects=False, timeout=5)
    assert "lang=en" in language.headers["Set-Cookie"] and "Secure" not in language.headers["Set-Cookie"]
    failed_sign_in(session_from("127.0.0.9"), instance, "forge.topologie@example.org",
                   headers={"X-Forwarded-For": "203.0.113.7"})

    through = trusting(topology)
    assert redirect_target(through, topology.idp_url, headers=FORGED) == \
        f"{topology.idp_url}/.well-known/openid-configuration", "nginx sends its own name, not the client's"
    failed_sign_in(through, topology.idp_url, "forge.topologie@example.org", headers={"X-Forwarded-For": "203.0.113.7"})

    # the proxy's own address is believed (the same check, from the trusted peer)
    proxy = session_from("127.0.0.1")
    assert redirect_target(proxy, instance, headers=FORGED) == "https://evil.example/.well-known/openid-configuration"

    assert audit_addresses(topology, "forge.topologie@example.org") == ["127.0.0.9", "127.0.0.1"], \
        "the outsider's own address, then the client's as nginx saw it; never the forged 203.0.113.7"


class Browserlike(requests.Session):
    """Posts a form with its page as Referer, as a browser does (CSRF's https Referer check), and
    keeps what it was answered (method, path, status) to say where a sign-in failed."""

    def __init__(self):
        super().__init__()
        self.trail: list[str] = []

    def request(self, method, url, *args, **kwargs):
        if method.upper() == "POST":
            kwargs["headers"] = {"Referer": url, **(kwargs.get("headers") or {})}
        answer = super().request(method, url, *args, **kwargs)
        self.trail.append(f"{method} {urlsplit(url).path} {answer.status_code}")
        return answer


def trusting(topology) -> requests.Session:
    """A client that trusts the test's CA, and only it (no CA bundle from the environment)."""
    http = Browserlike()
    http.trust_env, http.verify = False, str(topology.ca_file)
    return http


def one_sign_in(topology) -> None:
    """The whole code flow through nginx: authorize, identifier, password, code, token."""
    http = trusting(topology)
    try:
        sign_in_and_redeem(topology, http)
    except Exception as error:
        raise AssertionError(f"{error.__class__.__name__}: {error} after {http.trail}") from error


def sign_in_and_redeem(topology, http: Browserlike) -> None:
    verifier, challenge = pkce()
    callback = sign_in_with_requests(http, f"{topology.idp_url}/authorize?" + urlencode({
        "response_type": "code", "client_id": "probe", "redirect_uri": PROBE_REDIRECT, "state": uuid.uuid4().hex,
        "scope": "openid email", "code_challenge": challenge, "code_challenge_method": "S256"}),
        "boucle.topologie@example.org", PASSWORD, PROBE_REDIRECT)
    tokens = http.post(f"{topology.idp_url}/token", auth=("probe", topology.probe_secret), timeout=30, data={
        "grant_type": "authorization_code", "code": callback["code"][0], "redirect_uri": PROBE_REDIRECT,
        "code_verifier": verifier})
    assert tokens.status_code == 200 and tokens.json()["id_token"], tokens.text


def test_an_idp_instance_killed_mid_traffic_fails_no_sign_in(topology):
    results: list[str] = []
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            try:
                one_sign_in(topology)
                results.append("ok")
            except Exception as error:  # every failure is reported below
                results.append(f"{error.__class__.__name__}: {error}")

    workers = [threading.Thread(target=loop, daemon=True) for _ in range(3)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 120
    while results.count("ok") < 6:  # traffic on both instances before the kill
        assert time.monotonic() < deadline and len(results) == results.count("ok"), results
        time.sleep(0.05)
    victim, survivor = topology.idps
    log_before = topology.nginx.access_log.read_text()
    victim.kill()
    killed_at = len(results)
    while len(results) < killed_at + 15:
        assert time.monotonic() < deadline, f"only {len(results) - killed_at} sign-ins after the kill"
        time.sleep(0.05)
    stop.set()
    for worker in workers:
        worker.join(60)

    failures = [r for r in results if r != "ok"]
    assert not failures, failures
    assert victim.process.poll() is not None and requests.get(f"{survivor.url}/healthz", timeout=5).ok
    served_before = set(re.findall(r'"upstream":"([^"]+)"', log_before))
    assert f"127.0.0.1:{victim.port}" in served_before and f"127.0.0.1:{survivor.port}" in served_before, \
        "both instances served sign-ins before the kill"
    retried = [line for line in topology.nginx.access_log.read_text()[len(log_before):].splitlines()
               if f"127.0.0.1:{victim.port}, 127.0.0.1:{survivor.port}" in line]
    assert retried, "nginx tried the dead instance and passed the request on to the other"
