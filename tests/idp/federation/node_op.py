"""node-oidc-provider (npm ``oidc-provider``) started on loopback: a third-party OP to federate through.

``npm ci`` runs when ``node_modules`` is missing. Without node/npm the tests skip locally and FAIL
under CI (``CI`` set), like the other real servers of tests/servers.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

from tests.servers import free_port, missing, wait_for_port

NODE_OP_DIR = Path(__file__).parent / "node_op"


def ensure_installed() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        missing("node and npm (for node-oidc-provider)")
    if not (NODE_OP_DIR / "node_modules" / "oidc-provider").exists():
        command = "ci" if (NODE_OP_DIR / "package-lock.json").exists() else "install"
        subprocess.run([npm, command, "--no-audit", "--no-fund"], cwd=NODE_OP_DIR, check=True,
                       capture_output=True, timeout=600)
    return node


@contextmanager
def node_oidc_provider(client_secret: str, redirect_uri: str, post_logout_redirect_uri: str, **options: str):
    """``options``: provider.js's optional settings (STANDARD_ONLY, NO_ACR, BACKCHANNEL_LOGOUT_URI)."""
    node = ensure_installed()
    port = free_port()
    env = dict(os.environ, PORT=str(port), CLIENT_SECRET=client_secret, REDIRECT_URI=redirect_uri,
               POST_LOGOUT_REDIRECT_URI=post_logout_redirect_uri, NODE_ENV="development", **options)
    proc = subprocess.Popen([node, "provider.js"], cwd=NODE_OP_DIR, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_port(port, timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
