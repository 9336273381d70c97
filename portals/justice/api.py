"""The court feed (client credentials, scope ``court_feed``), described in court_feed.yaml:
courts create and update cases, parties, events, hearings and documents, correct and cancel
events, record consent, close cases and cut access. Every update alerts the parties (unless they
switched it off).

A case number is an opaque identifier in the path, whatever the court's numbering: "RG 24/01234"
is sent percent-encoded (``RG%2024%2F01234``); servers decode ``%2F`` before routing, so the
routes take the number as a path segment that may contain "/". Times must carry their UTC offset:
a local time without one is ambiguous around a daylight-saving change and is refused."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from pathlib import Path

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select
from werkzeug.routing import PathConverter

from portals.justice import services
from portals.justice.models import Case, Party
from portals.justice.services import Refused
from shared.appkit import get_db
from shared.rp import require_bearer
from shared.web import csrf


class CaseNumber(PathConverter):
    """A court's case number as one path variable: any characters, "/" (sent as %2F) included."""

    regex = r"[^/][\s\S]*?"


bp = Blueprint("court_api", __name__, url_prefix="/api/court")
bp.record_once(lambda state: state.app.url_map.converters.setdefault("case_number", CaseNumber))
csrf.exempt(bp)
SPEC = Path(__file__).with_name("court_feed.yaml")
SCOPE = "court_feed"
EVENT_KINDS = ("event", "hearing", "decision", "renvoi", "document")
DOCUMENT_KINDS = ("receipt", "notice", "summons")


def bad(description: str, status: int = 400):
    return jsonify(error="invalid_request", error_description=description), status


def body() -> dict:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def text(data: dict, field: str, required: bool = True, limit: int = 300) -> str | None:
    value = data.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ValueError(f"'{field}' must be a non-empty string of at most {limit} characters")
    return value.strip()


def case_or_404(session, reference: str) -> Case | None:
    return session.scalar(select(Case).where(Case.reference == reference))


def moment(data: dict, field: str) -> datetime:
    """An ISO 8601 date-time with its offset (``2026-12-03T14:00:00+01:00`` or ``…Z``)."""
    raw = data.get(field)
    try:
        value = datetime.fromisoformat(str(raw)) if isinstance(raw, str) else None
    except ValueError:
        value = None
    if value is None:
        raise ValueError(f"'{field}' must be an ISO 8601 date-time with its UTC offset, "
                         "e.g. 2026-12-03T14:00:00+01:00")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"'{field}' has no UTC offset: a local time is ambiguous; send it with its offset, "
                         "e.g. 2026-12-03T14:00:00+01:00 (Paris, winter) or 2026-07-03T14:00:00+02:00 (summer)")
    return value


@bp.put("/cases/<case_number:reference>")
@require_bearer(SCOPE)
def put_case(reference: str):
    data = body()
    try:
        if len(reference) > 40 or not reference.strip() or any(ord(ch) < 32 for ch in reference):
            raise ValueError("the case number must be 1 to 40 printable characters")
        fields = {"nature": text(data, "nature", required=False, limit=200)}
        if data.get("state") is not None:
            if data["state"] not in ("ongoing", "finished"):
                raise ValueError("'state' must be ongoing or finished")
            fields["state"] = data["state"]
        if data.get("state_label") is not None:
            fields["state_label"] = text(data, "state_label", limit=120)
        if data.get("updating") is not None:
            if not isinstance(data["updating"], bool):
                raise ValueError("'updating' must be a boolean")
            fields["updating"] = data["updating"]
        court = data.get("court")
        if court is not None:
            if not isinstance(court, dict):
                raise ValueError("'court' must be an object")
            fields["court"] = {k: text(court, k, required=(k == "name"), limit=300)
                               for k in ("name", "address", "phone", "email") if k in court or k == "name"}
    except ValueError as error:
        return bad(str(error))
    with get_db().session() as session:
        existing = case_or_404(session, reference)
        if existing is None and (not fields.get("nature") or not fields.get("court")):
            return bad("a new case needs 'nature' and 'court.name'")
        case, created = services.upsert_case(session, reference, {k: v for k, v in fields.items() if v is not None})
        answer = {"reference": case.reference, "state": case.state}
    return jsonify(answer), 201 if created else 200


@bp.post("/cases/<case_number:reference>/parties")
@require_bearer(SCOPE)
def post_party(reference: str):
    data = body()
    try:
        fields = {"role": text(data, "role", limit=60), "last_name": text(data, "last_name", limit=200),
                  "first_name": text(data, "first_name", required=False, limit=200) or "",
                  "email": text(data, "email", required=False, limit=320),
                  "mobile": text(data, "mobile", required=False, limit=30)}
    except ValueError as error:
        return bad(str(error))
    with get_db().session() as session:
        case = case_or_404(session, reference)
        if case is None:
            return bad("unknown case", 404)
        try:
            party = services.add_party(session, case, fields)
        except Refused:
            return bad("'mobile' is not a valid phone number")
        return jsonify(id=party.id, role=party.role), 201


