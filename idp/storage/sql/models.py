"""The IdP's durable records (SQL). Short-lived state (interactions, codes, flows, rate limits)
lives in Redis, see ``idp/storage/redis``.

Other areas (account lifecycle, federation, organisations) declare their tables in their own
modules on this same ``Base`` and bring their own Alembic migration (``alembic upgrade heads``).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.timeutil import utcnow


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    type_annotation_map = {dict: JSON, list: JSON}


class Account(Base):
    """A person's account. ``email`` is stored lower-cased; ``username`` is the seed-002 identifier."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    username: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # pending (not validated yet) | active | deactivated
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    deactivation_reason: Mapped[str | None] = mapped_column(String(32))
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    given_name: Mapped[str | None] = mapped_column(String(200))
    family_name: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(8), default="fr")
    roles: Mapped[list] = mapped_column(JSON, default=list)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Client(Base):
    """A registered relying party. The secret is stored as a SHA-256 digest (it is random, 256-bit)."""

    __tablename__ = "clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_secret_hash: Mapped[str | None] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200))
    redirect_uris: Mapped[list] = mapped_column(JSON, default=list)
    post_logout_redirect_uris: Mapped[list] = mapped_column(JSON, default=list)
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(500))
    grant_types: Mapped[list] = mapped_column(JSON, default=lambda: ["authorization_code", "refresh_token"])
    response_types: Mapped[list] = mapped_column(JSON, default=lambda: ["code"])
    scope: Mapped[str] = mapped_column(Text, default="openid profile email offline_access")
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(40), default="client_secret_basic")
    require_pkce: Mapped[bool] = mapped_column(Boolean, default=True)
    id_token_signed_response_alg: Mapped[str] = mapped_column(String(10), default="RS256")
    sector_identifier: Mapped[str | None] = mapped_column(String(200))
    first_party: Mapped[bool] = mapped_column(Boolean, default=False)
    # Per-client policy: {"require_federation": bool, "require_mfa": bool, "default_acr": str, ...}
    policy: Mapped[dict] = mapped_column(JSON, default=dict)
    # Browser origins a public client (SPA) calls the IdP from (CORS), exact "scheme://host[:port]"
    allowed_origins: Mapped[list] = mapped_column(JSON, default=list)
    # private_key_jwt (RFC 7523): the client's public keys, inline or at an https URL it serves
    jwks: Mapped[dict | None] = mapped_column(JSON)
    jwks_uri: Mapped[str | None] = mapped_column(String(500))
    # client_secret_jwt: the server must hold the secret itself (HMAC), sealed with the IdP's key
    secret_sealed: Mapped[str | None] = mapped_column(Text)
    # registered through RFC 7591: the SHA-256 of the token that reads, changes or deletes it (RFC 7592)
    registration_token_hash: Mapped[str | None] = mapped_column(String(64))
    # set when an operator disabled the client (the console): every endpoint refuses it until enabled
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RefreshToken(Base):
    """One refresh token of a family; rotation marks the old one used, reuse revokes the family."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("ix_refresh_family", "family_id"), Index("ix_refresh_account", "account_id"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[str] = mapped_column(String(36))
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.client_id", ondelete="CASCADE"))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(Text)
    sid: Mapped[str | None] = mapped_column(String(64), index=True)
    auth_time: Mapped[int | None] = mapped_column(Integer)
    acr: Mapped[str | None] = mapped_column(String(64))
    amr: Mapped[list] = mapped_column(JSON, default=list)
    claims: Mapped[dict] = mapped_column(JSON, default=dict)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # a public client's refresh token issued with DPoP: the key (RFC 7638 thumbprint) it is bound to
    dpop_jkt: Mapped[str | None] = mapped_column(String(64))


class AuditEvent(Base):
    """A security event (sign-in, reset, logout...), append-only."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    account_id: Mapped[str | None] = mapped_column(String(36), index=True)
    client_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class Consent(Base):
    """A user's recorded consent for a (third-party) client; first-party clients need none."""

    __tablename__ = "consents"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.client_id", ondelete="CASCADE"), primary_key=True)
    scope: Mapped[str] = mapped_column(Text, default="")
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
