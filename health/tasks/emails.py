"""Celery tasks (emails)."""

__all__: list[str] = []
