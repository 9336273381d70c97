"""The second factor at sign-in: a post-login step, and what "complete" means for a session.

A session opened by a password alone, for an account that has a second factor, is not complete:
it cannot reach the account page nor single-sign-on into any client until the code is given.
"""

from __future__ import annotations

from flask import url_for

from idp.flows.steps import POST_LOGIN_STEPS
from idp.services import clients, devices, mfa, passkeys, sessions

SECOND_FACTOR_AMR = ["otp", "mfa"]


def needs_second_factor(session, account_id: str, client=None) -> bool:
    if session is None or mfa.proved_second_factor(session.amr):
        return False
    if "fed" in session.amr:  # the upstream provider vouched for the person; its acr says how
        return False
    return mfa.has_second_factor(account_id) or bool(client and (client.policy or {}).get("require_mfa"))


def is_complete(session) -> bool:
    return session is not None and not needs_second_factor(session, session.account_id)


def second_factor_step(interaction, account):
    session = sessions.current_session()
    client = clients.get(interaction.client_id) if interaction.client_id else None
    if not needs_second_factor(session, account.id, client):
        return None
    if passkeys.count_for(account.id):  # phishing-resistant first; the page offers the code too
        return url_for("passkeys.challenge", uid=interaction.uid)
    if mfa.is_enabled(account.id):
        return url_for("account.totp_challenge", uid=interaction.uid)
    # the client requires a second factor the account does not have yet: enrol, then come back
    return url_for("account.totp_setup", uid=interaction.uid)


if second_factor_step not in POST_LOGIN_STEPS:
    POST_LOGIN_STEPS.insert(0, second_factor_step)  # before any choice the user makes once signed in


# -- the second-factor pages of a sign-in (a TOTP or recovery code, a passkey) --------------------

def session_at_second_factor(uid: str):
    """The session of the sign-in ``uid`` standing at its second factor, or None: the page then
    sends the browser back to the identifier (no session, or the sign-in expired)."""
    from idp.oidc import interaction as interactions

    session = sessions.current_session()
    return session if session is not None and interactions.load(uid) is not None else None


def check_code(account_id: str, code: str) -> str | None:
    """``mfa.verify`` for this browser: its own throttle counter when the account's second factor
    was proven on it before, else the one of every unknown browser (raises ``mfa.Throttled``)."""
    return mfa.verify(account_id, code, devices.second_factor_device(account_id))


def second_factor_proven(session, uid: str, methods: list[str], steps: tuple[str, ...]):
    """Record what was proven on the session, mark the sign-in's steps done, and go on; this
    browser is now one where the account's second factor was proven (its own throttle counter)."""
    from idp.flows import login as login_flow

    sessions.add_methods(session, *methods)
    for step in steps:
        login_flow.mark_done(uid, step)
    response = login_flow.resume_interaction(uid)
    devices.remember(response, session.account_id, second_factor=True)
    return response
