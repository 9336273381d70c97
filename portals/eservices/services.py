"""The portal's rules: the catalogue, the live permission check, the démarches and support requests.

The permission check asks the IdP's management API (``GET /api/management/acting-for``) with
the signed-in person's access token: for which organisation the IdP session acts now, with which
role and e-services. The answer is cached a few seconds for reads only (``PERMISSION_CACHE_SECONDS``): a
permission the administrator revokes stops working at the next request. When the IdP cannot be
asked, the answer is "no" (fail closed).

Where the truth of "for whom" lives: at the IdP, read per request, not in the ID token's ``org``
claim. That claim is a snapshot of sign-in time, while everything that changes it happens at the
IdP, often in another browser: the switch on its choice page, the administrator's validation, the
legal representative's codes. A back-channel push would need a new endpoint in every portal and
its own delivery guarantees, and a claim refresh still leaves the window until the next refresh;
the portal asks the IdP on every e-service request anyway (permissions), so asking "for whom" in
the same call costs nothing and leaves no window.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

import requests
from flask import Flask, has_request_context, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from portals.eservices import procedures
from portals.eservices.models import Demarche, OutboxMessage, SupportRequest
from shared.config import load_toml
from shared.rp.session import Principal

PERMISSION_CACHE_SECONDS = 3
SUPPORT_TOPICS = ("courrier", "compte", "inscription", "e-service", "autre")


@dataclass(frozen=True)
class EService:
    id: str
    name_fr: str
    name_en: str
    description_fr: str
    description_en: str
    kinds: tuple[str, ...]

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_fr

    def description(self, locale: str) -> str:
        return self.description_en if locale == "en" else self.description_fr


def catalogue() -> dict[str, EService]:
    return {key: EService(key, e.get("name_fr", key), e.get("name_en", key), e.get("description_fr", ""),
                          e.get("description_en", ""), tuple(e.get("kinds", ())))
            for key, e in load_toml("eservices.toml").items()}


@dataclass
class Access:
    """What the IdP says this person may do in the organisation the session acts for (now)."""

    organisation: dict | None
    active: bool
    role: str | None
    eservices: list[str]
    reachable: bool = True
    organisations: int = 0  # how many organisations the person may act for (several: a choice)

    @property
    def is_administrator(self) -> bool:
        return self.active and self.role == "administrator"


class PermissionClient:
    def __init__(self, app: Flask):
        self.app = app

    def _redis(self):
        return self.app.extensions["redis"]

    def access(self, principal: Principal) -> Access:
        key = f"eservices:acting:{principal.session_id}"
        # a change (a record saved, a request sent) is always decided on the IdP's answer of now:
        # the cache only spares reads (outside review: a record was saved 3 s after a revocation)
        changing = has_request_context() and request.method not in ("GET", "HEAD")
        cached = None if changing else self._redis().get(key)
        if cached:
            data = json.loads(cached)
        else:
            data = self._ask(principal)
            if data is None:
                organisation = principal.claims.get("org")
                return Access(organisation if isinstance(organisation, dict) else None, False, None, [],
                              reachable=False)
            ttl = int(self.app.config.get("PERMISSION_CACHE_SECONDS", PERMISSION_CACHE_SECONDS))
            if ttl > 0:
                self._redis().set(key, json.dumps(data), ex=ttl)
        organisation = data.get("org") if isinstance(data.get("org"), dict) and data["org"].get("id") else None
        return Access(organisation, bool(data.get("active")) and organisation is not None, data.get("org_role"),
                      list(data.get("eservices", [])), organisations=int(data.get("organisations") or 0))

    def _ask(self, principal: Principal) -> dict[str, Any] | None:
        """The IdP's answer for this person's session (``/api/management/acting-for``), None when it
        cannot be had (unreachable, refused token)."""
        rp = self.app.extensions["rp"]
        if not principal.access_token:
            return None
        try:
            url = rp.provider._url(rp.provider.issuer + "/api/management/acting-for")
            response = rp.provider.http.get(url, headers={"Authorization": f"Bearer {principal.access_token}"},
                                            timeout=5)
        except requests.RequestException:
            self.app.logger.warning("permission check: IdP unreachable")
            return None
        if response.status_code != 200:
            self.app.logger.warning("permission check refused: http %s", response.status_code)
            return None
        answer = response.json()
        return answer if isinstance(answer, dict) else None

    def confirm_codes(self, reference: str, code_1: str, code_2: str) -> dict | None:
        """Forward the legal representative's codes to the IdP; its answer (``outcome``, and once the codes
        are right ``organisation`` and ``administrator``: whom they validated), or None when unreachable."""
        rp = self.app.extensions["rp"]
        try:
            token = rp.client_credentials_token("management")
            url = rp.provider._url(rp.provider.issuer + "/api/management/admin-requests/confirm")
            response = rp.provider.http.post(url, json={"reference": reference, "code_1": code_1, "code_2": code_2},
                                             headers={"Authorization": f"Bearer {token}"}, timeout=10)
        except Exception:  # noqa: BLE001 - unreachable, refused credentials...: the page says so
            self.app.logger.exception("legal representative's codes could not be forwarded")
            return None
        if response.status_code not in (200, 422):
            return None
        answer = response.json()
        return answer if isinstance(answer, dict) and answer.get("outcome") else None


# ----------------------------------------------------------------------------------------------
# Démarches (using an e-service) and support requests


def demarches(session: Session, organisation_id: str, eservice_id: str) -> list[Demarche]:
    """The organisation's records in this e-service, newest first (never another organisation's)."""
    return list(session.scalars(select(Demarche).where(Demarche.organisation_id == organisation_id,
                                                      Demarche.eservice_id == eservice_id)
                                .order_by(Demarche.created_at.desc()).limit(50)))


def demarche(session: Session, organisation_id: str, eservice_id: str, reference: str) -> Demarche | None:
    """One record by the reference in a URL, only when it is this organisation's and this e-service's:
    another organisation's reference answers as an unknown one."""
    return session.scalar(select(Demarche).where(Demarche.reference == reference.strip().upper(),
                                                 Demarche.organisation_id == organisation_id,
                                                 Demarche.eservice_id == eservice_id))


