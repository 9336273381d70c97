"""The living style guide (issue 20): every component of the design system in every state, in the
frame of the app that serves it (``/_styleguide``), in development only (production has no such page)."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template

bp = Blueprint("styleguide", __name__)


@bp.get("/_styleguide")
def page():
    errors = {"sg-email": "Saisissez une adresse e-mail valide, par exemple nom@exemple.fr",
              "sg-kind": "Choisissez un type de document", "sg-confirm": "Cochez la case pour confirmer"}
    return render_template("styleguide.html", errors=errors)


def init_styleguide(app: Flask, production: bool) -> None:
    if not production:
        app.register_blueprint(bp)
