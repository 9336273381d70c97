"""Tokens in the wrong place: a token issued to one client replayed at another's API, an ID token
used as an access token, a token signed with an unpublished key — each refused."""

from __future__ import annotations

import requests

from tests.idp.helpers import api_token, start_idp
from tests.servers import LiveServer, free_port


def test_tokens_are_refused_outside_their_purpose(tmp_path):
    from portals.justice import create_app, upgrade_database

    idp = start_idp(f"sqlite:///{tmp_path / 'idp.db'}", raw={"outbox": {"manual": True}})
    database = f"sqlite:///{tmp_path / 'justice.db'}"
    upgrade_database(database)
    (tmp_path / "justice").mkdir()
    justice = LiveServer(create_app({"database_url": database, "issuer": idp.url, "_quiet": True,
                                     "instance_path": tmp_path / "justice", "raw": {"outbox": {"manual": True}}}),
                         free_port()).start()
    try:
        def token(scope: str) -> str:
            return api_token(idp, scope)

        portal_token = token("provisioning")  # what eComms holds to invite people
        court = {"nature": "Divorce", "court": {"name": "TJ"}}
        replayed = requests.put(f"{justice.url}/api/court/cases/RG1", json=court,
                                headers={"Authorization": f"Bearer {portal_token}"})
        # another client's token, made for another API: not a token for the court feed at all
        assert replayed.status_code == 401 and replayed.json()["error"] == "invalid_token"
        management = requests.get(f"{idp.url}/api/management/me/organisations",
                                  headers={"Authorization": f"Bearer {portal_token}"})
        assert management.status_code in (401, 403)
        court_token = token("court_feed")
        invite = requests.post(f"{idp.url}/api/provisioning/invitations", json={"email": "a@example.org"},
                               headers={"Authorization": f"Bearer {court_token}"})
        assert invite.status_code == 401 and invite.json()["error"] == "invalid_token"  # and the other way round
        header, payload, signature = court_token.split(".")
        tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
        assert requests.put(f"{justice.url}/api/court/cases/RG1", json=court,
                            headers={"Authorization": f"Bearer {tampered}"}).status_code == 401
        assert requests.get(f"{idp.url}/userinfo", headers={"Authorization": f"Bearer {tampered}"}).status_code == 401
    finally:
        justice.stop()
        idp.stop()
