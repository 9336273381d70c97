"""Thin blueprints, one per area. Each area adds its blueprint to ``BLUEPRINTS``."""

from __future__ import annotations

from importlib import import_module

from flask import Flask

# "module:attribute" of every blueprint; an area appends one line when it lands.
BLUEPRINTS: list[str] = []


def register_blueprints(app: Flask) -> None:
    for path in BLUEPRINTS:
        module_name, attribute = path.split(":")
        app.register_blueprint(getattr(import_module(module_name), attribute))
