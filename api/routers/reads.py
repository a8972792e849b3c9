"""Health of store accounts and the feed of changes (scope health:read)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Path, Query, Router, Status

from api.auth import ScopedToken
from api.models import Scope
from api.routers.common import ERRORS
from api.schemas import EventsOut, HealthOut
from api.services.provisioning import store_account_by_external_id
from api.services.reads import events_after, store_account_health

router = Router(tags=["health"], auth=ScopedToken(Scope.HEALTH_READ))
ID = Path(..., min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")


@router.get("/store-accounts/{external_id}/health", response={200: HealthOut, **ERRORS})
def get_health(request: HttpRequest, external_id: str = ID):
    """The AHR of the last closed day with its band, the status, the AHA state with its
    reasons and progress figures, and the open AHA cases with their deadlines."""
    return Status(200, store_account_health(store_account_by_external_id(external_id)))


@router.get("/events", response={200: EventsOut, **ERRORS})
def get_events(request: HttpRequest, after: str | None = Query(None, max_length=200)):
    """Enrollment, AHA case, enforcement and status changes in order; pass `next` back as
    `after`."""
    events, next_cursor = events_after(after)
    return Status(200, {"events": events, "next": next_cursor})
