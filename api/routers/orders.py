"""Daily orders (scope orders:write)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from aha_site.observability.metrics import count_api_rows
from api.auth import ScopedToken
from api.models import Scope
from api.routers.common import ERRORS
from api.schemas import OrdersBatchIn, OrdersBatchOut
from api.services.orders import OrdersRow, record_daily_orders

router = Router(tags=["orders"], auth=ScopedToken(Scope.ORDERS_WRITE))


@router.post("/daily-orders", response={200: OrdersBatchOut, **ERRORS})
def post_daily_orders(request: HttpRequest, payload: OrdersBatchIn):
    """Up to 10,000 rows {store_account, day, orders}, applied whole or not at all; a row for a
    day already stored replaces its count, also for a closed day (it counts from the next
    close on)."""
    rows = [OrdersRow(r.store_account, r.day, r.orders) for r in payload.rows]
    result = record_daily_orders(client=request.auth, rows=rows)
    count_api_rows("orders", result.rows)
    return Status(
        200,
        {
            "rows": result.rows,
            "store_accounts": result.store_accounts,
            "corrected_closed_days": result.corrected_closed_days,
        },
    )
