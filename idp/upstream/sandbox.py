"""Sandbox upstream identity providers: three small, standards-compliant OpenID providers.

They stand in for the providers seed 001 names (impots.gouv.fr, ameli.fr, La Poste) in the demo
and the tests, and say everywhere that they are sandboxes ("bac à sable"). Each one is a real OP:
discovery, JWKS, authorization code flow with mandatory PKCE S256 and nonce, RS256-signed ID
tokens carrying the eIDAS ``acr``, client authentication at the token endpoint, userinfo, and
RP-initiated logout (``end_session``). Its one client is our IdP (redirect URI
``<ISSUER>/federation/callback``).

Run one::

    python -m idp.upstream.sandbox impots    # ports: impots 8011, ameli 8012, laposte 8013

or from the demo runner: ``create_sandbox_app(name).run(port=SANDBOX_PROVIDERS[name]["port"])``.
The citizens each sandbox knows are :data:`DEMO_CITIZENS` (printable with :func:`demo_credentials`).

Storage is deliberately in-process (codes and tokens in a dict, the login in a signed cookie): a
sandbox runs as one process. Its signing key is kept in ``KEYS_DIR/sandbox-<name>.json``.

Test knob: ``app.config["SANDBOX_FAULTS"]`` (a set) makes the provider misbehave on purpose —
``bad_signature``, ``wrong_nonce``, ``wrong_iss``, ``wrong_aud``, ``alg_none``, ``alg_hs256``,
``expired`` — and ``app.config["SANDBOX_ACR"]`` overrides the acr it asserts, so tests can prove
the IdP refuses what a broken or hostile upstream sends.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus, urlencode

from flask import Flask, abort, jsonify, redirect, render_template, request, session
from flask_babel import gettext as _
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from shared.config import keys_dir, load_settings
from shared.files import create_private
from shared.web import csrf, init_web

PACKAGE_DIR = Path(__file__).resolve().parents[1]

SANDBOX_PROVIDERS: dict[str, dict[str, Any]] = {
    "impots": {"display_name": "impots.gouv.fr", "port": 8011, "acr": "eidas1",
               "identifier_label": "Numéro fiscal", "identifier_label_en": "Tax number"},
    "ameli": {"display_name": "ameli.fr", "port": 8012, "acr": "eidas1",
              "identifier_label": "Numéro de sécurité sociale", "identifier_label_en": "Social security number"},
    "laposte": {"display_name": "L'Identité Numérique La Poste", "port": 8013, "acr": "eidas2",
                "identifier_label": "Identifiant La Poste", "identifier_label_en": "La Poste identifier"},
}

_ANGELA = {"given_name": "Angela Claire Louise", "family_name": "DUBOIS", "birthdate": "1962-08-24",
           "gender": "female", "birthplace": "75107", "birthcountry": "99100"}

# Demo citizens: provider → list of {login, password, sub, claims}. Angela Dubois exists at both
# impots and ameli with the same pivot identity (spelt differently): the IdP links her to ONE account.
DEMO_CITIZENS: dict[str, list[dict[str, Any]]] = {
    "impots": [
        {"login": "1234567890123", "password": "Sandbox-Impots-1", "sub": "impots-angela",
         "claims": {**_ANGELA, "email": "angela.dubois@example.fr", "email_verified": True}},
        {"login": "2345678901234", "password": "Sandbox-Impots-2", "sub": "impots-paul",
         "claims": {"given_name": "Paul", "family_name": "MARTIN", "birthdate": "1980-01-15", "gender": "male",
                    "birthplace": "67482", "birthcountry": "99100", "email": "paul.martin@example.fr",
                    "email_verified": True}},
    ],
    "ameli": [
        {"login": "2620875107001", "password": "Sandbox-Ameli-1", "sub": "ameli-7f3a9c",
         "claims": {**_ANGELA, "given_name": "ANGELA CLAIRE LOUISE", "family_name": "Dubois",
                    "email": "a.dubois@example.org", "email_verified": True}},
        {"login": "1900599350002", "password": "Sandbox-Ameli-2", "sub": "ameli-3b1d20",
         "claims": {"given_name": "Lucie", "family_name": "BERNARD", "birthdate": "1990-05-03", "gender": "female",
                    "birthplace": "", "birthcountry": "99134", "email": "lucie.bernard@example.org",
                    "email_verified": True}},
    ],
    "laposte": [
        {"login": "jean-eric.petit", "password": "Sandbox-LaPoste-1", "sub": "laposte-000042",
         "claims": {"given_name": "Jean-Éric", "family_name": "PETIT", "birthdate": "1975-11-30", "gender": "male",
                    "birthplace": "13055", "birthcountry": "99100", "email": "jean-eric.petit@example.fr",
                    "email_verified": True}},
    ],
}

SCOPE_CLAIMS = {
    "profile": ("given_name", "family_name", "birthdate", "gender"),
    "email": ("email", "email_verified"),
    "birth": ("birthplace", "birthcountry"),
}
CODE_TTL = 60
TOKEN_TTL = 600
IDP_CLIENT_ID = "civic-idp"


def demo_credentials() -> str:
    """A printable table of the demo citizens' credentials (the demo runner prints it)."""
    lines = ["Sandbox upstream providers (bac à sable) — demo citizens:"]
    for key, citizens in DEMO_CITIZENS.items():
        meta = SANDBOX_PROVIDERS[key]
        issuer = os.environ.get(f"UPSTREAM_{key.upper()}_ISSUER") or f"http://localhost:{meta['port']}"
        lines.append(f"  {meta['display_name']} ({issuer}, {meta['acr']}):")
        for citizen in citizens:
            c = citizen["claims"]
            lines.append(f"    {citizen['login']:<18} {citizen['password']:<20} {c['given_name']} {c['family_name']}")
    lines.append("  Angela Dubois exists at impots and ameli: both sign-ins reach the same account.")
    return "\n".join(lines)


