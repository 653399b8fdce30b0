"""Start-up checks: before Herald serves, its database opens for writing and the Bot API accepts
its token — or the process ends with one line naming the cause and the variable to fix.

Each check does what serving does first (open the store, `getMe`), so a failure there is told
apart from a failure after start by where it happened, not guessed from the exception's type.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import tempfile
from pathlib import Path
from urllib.parse import urlparse

from pymongo.errors import ConfigurationError, ConnectionFailure, OperationFailure, PyMongoError
from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError

from config import Settings
from storage import build_store

# MongoDB's codes for a refused login (AuthenticationFailed) and a missing right (Unauthorized).
MONGO_REFUSED_CODES = frozenset({13, 18})
# pymongo's timeout error appends its settings and the whole topology: the cause comes first.
MONGO_DETAILS = re.compile(r" \(configured timeouts:.*|, Timeout: .*", re.DOTALL)


class StartupError(Exception):
    """Herald cannot start; the message is one line naming the variable to fix."""


async def check_startup(settings: Settings) -> None:
    """Opens and closes the database, then asks the Bot API who the bot is; StartupError (one
    line naming the variable) when either fails. A bad setting still raises ConfigError."""
    await check_database(settings)
    await check_bot_api(settings)


async def check_database(settings: Settings) -> None:
    """The store named by DATABASE_URL opens (and can be written, for SQLite), or StartupError."""
    try:
        store = build_store(settings)  # creates the data folder and key file with SQLite
        if settings.is_sqlite:
            _try_sqlite_file(settings.sqlite_path)
    except (OSError, sqlite3.Error) as error:
        raise StartupError(_sqlite_problem(settings, error)) from None
    try:
        await store.open()
    except (OSError, sqlite3.Error) as error:
        raise StartupError(_sqlite_problem(settings, error)) from None
    except PyMongoError as error:
        raise StartupError(_mongo_problem(settings, error)) from None
    finally:
        await store.close()


async def check_bot_api(settings: Settings) -> None:
    """The Bot API at TELEGRAM_API_URL answers `getMe` for TELEGRAM_BOT_TOKEN, or StartupError."""
    assert settings.telegram_bot_token
    url = settings.telegram_api_url
    bot = Bot(settings.telegram_bot_token, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot")
    telegram_log = logging.getLogger("telegram")
    level = telegram_log.level
    # A failure is told below in one line; python-telegram-bot would log it first, with a traceback
    # (an answer that is not JSON, for one).
    telegram_log.setLevel(logging.CRITICAL)
    try:
        await bot.initialize()  # getMe
    except InvalidToken as error:
        # Its message repeats the token; the server's own words are in the error it wraps.
        answer = str(error.__cause__ or "refused")
        raise StartupError(
            f"TELEGRAM_BOT_TOKEN: the Bot API at {url} refused the token ({answer}); copy it again "
            "from @BotFather (/mybots → API Token)"
        ) from None
    except NetworkError as error:  # TimedOut included
        # An answer that is not JSON (a proxy's error page) is quoted whole: its status says enough.
        reason, _, page = _one_line(error).partition(". Parsing the server response")
        problem = f"the server at {url} does not answer as a Bot API" if page else f"cannot reach the Bot API at {url}"
        raise StartupError(f"TELEGRAM_API_URL: {problem} ({reason})") from None
    except TelegramError as error:
        raise StartupError(f"TELEGRAM_API_URL: the Bot API at {url} answered getMe with: {_one_line(error)}") from None
    finally:
        await bot.shutdown()
        telegram_log.setLevel(level)


def _try_sqlite_file(path: Path) -> None:
    """Fails (OSError, sqlite3.Error) where aiosqlite's connect would, creating nothing: when its
    connect fails, aiosqlite stops its worker thread without waiting, and that thread then reports
    to an event loop already closed — a traceback on stderr after the one line."""
    if path.parent.is_dir():
        with tempfile.TemporaryFile(dir=path.parent):
            pass
    if path.exists():
        sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True).close()


def _sqlite_problem(settings: Settings, error: OSError | sqlite3.Error) -> str:
    path = settings.sqlite_path
    reason = f"{error.strerror or error} in {path.parent}" if isinstance(error, OSError) else str(error)
    return (
        f"DATABASE_URL: cannot write the SQLite database {path} ({reason}); name a file in a folder this user may write"
    )


def _mongo_problem(settings: Settings, error: PyMongoError) -> str:
    hosts = urlparse(settings.database_url).netloc.rpartition("@")[2]  # never the password
    if isinstance(error, ConnectionFailure):
        return f"DATABASE_URL: cannot reach MongoDB at {hosts} ({_one_line(MONGO_DETAILS.sub('', str(error)))})"
    if isinstance(error, OperationFailure) and error.code in MONGO_REFUSED_CODES:
        return f"DATABASE_URL: MongoDB at {hosts} refused the user or password in the URL ({_one_line(error)})"
    if isinstance(error, ConfigurationError):
        return f"DATABASE_URL: {_one_line(error)}"
    return f"DATABASE_URL: MongoDB at {hosts} failed at start: {_one_line(error)}"


def _one_line(error: BaseException | str) -> str:
    """The error's text on one line, cut short (pymongo's and httpx's can run long)."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:300]
