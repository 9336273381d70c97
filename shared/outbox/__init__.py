"""The outbox: every email, SMS and postal letter is a durable row first, delivered afterwards.

Each app keeps its outbox table in its own database (so the message commits in the same
transaction as the fact it announces). See ``models.define_outbox``. Delivery and the dev inbox
are implemented in this package (account-lifecycle issue).
"""
