"""Fixtures shared by every test: an isolated database and broker namespace per test.

- One vhost per test session (created with rabbitmqctl), and a fresh exchange/queue namespace per test.
- One template database per session with every service's migrations applied; each test gets its own
  copy (`CREATE DATABASE ... TEMPLATE`), so tests never see each other's rows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support import infra


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
