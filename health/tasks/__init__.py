"""Celery tasks: thin interfaces that take ids, call one service, and are safe to run twice."""

from health.tasks.cases import *  # noqa: F403
from health.tasks.day_close import *  # noqa: F403
from health.tasks.emails import *  # noqa: F403
