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
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from pydantic_settings import BaseSettings

from shared.broker_permissions import user_name
from shared.settings import ServiceSettings, refuse_development_secrets

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
BROKER_FREE = {"web"}  # consumes and emits no events: never connects to the broker
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
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?:(?P<op>:?[-?])(?P<default>[^}]*))?\}")
# What an operator puts in `.env` for the variables Compose requires (`${X:?…}`).
OPERATOR_ENV = {
    "POSTGRES_PASSWORD": "pg-operator-password",
    "RABBITMQ_PASSWORD": "mq-admin-operator-password",
    "RABBITMQ_INTAKE_PASSWORD": "mq-intake-password",
    "RABBITMQ_ROUTING_PASSWORD": "mq-routing-password",
    "RABBITMQ_NOTIFY_PASSWORD": "mq-notify-password",
    "RABBITMQ_REPORTING_PASSWORD": "mq-reporting-password",
    "CHILD_DATA_KEYS": "k2026:b3BlcmF0b3ItY2hvc2VuLWNoaWxkLWRhdGEta2V5ISE=",
    "DUPLICATE_HASH_KEY": "b3BlcmF0b3ItZHVwbGljYXRlLWhhc2gta2V5",
    "LINK_SECRET": "an-operator-chosen-link-secret-0123456789",
    "WEB_SESSION_KEY": "an-operator-chosen-web-session-key-0123456789",
    "NOTIFY_EVENT_KEY": "k1:b3BlcmF0b3ItY2hvc2VuLW5vdGlmeS1ldmVudC1rISE=",
    "INTAKE_EVENT_KEY": "k1:b3BlcmF0b3ItY2hvc2VuLWludGFrZS1ldmVudC1rISE=",
}
# Secrets: required, never a default in the file.
SECRETS = {
    "POSTGRES_PASSWORD",
    "RABBITMQ_PASSWORD",
    "RABBITMQ_INTAKE_PASSWORD",
    "RABBITMQ_ROUTING_PASSWORD",
    "RABBITMQ_NOTIFY_PASSWORD",
    "RABBITMQ_REPORTING_PASSWORD",
    "CHILD_DATA_KEYS",
    "DUPLICATE_HASH_KEY",
    "LINK_SECRET",
    "WEB_SESSION_KEY",
    "NOTIFY_EVENT_KEY",
    "INTAKE_EVENT_KEY",
}
BROKER_USERS_JOB_ENV = {"BROKER_ADMIN_URL", "BROKER_MANAGEMENT_URL", "BROKER_NAMESPACE", "BROKER_VHOST"} | {
    f"RABBITMQ_{s.upper()}_PASSWORD" for s in SERVICES
}


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
    """The value Compose would pass when the operator sets only the required variables: each `${X:-default}`
    by its default, each `${X:?message}` by what the operator put in `.env`."""

    def one(match: re.Match[str]) -> str:
        if (match.group("op") or "").endswith("?"):
            return OPERATOR_ENV[match.group("name")]
        return match.group("default") or ""

    return INTERPOLATION.sub(one, str(value))


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
    required = REQUIRED_EVERYWHERE - ({"RABBITMQ_URL"} if service in BROKER_FREE else set())
    missing = (required | REQUIRED_BY.get(service, set())) - set(environment)
    assert not missing, f"{name} lacks {sorted(missing)}"

    values = {key.lower(): resolved(value) for key, value in environment.items()}
    values = {k: v for k, v in values.items() if v != ""}  # empty = leave the setting's default
    settings = cls(**values)  # type: ignore[arg-type]
    assert getattr(settings, "http_port") == SERVICES[service]  # noqa: B009
    assert "DEVELOPMENT_MODE" not in environment and not settings.development_mode  # type: ignore[attr-defined]
    refuse_development_secrets(settings)  # what the operator set passes the start-up check
    if service not in BROKER_FREE:
        assert urlsplit(settings.rabbitmq_url).username == user_name("caunoi", service)  # type: ignore[attr-defined]
    assert f"{SERVICES[service]}:{SERVICES[service]}" in definition.get("ports", [])


def test_one_shot_job_sets_only_what_every_service_reads(compose):
    jobs = {n: d for n, d in compose["services"].items() if d.get("restart") == "no"}
    assert jobs, "a one-shot migrate/seed job exists"
    shared = env_names(ServiceSettings)
    for name, definition in jobs.items():
        if definition["command"][0] == "scripts.broker_users":
            assert set(definition.get("environment", {})) <= BROKER_USERS_JOB_ENV, name
            assert (REPO / "scripts" / "broker_users.py").exists()
            continue
        assert set(definition.get("environment", {})) <= shared, name
        script = definition["command"][-1]
        assert (REPO / script.removeprefix("/app/")).exists(), f"{name} runs {script}, which is in the image"


def test_secrets_are_required_variables_never_defaults():
    text = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    uses = {m.group("name"): m.group("op") or "" for m in INTERPOLATION.finditer(text)}
    for name in SECRETS:
        assert name in uses, f"{name} is not used"
    for match in INTERPOLATION.finditer(text):
        if match.group("name") in SECRETS:
            assert match.group("op") == ":?", f"{match.group(0)}: a secret must be required, with no default"
    assert "DEVELOPMENT_MODE" not in text.replace("Development mode is never on here", "")
    for value in ("dev1:", "ZGV2LW9ubHk", "change-me", "guest"):
        assert value not in text, f"a development value ({value}) is committed in docker-compose.yml"


def test_every_service_gets_its_broker_user_from_the_broker_users_job(compose):
    services = compose["services"]
    job = next(n for n, d in services.items() if d.get("command", [None])[0] == "scripts.broker_users")
    assert services[job]["restart"] == "no" and "apply" in services[job]["command"]
    for name, definition in services.items():
        if service_of(definition):
            assert definition["depends_on"][job] == {"condition": "service_completed_successfully"}, name


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


def test_rabbitmq_runs_its_prometheus_plugin_and_prometheus_scrapes_every_service_of_the_file(compose):
    services = compose["services"]
    rabbitmq = services["rabbitmq"]
    assert "15692:15692" in rabbitmq["ports"]
    plugins_mount = next(v for v in rabbitmq["volumes"] if v.endswith(":/etc/rabbitmq/enabled_plugins:ro"))
    plugins = (REPO / plugins_mount.split(":")[0]).read_text(encoding="utf-8")
    assert "rabbitmq_prometheus" in plugins and "rabbitmq_management" in plugins

    prometheus = services["prometheus"]
    assert "./deploy/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    config = yaml.safe_load((REPO / "deploy/prometheus/prometheus.yml").read_text(encoding="utf-8"))
    targets = {t for job in config["scrape_configs"] for c in job["static_configs"] for t in c["targets"]}
    for target in targets:
        host, port = target.split(":")
        if host == "web" and not (REPO / "services" / "web").exists():
            continue  # the web service joins the file with its code
        assert host in services, f"prometheus scrapes {target}, which docker-compose.yml does not run"
        if host in SERVICES:
            assert int(port) == SERVICES[host]
    assert {f"{s}:{p}" for s, p in SERVICES.items()} | {"rabbitmq:15692"} <= targets


def test_grafana_waits_for_prometheus_and_has_no_default_password_in_the_file(compose):
    grafana = compose["services"]["grafana"]
    assert grafana["depends_on"] == {"prometheus": {"condition": "service_healthy"}}
    assert grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD")
