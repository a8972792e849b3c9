"""The store account page's outlook block: the same explanation and forecast the seller sees on
the dashboard (health.outlook, worded by health.views.outlook_text), read-only."""

from __future__ import annotations

from typing import Any

from accounts.models import StoreAccount
from health.outlook import store_outlook
from health.state import seller_has_valid_contact
from health.views.outlook_text import outlook_context


def outlook_panel(store_account: StoreAccount) -> dict[str, Any]:
    """The context of admin/health/includes/outlook.html for one store account."""
    outlook = store_outlook(
        store_account, has_valid_contact=seller_has_valid_contact(store_account.seller_id)
    )
    return {"outlook_view": outlook_context(outlook, store_account)}
