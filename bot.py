"""Herald's entry point: builds the Application from the settings and runs it — wiring only.

python bot.py           the bot: polling, conversations and the scheduler
python bot.py worker    the scheduler and publishers only (extra processes on MongoDB)
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import signal
import sys
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

# Opt in now to python-telegram-bot's coming behaviour: durations such as RetryAfter.retry_after
# are timedeltas (the publisher reads both forms).
os.environ.setdefault("PTB_TIMEDELTA", "1")

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application
from telegram.warnings import PTBUserWarning

import i18n
from config import ConfigError, Settings, load_settings
from handlers.accounts import account_handlers, build_account_conversation
from handlers.batch import batch_handlers, build_batch_conversation
from handlers.common import SERVICES_KEY
from handlers.compose import build_conversation
from handlers.delivery_options import send_follow_up_report
from handlers.hand_post import hand_post_handlers, send_prompt
from handlers.history import history_handlers
from handlers.importing import import_handlers
from handlers.language import in_owners_language, language_gate_handlers, language_handlers, set_command_menus
from handlers.membership import membership_handlers
from handlers.ordering import PerUserUpdateProcessor
from handlers.posters import poster_handlers
from handlers.posts import post_conversations, post_handlers
from handlers.queue import build_slots_conversation, queue_handlers
from handlers.reports import send_report
from handlers.revise import build_everywhere_conversation, everywhere_handlers
from handlers.series import series_conversations, series_handlers
from handlers.settings import build_timezone_conversation
from handlers.start import gate_handlers, last_resort_handlers, on_error, start_handlers
from handlers.topics import topic_event_handlers, topic_link_handlers
from handlers.when import warm_up
from health import HealthEndpoint
from logs import configure_logging, redact
from publishers.rate_limit import TelegramRateLimiter
from scheduler.jobs import SCHEDULER_KEY, Scheduler
from services import Services
from startup import StartupError, check_startup
from storage import Store, build_store
from storage.persistence import StorePersistence
from telegram_webhook import start_webhook

log = logging.getLogger("herald")
# Seconds a request with files may take to be written out (ten 50 MB videos on a slow uplink).
MEDIA_WRITE_TIMEOUT = 600
# The updates the bot asks for, polling or by webhook: chat_member ones must be asked for by name.
ALLOWED_UPDATES = Update.ALL_TYPES
NO_TOKEN = (
    "TELEGRAM_BOT_TOKEN is not set: open @BotFather in Telegram, send /newbot, and put the token "
    "it gives you in .env as TELEGRAM_BOT_TOKEN=<token> (or export it), then run again."
)


def build_application(settings: Settings, store: Store) -> Application:  # type: ignore[type-arg]
    """The Application with every handler registered, talking to `TELEGRAM_API_URL`."""
    assert settings.telegram_bot_token, NO_TOKEN
    # Conversations use CallbackQueryHandlers with per_message=False on purpose: one draft per user.
    warnings.filterwarnings("ignore", category=PTBUserWarning, message=".*per_message.*")
    application = (
        Application.builder()
        .token(settings.telegram_bot_token)
        .base_url(f"{settings.telegram_api_url}/bot")
        .base_file_url(f"{settings.telegram_api_url}/file/bot")
        # A local Bot API server (--local) hands files by their path on its disk, and takes uploads
        # of up to 2,000 MB: such an upload needs more than the default 20 s to be written.
        .local_mode(settings.telegram_local_mode)
        .media_write_timeout(MEDIA_WRITE_TIMEOUT)
        .persistence(StorePersistence(store))
        # Many people at once, each person's updates in order (conversations and drafts need it).
        .concurrent_updates(PerUserUpdateProcessor())
        .rate_limiter(
            TelegramRateLimiter.from_settings(
                settings.telegram_messages_per_second, settings.telegram_group_messages_per_minute
            )
        )
        .build()
    )
    services = Services(store=store, settings=settings)
    i18n.set_default(settings.default_language)
    application.bot_data[SERVICES_KEY] = services
    # The owners' reports and the "post it by hand" message are chat UI (handlers/reports.py,
    # handlers/hand_post.py); the scheduler decides when they go.
    # Each is written in the owner's language (their /language choice, else their app's); the
    # report reads the owner itself, for their zone too.
    send = functools.partial(send_report, application.bot, services)
    hand_post = in_owners_language(
        store, functools.partial(send_prompt, application.bot), owner_of=lambda post, _target: post.user_id
    )
    send_follow_ups = in_owners_language(store, functools.partial(send_follow_up_report, application.bot, services))
    application.bot_data[SCHEDULER_KEY] = Scheduler(
        application, services, send, hand_post=hand_post, send_follow_up_report=send_follow_ups
    ).install()
    application.add_handlers(language_gate_handlers(), group=-3)
    application.add_handlers(gate_handlers(), group=-1)
    application.add_handlers(membership_handlers(), group=-2)
    application.add_handlers(topic_event_handlers(), group=-2)
    # /language first: whatever is under way, it answers and leaves that where it was.
    application.add_handlers(language_handlers())
    # Reschedule and Edit caption first: while one asks its question, the typed answer is for it.
    application.add_handlers(post_conversations())
    application.add_handler(build_everywhere_conversation())
    application.add_handler(build_slots_conversation())
    application.add_handler(build_batch_conversation())
    application.add_handlers(import_handlers())
    application.add_handlers(series_conversations())
    application.add_handler(build_timezone_conversation())
    application.add_handler(build_account_conversation())
    application.add_handler(build_conversation())
    application.add_handlers(post_handlers())
    application.add_handlers(everywhere_handlers())
    application.add_handlers(queue_handlers())
    application.add_handlers(batch_handlers())
    application.add_handlers(history_handlers())
    application.add_handlers(series_handlers())
    application.add_handlers(poster_handlers())
    application.add_handlers(account_handlers())
    application.add_handlers(hand_post_handlers())
    application.add_handlers(topic_link_handlers())
    application.add_handlers(start_handlers())
    application.add_handlers(last_resort_handlers())
    application.add_error_handler(on_error)
    return application


@asynccontextmanager
async def running_bot(
    settings: Settings, *, poll: bool = True, store: Store | None = None
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """The bot started (polling unless `poll` is False) until the block ends, then stopped cleanly."""
    store = store or build_store(settings)
    await store.open()
    try:
        application = build_application(settings, store)
        await asyncio.to_thread(warm_up)
        async with application:
            await application.start()
            scheduler = application.bot_data[SCHEDULER_KEY]
            assert isinstance(scheduler, Scheduler)
            endpoint = None
            try:
                if poll:
                    # After the start: the scheduler's first sweep does not wait for the menus.
                    await set_command_menus(application.bot)
                if settings.metrics_port is not None:
                    endpoint = HealthEndpoint(settings.metrics_host, settings.metrics_port, scheduler, store)
                    _listen(endpoint.start, "METRICS_PORT", settings.metrics_host, settings.metrics_port)
                if poll:
                    assert application.updater is not None
                    if settings.telegram_webhook_url:
                        await _listening(
                            start_webhook(application, settings, ALLOWED_UPDATES),
                            "WEBHOOK_PORT",
                            settings.webhook_listen,
                            settings.webhook_port,
                        )
                    else:
                        # Deletes a webhook left from webhook mode first (keeping pending updates).
                        await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES, timeout=10)
                yield application
            finally:
                # Claiming stops at once; sends under way get SHUTDOWN_GRACE; the rest is given
                # back to the next process, while polling winds down alongside.
                updater = application.updater if poll else None
                await asyncio.gather(
                    scheduler.shutdown(settings.shutdown_grace),
                    updater.stop() if updater is not None and updater.running else asyncio.sleep(0),
                )
                if endpoint is not None:
                    await endpoint.stop()
                await application.stop()
    finally:
        await store.close()


def _listen(start: Callable[[], None], variable: str, host: str, port: int) -> None:
    """Runs `start`; a port taken or an address not this machine's is a StartupError naming `variable`."""
    try:
        start()
    except OSError as error:
        raise StartupError(f"{variable}: cannot listen on {host}:{port} ({error.strerror or error})") from None


