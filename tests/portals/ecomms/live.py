"""A live IdP and a live eComms registered with each other (mail through the dev inbox), for the
tests that cross both: the browser journey, the address change."""

from __future__ import annotations

from collections.abc import Iterator

from tests.idp.helpers import start_idp
from tests.servers import LiveServer, free_port


def live_stack(tmp_path, monkeypatch, devinbox, policy: dict | None = None) -> Iterator[tuple[LiveServer, LiveServer]]:
    from idp.services import clients
    from portals.ecomms import create_app, upgrade_database

    port = free_port()
    portal_url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("ECOMMS_PUBLIC_URL", portal_url)
    idp = start_idp(f"sqlite:///{tmp_path / 'idp.db'}", **devinbox.settings())
    with idp.app.app_context():
        _client, secret = clients.create(
            "ECHR eComms", [f"{portal_url}/callback"], post_logout_redirect_uris=[f"{portal_url}/"],
            backchannel_logout_uri=f"{portal_url}/backchannel-logout", client_id="ecomms", first_party=True,
            scope="openid profile email offline_access roles provisioning",
            grant_types=["authorization_code", "refresh_token", "client_credentials"],
            policy={"account_events_uri": f"{portal_url}/account-events", "email_change_keeps_content": False,
                    **(policy or {})})
    monkeypatch.setenv("ECOMMS_CLIENT_SECRET", secret)
    database = f"sqlite:///{tmp_path / 'ecomms.db'}"
    upgrade_database(database)
    (tmp_path / "ecomms-instance").mkdir()
    portal_app = create_app({"database_url": database, "issuer": idp.url, "_quiet": True,
                             "instance_path": tmp_path / "ecomms-instance", **devinbox.settings()})
    portal = LiveServer(portal_app, port).start()
    yield idp, portal
    portal.stop()
    idp.stop()
