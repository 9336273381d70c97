"""Two IdP instances behind one issuer, sharing PostgreSQL and Redis: a sign-in started on one
continues on the other, a refresh token issued by one is rotated by the other (and its reuse
detected by either), a logout on one is seen by both."""

from __future__ import annotations

import re
import uuid
from html import unescape
from itertools import cycle
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from tests.idp.helpers import make_client, make_user, pkce, start_idp
from tests.servers import create_database, free_port

REDIRECT = "http://rp.example/callback"


def csrf(html: str) -> str:
    return unescape(re.search(r'name="csrf_token" value="([^"]+)"', html).group(1))


def test_two_instances_share_everything(postgres_server_url, real_redis_url):
    database = create_database(postgres_server_url, f"idp_{uuid.uuid4().hex[:8]}")
    issuer = f"http://127.0.0.1:{free_port()}"  # the load balancer's address, as both instances announce it
    strict = {"lifetimes": {"refresh_reuse_grace": 0}}  # reuse detection across instances, no grace
    first = start_idp(database, real_redis_url, issuer=issuer, raw=strict)
    second = start_idp(database, real_redis_url, issuer=issuer, raw=strict)
    try:
        make_user(first.app, "bob@example.org", "Bonne-Passe-2026")
        client_id, secret = make_client(first.app, [REDIRECT], first_party=True,
                                        scope="openid offline_access")
        instances = cycle([first.url, second.url])
        http = requests.Session()  # cookies are per host, so the browser's session goes to both

        def get(path: str) -> requests.Response:
            return http.get(next(instances) + path, allow_redirects=False)

        def post(path: str, data: dict) -> requests.Response:
            return http.post(next(instances) + path, data=data, allow_redirects=False)

        verifier, challenge = pkce()
        answer = get("/authorize?" + urlencode({
            "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "state": "s",
            "scope": "openid offline_access", "code_challenge": challenge, "code_challenge_method": "S256",
            "prompt": "consent"}))
        identifier_path = urlsplit(answer.headers["Location"]).path
        page = get(identifier_path)
        answer = post(identifier_path, {"csrf_token": csrf(page.text), "identifier": "bob@example.org"})
        password_path = urlsplit(answer.headers["Location"]).path
        page = get(password_path)
        answer = post(password_path, {"csrf_token": csrf(page.text), "password": "Bonne-Passe-2026"})
        while not answer.headers["Location"].startswith(REDIRECT):  # resume, consent… on alternating instances
            location = urlsplit(answer.headers["Location"])
            answer = get(location.path + ("?" + location.query if location.query else ""))
            if answer.status_code == 200:
                answer = post(urlsplit(answer.url).path, {"csrf_token": csrf(answer.text), "decision": "allow"})
        code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]

        tokens = requests.post(f"{second.url}/token", auth=(client_id, secret), data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": verifier}).json()
        rotated = requests.post(f"{first.url}/token", auth=(client_id, secret), data={
            "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
        assert rotated.status_code == 200, rotated.text
        reuse = requests.post(f"{second.url}/token", auth=(client_id, secret), data={
            "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
        assert reuse.status_code == 400, "the reuse is detected by the other instance"
        family_revoked = requests.post(f"{first.url}/token", auth=(client_id, secret), data={
            "grant_type": "refresh_token", "refresh_token": rotated.json()["refresh_token"]})
        assert family_revoked.status_code == 400

        assert http.get(f"{first.url}/account", allow_redirects=False).status_code == 200
        assert http.get(f"{second.url}/account", allow_redirects=False).status_code == 200
        page = http.get(f"{first.url}/account")
        http.post(f"{first.url}/signout", data={"csrf_token": csrf(page.text)})
        for instance in (first.url, second.url):
            assert http.get(f"{instance}/account", allow_redirects=False).status_code == 302
    finally:
        first.stop()
        second.stop()
