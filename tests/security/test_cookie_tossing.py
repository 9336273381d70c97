"""Outside review: a page on a sibling port or subdomain plants a session cookie for the IdP's host
with a narrower Path; the browser sends it first, and the person acts in the attacker's session
(the mailbox proof then landed in the thief's session, who bound a passkey with it; with a planted
``idp_session``, the attacker's CSRF token passed). A request carrying one of these names twice is
refused and every copy expired (shared.cookies); in production the names are ``__Host-`` ones
(tests/operations/test_topology.py)."""

from __future__ import annotations

import secrets

import requests

from tests.idp.helpers import csrf_token, make_user, start_idp
from tests.idp.lifecycle.test_second_factor import GOOD, signed_in


def test_a_planted_session_cookie_beside_the_owners_is_refused_and_both_expire(tmp_path):
    idp = start_idp(f"sqlite:///{tmp_path}/idp.db")
    try:
        email = f"tossed-{secrets.token_hex(4)}@example.org"
        make_user(idp.app, email, GOOD)
        owner, thief = signed_in(idp, email), signed_in(idp, email)
        planted, own = thief.cookies.get("idp_sid"), owner.cookies.get("idp_sid")
        # the browser sends the narrower-path cookie first: the planted one
        answer = requests.get(f"{idp.url}/account/totp", allow_redirects=False,
                              headers={"Cookie": f"idp_sid={planted}; idp_sid={own}"})
        assert answer.status_code == 400 and "deux sessions" in answer.text
        expired = [c for c in answer.raw.headers.getlist("Set-Cookie") if c.startswith("idp_sid=;")]
        assert {"Path=/", "Path=/account", "Path=/account/totp"} <= {
            part.strip() for c in expired for part in c.split(";") if part.strip().startswith("Path=")}
        assert not idp.app.extensions["redis"].keys("idp:mailbox-code:*"), "no code was sent for either session"
    finally:
        idp.stop()


def test_a_planted_flask_session_cannot_carry_the_attackers_csrf_token(tmp_path):
    idp = start_idp(f"sqlite:///{tmp_path}/idp.db")
    try:
        email = f"csrf-{secrets.token_hex(4)}@example.org"
        make_user(idp.app, email, GOOD)
        victim = signed_in(idp, email)
        attacker = requests.Session()
        token = csrf_token(attacker.get(f"{idp.url}/signin").text)
        cookie = "; ".join([f"idp_session={attacker.cookies.get('idp_session')}",
                            f"idp_session={victim.cookies.get('idp_session')}",
                            f"idp_sid={victim.cookies.get('idp_sid')}"])
        forged = requests.post(f"{idp.url}/account/sessions/others", data={"csrf_token": token},
                               headers={"Cookie": cookie}, allow_redirects=False)
        assert forged.status_code == 400 and "deux sessions" in forged.text
        assert victim.get(f"{idp.url}/account", allow_redirects=False).status_code == 200
    finally:
        idp.stop()