def create_demarche(session: Session, principal: Principal, organisation_id: str, procedure: procedures.Procedure,
                    form: dict[str, str], today: date) -> Demarche | dict[str, str]:
    """The record of one submission of this e-service's form, or field → error code (nothing stored)."""
    errors, values = procedures.check(procedure, form, today)
    if errors:
        return errors
    reference = f"{procedure.prefix}-{today.year}-{secrets.token_hex(3).upper()}"
    record = Demarche(organisation_id=organisation_id, eservice_id=procedure.eservice_id, sub=principal.sub,
                      author=principal.display_name[:200], title=values[procedure.summary][:200], details="",
                      reference=reference, data=values)
    session.add(record)
    return record


def support_prefill(principal: Principal | None) -> dict[str, str]:
    """What the support form starts with: for a signed-in person, the name and the address the IdP
    asserted, so nobody types them again; both stay editable (an answer may be wanted at the
    office's shared address). Nothing for a signed-out visitor, and never anything from the request:
    a link cannot choose the address the desk's answer goes to."""
    if principal is None:
        return {}
    claims = principal.claims
    name = " ".join(str(part) for part in (claims.get("given_name"), claims.get("family_name")) if part)
    return {key: value for key, value in (("support_name", name or str(claims.get("name") or "")),
                                          ("support_email", str(principal.email or ""))) if value}


def check_support(form: dict[str, str]) -> dict[str, str]:
    errors = {}
    for name in ("support_name", "support_email", "support_topic", "support_message"):
        if not (form.get(name) or "").strip():
            errors[name] = "required"
    email = (form.get("support_email") or "").strip()
    if email and ("@" not in email or " " in email or len(email) > 320):
        errors["support_email"] = "invalid"
    if form.get("support_topic") and form["support_topic"] not in SUPPORT_TOPICS:
        errors["support_topic"] = "required"
    if len(form.get("support_message") or "") > 5000:
        errors["support_message"] = "too_long"
    return errors


@dataclass(frozen=True)
class SupportMessages:
    """The two emails of a support request, already in their languages (the view words them):
    ``acknowledgment`` to the requester, ``desk`` to the support address; each (subject, body) with
    ``%(ref)s`` and, for the desk, the request's fields as ``%(name)s``, ``%(email)s``... placeholders."""

    acknowledgment: tuple[str, str]
    desk: tuple[str, str]
    desk_address: str


def create_support_request(session: Session, form: dict[str, str], principal: Principal | None,
                           page: str | None, messages: SupportMessages | None = None,
                           locale: str = "fr") -> SupportRequest:
    """Store the request and, in the same transaction, the acknowledgment to the requester and the
    request itself to the support desk's address (both through the outbox: retried, never lost)."""
    reference = "AS-" + secrets.token_hex(4).upper()
    organisation = principal.claims.get("org") if principal else None
    record = SupportRequest(
        reference=reference, sub=principal.sub if principal else None,
        organisation_id=organisation.get("id") if isinstance(organisation, dict) else None,
        name=" ".join(form["support_name"].split())[:200], email=form["support_email"].strip(),
        topic=form["support_topic"], message=form["support_message"].strip(), page=(page or "")[:300],
        locale=locale)
    session.add(record)
    if messages:
        subject, body = messages.acknowledgment
        session.add(OutboxMessage(channel="email", recipient=record.email, locale=locale,
                                  subject=subject % {"ref": reference}, body_text=body % {"ref": reference}))
        values = {"ref": reference, "name": record.name, "email": record.email, "topic": record.topic,
                  "page": record.page or "-", "message": record.message, "locale": locale,
                  "organisation": (organisation.get("name") or organisation.get("id")) if isinstance(organisation, dict)
                  else "-", "signed_in": "oui" if principal else "non"}
        subject, body = messages.desk
        session.add(OutboxMessage(channel="email", recipient=messages.desk_address, locale="fr",
                                  subject=subject % values, body_text=body % values))
    return record


def support_payload(record: SupportRequest) -> dict:
    """What the IdP's support desk needs to answer the request (shared.support_handover)."""
    return {"reference": record.reference, "email": record.email, "name": record.name, "topic": record.topic,
            "message": record.message, "locale": record.locale or "fr", "page": record.page or None,
            "organisation": record.organisation_id}


def support_requests(session: Session, status: str | None = "open") -> list[SupportRequest]:
    query = select(SupportRequest).order_by(SupportRequest.created_at)
    if status:
        query = query.where(SupportRequest.status == status)
    return list(session.scalars(query))


def close_support_request(session: Session, reference: str) -> SupportRequest | None:
    record = session.scalar(select(SupportRequest).where(SupportRequest.reference == reference.strip().upper()))
    if record is not None:
        record.status = "closed"
    return record
