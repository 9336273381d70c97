"""The IdP's outbox table (emails for validation, reset, email change; letters to legal representatives)."""

from idp.storage.sql.models import Base
from shared.outbox.models import define_outbox

OutboxMessage = define_outbox(Base)
