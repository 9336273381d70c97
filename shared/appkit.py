"""How an app reaches its storage from a request: one ``Database`` and one Redis per app."""

from __future__ import annotations

from flask import Flask, current_app
from redis import Redis

from shared.config import Settings
from shared.storage import Database, make_redis


def init_storage(app: Flask, settings: Settings) -> None:
    app.extensions["db"] = Database(settings.database_url)
    # The embedded stand-in is per app and per database, so several apps in one process
    # (tests) never see each other's keys, as separate deployments would not.
    app.extensions["redis"] = make_redis(settings.redis_url, namespace=f"{settings.app_name}:{settings.database_url}")


def get_db() -> Database:
    return current_app.extensions["db"]


def get_redis() -> Redis:
    return current_app.extensions["redis"]


def get_settings() -> Settings:
    return current_app.config["SETTINGS"]
