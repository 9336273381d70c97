"""The audit trail in the operators' console, in Chromium: filters by account, client, kind and
Paris days (stored in UTC), and the CSV export: RFC 4180 and no cell a spreadsheet runs as a formula."""

from __future__ import annotations

import csv
import secrets
from datetime import UTC, datetime

import pytest

from tests.idp.operations.conftest import audit_events, new_person

pytestmark = pytest.mark.browser


def add_event(idp, kind: str, at: datetime, account_id=None, client_id=None, **detail) -> None:
    from idp.storage.sql.models import AuditEvent
    from shared.appkit import get_db

    with idp.app.app_context(), get_db().session() as session:
        session.add(AuditEvent(kind=kind, at=at, account_id=account_id, client_id=client_id, detail=detail))


def test_filter_by_account_kind_client_and_paris_days(console, idp):
    person = new_person(idp, "audited")
    kind = f"test_kind_{secrets.token_hex(3)}"
    # 22:30 UTC on 30 June is 00:30 on 1 July in Paris (summer time, UTC+2)
    add_event(idp, kind, datetime(2026, 6, 30, 22, 30, tzinfo=UTC), person.id, "ecomms", note="late")
    add_event(idp, kind, datetime(2026, 6, 30, 12, 0, tzinfo=UTC), person.id, "justice", note="noon")
    console.get_by_role("link", name="Journal d'audit").click()
    console.get_by_label("Compte (adresse, identifiant ou numéro)").fill(person.email)
    console.get_by_label("Type d'événement").select_option(kind)
    console.get_by_label("Du (jour, heure de Paris)").fill("2026-07-01")
    console.get_by_label("Au (inclus)").fill("2026-07-01")
    console.get_by_role("button", name="Filtrer").click()
    rows = console.locator("main tbody tr")
    assert rows.count() == 1
    assert "01/07/2026 00:30:00" in rows.first.inner_text() and "late" in rows.first.inner_text()
    console.get_by_label("Du (jour, heure de Paris)").fill("2026-06-30")
    console.get_by_label("Au (inclus)").fill("2026-06-30")
    console.get_by_label("Client (identifiant)").fill("justice")
    console.get_by_role("button", name="Filtrer").click()
    assert console.locator("main tbody tr").count() == 1
    assert "30/06/2026 14:00:00" in console.locator("main tbody tr").first.inner_text()


def test_a_bad_date_range_is_said_not_a_server_error(console, idp):
    answer = console.goto(idp.url + "/operations/audit?since=2026-07-02&until=2026-07-01")
    assert answer.status == 400
    assert "La date de fin doit être le même jour ou après la date de début." in console.content()
    answer = console.goto(idp.url + "/operations/audit?since=01%2F07%2F2026")
    assert answer.status == 400 and "AAAA-MM-JJ" in console.content()


def test_the_csv_export_is_rfc_4180_and_formula_safe(console, idp, operator, tmp_path):
    person = new_person(idp, "=HYPERLINK(evil)")  # an address may begin with a formula's sign
    kind = f"test_export_{secrets.token_hex(3)}"
    add_event(idp, kind, datetime(2026, 11, 30, 9, 0, tzinfo=UTC), person.id, "+cmd", reason='a "quoted", text\nover two lines')
    add_event(idp, kind, datetime(2026, 11, 30, 10, 0, tzinfo=UTC), None, "@SUM(A1)")
    console.goto(f"{idp.url}/operations/audit?kind={kind}")
    with console.expect_download() as download:
        console.get_by_role("link", name="Exporter en CSV").click()
    path = tmp_path / "audit.csv"
    download.value.save_as(path)
    raw = path.read_bytes()
    assert raw.count(b"\r\n") == 3 and b'"{""reason"": ' in raw  # CRLF records, quoted cell, quotes doubled (RFC 4180)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["client_id"] for r in rows] == ["'+cmd", "'@SUM(A1)"]
    assert rows[0]["account_email"] == "'" + person.email.lower()
    assert rows[0]["at_utc"] == "2026-11-30T09:00:00+00:00" and rows[0]["at_paris"] == "2026-11-30T10:00:00+01:00"
    assert '"reason": "a \\"quoted\\", text\\nover two lines"' in rows[0]["detail"]
    exported = audit_events(idp, "operations_audit_exported")[-1]
    assert exported.account_id == operator.id and exported.detail["filters"] == {"kind": kind}
