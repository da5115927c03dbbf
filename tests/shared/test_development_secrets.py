"""The committed development values of secrets (children's data keys, the duplicate hash key, the link
secret, the broker's guest login) are refused at start-up unless DEVELOPMENT_MODE is on; values an
operator sets are accepted without it."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shared.settings import DevelopmentSecretsRefused, development_secrets

REPO = Path(__file__).resolve().parents[2]
SETTINGS = {
    "intake": "IntakeSettings",
    "routing": "RoutingSettings",
    "notify": "NotifySettings",
    "reporting": "ReportingSettings",
}
# What each service must be given outside development mode.
SECRETS = {
    "intake": {"CHILD_DATA_KEYS", "DUPLICATE_HASH_KEY", "EVENT_KEYS", "RABBITMQ_URL"},
    "routing": {"CHILD_DATA_KEYS", "EVENT_KEYS", "LINK_SECRET", "RABBITMQ_URL"},
    "notify": {"EVENT_KEYS", "RABBITMQ_URL"},
    "reporting": {"RABBITMQ_URL"},
}
OPERATOR_VALUES = {
    "child_data_keys": "k2026:b3BlcmF0b3ItY2hvc2VuLWNoaWxkLWRhdGEta2V5ISE=",
    "duplicate_hash_key": "b3BlcmF0b3ItZHVwbGljYXRlLWhhc2gta2V5",
    "link_secret": "an-operator-chosen-link-secret-0123456789",
    "event_keys": "notify:k1:b3BlcmF0b3ItY2hvc2VuLW5vdGlmeS1ldmVudC1rISE=",
    "rabbitmq_url": "amqp://caunoi-svc:s3cret@127.0.0.1:5672/",
}


def settings_of(service: str, **values: Any) -> Any:
    module = importlib.import_module(f"services.{service}.settings")
    cls = getattr(module, SETTINGS[service])
    return cls(**{k: v for k, v in values.items() if k in cls.model_fields})


def create_app_of(service: str):
    return importlib.import_module(f"services.{service}.main").create_app


@pytest.fixture(autouse=True)
def _no_development_mode_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "DEVELOPMENT_MODE",
        "CHILD_DATA_KEYS",
        "DUPLICATE_HASH_KEY",
        "LINK_SECRET",
        "RABBITMQ_URL",
        "EVENT_KEYS",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_development_secrets_are_refused_at_start_up_outside_development_mode(service: str) -> None:
    settings = settings_of(service, development_mode=False)
    assert set(development_secrets(settings)) == SECRETS[service]
    with pytest.raises(DevelopmentSecretsRefused) as refused:
        create_app_of(service)(settings)
    for name in SECRETS[service]:
        assert name in str(refused.value)


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_development_mode_allows_them_and_operator_values_need_no_development_mode(service: str) -> None:
    create_app_of(service)(settings_of(service, development_mode=True))
    production = settings_of(service, development_mode=False, **OPERATOR_VALUES)
    assert development_secrets(production) == []
    create_app_of(service)(production)


def test_the_link_secret_once_committed_in_docker_compose_is_refused_too() -> None:
    settings = settings_of("routing", **{**OPERATOR_VALUES, "link_secret": "change-me-routing-link-secret"})
    assert development_secrets(settings) == ["LINK_SECRET"]


def test_the_command_line_refuses_to_serve_with_development_keys() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DEVELOPMENT_MODE", "CHILD_DATA_KEYS", "RABBITMQ_URL"}}
    env["DATABASE_URL"] = "postgresql+asyncpg://postgres@127.0.0.1:1/never-reached"
    result = subprocess.run(
        [sys.executable, "-m", "services.intake", "serve", "--no-migrate"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "CHILD_DATA_KEYS" in result.stderr and "DEVELOPMENT_MODE" in result.stderr
