"""The operator's endpoint (METRICS_PORT, off by default): `/healthz` for a container's health check
or a load balancer, `/metrics` for Prometheus. Served by the bot and by every worker, each its own.

`/healthz` answers 200 while the process is up, its last sweep ended within three intervals and the
database answers a ping within PING_TIMEOUT; else 503 with the reason as JSON. It is served by
tornado (which python-telegram-bot's webhook mode brings) on the bot's own event loop.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

import tornado.httpserver
import tornado.web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from logs import redact
from scheduler.jobs import Scheduler
from storage.base import Store

log = logging.getLogger(__name__)

# A health check must answer quickly: a database slower than this is as good as away.
PING_TIMEOUT = 2.0
# The last sweep may be this many intervals old (one running long behind a backlog included).
SWEEP_INTERVALS = 3


@dataclass(frozen=True)
class Health:
    """What /healthz says: healthy or not, and why not."""

    healthy: bool
    reason: str | None = None

    def body(self) -> dict[str, str]:
        if self.healthy:
            return {"status": "ok"}
        return {"status": "unhealthy", "reason": self.reason or "unknown"}


async def check_health(
    scheduler: Scheduler, store: Store, serving_since: float, ping_timeout: float = PING_TIMEOUT
) -> Health:
    """The process's health: not stopping, a recent sweep (or a recent start: the first sweep
    waits for the JobQueue), and a database that answers."""
    if scheduler.publication.stopping:
        return Health(False, "the process is stopping")
    age = time.monotonic() - max(scheduler.last_sweep_ended, serving_since)
    if age > SWEEP_INTERVALS * scheduler.interval:
        return Health(
            False, f"the last sweep ended {age:.0f} s ago (more than {SWEEP_INTERVALS} × {scheduler.interval:g} s)"
        )
    try:
        await store.ping(ping_timeout)
    except Exception as error:  # whatever the driver raises, the answer is the same: unhealthy
        cause = " ".join(str(error).split())[:200] or type(error).__name__
        return Health(False, redact(f"the database did not answer within {ping_timeout:g} s ({cause})"))
    return Health(True)


class _HealthHandler(tornado.web.RequestHandler):
    def initialize(self, scheduler: Scheduler, store: Store, started: list[float]) -> None:
        self.scheduler, self.store, self.started = scheduler, store, started

    async def get(self) -> None:
        health = await check_health(self.scheduler, self.store, self.started[0])
        self.set_status(200 if health.healthy else 503)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(health.body()))


class _MetricsHandler(tornado.web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(generate_latest(REGISTRY))


class _Quiet(tornado.web.Application):
    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        """A line per scrape or probe would drown the log."""


class HealthEndpoint:
    """/healthz and /metrics on METRICS_HOST:METRICS_PORT while started."""

    def __init__(self, host: str, port: int, scheduler: Scheduler, store: Store) -> None:
        self.host, self.port = host, port
        # When the endpoint started serving (set by `start`).
        self._started = [time.monotonic()]
        shared = {"scheduler": scheduler, "store": store, "started": self._started}
        self._app = _Quiet([(r"/healthz", _HealthHandler, shared), (r"/metrics", _MetricsHandler)])
        self._server: tornado.httpserver.HTTPServer | None = None

    def start(self) -> None:
        """Listens now; OSError if the address is taken or not this machine's."""
        server = tornado.httpserver.HTTPServer(self._app)
        server.listen(self.port, self.host)
        self._server = server
        self._started[0] = time.monotonic()
        log.info("health and metrics at http://%s:%d/healthz and /metrics", self.host, self.port)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()
            await server.close_all_connections()
