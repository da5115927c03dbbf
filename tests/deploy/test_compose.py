"""docker-compose.yml, checked without a Docker engine: it parses, it is valid against the Compose
Specification schema, each service's environment is exactly made of the settings that service reads
(and its settings class accepts the values), every long-running container has a healthcheck, and every
dependency waits for health (or for a one-shot job's success)."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic_settings import BaseSettings

from shared.settings import ServiceSettings

REPO = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).with_name("compose-spec.schema.json")
SERVICES = {"intake": 8001, "routing": 8002, "notify": 8003, "reporting": 8004, "web": 8005}
SETTINGS_CLASSES = {
    "intake": "IntakeSettings",
    "routing": "RoutingSettings",
    "notify": "NotifySettings",
    "reporting": "ReportingSettings",
    "web": "WebSettings",
}
# Issue 2's required names, and who reads them.
REQUIRED_EVERYWHERE = {"DATABASE_URL", "RABBITMQ_URL", "BROKER_NAMESPACE", "PUBLIC_BASE_URL", "HTTP_HOST", "HTTP_PORT"}
REQUIRED_BY = {
    "notify": {
        "SMTP_HOST",
        "SMTP_PORT",
        "SMTP_USERNAME",
        "SMTP_PASSWORD",
        "SMTP_TLS",
        "MAIL_FROM",
        "ZALO_API_BASE",
        "ZALO_OAUTH_BASE",
        "ZALO_APP_ID",
        "ZALO_APP_SECRET",
        "ZALO_ACCESS_TOKEN",
        "ZALO_REFRESH_TOKEN",
    },
    "intake": {"ZALO_APP_ID", "ZALO_OA_SECRET"},
}
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?::?-(?P<default>[^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def settings_class(service: str) -> type[BaseSettings]:
    module = importlib.import_module(f"services.{service}.settings")
    cls: type[BaseSettings] = getattr(module, SETTINGS_CLASSES[service])
    return cls


def env_names(cls: type[BaseSettings]) -> set[str]:
    """The environment variable names a settings class reads (no prefix, no aliases in this project)."""
    prefix = cls.model_config.get("env_prefix", "") or ""
    names = set()
    for name, field in cls.model_fields.items():
        alias = field.validation_alias if isinstance(field.validation_alias, str) else None
        names.add((alias or f"{prefix}{name}").upper())
    return names


def resolved(value: Any) -> str:
    """The value Compose would pass when the operator sets nothing: each `${X:-default}` by its default."""
    return INTERPOLATION.sub(lambda m: m.group("default") or "", str(value))


def service_of(definition: dict[str, Any]) -> str | None:
    command = definition.get("command") or []
    text = " ".join(command) if isinstance(command, list) else str(command)
    found = re.match(r"services\.(\w+) ", text + " ")
    return found.group(1) if found else None


def test_compose_file_is_valid_against_the_compose_specification(compose):
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(compose, schema)


def test_each_of_the_five_services_runs_from_the_repository_image(compose):
    found = {service_of(d): name for name, d in compose["services"].items() if service_of(d)}
    assert set(found) == set(SERVICES)
    for name in found.values():
        definition = compose["services"][name]
        assert definition["build"] == "."
        assert definition["command"][1] == "serve"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_service_environment_is_exactly_settings_it_reads_and_its_settings_accept_it(compose, service):
    name, definition = next((n, d) for n, d in compose["services"].items() if service_of(d) == service)
    environment = definition["environment"]
    assert isinstance(environment, dict), f"{name}: environment as a mapping"
    cls = settings_class(service)
    readable = env_names(cls)
    unknown = set(environment) - readable
    assert not unknown, f"{name} sets variables its settings never read: {sorted(unknown)}"
    missing = (REQUIRED_EVERYWHERE | REQUIRED_BY.get(service, set())) - set(environment)
    assert not missing, f"{name} lacks {sorted(missing)}"

    values = {key.lower(): resolved(value) for key, value in environment.items()}
    values = {k: v for k, v in values.items() if v != ""}  # empty = leave the setting's default
    settings = cls(**values)  # type: ignore[arg-type]
    assert getattr(settings, "http_port") == SERVICES[service]  # noqa: B009
    assert f"{SERVICES[service]}:{SERVICES[service]}" in definition.get("ports", [])


def test_one_shot_job_sets_only_what_every_service_reads(compose):
    jobs = {n: d for n, d in compose["services"].items() if d.get("restart") == "no"}
    assert jobs, "a one-shot migrate/seed job exists"
    shared = env_names(ServiceSettings)
    for name, definition in jobs.items():
        assert set(definition.get("environment", {})) <= shared, name
        script = definition["command"][-1]
        assert (REPO / script.removeprefix("/app/")).exists(), f"{name} runs {script}, which is in the image"


def test_every_long_running_container_has_a_healthcheck_and_waits_for_healthy_dependencies(compose):
    services = compose["services"]
    for name, definition in services.items():
        one_shot = definition.get("restart") == "no"
        if not one_shot:
            assert "test" in definition.get("healthcheck", {}), f"{name} has no healthcheck"
        for dependency, condition in (definition.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            wanted = (
                "service_completed_successfully" if services[dependency].get("restart") == "no" else "service_healthy"
            )
            assert condition == {"condition": wanted}, f"{name} → {dependency}: {condition}"


def test_ci_script_and_readme_name_the_test_command():
    assert "make test" in (REPO / ".ci/run").read_text(encoding="utf-8")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "make test" in readme and "make run" in readme and "docker compose up" in readme
