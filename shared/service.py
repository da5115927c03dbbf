"""Wiring of one service process: database, broker topology, outbox relay, event consumer, background
workers and the operational endpoints (`/healthz`, `/readyz`, `/metrics`, and for a service that consumes
events its dead-letter queue for operators, `shared.deadletters`).

A service's `main.py` calls `create_service_app(ServiceSpec(...), settings)` and gets a FastAPI app
whose lifespan starts and stops everything in order. `SERVICE_ROLE` (`shared.roles`) splits a service into
`api` processes (HTTP only) and a `workers` process (consumer, relay, workers); `all` runs everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from faststream.rabbit import RabbitBroker
from sqlalchemy import MetaData, Table
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import Authenticator
from shared.clock import Clock, clock_from_settings
from shared.consumer import BeforeHandlers, EventConsumer, Handler
from shared.db import make_engine, make_session_factory, ping
from shared.deadletters import dead_letter_router
from shared.events import Event
from shared.http_errors import BodyLimitMiddleware, install_error_handlers
from shared.logging import configure_logging
from shared.metrics import HTTP_SECONDS, refresh_database_gauges, render, watch_pool
from shared.outbox import Outbox
from shared.publisher import EventPublisher
from shared.relay import OutboxRelay
from shared.request_guard import TextGuardMiddleware
from shared.roles import Role, listen_for_wakes, notifying_signals, runs_workers, serves_api
from shared.settings import ServiceSettings, refuse_development_secrets
from shared.topology import Topology
from shared.worker import Signals, run_worker

log = logging.getLogger(__name__)

Worker = Callable[["ServiceRuntime"], Coroutine[Any, Any, None]]


@dataclass
class ServiceSpec:
    """What makes one service: its name, tables, handlers, HTTP routers and background workers."""

    name: str
    metadata: MetaData
    outbox_table: Table | None = None
    inbox_table: Table | None = None
    handlers: Mapping[type[Event], Handler] = field(default_factory=dict)
    routers: Sequence[APIRouter] = ()
    workers: Sequence[Worker] = ()
    # Workers that keep this process's caches right (a LISTEN that drops them): run in every role, where the
    # `workers` role skips `workers` above (`shared.roles`).
    cache_workers: Sequence[Worker] = ()
    title: str = ""
    description: str = ""
    on_startup: Callable[[FastAPI, ServiceRuntime], Awaitable[None]] | None = None
    # Run in every consumer transaction, after its handlers and before the commit (reporting writes its
    # buffered counters there once per batch of events).
    before_commit: Callable[[AsyncSession], Awaitable[None]] | None = None
    # Run in every consumer transaction after the inbox insert, with the transaction's new events.
    before_handlers: BeforeHandlers | None = None
    # Smaller body limits than MAX_BODY_BYTES for paths under a prefix (one `BodyLimitMiddleware` for both).
    body_limits: Mapping[str, int] = field(default_factory=dict)
    # True when this service's HTTP traffic does not need the broker (its writes go to the outbox, which
    # holds them until the broker is back): `/readyz` then stays 200 while the broker is away and
    # `/healthz` says so in its detail (intake keeps taking cases).
    serves_without_broker: bool = False

    @property
    def uses_broker(self) -> bool:
        """A service that neither emits nor consumes events (web) never connects to the broker."""
        return self.outbox_table is not None or bool(self.handlers)


@dataclass
class ServiceRuntime:
    """The live resources of a running service, on `app.state.runtime`."""

    spec: ServiceSpec
    settings: Any
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    topology: Topology
    publisher: EventPublisher
    outbox: Outbox | None
    clock: Clock
    broker: RabbitBroker | None = None
    consumer: EventConsumer | None = None
    relay: OutboxRelay | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    # Wake-ups of the background workers by name (`UnitOfWork.wake`, `shared.worker.run_worker`); in the
    # `api` role they are sent to the `workers` process (`shared.roles`).
    signals: Signals = field(default_factory=Signals)
    role: Role = "all"

    @property
    def uses_broker(self) -> bool:
        """This process talks to the broker: the service does, and the process is not `api` only."""
        return self.spec.uses_broker and runs_workers(self.role)

    async def ready(self) -> dict[str, bool]:
        checks = {"database": False, "broker": self.publisher.reachable}
        if not self.uses_broker:
            del checks["broker"]
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ping(self.engine), timeout=2)
            checks["database"] = True
        if self.broker is not None:
            checks["broker"] = checks["broker"] and await _broker_alive(self.broker)
        return checks

    def takes_traffic(self, checks: Mapping[str, bool]) -> bool:
        """Readiness: the database always; the broker unless the service serves without it."""
        serves_alone = self.spec.serves_without_broker or not self.uses_broker
        needed = ("database",) if serves_alone else ("database", "broker")
        return all(checks[name] for name in needed)

    def health_detail(self) -> dict[str, Any]:
        """In-memory state for `/healthz` (no I/O): broker connection and the outbox backlog."""
        if not self.uses_broker:
            return {"broker": "not used" if runs_workers(self.role) else "not used by the api role"}
        reachable = self.publisher.reachable
        detail: dict[str, Any] = {"broker": "connected" if reachable else "unreachable"}
        if self.relay is not None:
            detail["outbox_pending"] = self.relay.pending
            if not reachable and self.spec.serves_without_broker:
                detail["note"] = "broker unreachable: requests are accepted, their events wait in the outbox"
        return detail


async def _broker_alive(broker: RabbitBroker) -> bool:
    try:
        return bool(await asyncio.wait_for(broker.ping(timeout=1), timeout=2))
    except Exception:
        return False


async def _connect_with_retry(what: str, connect: Callable[[], Awaitable[Any]], deadline: float) -> None:
    delay = 0.5
    while True:
        try:
            await connect()
            return
        except Exception as exc:
            if time.monotonic() > deadline:
                raise
            log.warning("%s not reachable yet (%r), retrying in %.1fs", what, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5)


def create_service_app(
    spec: ServiceSpec,
    settings: ServiceSettings,
    *,
    clock: Clock | None = None,
    startup_timeout: float = 60.0,
) -> FastAPI:
    refuse_development_secrets(settings)  # before anything opens: a production process never runs with them

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(spec.name, settings.log_level, settings.log_format)
        engine = make_engine(settings.database_url, pool_size=settings.db_pool_size, pre_ping=settings.db_pool_pre_ping)
        topology = Topology(settings.broker_namespace, settings.delivery_limit)
        publisher = EventPublisher(settings.rabbitmq_url, topology)
        clock_ = clock or clock_from_settings(settings)
        role = settings.service_role
        outbox = Outbox(spec.outbox_table, spec.name, clock_) if spec.outbox_table is not None else None
        runtime = ServiceRuntime(
            spec=spec,
            settings=settings,
            engine=engine,
            sessions=make_session_factory(engine),
            topology=topology,
            publisher=publisher,
            outbox=outbox,
            clock=clock_,
            signals=notifying_signals(engine, spec.name) if role == "api" else Signals(),
            role=role,
        )
        app.state.runtime = runtime
        deadline = time.monotonic() + startup_timeout
        await _connect_with_retry("database", lambda: ping(engine), deadline)
        if runtime.uses_broker:
            await _connect_with_retry("broker", publisher.connect, deadline)  # declares the topology

        if spec.inbox_table is not None and spec.handlers and runs_workers(role):
            # apply_types=False: the one subscriber (`EventConsumer.subscribe`) takes the body as bytes and reads the
            # delivery from the context, so FastStream's dependency injection had nothing to do but cost CPU on every
            # delivery (bench: 0.37 → 0.31 ms of a consumer's CPU per message).
            runtime.broker = RabbitBroker(settings.rabbitmq_url, logger=None, graceful_timeout=15.0, apply_types=False)
            runtime.consumer = EventConsumer(
                service=spec.name,
                session_factory=runtime.sessions,
                inbox=spec.inbox_table,
                handlers=spec.handlers,
                outbox=outbox,
                clock=runtime.clock,
                batch_size=settings.consumer_batch_size,
                batch_wait=settings.consumer_batch_wait,
                before_commit=spec.before_commit,
                before_handlers=spec.before_handlers,
                settings=settings,
                signals=runtime.signals,
            )
            prefetch = max(settings.consumer_prefetch, settings.consumer_batch_size)
            runtime.consumer.subscribe(runtime.broker, topology, prefetch)
        if spec.on_startup is not None:
            await spec.on_startup(app, runtime)
        if runtime.broker is not None:
            await _connect_with_retry("broker consumer", runtime.broker.start, deadline)
        if outbox is not None and runs_workers(role):
            runtime.relay = OutboxRelay(
                service=spec.name,
                engine=engine,
                database_url=settings.database_url,
                table=outbox.table,
                publisher=publisher,
                batch_size=settings.outbox_batch_size,
                poll_interval=settings.outbox_poll_interval,
                retention=timedelta(days=settings.outbox_retention_days),
            )
            runtime.tasks.append(asyncio.create_task(runtime.relay.run(), name=f"{spec.name}-relay"))
        for worker in [*spec.cache_workers, *(spec.workers if runs_workers(role) else ())]:
            runtime.tasks.append(asyncio.create_task(worker(runtime), name=f"{spec.name}-{worker.__name__}"))
        if role == "workers":  # the `api` processes' wake-ups (`shared.roles`)
            wakes = listen_for_wakes(settings.database_url, spec.name, runtime.signals)
            runtime.tasks.append(asyncio.create_task(wakes, name=f"{spec.name}-wake-ups"))
        watch_pool(spec.name, engine)
        gauges = _database_gauges(engine, spec.name)
        runtime.tasks.append(asyncio.create_task(gauges, name=f"{spec.name}-database-gauges"))
        # What startup built (modules, table metadata, compiled templates, caches) lives as long as the process:
        # moved out of the collector's generations, so a full collection no longer walks it (a pause in the
        # HTTP tail each time one runs).
        gc.collect()
        gc.freeze()
        log.info("%s started", spec.name)
        try:
            yield
        finally:
            log.info("%s stopping", spec.name)
            watchdog = asyncio.create_task(_report_slow_shutdown(spec.name), name=f"{spec.name}-shutdown-watchdog")
            if runtime.consumer is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(runtime.consumer.close(), timeout=15.0)
            if runtime.broker is not None:
                with contextlib.suppress(Exception):
                    await runtime.broker.stop()
            if runtime.relay is not None:
                runtime.relay.stop()
            for task in runtime.tasks:
                if task.get_name() != f"{spec.name}-relay":
                    task.cancel()
            await asyncio.gather(*runtime.tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await publisher.close()
            await engine.dispose()
            watchdog.cancel()
            log.info("%s stopped", spec.name)

    app = FastAPI(title=spec.title or f"Cầu Nối {spec.name}", description=spec.description, lifespan=lifespan)
    app.state.spec = spec
    app.add_middleware(HttpMetricsMiddleware, service=spec.name)
    if settings.ops_token:
        app.add_middleware(OpsTokenMiddleware, token=settings.ops_token)
    app.add_middleware(TextGuardMiddleware)  # NUL, invalid UTF-8, lone surrogates: 422
    # Outermost: 413 before reading.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, limits=dict(spec.body_limits))
    install_error_handlers(app)
    app.include_router(operations_router())
    if not serves_api(settings.service_role):
        return app  # the `workers` role: the operational endpoints only
    credentials = next((t for t in spec.metadata.tables.values() if t.name == "credentials"), None)
    if spec.inbox_table is not None and spec.handlers and credentials is not None:
        app.include_router(dead_letter_router(spec.name, Authenticator(credentials)))
    for router in spec.routers:
        app.include_router(router)
    return app


async def _report_slow_shutdown(service: str, after: float = 5.0) -> None:
    """Log what a shutdown still waits for when it takes longer than `after` seconds (an orchestrator kills
    the process at the end of its grace period, and the log then says why it came to that)."""
    await asyncio.sleep(after)
    lines = [
        f"{task.get_name()}: {_awaiting(task.get_coro())}"
        for task in asyncio.all_tasks()
        if task is not asyncio.current_task() and not task.done()
    ]
    log.warning("%s still stopping after %.0fs; waiting on:\n  %s", service, after, "\n  ".join(lines))


def _awaiting(coro: Any, depth: int = 12) -> str:
    """Where a suspended coroutine waits: its chain of awaits, outermost first."""
    where = []
    while coro is not None and depth > 0:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "ag_frame", None)
        if frame is not None:
            where.append(f"{frame.f_code.co_name} ({frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.f_lineno})")
        coro = getattr(coro, "cr_await", None) or getattr(coro, "ag_await", None)
        depth -= 1
    return " > ".join(where) or "not started"


async def _database_gauges(engine: AsyncEngine, schema: str, interval: float = 30.0) -> None:
    """Refresh the PostgreSQL server's gauges and the service's tables' dead rows until cancelled."""

    async def step() -> int:
        await refresh_database_gauges(engine, schema)
        return 0

    await run_worker(
        "database gauges",
        step,
        interval=interval,
        min_backoff=interval,
        max_backoff=interval,
        on_error=lambda exc: log.debug("database gauges skipped: %r", exc),
    )


