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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PORTS = {"idp": 8000, "ecomms": 8001, "justice": 8002, "eservices": 8003, "devinbox": 8025}


class ConfigError(RuntimeError):
    """The configuration cannot run safely; the message says what to set."""


def config_dir() -> Path:
    return Path(os.environ.get("CONFIG_DIR", REPO_ROOT / "config"))


def instance_dir() -> Path:
    path = Path(os.environ.get("INSTANCE_PATH", REPO_ROOT / "instance"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def keys_dir() -> Path:
    path = Path(os.environ.get("KEYS_DIR", REPO_ROOT / "keys"))
    path.mkdir(parents=True, exist_ok=True)
    return path


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
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


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
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def uses_embedded_redis(self) -> bool:
        return not self.redis_url

    def section(self, name: str) -> dict[str, Any]:
        return dict(self.raw.get(name, {}))

    def feature(self, name: str) -> bool:
        return bool(self.raw.get("features", {}).get(name, {}).get("enabled", False))

    def with_overrides(self, **overrides: Any) -> Settings:
        return replace(self, **overrides)


def load_settings(app_name: str, overrides: dict[str, Any] | None = None) -> Settings:
    env = os.environ
    production = env.get("APP_ENV", "development") == "production"
    instance = instance_dir()
    prefix = _env_prefix(app_name)
    port = DEFAULT_PORTS.get(app_name, 8000)
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
        public_url=env.get(f"{app_name.upper()}_PUBLIC_URL", f"http://localhost:{port}").rstrip("/"),
        smtp_url=env.get("SMTP_URL", "smtp://localhost:1025"),
        sms_gateway_url=env.get("SMS_GATEWAY_URL", f"{devinbox}/gateway/sms"),
        letter_gateway_url=env.get("LETTER_GATEWAY_URL", f"{devinbox}/gateway/letters"),
        devinbox_url=devinbox,
        raw=load_toml(f"{app_name}.toml"),
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


def check_production(values: dict[str, Any]) -> None:
    """Refuse every embedded default in production mode, naming what to set."""
    problems = []
    if values["database_url"].startswith("sqlite"):
        problems.append("set DATABASE_URL to a PostgreSQL URL (SQLite is for development)")
    if not values["redis_url"]:
        problems.append("set REDIS_URL (in-process fakeredis serves one process only)")
    if not values["secret_key"]:
        problems.append("set the SECRET_KEY environment variable")
    if not str(values["issuer"]).startswith("https://"):
        problems.append("set ISSUER to an https:// URL")
    if problems:
        raise ConfigError("production mode refuses embedded defaults: " + "; ".join(problems))
