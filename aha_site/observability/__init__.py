"""Operating the site: Prometheus metrics, structured logs with request ids, and Sentry.

- metrics: the process metrics (requests, Celery tasks, API rows) and the registry /metrics serves.
- middleware: request id, request metrics.
- views: /metrics, behind a bearer token or an address allow-list.
- celery: task metrics, the request id carried into tasks, the worker's metrics port.
- logs: JSON and readable formatters, and the filters every handler applies.
- sentry: error reports when SENTRY_DSN is set.
"""
