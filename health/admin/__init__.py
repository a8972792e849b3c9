"""The specialist back office: queues and store account pages in the Django admin. Every write
is a specialist action through a service, recorded in the audit trail (see actions.py)."""

from health.admin import callbacks, cases, outbox, store_accounts  # noqa: F401
