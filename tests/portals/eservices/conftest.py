"""The e-services portal on its own migrated database (view tests without the IdP)."""

from __future__ import annotations

import pytest

from portals.eservices import create_app, upgrade_database


@pytest.fixture
def app(tmp_path):
    url = f"sqlite:///{tmp_path / 'eservices.db'}"
    upgrade_database(url)
    app = create_app({"database_url": url, "_quiet": True})
    app.config.update(TESTING=True)
    yield app
    app.extensions["db"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()
