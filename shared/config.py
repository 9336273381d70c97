"""One configuration loader for every app: defaults from ``config/*.toml``, secrets from env.

Order: built-in defaults → ``config/<app>.toml`` → environment variables → explicit overrides
(tests). Embedded defaults (SQLite, in-process fakeredis, generated secret key) are for one
laptop; ``APP_ENV=production`` refuses them at start-up rather than running unsafely.
"""

from __future__ import annotations

import logging
import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from shared.files import create_private, private_dir, restrict_umask

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PORTS = {"idp": 8000, "ecomms": 8001, "justice": 8002, "eservices": 8003, "devinbox": 8025}


class ConfigError(RuntimeError):
    """The configuration cannot run safely; the message says what to set."""


def config_dir() -> Path:
    return Path(os.environ.get("CONFIG_DIR", REPO_ROOT / "config"))


def instance_dir() -> Path:
    """Databases, secrets and documents: 0700."""
    return private_dir(Path(os.environ.get("INSTANCE_PATH", REPO_ROOT / "instance")))


def keys_dir() -> Path:
    return private_dir(Path(os.environ.get("KEYS_DIR", REPO_ROOT / "keys")))


def load_toml(name: str) -> dict[str, Any]:
    path = config_dir() / name
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _env_prefix(app_name: str) -> str:
    return "" if app_name == "idp" else f"{app_name.upper()}_"


def _secret_key(instance: Path, app_name: str) -> str:
    """A per-app secret generated on first start and kept in the instance folder (never in git)."""
    path = instance / f"{app_name}.secret"
    if not path.exists():
        create_private(path, secrets.token_urlsafe(48))
    return path.read_text().strip()


DEV_MAIL_FROM = "no-reply@civic-idp.invalid"  # .invalid: never a real mailbox (RFC 2606)


@dataclass(frozen=True)
class Settings:
    app_name: str
    production: bool
    instance_path: Path
    keys_path: Path
    database_url: str
    redis_url: str | None
    secret_key: str
    issuer: str
    public_url: str
    smtp_url: str
    sms_gateway_url: str
    letter_gateway_url: str
    devinbox_url: str
    mail_from_address: str = DEV_MAIL_FROM  # the From address; its display name is the service's
    raw: dict[str, Any] = field(default_factory=dict)
    background: bool = True  # this process runs the app's workers (outbox, jobs); not a command line's

    @property
    def uses_embedded_redis(self) -> bool:
        return not self.redis_url

    def section(self, name: str) -> dict[str, Any]:
        return dict(self.raw.get(name, {}))

    def feature(self, name: str) -> bool:
        return bool(self.raw.get("features", {}).get(name, {}).get("enabled", False))

    def with_overrides(self, **overrides: Any) -> Settings:
        return replace(self, **overrides)


def inside_a_command() -> bool:
    """Whether this app is made for a command line (``idp …``, ``flask --app … support list``) rather
    than to serve. A command must not run the background workers: with the operator's environment,
    not the server's, it would claim the server's queued messages and fail them against another SMTP
    address (seen in the tests: a CLI app on the server's database delivered to the default one).
    ``flask run`` serves, so it keeps them."""
    import click

    context = click.get_current_context(silent=True)
    return context is not None and context.info_name != "run"


def public_url_of(app_name: str) -> str:
    """An app's public address (``<APP>_PUBLIC_URL``), as another app needs it (the IdP expanding
    the portals' redirect URIs and brands): nothing else of that app's configuration is read or
    checked, so the IdP's production environment need not hold the portals' secrets."""
    default = f"http://localhost:{DEFAULT_PORTS.get(app_name, 8000)}"
    return os.environ.get(f"{app_name.upper()}_PUBLIC_URL", default).rstrip("/")


def load_settings(app_name: str, overrides: dict[str, Any] | None = None) -> Settings:
    restrict_umask()  # before anything is written: every file of this process 0600, every folder 0700
    env = os.environ
    production = env.get("APP_ENV", "development") == "production"
    instance = instance_dir()
    prefix = _env_prefix(app_name)
    devinbox = env.get("DEVINBOX_URL", f"http://localhost:{DEFAULT_PORTS['devinbox']}")
    values: dict[str, Any] = dict(
        app_name=app_name,
        production=production,
        instance_path=instance,
        keys_path=keys_dir(),
        database_url=env.get(f"{prefix}DATABASE_URL") or f"sqlite:///{instance / (app_name + '.db')}",
        redis_url=env.get("REDIS_URL") or None,
        secret_key=env.get(f"{prefix}SECRET_KEY") or "",
        issuer=env.get("ISSUER", f"http://localhost:{DEFAULT_PORTS['idp']}").rstrip("/"),
        public_url=public_url_of(app_name),
        smtp_url=env.get("SMTP_URL", "smtp://localhost:1025"),
        sms_gateway_url=env.get("SMS_GATEWAY_URL", f"{devinbox}/gateway/sms"),
        letter_gateway_url=env.get("LETTER_GATEWAY_URL", f"{devinbox}/gateway/letters"),
        devinbox_url=devinbox,
        mail_from_address=env.get("MAIL_FROM_ADDRESS", DEV_MAIL_FROM),
        raw=load_toml(f"{app_name}.toml"),
        background=not inside_a_command(),
    )
    values.update(overrides or {})
    if production:
        check_production(values)
    if not values["secret_key"]:
        values["secret_key"] = _secret_key(Path(values["instance_path"]), app_name)
    if not values["redis_url"] and not values.get("_quiet"):
        log.warning("REDIS_URL is unset: using in-process fakeredis, valid for ONE process only")
    values.pop("_quiet", None)
    return Settings(**values)


