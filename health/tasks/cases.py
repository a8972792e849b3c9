"""Celery tasks (cases)."""

__all__: list[str] = []
