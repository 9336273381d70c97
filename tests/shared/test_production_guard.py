"""APP_ENV=production refuses every development default, one line each naming what to set: an
operator who forgot one variable learns it at start-up, not from a leaked link or a weak hash."""

from __future__ import annotations

import pytest

from shared.config import ConfigError, load_settings

GOOD = {
    "APP_ENV": "production",
    "DATABASE_URL": "postgresql://idp@db.internal/idp",
    "ECOMMS_DATABASE_URL": "postgresql://ecomms@db.internal/ecomms",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "SECRET_KEY": "q8Jk2vR9xW4mZ7pL1nB6cT3yH5gF0dSa",
    "ECOMMS_SECRET_KEY": "Zt7Yh2Kq9Lm4Wx1Rb8Vn3Jc6Pg0Fd5Sa",
    "ISSUER": "https://login.services.example",
    "ECOMMS_PUBLIC_URL": "https://ecomms.services.example",
    "SMTP_URL": "smtp+starttls://mailer:pw@smtp.services.example:587",
    "MAIL_FROM_ADDRESS": "no-reply@services.example",
    "SMS_GATEWAY_URL": "https://sms.provider.example/v1/messages",
    "LETTER_GATEWAY_URL": "https://letters.provider.example/v1/letters",
    "ARGON2_MEMORY_KIB": "19456",
    "ARGON2_TIME_COST": "2",
}

# each development default alone, and the words its line must carry
DEFAULTS = {
    "sqlite": ({"DATABASE_URL": None}, "set DATABASE_URL to a PostgreSQL URL"),
    "fakeredis": ({"REDIS_URL": None}, "set REDIS_URL"),
    "no secret key": ({"SECRET_KEY": None}, "set the SECRET_KEY environment variable"),
    "one-character secret key": ({"SECRET_KEY": "x"}, "SECRET_KEY is too weak (1 characters"),
    "repetitive secret key": ({"SECRET_KEY": "ab" * 20}, "SECRET_KEY is too weak (40 characters, 2 different)"),
    "http issuer": ({"ISSUER": "http://login.services.example"}, "set ISSUER to an https:// URL"),
    "dev mail sink (default)": ({"SMTP_URL": None}, "set SMTP_URL to the mail server"),
    "dev mail sink (explicit)": ({"SMTP_URL": "smtp://127.0.0.1:1025"}, "set SMTP_URL to the mail server"),
    "no sender address": ({"MAIL_FROM_ADDRESS": None}, "set MAIL_FROM_ADDRESS to the address emails are sent from"),
    "dev SMS gateway": ({"SMS_GATEWAY_URL": None}, "set SMS_GATEWAY_URL to the provider's https:// URL"),
    "dev letter gateway": ({"LETTER_GATEWAY_URL": "http://localhost:8025/gateway/letters"},
                           "set LETTER_GATEWAY_URL to the provider's https:// URL"),
    "http SMS gateway": ({"SMS_GATEWAY_URL": "http://sms.provider.example/v1"}, "set SMS_GATEWAY_URL to an https://"),
    "weak argon2": ({"ARGON2_MEMORY_KIB": "8", "ARGON2_TIME_COST": "1"}, "raise the argon2id parameters (now 8 KiB, t=1"),
    "argon2 memory only": ({"ARGON2_MEMORY_KIB": "8192"}, "raise the argon2id parameters (now 8192 KiB, t=2"),
    "test argon2 profile": ({"ARGON2_PROFILE": "test"}, "unset ARGON2_PROFILE"),
    # X-Forwarded-* honoured from anyone (shared.proxy)
    "proxies: the whole Internet": ({"TRUSTED_PROXIES": "10.0.8.2, 0.0.0.0/0"}, "TRUSTED_PROXIES: 0.0.0.0/0 is too wide"),
    "proxies: a /8": ({"TRUSTED_PROXIES": "10.0.0.0/8"}, "TRUSTED_PROXIES: 10.0.0.0/8 is too wide"),
    "proxies: all of IPv6": ({"TRUSTED_PROXIES": "::/0"}, "TRUSTED_PROXIES: ::/0 is too wide"),
    "proxies: a host name": ({"TRUSTED_PROXIES": "nginx.internal"}, "'nginx.internal' is not an IP address"),
    "proxies: hops without proxies": ({"TRUSTED_PROXY_HOPS": "1"}, "TRUSTED_PROXY_HOPS is set without TRUSTED_PROXIES"),
    "proxies: hops not a number": ({"TRUSTED_PROXIES": "127.0.0.1", "TRUSTED_PROXY_HOPS": "all"},
                                   "TRUSTED_PROXY_HOPS: 'all' is not a number"),
}


def environment(monkeypatch, changes: dict[str, str | None]) -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ISSUER", "SMTP_URL", "SMS_GATEWAY_URL",
                 "LETTER_GATEWAY_URL", "ARGON2_PROFILE", "ARGON2_MEMORY_KIB", "ARGON2_TIME_COST",
                 "ECOMMS_DATABASE_URL", "ECOMMS_SECRET_KEY", "ECOMMS_PUBLIC_URL", "DEVINBOX_URL", "MAIL_FROM_ADDRESS",
                 "TRUSTED_PROXIES", "TRUSTED_PROXY_HOPS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {**GOOD, **changes}.items():
        if value is not None:
            monkeypatch.setenv(name, value)


def test_a_complete_production_configuration_starts(monkeypatch):
    environment(monkeypatch, {})
    assert load_settings("idp", {"_quiet": True}).production
    assert load_settings("ecomms", {"_quiet": True}).public_url == "https://ecomms.services.example"
    monkeypatch.setenv("TRUSTED_PROXIES", "127.0.0.1, 10.0.8.0/29, fd00:8::/64")  # nginx here and a few in a subnet
    assert load_settings("idp", {"_quiet": True}).production


@pytest.mark.parametrize("case", DEFAULTS)
def test_each_development_default_is_refused_with_its_own_line(monkeypatch, case):
    changes, words = DEFAULTS[case]
    environment(monkeypatch, changes)
    with pytest.raises(ConfigError) as refused:
        load_settings("idp", {"_quiet": True})
    lines = str(refused.value).splitlines()[1:]
    assert len(lines) == 1 and words in lines[0], lines


def test_a_portal_with_an_http_address_is_refused(monkeypatch):
    environment(monkeypatch, {"ECOMMS_PUBLIC_URL": "http://ecomms.services.example"})
    with pytest.raises(ConfigError) as refused:
        load_settings("ecomms", {"_quiet": True})
    assert str(refused.value).splitlines()[1:] == [
        "- set ECOMMS_PUBLIC_URL to the portal's https:// address (links in emails and redirect URIs; "
        "now http://ecomms.services.example)"]


def test_the_laptop_defaults_give_one_line_per_problem(monkeypatch):
    environment(monkeypatch, {name: None for name in GOOD if name != "APP_ENV"})
    monkeypatch.setenv("ECOMMS_SECRET_KEY", "short")
    with pytest.raises(ConfigError) as refused:
        load_settings("ecomms", {"_quiet": True})
    lines = str(refused.value).splitlines()[1:]
    assert [line.split(" ")[1] for line in lines] == ["set", "set", "ECOMMS_SECRET_KEY", "set", "set", "set", "set",
                                                      "set", "set"], lines
    assert any("ECOMMS_DATABASE_URL" in line for line in lines) and any("ECOMMS_PUBLIC_URL" in line for line in lines)
