"""The TCP proxy the fault test relies on really takes the broker away, and gives it back."""

from __future__ import annotations

import asyncio

import aio_pika
import pytest

from devtools.tcp_proxy import TcpProxy
from devtools.waiting import eventually

pytestmark = pytest.mark.fault


async def test_cut_drops_open_amqp_connections_and_refuses_new_ones_until_the_time_is_up(amqp_vhost_url):
    with TcpProxy("127.0.0.1", 5672) as proxy:
        url = proxy.url_for(amqp_vhost_url)
        connection = await aio_pika.connect(url)
        lost = asyncio.Event()
        connection.close_callbacks.add(lambda *_: lost.set())
        assert proxy.open_connections == 2  # client side and broker side

        proxy.cut(2.0)
        await asyncio.wait_for(lost.wait(), 10)
        assert proxy.refusing
        with pytest.raises((ConnectionError, OSError, aio_pika.exceptions.AMQPError)):
            await aio_pika.connect(url, timeout=2)
        assert await _eventually_connects(url)  # once the cut is over
        assert proxy.cuts == 1


async def _eventually_connects(url: str) -> bool:
    async def attempt() -> bool:
        try:
            fresh = await aio_pika.connect(url, timeout=2)
        except Exception:
            return False
        await fresh.close()
        return True

    return await eventually(attempt, timeout=10, interval=0.3)
