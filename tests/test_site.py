import subprocess
import sys

import pytest
from django.conf import settings

from aha_site import env


def run_settings(extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = "import django; django.setup()"
    environment = {"DJANGO_SETTINGS_MODULE": "aha_site.settings", "PATH": "/usr/bin:/bin"}
    environment.update(extra_env)
    return subprocess.run(
        [sys.executable, "-c", code],
        env=environment,
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        check=False,
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG='maybe' is not a yes/no value"),
        ("DAY_CLOSE_CHUNK_SIZE", "lots", "DAY_CLOSE_CHUNK_SIZE='lots' is not a whole number"),
        ("DATABASE_URL", "mysql://x/y", "DATABASE_URL='mysql://x/y' must start with one of"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL='localhost:6379' must start with one of"),
    ],
)
def test_malformed_environment_value_stops_startup_with_clear_message(variable, value, message):
    result = run_settings({variable: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_production_without_secret_key_refuses_to_start():
    result = run_settings({"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_env_int_enforces_minimum(monkeypatch):
    monkeypatch.setenv("SOME_NUMBER", "0")
    with pytest.raises(Exception, match="below its minimum"):
        env.env_int("SOME_NUMBER", 5, minimum=1)


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    data = response.json()
    assert data["database"] == "ok"
    assert data["broker"] in {"ok", "in-process"}
    assert response.status_code == 200


@pytest.mark.django_db
def test_healthz_answers_503_when_broker_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == "down"


def test_production_settings_pass_deploy_checks():
    environment = {
        "DJANGO_SETTINGS_MODULE": "aha_site.settings",
        "PATH": "/usr/bin:/bin",
        "DEBUG": "0",
        "SECRET_KEY": "x7Kp2vQ9mZ4rT8wY1nB6cF3hJ5lD0sG-aEuIoPzXcVbNmQwErTyUiOp",
        "ALLOWED_HOSTS": "aha.example.com",
        "DATABASE_URL": "sqlite:///:memory:",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=environment,
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
