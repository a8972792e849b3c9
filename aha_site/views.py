"""Site-level views: the health checks for load balancers, monitors and the benchmark."""

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def database_reachable() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def broker_state() -> str:
    """'ok', 'down', or 'in-process' when there is no broker (tasks run at once)."""
    if not settings.REDIS_URL:
        return "in-process"
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1).ping()
        return "ok"
    except redis.RedisError:
        return "down"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database and broker reachability as JSON: 200 when both answer, else 503."""
    database = "ok" if database_reachable() else "down"
    broker = broker_state()
    healthy = database == "ok" and broker != "down"
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", "database": database, "broker": broker},
        status=200 if healthy else 503,
    )


@never_cache
@require_GET
def healthz_db(request: HttpRequest) -> JsonResponse:
    """One `SELECT 1` as JSON: the trivial view the dashboard benchmark measures against."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (answer,) = cursor.fetchone()
    return JsonResponse({"database": "ok" if answer == 1 else "down"})
