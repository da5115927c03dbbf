"""Fixtures shared by every test: an isolated database and broker namespace per test.

- One vhost per test session (created with rabbitmqctl), and a fresh exchange/queue namespace per test.
- One template database per session with every service's migrations applied; each test gets its own
  copy (`CREATE DATABASE ... TEMPLATE`), so tests never see each other's rows.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools import infra

TESTS = Path(__file__).resolve().parent
# The unit tier (`make test-fast`): tests that need no server, run in seconds. Whole folders, or modules.
UNIT = (
    "architecture/",
    "bench/test_email_codes.py",
    "bench/test_http_client.py",
    "deploy/test_compose.py",
    "deploy/test_grafana.py",
    "deploy/test_k8s.py",
    "deploy/test_prometheus.py",
    "deploy/test_readme.py",
    "docs/test_language.py",
    "notify/test_email_wire.py",
    "notify/test_sent_events.py",
    "notify/test_zalo_http.py",
    "reporting/test_completeness_counts.py",
    "reporting/test_periods_and_rollup.py",
    "routing/test_case_states.py",
    "routing/test_chair_rules.py",
    "routing/test_deadlines.py",
    "routing/test_policy.py",
    "shared/test_boundaries.py",
    "shared/test_clock.py",
    "shared/test_worker.py",
    "shared/test_crypto.py",
    "shared/test_delivery_tags.py",
    "shared/test_asyncapi.py",
    "shared/test_error_shape.py",
    "shared/test_event_catalogue.py",
    "web/test_admin_rules.py",
    "web/test_report_charts.py",
    "web/test_chair_rules.py",
)
SERVER_FIXTURES = {"amqp_vhost_url", "template_database", "database_url", "empty_database_url", "broker_namespace"}
SERVER_PORTS = {5432, 5672, 15672}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the unit tier, and refuse a unit test that asks for a database or a broker."""
    for item in items:
        path = item.path.relative_to(TESTS).as_posix()
        if any(path == unit or (unit.endswith("/") and path.startswith(unit)) for unit in UNIT):
            item.add_marker(pytest.mark.unit)
            servers = SERVER_FIXTURES & set(getattr(item, "fixturenames", ()))
            if servers:
                raise pytest.UsageError(f"{item.nodeid} is a unit test but asks for {sorted(servers)}")


@pytest.fixture(autouse=True)
def _unit_tests_reach_no_server(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A unit test that tries to reach PostgreSQL or RabbitMQ fails (it belongs in another tier)."""
    if request.node.get_closest_marker("unit") is None:
        return
    connect = socket.socket.connect

    def guarded(sock: socket.socket, address: object) -> None:
        if isinstance(address, tuple) and len(address) >= 2 and address[1] in SERVER_PORTS:
            raise AssertionError(f"a unit test reached a server at {address}; it belongs in the integration tier")
        connect(sock, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="session")
def amqp_vhost_url() -> Iterator[str]:
    name = infra.unique("caunoi-test")
    url = infra.create_vhost(name)
    yield url
    if not os.environ.get("KEEP_TEST_RESOURCES"):
        infra.delete_vhost(name)


@pytest.fixture(scope="session")
def template_database() -> Iterator[str]:
    name = infra.unique("caunoi_tpl")
    infra.create_database(name)
    infra.migrate_all(infra.sqlalchemy_url(name))
    yield name
    infra.drop_database(name)


@pytest.fixture
def database_url(template_database: str) -> Iterator[str]:
    name = infra.unique("caunoi_t")
    infra.create_database(name, template=template_database)
    yield infra.sqlalchemy_url(name)
    if not os.environ.get("KEEP_TEST_RESOURCES"):
        infra.drop_database(name)


@pytest.fixture
def empty_database_url() -> Iterator[str]:
    """A database with no service schema, for tests of the shared mechanisms on a toy schema."""
    name = infra.unique("caunoi_e")
    infra.create_database(name)
    yield infra.sqlalchemy_url(name)
    if not os.environ.get("KEEP_TEST_RESOURCES"):
        infra.drop_database(name)


@pytest.fixture
def broker_namespace(amqp_vhost_url: str) -> Iterator[str]:
    namespace = infra.unique("t")
    yield namespace
    if not os.environ.get("KEEP_TEST_RESOURCES"):
        infra.delete_namespace(amqp_vhost_url, namespace)


@pytest.fixture
def base_env(database_url: str, amqp_vhost_url: str, broker_namespace: str) -> dict[str, str]:
    """Settings every service reads, pointing at this test's database and namespace."""
    return {
        "DATABASE_URL": database_url,
        "RABBITMQ_URL": amqp_vhost_url,
        "BROKER_NAMESPACE": broker_namespace,
        "OUTBOX_POLL_INTERVAL": "0.2",
        "LOG_FORMAT": "text",
        "DEVELOPMENT_MODE": "true",  # the committed development keys and secrets are allowed
    }
