"""A phishing-resistant factor when the client or the request needs one: the post-login step after
the second factor, and what satisfies it.

``phr`` (the OpenID EAP ACR value "phishing-resistant") is achieved by a passkey only (amr ``hwk``
or ``swk``): a TOTP code typed into a look-alike site is relayed, a passkey signs for our origin
alone. A client needs it when the request asks ``acr_values=phr``, when its policy's
``default_acr`` is ``phr``, or, for the accounts holding one of its
``phishing_resistant_roles`` (e.g. eComms' ``registry``), always. An account without a passkey
registers one in the sign-in, after its password (and its TOTP code, when it has one).
"""

from __future__ import annotations

from flask import url_for

from idp.flows.mfa import second_factor_step
from idp.flows.steps import POST_LOGIN_STEPS
from idp.services import clients, passkeys, sessions

PHISHING_RESISTANT = "phr"
PASSKEY_AMR = frozenset({"hwk", "swk"})


def phishing_resistant(amr: list[str]) -> bool:
    return bool(PASSKEY_AMR & set(amr or []))


def required(client, requested_acr: list[str], account) -> bool:
    if client is None:
        return False
    policy = client.policy or {}
    if PHISHING_RESISTANT in (requested_acr or [policy.get("default_acr")]):
        return True
    roles = set(policy.get("phishing_resistant_roles") or [])
    return bool(account is not None and roles & set(account.roles or []))


def phishing_resistant_step(interaction, account):
    session = sessions.current_session()
    client = clients.get(interaction.client_id) if interaction.client_id else None
    if session is None or phishing_resistant(session.amr) or not required(client, interaction.requested_acr, account):
        return None
    if passkeys.count_for(account.id):
        return url_for("passkeys.challenge", uid=interaction.uid)
    return url_for("passkeys.setup_in_sign_in", uid=interaction.uid)


def _after_second_factor() -> None:
    if phishing_resistant_step in POST_LOGIN_STEPS:
        return
    at = POST_LOGIN_STEPS.index(second_factor_step) + 1 if second_factor_step in POST_LOGIN_STEPS else 0
    POST_LOGIN_STEPS.insert(at, phishing_resistant_step)


_after_second_factor()
