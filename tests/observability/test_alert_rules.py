"""The example alert rules and dashboard of docs/monitoring: valid for Prometheus (promtool, when
Debian's prometheus package is installed), their unit tests pass, and every metric they name is
one /metrics serves."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families

from health.eligibility import STALE_CLOSE_AFTER
from tests.conftest import REQUIRE_SERVICES, skip_or_fail

MONITORING = Path(settings.BASE_DIR) / "docs" / "monitoring"
METRIC = re.compile(r"\baha_[a-z0-9_]+")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


@pytest.fixture
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        skip_or_fail("needs promtool (Debian's prometheus package)", required=REQUIRE_SERVICES)
    return path


def rule_expressions() -> dict[str, str]:
    groups = yaml.safe_load((MONITORING / "alerts.yml").read_text())["groups"]
    return {rule["alert"]: rule["expr"] for group in groups for rule in group["rules"]}


def dashboard_expressions() -> list[str]:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


@pytest.fixture
def served_names(client, settings) -> set[str]:
    """Every sample name /metrics can serve, including those with no sample yet."""
    settings.METRICS_TOKEN = "token"
    answer = client.get("/metrics", headers={"Authorization": "Bearer token"})
    names = set()
    for family in text_string_to_metric_families(answer.content.decode()):
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
    return names


def test_promtool_accepts_the_rules_and_their_unit_tests_pass(promtool: str) -> None:
    for command in (["check", "rules", "alerts.yml"], ["test", "rules", "alerts.test.yml"]):
        result = subprocess.run(
            [promtool, *command], cwd=MONITORING, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_alerts_the_operators_need_are_there() -> None:
    expressions = rule_expressions()
    for alert in ("AHANightLate", "AHAOutboxBacklog", "AHACaseAboutToBeMissed"):
        assert alert in expressions
    assert "aha_callback_oldest_wait_seconds > 15 * 60" in expressions["AHANoCallbackAnswered"]
    # A night is late when the stale-run email would go.
    hours = int(STALE_CLOSE_AFTER.total_seconds() // 3600)
    assert f"> {hours} * 3600" in expressions["AHANightLate"]


@pytest.mark.django_db
def test_every_metric_the_rules_and_the_dashboard_name_is_served(served_names) -> None:
    for expression in [*rule_expressions().values(), *dashboard_expressions()]:
        named = set(METRIC.findall(expression))
        assert named, expression
        assert named <= served_names, (expression, named - served_names)