# OWASP Password Storage Cheat Sheet: argon2id with one of these (memory KiB, passes) or more, p=1
ARGON2_MINIMUMS = ((47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5))
MIN_SECRET_KEY_LENGTH = 32


@dataclass(frozen=True)
class Argon2Parameters:
    time_cost: int
    memory_kib: int
    parallelism: int

    @property
    def meets_owasp_minimum(self) -> bool:
        return self.parallelism >= 1 and any(self.memory_kib >= m and self.time_cost >= t for m, t in ARGON2_MINIMUMS)


def argon2_parameters(env: Mapping[str, str] | None = None) -> Argon2Parameters:
    """The argon2id parameters of password hashing: at least OWASP's minimum (19 MiB, t=2, p=1)
    unless ARGON2_MEMORY_KIB / ARGON2_TIME_COST / ARGON2_PARALLELISM say otherwise."""
    env = os.environ if env is None else env
    return Argon2Parameters(time_cost=int(env.get("ARGON2_TIME_COST", 2)),
                            memory_kib=int(env.get("ARGON2_MEMORY_KIB", 19 * 1024)),
                            parallelism=int(env.get("ARGON2_PARALLELISM", 1)))


def _is_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in ("localhost", "127.0.0.1", "::1")


def check_production(values: dict[str, Any], env: Mapping[str, str] | None = None) -> None:
    """Refuse every embedded or development default in production mode, one line per problem,
    each naming what to set."""
    env = os.environ if env is None else env
    prefix = _env_prefix(values["app_name"])
    problems = []
    if values["database_url"].startswith("sqlite"):
        problems.append(f"set {prefix}DATABASE_URL to a PostgreSQL URL (SQLite is for development)")
    if not values["redis_url"]:
        problems.append("set REDIS_URL (in-process fakeredis serves one process only)")
    secret = values["secret_key"]
    if not secret:
        problems.append(f"set the {prefix}SECRET_KEY environment variable (at least {MIN_SECRET_KEY_LENGTH} "
                        "random characters, e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')")
    elif len(secret) < MIN_SECRET_KEY_LENGTH or len(set(secret)) < 10:
        problems.append(f"{prefix}SECRET_KEY is too weak ({len(secret)} characters, {len(set(secret))} different): "
                        f"use at least {MIN_SECRET_KEY_LENGTH} random characters")
    if not str(values["issuer"]).startswith("https://"):
        problems.append("set ISSUER to an https:// URL")
    if values["app_name"] != "idp" and not str(values["public_url"]).startswith("https://"):
        problems.append(f"set {values['app_name'].upper()}_PUBLIC_URL to the portal's https:// address "
                        f"(links in emails and redirect URIs; now {values['public_url']})")
    smtp = urlsplit(str(values["smtp_url"]))
    devinbox_smtp_port = int(env.get("DEVINBOX_SMTP_PORT", 1025))
    if "SMTP_URL" not in env or (_is_loopback(values["smtp_url"]) and smtp.port == devinbox_smtp_port):
        problems.append("set SMTP_URL to the mail server (the default, smtp://localhost:1025, is the dev inbox's sink)")
    if values.get("mail_from_address", DEV_MAIL_FROM) == DEV_MAIL_FROM:
        problems.append(f"set MAIL_FROM_ADDRESS to the address emails are sent from (the default, {DEV_MAIL_FROM}, "
                        "is no mailbox: replies and bounces would be lost, and receivers' checks would fail)")
    for variable, key in (("SMS_GATEWAY_URL", "sms_gateway_url"), ("LETTER_GATEWAY_URL", "letter_gateway_url")):
        url = str(values[key])
        if variable not in env or url.startswith(str(values["devinbox_url"])):
            problems.append(f"set {variable} to the provider's https:// URL (the default is the dev inbox's gateway)")
        elif not url.startswith("https://"):
            problems.append(f"set {variable} to an https:// URL (now {url})")
    if values["app_name"] == "idp":
        if env.get("ARGON2_PROFILE") == "test":
            problems.append("unset ARGON2_PROFILE (its cheap password hashing is for the test suite)")
        try:
            argon2 = argon2_parameters(env)
        except ValueError:
            problems.append("set ARGON2_TIME_COST, ARGON2_MEMORY_KIB and ARGON2_PARALLELISM to whole numbers")
        else:
            if not argon2.meets_owasp_minimum:
                problems.append(f"raise the argon2id parameters (now {argon2.memory_kib} KiB, t={argon2.time_cost}, "
                                f"p={argon2.parallelism}) to at least OWASP's minimum: ARGON2_MEMORY_KIB=19456 with "
                                "ARGON2_TIME_COST=2, or one of 47104/1, 12288/3, 9216/4, 7168/5")
    from shared.proxy import production_problems

    problems.extend(production_problems(env))
    if problems:
        raise ConfigError("production mode refuses development defaults:\n" + "\n".join(f"- {p}" for p in problems))
