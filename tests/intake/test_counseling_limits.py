"""The counseling limit works behind a proxy (X-Forwarded-For believed only from TRUSTED_PROXIES; IPv6 counted
by /64), across replicas (counted in PostgreSQL, not in a process), and under a global cap."""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager

import pytest

from services.intake.ratelimit import CounselingLimiter, client_bucket, parse_networks

pytestmark = pytest.mark.asyncio(loop_scope="package")

BODY = {"message": "Cho em hỏi"}
PROXY = "10.200.0.1"


@contextmanager
def limiter(intake, **changes):
    context = intake.app.state.intake
    original = context.limiter
    context.limiter = dataclasses.replace(original, **changes)
    try:
        yield context.limiter
    finally:
        context.limiter = original


def test_the_client_is_found_behind_trusted_proxies_only_and_ipv6_is_counted_by_64() -> None:
    trusted = parse_networks("10.200.0.0/16, 2001:db8:ffff::/48")
    assert client_bucket(PROXY, "198.51.100.7", trusted) == "198.51.100.7"
    assert client_bucket(PROXY, "1.2.3.4, 198.51.100.7, 10.200.0.9", trusted) == "198.51.100.7"  # spoofed left part
    assert client_bucket("203.0.113.1", "198.51.100.7", trusted) == "203.0.113.1"  # not a proxy: header ignored
    assert client_bucket(PROXY, "not-an-address", trusted) == PROXY
    assert client_bucket("2001:db8:1:2:aaaa::1", None, ()) == client_bucket("2001:db8:1:2:bbbb::9", None, ())
    assert client_bucket("2001:db8:1:2::1", None, ()) == "2001:db8:1:2::/64"
    assert client_bucket("2001:db8:1:3::1", None, ()) != client_bucket("2001:db8:1:2::1", None, ())
    assert client_bucket("::ffff:198.51.100.7", None, ()) == "198.51.100.7"


async def test_behind_a_proxy_each_client_has_its_own_limit_and_cannot_pick_it(intake):
    with limiter(intake, trusted=parse_networks("10.200.0.0/16")):
        async with intake.client_from(PROXY) as client:
            first = {"X-Forwarded-For": "198.51.100.21"}
            statuses = [
                (await client.post("/v1/counseling-requests", json=BODY, headers=first)).status_code for _ in range(4)
            ]
            assert statuses == [201, 201, 201, 429]  # COUNSELING_RATE_LIMIT=3 in these tests
            other = {"X-Forwarded-For": "198.51.100.22"}
            assert (await client.post("/v1/counseling-requests", json=BODY, headers=other)).status_code == 201
        async with intake.client_from("203.0.113.44") as direct:  # not a proxy: its header changes nothing
            spoofed = [
                (
                    await direct.post("/v1/counseling-requests", json=BODY, headers={"X-Forwarded-For": f"192.0.2.{i}"})
                ).status_code
                for i in range(4)
            ]
            assert spoofed == [201, 201, 201, 429]


async def test_ipv6_clients_in_one_64_share_a_limit(intake):
    statuses = []
    for host in ("2001:db8:77:1::1", "2001:db8:77:1::2", "2001:db8:77:1:ffff::3", "2001:db8:77:1::4"):
        async with intake.client_from(host) as client:
            statuses.append((await client.post("/v1/counseling-requests", json=BODY)).status_code)
    assert statuses == [201, 201, 201, 429]
    async with intake.client_from("2001:db8:77:2::1") as client:
        assert (await client.post("/v1/counseling-requests", json=BODY)).status_code == 201


async def test_attempts_are_counted_in_the_database_so_another_replica_refuses_too(intake):
    async with intake.client_from("198.51.100.31") as client:
        for _ in range(3):
            assert (await client.post("/v1/counseling-requests", json=BODY)).status_code == 201
    another_replica = CounselingLimiter(limit=3, window=intake.app.state.intake.limiter.window, global_limit=10**6)
    async with intake.sessions() as session, session.begin():
        allowed, wait = await another_replica.take(session, "198.51.100.31", intake.clock.now())
    assert (allowed, wait > 0) == (False, True)


async def test_a_global_cap_stops_a_flood_from_many_addresses(intake):
    [row] = await intake.rows(
        "SELECT count(*) AS n FROM intake.counseling_attempts WHERE at > :since",
        since=intake.clock.now() - intake.app.state.intake.limiter.window,
    )
    with limiter(intake, global_limit=row["n"] + 2):
        statuses = []
        for i in range(3):
            async with intake.client_from(f"192.0.2.{100 + i}") as client:
                statuses.append((await client.post("/v1/counseling-requests", json=BODY)).status_code)
    assert statuses == [201, 201, 429]
