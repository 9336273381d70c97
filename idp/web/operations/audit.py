"""Console pages on the audit trail: filtered pages (times shown in Paris) and the CSV export."""

from __future__ import annotations

from flask import Response, g, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from idp.services import operations_audit as service
from idp.web.operations.blueprint import bp

FILTER_ERRORS = {
    "invalid": _l("Saisissez une date sous la forme AAAA-MM-JJ, par exemple 2026-12-01."),
    "order": _l("La date de fin doit être le même jour ou après la date de début."),
}


def kind_options() -> list[tuple[str, str]]:
    return [("", _("Tous")), *((kind, kind) for kind in service.kinds())]


def filter_errors(refused: service.BadFilter) -> dict[str, str]:
    return {field: str(FILTER_ERRORS[code]) for field, code in refused.errors.items()}


@bp.get("/audit")
def audit():
    filters = service.Filters.from_args(request.args)
    page = request.args.get("page", "1")
    try:
        found = service.search(filters, int(page) if page.isdigit() else 1)
    except service.BadFilter as refused:
        return render_template("idp/operations/audit.html", filters=filters, found=None, pages=[], kinds=kind_options(),
                               errors=filter_errors(refused)), 400
    pages = [(n, url_for("operations.audit", page=n, **filters.as_args())) for n in range(1, found.pages + 1)]
    return render_template("idp/operations/audit.html", filters=filters, found=found, pages=pages,
                           kinds=kind_options(), errors={},
                           export_url=url_for("operations.audit_export", **filters.as_args()))


@bp.get("/audit/export.csv")
def audit_export():
    filters = service.Filters.from_args(request.args)
    try:
        rows = service.export_csv(g.operator.id, filters)
    except service.BadFilter as refused:
        return render_template("idp/operations/audit.html", filters=filters, found=None, pages=[], kinds=kind_options(),
                               errors=filter_errors(refused)), 400
    return Response(stream_with_context(rows), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="audit.csv"',
                             "Content-Type": "text/csv; charset=utf-8; header=present"})