async def _listening(starting: Awaitable[None], variable: str, host: str, port: int) -> None:
    """Awaits `starting` (the webhook's start), as `_listen` runs its callable; a setWebhook that
    fails (Telegram refusing the URL, or out of reach) is a StartupError naming TELEGRAM_WEBHOOK_URL."""
    try:
        await starting
    except OSError as error:
        raise StartupError(f"{variable}: cannot listen on {host}:{port} ({error.strerror or error})") from None
    except TelegramError as error:
        raise StartupError(f"TELEGRAM_WEBHOOK_URL: setWebhook failed ({error.message})") from None


async def serve(settings: Settings, *, poll: bool) -> None:
    """Runs until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with running_bot(settings, poll=poll):
        log.info("Herald is running (%s)", "bot" if poll else "worker")
        await stop.wait()
        log.info("Herald is stopping: no new claims; sends under way get %g s", settings.shutdown_grace)
    log.info("Herald stopped")


def main(argv: list[str]) -> int:
    """Runs the bot or a worker; 2 when it cannot start (one line on stderr names the variable),
    1 when it stopped on an unexpected error (logged), 0 after a stop by signal."""
    mode = argv[1] if len(argv) > 1 else "bot"
    if mode not in ("bot", "worker"):
        print(f"usage: python bot.py [worker] (unknown mode {mode!r})", file=sys.stderr)
        return 2
    try:
        settings = load_settings()
        if not settings.telegram_bot_token:
            print(NO_TOKEN, file=sys.stderr)
            return 2
        configure_logging(settings.log_level, settings.secrets, settings.log_format)
        asyncio.run(check_startup(settings))
    except ConfigError as error:
        print(f"Configuration error: {redact(str(error))}", file=sys.stderr)
        return 2
    except StartupError as error:
        print(f"Start-up failed: {redact(str(error))}", file=sys.stderr)
        return 2
    except Exception:
        log.exception("Herald could not start")
        return 1
    try:
        asyncio.run(serve(settings, poll=mode == "bot"))
    except StartupError as error:
        print(f"Start-up failed: {redact(str(error))}", file=sys.stderr)
        return 2
    except Exception:
        # Logged, so that the traceback goes through the redactor like every other line.
        log.exception("Herald stopped on an unexpected error")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
