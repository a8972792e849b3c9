"""/metrics for Prometheus: the process metrics of every worker and the domain's gauges, to a
scraper that shows the bearer token (METRICS_TOKEN) or scrapes from an allowed address
(METRICS_ALLOWED_IPS). With neither set the endpoint does not exist (404)."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from aha_site.observability.metrics import Registries, process_collector
from health.metrics import DomainCollector


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """METRICS_ALLOWED_IPS as networks (a bare address is a network of one)."""
    return [ipaddress.ip_network(item, strict=False) for item in settings.METRICS_ALLOWED_IPS]


def scraper_allowed(request: HttpRequest) -> bool:
    """The bearer token matches, or the peer address is on the allow-list."""
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    scheme, _, offered = header.partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(offered.strip(), token):
        return True
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(peer in network for network in allowed_networks())


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """The Prometheus text exposition of this site, to an allowed scraper only."""
    if not settings.METRICS_TOKEN and not settings.METRICS_ALLOWED_IPS:
        raise Http404("Metrics are not enabled.")
    if not scraper_allowed(request):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        if settings.METRICS_TOKEN:
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body = generate_latest(Registries([process_collector(), DomainCollector()]))
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
