"""The versioned API for upstream systems: /api/v1/ (schema at openapi.json, docs at docs)."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import ValidationError as NinjaValidationError

from api.auth import Forbidden, RateLimited
from api.errors import Conflict, InvalidInput, NotFound
from api.routers import orders, provisioning, reads, violations

api = NinjaAPI(
    title="AHA upstream API",
    version="1",
    description=(
        "For the marketplace's order and policy-enforcement systems, not for sellers. "
        "Every write is an idempotent upsert keyed by the upstream's own id (external_id). "
        "Authenticate with `Authorization: Bearer <token>` (manage.py create_api_client)."
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
api.add_router("/", provisioning.router)
api.add_router("/", orders.router)
api.add_router("/", violations.router)
api.add_router("/", reads.router)


def _error(
    request: HttpRequest, status: int, detail: str, errors: list | None = None
) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "errors": errors or []}, status=status)


@api.exception_handler(NinjaValidationError)
def _invalid_body(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [_row_error(error) for error in exc.errors]
    return _error(request, 400, f"{len(errors)} invalid field(s); nothing was saved.", errors)


def _row_error(error: dict) -> dict:
    # pydantic's loc: ("body", "payload", "rows", 3, "orders") -> index 3, field "orders".
    loc = [
        part for part in error.get("loc", ()) if part not in ("body", "payload", "query", "path")
    ]
    index = next((part for part in loc if isinstance(part, int)), None)
    names = [str(part) for part in loc if not isinstance(part, int) and part != "rows"]
    return {"index": index, "field": ".".join(names) or "body", "message": error.get("msg", "")}


@api.exception_handler(InvalidInput)
def _invalid(request: HttpRequest, exc: InvalidInput) -> HttpResponse:
    rows = [{"index": e.index, "field": e.field, "message": e.message} for e in exc.errors]
    return _error(request, 400, exc.detail, rows)


@api.exception_handler(Conflict)
def _conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
    return _error(request, 409, exc.detail)


@api.exception_handler(NotFound)
def _not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
    return _error(request, 404, exc.detail)


@api.exception_handler(Forbidden)
def _forbidden(request: HttpRequest, exc: Forbidden) -> HttpResponse:
    return _error(request, 403, str(exc))


@api.exception_handler(RateLimited)
def _rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    response = _error(request, 429, f"Too many requests; retry after {exc.retry_after} s.")
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _error(request, 413, "The request body is over the limit.")
