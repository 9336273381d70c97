from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from portals.justice import create_app, services, upgrade_database
from portals.justice.models import Case, Event, OutboxMessage, Party
from shared.timeutil import utcnow


@pytest.fixture
def app(tmp_path):
    url = f"sqlite:///{tmp_path / 'justice.db'}"
    upgrade_database(url)
    (tmp_path / "instance").mkdir()
    return create_app({"database_url": url, "instance_path": tmp_path / "instance", "_quiet": True,
                       "raw": {"outbox": {"manual": True}}})


def csrf_of(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return unescape(re.search(r'name="csrf_token" value="([^"]+)"', page).group(1))


def make_case(app, reference: str, court: str = "Tribunal judiciaire de Strasbourg", state: str = "ongoing",
              ended_days_ago: int | None = None, parties=(("Demandeur", "DUBOIS", "Angela"),),
              hearing_in_days: int | None = 10, document_days_ago: int | None = None) -> dict[str, str]:
    """A case with parties who consented; returns {last_name+first_name: identification number}."""
    numbers = {}
    with app.app_context(), app.extensions["db"].session() as session:
        case = Case(reference=reference, nature="Divorce", court_name=court, state=state,
                    ended_at=utcnow() - timedelta(days=ended_days_ago) if ended_days_ago else None)
        session.add(case)
        session.flush()
        for index, (role, last, first) in enumerate(parties):
            party = Party(case_id=case.id, role=role, last_name=last, first_name=first,
                          email=f"{first.lower()}@example.org", mobile=f"+3361234{index:04d}")
            session.add(party)
            session.flush()
            numbers[f"{first} {last} {role}"] = services.record_consent(session, party)
        if hearing_in_days is not None:
            session.add(Event(case_id=case.id, kind="hearing", label="Audience", at=utcnow() + timedelta(days=hearing_in_days),
                              location=court))
        if document_days_ago is not None:
            session.add(Event(case_id=case.id, kind="document", label="Convocation", document_kind="summons",
                              at=utcnow() - timedelta(days=document_days_ago), document_pdf=b"%PDF-1.4 demo"))
    return numbers


def outbox(app, channel: str | None = None) -> list[OutboxMessage]:
    with app.extensions["db"].session() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.created_at)
        if channel:
            query = query.where(OutboxMessage.channel == channel)
        return list(session.scalars(query))


@pytest.fixture(params=["sqlite", "postgresql"])
def any_app(request, tmp_path):
    """The portal on SQLite and on a real PostgreSQL: for what depends on how storage keeps data."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'justice.db'}"
    else:
        import uuid

        from tests.servers import create_database

        url = create_database(request.getfixturevalue("postgres_server_url"), f"justice_{uuid.uuid4().hex[:8]}")
    upgrade_database(url)
    (tmp_path / "instance").mkdir()
    app = create_app({"database_url": url, "instance_path": tmp_path / "instance", "_quiet": True,
                      "raw": {"outbox": {"manual": True}}})
    yield app
    app.extensions["db"].dispose()
