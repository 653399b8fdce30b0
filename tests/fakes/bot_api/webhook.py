"""Webhooks: setWebhook, getWebhookInfo (deleteWebhook is in session.py), and delivering updates as
Telegram does while a webhook is set — each pending update POSTed as JSON to the URL with the
X-Telegram-Bot-Api-Secret-Token header, in order, kept and tried again until answered 2xx.

Telegram posts only to public HTTPS URLs; the bot listens on plain HTTP behind a reverse proxy. The
test plays the proxy with `route_webhook(public_origin, local_origin)`: a webhook URL starting with
`public_origin` is delivered to the same path under `local_origin` (``http://127.0.0.1:PORT``).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlparse

import aiohttp

from tests.fakes.bot_api.errors import BotAPIError, JSONDict, bad_request
from tests.fakes.bot_api.params import Params
from tests.fakes.bot_api.state import BotState

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_PORTS = (443, 80, 88, 8443)
SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")
# Between two deliveries of an update the bot did not take (Telegram waits longer, growing).
REDELIVERY_DELAY = 0.2


@dataclass
class WebhookSet:
    """The webhook as setWebhook left it."""

    url: str
    secret_token: str | None
    allowed_updates: list[str] | None
    max_connections: int
    last_error_date: int | None = None
    last_error_message: str | None = None
    # HTTP statuses of every delivery made to it, in order.
    answers: list[int] = field(default_factory=list)


class Webhooks(BotState):
    """setWebhook and getWebhookInfo, and the delivery of updates to the webhook."""

    _webhook_routes: dict[str, str]
    _delivering: asyncio.Task[None] | None = None

    def route_webhook(self, public_origin: str, local_origin: str) -> None:
        """Requests to URLs under `public_origin` (https://host[:port]) go to `local_origin`."""
        if not hasattr(self, "_webhook_routes"):
            self._webhook_routes = {}
        self._webhook_routes[public_origin.rstrip("/")] = local_origin.rstrip("/")

    @property
    def webhook(self) -> WebhookSet | None:
        """The webhook set now, or None (the bot polls)."""
        return self._webhook

    async def post_to_webhook(self, update: JSONDict, secret: str | None) -> int:
        """POSTs `update` to the webhook set now, as Telegram would, with `secret` in the secret
        header (None: no header); the HTTP status the bot answered."""
        webhook = self._webhook
        if webhook is None:
            raise AssertionError("no webhook is set")
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        async with (
            aiohttp.ClientSession() as session,
            session.post(self._local_url(webhook.url), data=json.dumps(update), headers=headers) as answer,
        ):
            await answer.read()
            return answer.status

    def new_update(self, kind: str, payload: JSONDict) -> JSONDict:
        """An update with a fresh id that is not queued (for `post_to_webhook`)."""
        return {"update_id": next(self._update_ids), kind: copy.deepcopy(payload)}

    async def _set_webhook(self, params: Params) -> bool:
        url = params.opt_str("url") or ""
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        if not url:  # an empty URL removes the webhook, as deleteWebhook does
            self._webhook = None
            return True
        parsed = urlparse(url)
        if parsed.scheme != "https" or not parsed.hostname:
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if (parsed.port or 443) not in WEBHOOK_PORTS:
            raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret = params.opt_str("secret_token")
        if secret is not None and not SECRET_SHAPE.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(str(kind) for kind in allowed) if allowed else None
        max_connections = int(params.get("max_connections") or 40)
        if not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        self._local_url(url)  # a URL the test did not route is a mistake of the test's
        self._webhook = WebhookSet(url, secret, allowed if isinstance(allowed, list) else None, max_connections)
        if self._delivering is None or self._delivering.done():
            self._delivering = asyncio.create_task(self._deliver_updates())
        self._notify_updates()  # a long poll still waiting ends with 409 Conflict
        return True

    async def _get_webhook_info(self, params: Params) -> JSONDict:
        webhook = self._webhook
        info: JSONDict = {
            "url": webhook.url if webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if webhook is not None:
            info["max_connections"] = webhook.max_connections
            if webhook.allowed_updates is not None:
                info["allowed_updates"] = list(webhook.allowed_updates)
            if webhook.last_error_date is not None:
                info["last_error_date"] = webhook.last_error_date
                info["last_error_message"] = webhook.last_error_message
        return info

    def _local_url(self, url: str) -> str:
        parsed = urlparse(url)
        origin = f"{parsed.scheme}://{parsed.netloc}"
        routes: dict[str, str] = getattr(self, "_webhook_routes", {})
        local = routes.get(origin)
        if local is None:
            # Telegram's answer for a host it cannot reach; the fake reaches only what a test routed.
            raise BotAPIError(
                400,
                "Bad Request: bad webhook: Failed to resolve host: Name or service not known "
                f"(the fake has no route for {origin}: call route_webhook)",
            )
        return local + (parsed.path or "/")

    async def _deliver_updates(self) -> None:
        """While a webhook is set: POSTs the oldest pending update until the bot takes it (2xx)."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            while self._webhook is not None and not self._closing:
                webhook = self._webhook
                if not self._updates:
                    signal = self._updates_signal
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(signal.wait(), 1.0)
                    continue
                update_id, update = self._updates[0]
                status, problem = await self._post_update(session, webhook, update)
                webhook.answers.append(status)
                if 200 <= status < 300:
                    if self._updates and self._updates[0][0] == update_id:
                        self._updates.popleft()
                    self._changed()
                    continue
                webhook.last_error_date = int(time.time())
                webhook.last_error_message = problem
                await asyncio.sleep(REDELIVERY_DELAY)

    async def _post_update(
        self, session: aiohttp.ClientSession, webhook: WebhookSet, update: JSONDict
    ) -> tuple[int, str]:
        headers = {"Content-Type": "application/json"}
        if webhook.secret_token is not None:
            headers[SECRET_HEADER] = webhook.secret_token
        try:
            async with session.post(self._local_url(webhook.url), data=json.dumps(update), headers=headers) as answer:
                await answer.read()
                return answer.status, f"Wrong response from the webhook: {answer.status} {answer.reason}"
        except (aiohttp.ClientError, TimeoutError, BotAPIError) as error:
            return 0, f"Connection refused ({type(error).__name__})"

    async def _stop_delivering(self) -> None:
        task, self._delivering = self._delivering, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
