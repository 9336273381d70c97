"""Upgrades: databases made by an earlier schema, with people's data in them, migrated to head on
PostgreSQL (Alembic), and the apps then serve that data: an account signs in with its password, a
pending account's password (set before the address was proven) is cleared, a client still signs
its people in, and a court's name written before the search columns existed gets its search form."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import requests
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text

from shared.storage import upgrade_database
from tests.idp.helpers import code_after_sign_in, csrf_token, start_idp
from tests.servers import create_database

PASSWORD = "Bonne-Passe-2026-upgrade"
REDIRECT = "http://rp.example/callback"


def engine_for(url: str):
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def test_an_idp_database_from_an_earlier_schema_serves_its_people_after_the_upgrade(postgres_server_url,
                                                                                   real_redis_url):
    from idp import MIGRATIONS

    url = create_database(postgres_server_url, f"idp_upgrade_{uuid.uuid4().hex[:8]}")
    upgrade_database(url, MIGRATIONS, "alembic_version_idp", revision="0005_lifecycle")  # an earlier release
    now = datetime.now(UTC)
    engine = engine_for(url)
    with engine.begin() as connection:
        for email, status, password in (("ada.upgrade@example.org", "active", PASSWORD),
                                        ("squatted.upgrade@example.org", "pending", "Attacker-Passe-2026")):
            connection.execute(text(
                "INSERT INTO accounts (id, email, password_hash, status, email_verified, locale, roles, created_at) "
                "VALUES (:id, :email, :hash, :status, :verified, 'fr', '[]', :now)"),
                {"id": str(uuid.uuid4()), "email": email, "hash": PasswordHasher().hash(password), "status": status,
                 "verified": status == "active", "now": now})
        connection.execute(text(
            "INSERT INTO clients (client_id, client_secret_hash, name, redirect_uris, post_logout_redirect_uris, "
            "grant_types, response_types, scope, token_endpoint_auth_method, require_pkce, "
            "id_token_signed_response_alg, first_party, policy, created_at) VALUES ('old-rp', NULL, 'Old RP', "
            ":redirects, '[]', '[\"authorization_code\"]', '[\"code\"]', 'openid email', 'none', true, 'RS256', "
            "true, '{}', :now)"), {"redirects": f'["{REDIRECT}"]', "now": now})
    engine.dispose()

    idp = start_idp(url, real_redis_url)  # migrates to head, as an upgrade does
    try:
        code, _verifier = code_after_sign_in(idp, "old-rp", REDIRECT, "ada.upgrade@example.org", PASSWORD,
                                             "openid email")
        assert code, "the account and the client made by the earlier schema sign in"
        http = requests.Session()
        page = http.get(f"{idp.url}/signin?next=/account")
        page = http.post(page.url, data={"csrf_token": csrf_token(page.text), "identifier": "squatted.upgrade@example.org"})
        refused = http.post(page.url, data={"csrf_token": csrf_token(page.text), "password": "Attacker-Passe-2026"})
        assert refused.status_code == 400, "a password set before the address was proven opens nothing"
        assert requests.get(f"{idp.url}/readyz").json()["status"] == "ready"
        with idp.app.extensions["db"].session() as session:
            kept = session.execute(text("SELECT password_hash FROM accounts WHERE email = :e"),
                                   {"e": "squatted.upgrade@example.org"}).scalar()
        assert kept is None, "the upgrade cleared the unproven account's password"
    finally:
        idp.stop()


def test_a_justice_database_from_the_first_schema_finds_its_courts_after_the_upgrade(postgres_server_url):
    from portals.justice import MIGRATIONS, create_app

    url = create_database(postgres_server_url, f"justice_upgrade_{uuid.uuid4().hex[:8]}")
    upgrade_database(url, MIGRATIONS, "alembic_version_justice", revision="0001_justice")
    now = datetime.now(UTC)
    engine = engine_for(url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO cases (id, reference, nature, state, state_label, court_name, court_address, court_phone, "
            "court_email, updating, created_at, updated_at) VALUES (:id, 'RG 23/00412', 'Bail', 'open', 'En cours', "
            "'Tribunal de proximité de Sélestat', '2 rue du Tribunal, 67600 Sélestat', '03 88 00 00 00', "
            "'tp-selestat@justice.fr', false, :now, :now)"), {"id": str(uuid.uuid4()), "now": now})
    engine.dispose()

    upgrade_database(url, MIGRATIONS, "alembic_version_justice")
    app = create_app({"database_url": url, "_quiet": True})
    assert app.test_client().get("/readyz").status_code == 200
    with app.extensions["db"].session() as session:
        court_search = session.execute(text("SELECT court_search FROM cases WHERE reference = 'RG 23/00412'")).scalar()
    assert court_search == "tribunal de proximite de selestat", "the earlier rows get the search column the search reads"