def party_of(session, reference: str, party_id: str) -> Party | None:
    party = session.get(Party, party_id)
    return party if party is not None and party.case.reference == reference else None


@bp.post("/cases/<case_number:reference>/parties/<party_id>/consent")
@require_bearer(SCOPE)
def post_consent(reference: str, party_id: str):
    locale = body().get("locale", "fr")
    with get_db().session() as session:
        party = party_of(session, reference, party_id)
        if party is None:
            return bad("unknown party", 404)
        try:
            services.record_consent(session, party, locale if locale in ("fr", "en") else "fr")
        except Refused:
            return bad("consent needs the party's email and mobile phone", 409)
    return jsonify(status="consent recorded; identification number emailed to the party"), 201


@bp.post("/cases/<case_number:reference>/parties/<party_id>/access-cut")
@require_bearer(SCOPE)
def post_access_cut(reference: str, party_id: str):
    with get_db().session() as session:
        party = party_of(session, reference, party_id)
        if party is None:
            return bad("unknown party", 404)
        services.cut_access(session, party)
    return jsonify(status="access cut"), 200


@bp.post("/cases/<case_number:reference>/events")
@require_bearer(SCOPE)
def post_event(reference: str):
    data = body()
    try:
        kind = data.get("kind")
        if kind not in EVENT_KINDS:
            raise ValueError(f"'kind' must be one of {', '.join(EVENT_KINDS)}")
        fields = {"kind": kind, "label": text(data, "label"), "at": moment(data, "at"),
                  "location": text(data, "location", required=False) or ""}
        if kind == "renvoi":
            fields["new_at"] = moment(data, "new_at")
        if kind == "document":
            if data.get("document_kind") not in DOCUMENT_KINDS:
                raise ValueError(f"'document_kind' must be one of {', '.join(DOCUMENT_KINDS)}")
            try:
                pdf = base64.b64decode(str(data.get("pdf_base64", "")), validate=True)
            except (binascii.Error, ValueError) as error:
                raise ValueError("'pdf_base64' must be base64") from error
            if not pdf.startswith(b"%PDF-") or len(pdf) > 10 * 1024 * 1024:
                raise ValueError("'pdf_base64' must be a PDF of at most 10 MB")
            fields.update(document_kind=data["document_kind"], document_pdf=pdf)
    except ValueError as error:
        return bad(str(error))
    with get_db().session() as session:
        case = case_or_404(session, reference)
        if case is None:
            return bad("unknown case", 404)
        event = services.add_event(session, case, fields)
        return jsonify(id=event.id), 201


@bp.patch("/cases/<case_number:reference>/events/<event_id>")
@require_bearer(SCOPE)
def patch_event(reference: str, event_id: str):
    """A correction: any of label, at, location, new_at (a renvoi's new date)."""
    data = body()
    try:
        fields = {}
        if "label" in data:
            fields["label"] = text(data, "label")
        if "location" in data:
            fields["location"] = text(data, "location", required=False) or ""
        for name in ("at", "new_at"):
            if name in data:
                fields[name] = moment(data, name)
        if not fields:
            raise ValueError("nothing to correct: send label, at, location or new_at")
    except ValueError as error:
        return bad(str(error))
    with get_db().session() as session:
        case = case_or_404(session, reference)
        if case is None:
            return bad("unknown case", 404)
        try:
            event = services.correct_event(session, case, event_id, fields)
        except Refused as refusal:
            if refusal.code == "event_cancelled":
                return bad("a cancelled event cannot be corrected", 409)
            return bad("unknown event", 404)
        return jsonify(id=event.id, sequence=event.sequence, status=event.status), 200


@bp.delete("/cases/<case_number:reference>/events/<event_id>")
@require_bearer(SCOPE)
def cancel_event(reference: str, event_id: str):
    """A cancellation: the event leaves the timeline, exports and reminders; calendars are told."""
    with get_db().session() as session:
        case = case_or_404(session, reference)
        if case is None:
            return bad("unknown case", 404)
        try:
            event = services.cancel_event(session, case, event_id)
        except Refused:
            return bad("unknown event", 404)
        return jsonify(id=event.id, sequence=event.sequence, status=event.status), 200


@bp.post("/cases/<case_number:reference>/close")
@require_bearer(SCOPE)
def close_case(reference: str):
    with get_db().session() as session:
        case = case_or_404(session, reference)
        if case is None:
            return bad("unknown case", 404)
        services.upsert_case(session, reference, {"state": "finished", "state_label": body().get("state_label")
                                                  or "Dossier terminé"})
    return jsonify(status="finished"), 200


@bp.get("/openapi.yaml")
def openapi():
    return Response(SPEC.read_text(), mimetype="application/yaml")
