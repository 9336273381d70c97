from __future__ import annotations

import re
from html import unescape

import pytest
from fpdf import FPDF

from portals.ecomms import create_app, upgrade_database
from portals.ecomms.models import Application


def make_pdf(text: str = "Observations") -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(0, 10, text)
    return bytes(pdf.output())


@pytest.fixture
def app(tmp_path):
    return build_app(tmp_path)


def build_app(tmp_path, **sections):
    """eComms with two applications (app-1 of applicant-1, app-2 of applicant-2), the outbox run by
    hand, and ``sections`` of configuration (e.g. ``registry={...}``)."""
    url = f"sqlite:///{tmp_path / 'ecomms.db'}"
    upgrade_database(url)
    (tmp_path / "instance").mkdir()
    application = create_app({"database_url": url, "instance_path": tmp_path / "instance", "_quiet": True,
                              "raw": {"outbox": {"manual": True}, **sections}})
    with application.extensions["db"].session() as session:
        session.add(Application(id="app-1", number="123/16", title="A c. B", applicant_email="a@example.org",
                                applicant_sub="applicant-1", created_by="registry"))
        session.add(Application(id="app-2", number="77/21", title="C c. D", applicant_email="c@example.org",
                                applicant_sub="applicant-2", created_by="registry"))
    return application


def csrf_of(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return unescape(re.search(r'name="csrf_token" value="([^"]+)"', page).group(1))


def stored_files(app) -> list[str]:
    from portals.ecomms import services

    with app.app_context():
        folder = services.storage_folder()
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []
