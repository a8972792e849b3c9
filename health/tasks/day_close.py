"""Celery tasks (day_close)."""

__all__: list[str] = []
