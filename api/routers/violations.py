"""Violations and their resolution (scope violations:write)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Path, Router, Status

from aha_site.observability.metrics import count_api_rows
from api.auth import ScopedToken
from api.models import Scope
from api.routers.common import ERRORS
from api.schemas import ResolutionIn, ViolationIn, ViolationOut
from api.services.violations import ViolationInput, resolve_by_external_id, upsert_violation
from health.models import Violation

router = Router(tags=["violations"], auth=ScopedToken(Scope.VIOLATIONS_WRITE))
ID = Path(..., min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")


def _out(violation: Violation, *, created: bool) -> dict:
    return {
        "external_id": violation.external_id,
        "store_account": violation.store_account.external_id,
        "scope": violation.scope,
        "category": violation.category,
        "severity": violation.severity,
        "deactivation_level": violation.deactivation_level,
        "repeat": violation.repeat,
        "detected_at": violation.detected_at,
        "resolved_at": violation.resolved_at,
        "created": created,
    }


@router.put("/violations/{external_id}", response={200: ViolationOut, 201: ViolationOut, **ERRORS})
def put_violation(request: HttpRequest, payload: ViolationIn, external_id: str = ID):
    """Record a violation; its consequences (an AHA case or standard enforcement) apply at once.
    The same content again changes nothing; different content answers 409."""
    data = ViolationInput(external_id=external_id, **payload.dict())
    violation, created = upsert_violation(client=request.auth, data=data)
    count_api_rows("violations", int(created))
    return Status(201 if created else 200, _out(violation, created=created))


@router.post("/violations/{external_id}/resolution", response={200: ViolationOut, **ERRORS})
def post_resolution(request: HttpRequest, payload: ResolutionIn, external_id: str = ID):
    """Resolve a violation at the time upstream resolved it."""
    violation, _changed = resolve_by_external_id(
        client=request.auth, external_id=external_id, resolved_at=payload.resolved_at
    )
    return Status(200, _out(violation, created=False))
