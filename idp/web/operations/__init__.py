"""The operators' console (/operations): clients, accounts, the audit trail, the support desk,
organisations and signing keys. One module per area, all on one blueprint whose door is
``blueprint.require_operator``; routes are thin, the rules live in ``idp.services.operations_*``."""

from idp.web.operations import accounts, audit, clients, keys, organisations, support  # noqa: F401  (each area adds its routes to bp)
from idp.web.operations.blueprint import bp

__all__ = ["bp"]