class SandboxStore:
    """Codes, access tokens and pending authorization requests of one sandbox (in-process)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.citizens: dict[str, dict[str, Any]] = {}
        self.requests: dict[str, tuple[float, dict[str, Any]]] = {}
        self.codes: dict[str, tuple[float, dict[str, Any]]] = {}
        self.tokens: dict[str, tuple[float, dict[str, Any]]] = {}
        self.sessions: dict[str, str] = {}  # login → sid of its latest sign-in (the ID token's ``sid``)

    def put(self, table: dict, value: dict[str, Any], ttl: int) -> str:
        key = secrets.token_urlsafe(32)
        with self.lock:
            table[key] = (time.time() + ttl, value)
        return key

    def take(self, table: dict, key: str | None, consume: bool = False) -> dict[str, Any] | None:
        with self.lock:
            entry = table.pop(key, None) if consume else table.get(key)
        if not entry or entry[0] < time.time():
            return None
        return entry[1]


def seed_citizens(app: Flask, citizens: list[dict[str, Any]]) -> None:
    """Add (or replace) citizens: each {login, password, sub, claims}."""
    store: SandboxStore = app.extensions["sandbox_store"]
    with store.lock:
        for citizen in citizens:
            store.citizens[citizen["login"]] = citizen


def _load_key(name: str) -> RSAKey:
    path = keys_dir() / f"sandbox-{name}.json"
    if path.exists():
        return RSAKey.import_key(json.loads(path.read_text()))
    key = RSAKey.generate_key(2048, parameters={"kid": f"{name}-{secrets.token_hex(4)}", "use": "sig", "alg": "RS256"},
                              private=True)
    if not create_private(path, json.dumps(key.as_dict(private=True))):  # 0600 from the start
        return RSAKey.import_key(json.loads(path.read_text()))  # another process wrote it first
    return key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def create_sandbox_app(name: str, *, issuer: str | None = None, idp_issuer: str | None = None,
                       client_secret: str | None = None, redirect_uris: list[str] | None = None,
                       post_logout_redirect_uris: list[str] | None = None,
                       citizens: list[dict[str, Any]] | None = None) -> Flask:
    """A sandbox OP named after one of :data:`SANDBOX_PROVIDERS`.

    Defaults: issuer ``http://localhost:<port>`` (env ``UPSTREAM_<NAME>_ISSUER``); its one client
    ``civic-idp`` with the secret from ``UPSTREAM_<NAME>_CLIENT_SECRET`` (or the development
    secret), redirect URI ``<ISSUER of the IdP>/federation/callback``.
    """
    from idp.upstream.registry import sandbox_client_secret

    meta = SANDBOX_PROVIDERS[name]
    issuer = (issuer or os.environ.get(f"UPSTREAM_{name.upper()}_ISSUER") or f"http://localhost:{meta['port']}").rstrip("/")
    idp_issuer = (idp_issuer or os.environ.get("ISSUER") or "http://localhost:8000").rstrip("/")
    client = {
        "client_id": IDP_CLIENT_ID,
        "client_secret": client_secret or os.environ.get(f"UPSTREAM_{name.upper()}_CLIENT_SECRET") or sandbox_client_secret(name),
        "redirect_uris": redirect_uris or [f"{idp_issuer}/federation/callback"],
        "post_logout_redirect_uris": post_logout_redirect_uris or [f"{idp_issuer}/federation/logged-out"],
    }
    settings = load_settings(f"sandbox_{name}", {"_quiet": True, "public_url": issuer, "issuer": issuer})
    app = Flask(f"sandbox_{name}", instance_path=str(settings.instance_path),
                static_folder=str(PACKAGE_DIR / "static"), static_url_path="/static")
    service_name = f"{meta['display_name']} — " + "bac à sable"
    init_web(app, settings, service_name=service_name,
             template_roots=[PACKAGE_DIR / "templates"], translation_roots=[PACKAGE_DIR / "translations"])
    app.config.update(SESSION_COOKIE_NAME=f"sandbox_{name}_session", SANDBOX_FAULTS=set(), SANDBOX_ACR=None)
    store = SandboxStore()
    app.extensions["sandbox_store"] = store
    key = _load_key(name)
    app.extensions["sandbox_key"] = key  # tests sign what this provider would (e.g. a logout token)
    seed_citizens(app, DEMO_CITIZENS.get(name, []))
    if citizens:
        seed_citizens(app, citizens)

    def page(template: str, status: int = 200, **context: Any):
        return render_template(f"idp/federation/sandbox/{template}", provider=meta, sandbox_name=name,
                               **context), status

    def error_page(message: str, status: int = 400):
        return page("error.html", status=status, message=message)

    def redirect_with(uri: str, params: dict[str, str]):
        return redirect(uri + ("&" if "?" in uri else "?") + urlencode(params))

    @app.get("/.well-known/openid-configuration")
    def discovery():
        return jsonify({
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "userinfo_endpoint": f"{issuer}/userinfo",
            "jwks_uri": f"{issuer}/jwks",
            "end_session_endpoint": f"{issuer}/end_session",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "profile", "email", "birth"],
            "claims_supported": ["sub", "acr", "amr", "auth_time", *[c for cs in SCOPE_CLAIMS.values() for c in cs]],
            "acr_values_supported": [meta["acr"]],
            "authorization_response_iss_parameter_supported": True,
        })

    @app.get("/jwks")
    def jwks():
        return jsonify({"keys": [key.as_dict(private=False)]})

    def issue_code(params: dict[str, Any], citizen: dict[str, Any], auth_time: int):
        code = store.put(store.codes, {**params, "sub": citizen["sub"], "login": citizen["login"],
                                       "auth_time": auth_time, "sid": session.get("sid")}, CODE_TTL)
        return redirect_with(params["redirect_uri"], {"code": code, "state": params.get("state", ""), "iss": issuer})

    @app.get("/authorize")
    def authorize():
        args = request.args
        if args.get("client_id") != client["client_id"] or args.get("redirect_uri") not in client["redirect_uris"]:
            return error_page(_("Demande d'authentification invalide : client ou adresse de retour inconnus."))
        redirect_uri, state = args["redirect_uri"], args.get("state", "")

        def fail(error: str, description: str):
            return redirect_with(redirect_uri, {"error": error, "error_description": description, "state": state,
                                                "iss": issuer})

        if args.get("response_type") != "code":
            return fail("unsupported_response_type", "only code")
        if "openid" not in args.get("scope", "").split():
            return fail("invalid_scope", "openid is required")
        if args.get("code_challenge_method") != "S256" or len(args.get("code_challenge", "")) < 43:
            return fail("invalid_request", "PKCE S256 is required")
        if not args.get("nonce"):
            return fail("invalid_request", "nonce is required")
        params = {k: args.get(k) for k in ("redirect_uri", "state", "nonce", "scope", "code_challenge", "acr_values")}
        login = session.get("login")
        if login in store.citizens and args.get("prompt") != "login":
            return issue_code(params, store.citizens[login], session.get("auth_time", int(time.time())))
        if args.get("prompt") == "none":
            return fail("login_required", "no session")
        request_id = store.put(store.requests, params, 1800)
        return page("login.html", request_id=request_id, errors={}, login="")

    @app.post("/login")
    def login():
        params = store.take(store.requests, request.form.get("request_id"))
        if params is None:
            return error_page(_("Cette demande a expiré. Revenez au service qui vous a envoyé ici et recommencez."))
        if request.form.get("action") == "cancel":
            store.take(store.requests, request.form.get("request_id"), consume=True)
            return redirect_with(params["redirect_uri"], {"error": "access_denied", "state": params.get("state", ""),
                                                          "iss": issuer})
        login_value = request.form.get("login", "").strip()
        citizen = store.citizens.get(login_value)
        password = request.form.get("password", "")
        if not citizen or not hmac.compare_digest(citizen["password"].encode(), password.encode()):
            errors = {"login": _("Identifiant ou mot de passe incorrect.")}
            return page("login.html", status=200, request_id=request.form.get("request_id"), errors=errors,
                        login=login_value)
        store.take(store.requests, request.form.get("request_id"), consume=True)
        session.clear()
        session["login"] = citizen["login"]
        session["auth_time"] = int(time.time())
        session["sid"] = store.sessions[citizen["login"]] = secrets.token_urlsafe(16)
        return issue_code(params, citizen, session["auth_time"])

    def authenticate_client() -> bool:
        auth = request.authorization
        if auth and auth.type == "basic":  # each part form-urlencoded first (RFC 6749 §2.3.1)
            client_id, secret = unquote_plus(auth.username or ""), unquote_plus(auth.password or "")
        else:
            client_id, secret = request.form.get("client_id"), request.form.get("client_secret")
        return client_id == client["client_id"] and hmac.compare_digest(
            (secret or "").encode(), client["client_secret"].encode())

    def sign_id_token(claims: dict[str, Any]) -> str:
        faults = app.config["SANDBOX_FAULTS"]
        if "wrong_iss" in faults:
            claims["iss"] = issuer + "/evil"
        if "wrong_aud" in faults:
            claims["aud"] = "someone-else"
        if "wrong_nonce" in faults:
            claims["nonce"] = "not-the-nonce"
        if "expired" in faults:
            claims["exp"] = int(time.time()) - 3600
        if "alg_none" in faults:
            header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
            return f"{header}.{_b64(json.dumps(claims).encode())}."
        if "alg_hs256" in faults:  # the classic confusion attack: HMAC keyed with the public key
            secret = OctKey.import_key(json.dumps(key.as_dict(private=False)).encode())
            return jwt.encode({"alg": "HS256", "kid": key.kid}, claims, secret, algorithms=["HS256"])
        token = jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "JWT"}, claims, key)
        if "bad_signature" in faults:
            head, payload, signature = token.split(".")
            forged = dict(claims, sub=claims["sub"] + "-forged")
            token = f"{head}.{_b64(json.dumps(forged).encode())}.{signature}"
        return token

    @app.post("/token")
    @csrf.exempt
    def token():
        if not authenticate_client():
            return jsonify(error="invalid_client"), 401
        if request.form.get("grant_type") != "authorization_code":
            return jsonify(error="unsupported_grant_type"), 400
        grant = store.take(store.codes, request.form.get("code"), consume=True)
        if grant is None or grant["redirect_uri"] != request.form.get("redirect_uri"):
            return jsonify(error="invalid_grant"), 400
        verifier = request.form.get("code_verifier", "")
        if _b64(hashlib.sha256(verifier.encode()).digest()) != grant["code_challenge"]:
            return jsonify(error="invalid_grant", error_description="PKCE verification failed"), 400
        now = int(time.time())
        access_token = store.put(store.tokens, {"sub": grant["sub"], "login": grant["login"],
                                                "scope": grant["scope"]}, TOKEN_TTL)
        claims = {"iss": issuer, "sub": grant["sub"], "aud": client["client_id"], "iat": now, "exp": now + TOKEN_TTL,
                  "auth_time": grant["auth_time"], "nonce": grant["nonce"],
                  "acr": app.config["SANDBOX_ACR"] or meta["acr"], "amr": ["pwd"],
                  **({"sid": grant["sid"]} if grant.get("sid") else {}),
                  "at_hash": _b64(hashlib.sha256(access_token.encode()).digest()[:16])}
        response = jsonify(access_token=access_token, token_type="Bearer", expires_in=TOKEN_TTL,  # noqa: S106
                           id_token=sign_id_token(claims), scope=grant["scope"])
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.route("/userinfo", methods=["GET", "POST"])
    @csrf.exempt
    def userinfo():
        header = request.headers.get("Authorization", "")
        grant = store.take(store.tokens, header[7:] if header.startswith("Bearer ") else None)
        if grant is None:
            response = jsonify(error="invalid_token")
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            return response, 401
        citizen = store.citizens[grant["login"]]
        info: dict[str, Any] = {"sub": grant["sub"]}
        for scope in grant["scope"].split():
            for claim in SCOPE_CLAIMS.get(scope, ()):
                if claim in citizen["claims"]:
                    info[claim] = citizen["claims"][claim]
        return jsonify(info)

    @app.route("/end_session", methods=["GET", "POST"])
    @csrf.exempt
    def end_session():
        values = request.values
        target = values.get("post_logout_redirect_uri")
        hint_ok = False
        if values.get("id_token_hint"):
            try:
                claims = jwt.decode(values["id_token_hint"], key, algorithms=["RS256"]).claims
                hint_ok = claims.get("iss") == issuer and claims.get("aud") == client["client_id"]
            except Exception:  # noqa: BLE001 - any undecodable hint is simply not trusted
                hint_ok = False
        session.clear()
        if target and target in client["post_logout_redirect_uris"] and (hint_ok or values.get("client_id") == client["client_id"]):
            params = {"state": values["state"]} if values.get("state") else {}
            return redirect_with(target, params) if params else redirect(target)
        return page("logged_out.html")

    @app.get("/")
    def home():
        return page("home.html", citizens=list(store.citizens.values()))

    @app.errorhandler(405)
    def not_allowed(_error):
        abort(404)

    return app


def main(argv: list[str] | None = None) -> None:
    argv = argv if argv is not None else sys.argv[1:]
    if not argv or argv[0] not in SANDBOX_PROVIDERS:
        raise SystemExit(f"usage: python -m idp.upstream.sandbox {{{'|'.join(SANDBOX_PROVIDERS)}}}")
    name = argv[0]
    app = create_sandbox_app(name)
    print(demo_credentials())  # noqa: T201
    app.run(host="127.0.0.1", port=SANDBOX_PROVIDERS[name]["port"])


if __name__ == "__main__":
    main()


def demo_processes() -> list[dict[str, Any]]:
    """For the demo runner (scripts/demo_seed.extra_processes): one gunicorn process per sandbox."""
    return [{"module": "idp.upstream.sandbox", "factory": f"create_sandbox_app('{key}')", "port": meta["port"],
             "title": f"{meta['display_name']} (bac à sable / sandbox)"} for key, meta in SANDBOX_PROVIDERS.items()]
