"""Imports every module that declares IdP tables, so ``Base.metadata`` knows them all.

Each area adds one import line here when it adds a models module.
"""

from idp.storage.sql import (
    federation,  # noqa: F401,E402
    lifecycle,  # noqa: F401,E402
    models,  # noqa: F401
    organisations,  # noqa: F401,E402
    outbox,  # noqa: F401,E402
    passkeys,  # noqa: F401,E402
    support,  # noqa: F401,E402
)
