"""Post-login steps: what runs after a primary authentication and before the code is issued.

Each step is ``step(interaction, account) -> str | None``: return the URL of a sub-flow (TOTP,
organisation choice...) or None to continue. A sub-flow, when done, marks itself in
``interaction.steps_done`` (via ``mark_done``) and redirects to ``resume_login(uid)``, which runs
the remaining steps. Areas append their step to ``POST_LOGIN_STEPS`` at import time.
"""

from __future__ import annotations

from collections.abc import Callable

from idp.oidc.interaction import Interaction
from idp.storage.sql.models import Account

Step = Callable[[Interaction, Account], str | None]
POST_LOGIN_STEPS: list[Step] = []


def register_step(step: Step) -> Step:
    if step not in POST_LOGIN_STEPS:
        POST_LOGIN_STEPS.append(step)
    return step
