"""The console's queries on both engines (SQLite and PostgreSQL, as in production): account search
by name in either order and by address, audit filters on Paris days, the support desk storing a
portal's request once."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime

import pytest

from idp import create_app, upgrade_database
from tests.servers import create_database


@pytest.fixture(params=["sqlite", "postgres"], scope="module")
def app(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('queries')}/idp.db"
    else:
        url = create_database(request.getfixturevalue("postgres_server_url"), f"console_{uuid.uuid4().hex[:8]}")
    upgrade_database(url)
    app = create_app({"database_url": url, "_quiet": True, "raw": {"outbox": {"manual": True}}})
    yield app
    app.extensions["db"].dispose()


def test_account_search_and_audit_filters(app):
    from idp.services import accounts, operations_accounts, operations_audit
    from idp.storage.sql.models import AuditEvent
    from shared.appkit import get_db

    family = f"Nguyen{secrets.token_hex(2)}"
    with app.app_context():
        account = accounts.create(f"thi-{secrets.token_hex(3)}@example.org", "Bonne-Passe-2026", given_name="Thị",
                                  family_name=family)
        for words in (f"thị {family}", f"{family} thị", family.upper(), account.email.split("@")[0]):
            assert [a.id for a in operations_accounts.search(words).accounts] == [account.id], words
        assert operations_accounts.search("100%_").total == 0  # LIKE's wildcards are searched as text
        with get_db().session() as session:
            session.add(AuditEvent(kind="probe", account_id=account.id, at=datetime(2026, 3, 28, 23, 30, tzinfo=UTC)))
            session.add(AuditEvent(kind="probe", account_id=account.id, at=datetime(2026, 3, 29, 22, 30, tzinfo=UTC)))
        # 28 March 23:30 UTC is 00:30 on the 29th in Paris (winter time); 29 March 22:30 UTC is
        # 00:30 on the 30th (summer time began that night)
        on_29th = operations_audit.search(operations_audit.Filters(account=account.email, kind="probe",
                                                                   since="2026-03-29", until="2026-03-29"))
        assert [e.at.replace(tzinfo=UTC) if e.at.tzinfo is None else e.at for e in on_29th.events] == \
            [datetime(2026, 3, 28, 23, 30, tzinfo=UTC)]
        with pytest.raises(operations_audit.BadFilter):
            operations_audit.search(operations_audit.Filters(since="2026-02-30"))


def test_the_same_portal_reference_is_stored_once(app):
    from idp.services import support_desk

    body = {"reference": f"AS-{secrets.token_hex(4).upper()}", "email": "Anne@Example.org", "topic": "compte",
            "message": "Bonjour", "locale": "en"}
    with app.app_context():
        first, created = support_desk.receive("eservices", body)
        again, created_again = support_desk.receive("eservices", body)
        other, created_other = support_desk.receive("justice", body)
        assert (created, created_again, created_other) == (True, False, True)
        assert first.id == again.id != other.id and first.email == "anne@example.org"
        with pytest.raises(support_desk.BadRequest):
            support_desk.receive("eservices", {**body, "reference": "A\u2028B"})