def operations_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Alive (with the broker and outbox state as detail)")
    async def healthz(request: Request) -> dict[str, Any]:
        runtime: ServiceRuntime | None = getattr(request.app.state, "runtime", None)
        return {"status": "ok", **(runtime.health_detail() if runtime is not None else {})}

    @router.get("/readyz", summary="Should this replica take traffic (database, and broker where needed)")
    async def readyz(request: Request, response: Response) -> dict[str, Any]:
        runtime: ServiceRuntime = request.app.state.runtime
        checks = await runtime.ready()
        ok = runtime.takes_traffic(checks)
        response.status_code = 200 if ok else 503
        body: dict[str, Any] = {"status": "ready" if ok else "not ready", "checks": checks}
        if ok and not all(checks.values()):
            body["degraded"] = sorted(name for name, up in checks.items() if not up)
        return body

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        body, content_type = render()
        return Response(body, media_type=content_type)

    return router


OPS_PATHS = ("/metrics", "/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect")


class OpsTokenMiddleware:
    """`/metrics` and the API documentation answer only to the operations token (OPS_TOKEN): they tell an
    attacker the routes, the load and the queue depths."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in OPS_PATHS:
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                body = json.dumps(
                    {
                        "status": 401,
                        "detail": "The operations token is required.",
                        "message": {"vi": "Cần mã vận hành.", "en": "The operations token is required."},
                    }
                ).encode()
                headers = [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]
                await send({"type": "http.response.start", "status": 401, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


class HttpMetricsMiddleware:
    """Times every request by its route template (never the raw path, which may hold ids)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        self._histograms: dict[tuple[str, str, int], Any] = {}  # bounded: routes × methods × statuses

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status_code = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            key = (scope["method"], getattr(route, "path", "unmatched"), status_code)
            histogram = self._histograms.get(key)
            if histogram is None:  # labels() takes a lock and builds a key: once per route and status
                histogram = HTTP_SECONDS.labels(self.service, key[0], key[1], str(status_code))
                self._histograms[key] = histogram
            histogram.observe(time.perf_counter() - started)


def runtime_of(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime
