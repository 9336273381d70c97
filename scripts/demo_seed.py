"""Demo data: migrations, client registration and seeds for each area that exists.

Each area exposes its own seed function; this module only calls them in order and collects
the lines to print (credentials, identification numbers, where to look). Idempotent: running
`make demo` again keeps what the previous run created.
"""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEMO_PASSWORD = "Demo-Passw0rd"
DEMO_USERS = [
    # email, roles, given name, family name, what for
    ("requerant@example.org", [], "Marie", "REQUÉRANTE", "eComms applicant"),
    ("avocat@example.org", [], "Louis", "AVOCAT", "eComms representative (lawyer)"),
    ("greffe@echr.example", ["registry"], "Greta", "GREFFE", "the Court's registry (eComms)"),
    ("operateur@example.org", [], "Olga", "OPÉRATRICE",
     "operator: /operations at the IdP (its TOTP secret is printed below)"),
]
# granted as an administrator does: `idp operators grant` (audited), which refuses an account without a
# second factor, so each gets a TOTP application first and its secret is printed for the demo's user
DEMO_OPERATORS = ["operateur@example.org"]


def idp_cli(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "idp.cli", *args], cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"idp {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def migrate(apps) -> None:
    from shared.config import load_settings

    for app in apps:
        module = importlib.import_module(app.module)
        upgrade = getattr(module, "upgrade_database", None)
        if upgrade is not None:
            upgrade(load_settings(app.name, {"_quiet": True}).database_url)


def seed_accounts() -> list[str]:
    from idp import create_app
    from idp.services import accounts

    app = create_app({"_quiet": True})
    lines = [f"Accounts (password {DEMO_PASSWORD}; eComms calls them ECHR Services accounts):"]
    with app.app_context():
        for email, roles, given, family, purpose in DEMO_USERS:
            if accounts.find_by_identifier(email) is None:
                accounts.create(email, DEMO_PASSWORD, roles=roles, given_name=given, family_name=family)
            lines.append(f"  {email:<26} {purpose}")
    return lines


def seed_operator_factors() -> list[str]:
    """A TOTP application for each demo operator (kept on later runs), its secret printed to type into
    an authenticator app (or to compute codes: ``python -c "import pyotp; print(pyotp.TOTP('SECRET').now())"``)."""
    import pyotp

    from idp import create_app
    from idp.services import accounts, mfa
    from idp.storage.sql.lifecycle import SecondFactor
    from shared.appkit import get_db

    app = create_app({"_quiet": True})
    lines = ["Operators' second factor (TOTP, for /operations):"]
    with app.test_request_context():
        for email in DEMO_OPERATORS:
            account = accounts.find_by_identifier(email)
            if mfa.is_enabled(account.id):
                with get_db().session() as session:  # the demo's own secret, read back on a later run
                    secret = mfa._cipher().decrypt(session.get(SecondFactor, account.id).secret_encrypted.encode()).decode()
            else:
                secret = pyotp.random_base32()
                mfa.enable_on_the_server(account.id, secret)
            lines.append(f"  {email:<26} secret {secret}  ({mfa.provisioning_uri(secret, email)})")
    return lines


def subs_for(client_key: str) -> dict[str, str]:
    """The pairwise subjects a portal will see for the demo accounts (to pre-attach their data)."""
    from idp import create_app
    from idp.oidc.claims import pairwise_sub
    from idp.services import accounts, clients

    app = create_app({"_quiet": True})
    with app.app_context():
        client = clients.get(client_key)
        return {email: pairwise_sub(accounts.find_by_identifier(email).id, client)
                for email, *_ in DEMO_USERS if client}


def call_seed(module_name: str, *args, **kwargs) -> list[str]:
    if not module_exists(module_name):
        return []
    module = importlib.import_module(module_name)
    seed = getattr(module, "seed_demo", None)
    if seed is None:
        return []
    try:
        result = seed(*args, **kwargs)
    except Exception as error:  # one area's seed must not stop the others
        return [f"({module_name}: demo seed failed: {error})"]
    if isinstance(result, str):
        return result.splitlines()
    return list(result or [])


def run(apps) -> list[str]:
    migrate(apps)
    idp_cli("clients", "sync")
    notes = seed_accounts()
    notes += seed_operator_factors()
    for email in DEMO_OPERATORS:
        idp_cli("operators", "grant", email)
    names = {app.name for app in apps}
    if "ecomms" in names:
        subs = subs_for("ecomms")
        notes += call_seed("portals.ecomms.demo", registry_sub=subs["greffe@echr.example"],
                           applicant_sub=subs["requerant@example.org"], applicant_email="requerant@example.org")
    if module_exists("idp.services.organisations"):
        notes += call_seed("idp.services.organisations", password=DEMO_PASSWORD)
    if "justice" in names:
        notes += call_seed("portals.justice.demo")
    if module_exists("idp.upstream.sandbox"):
        from idp.upstream.sandbox import demo_credentials

        notes += demo_credentials().splitlines()
    return notes


def extra_processes() -> list[dict]:
    """Processes beyond the main apps: the sandbox upstream identity providers."""
    if not module_exists("idp.upstream.sandbox"):
        return []
    from idp.upstream.sandbox import SANDBOX_PROVIDERS

    return [{"module": "idp.upstream.sandbox", "factory": f"create_sandbox_app('{name}')", "port": meta["port"],
             "title": f"Sandbox upstream provider: {meta['display_name']} (bac à sable)"}
            for name, meta in SANDBOX_PROVIDERS.items()]
