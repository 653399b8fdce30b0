"""The one small interface every platform implements: publishing a post to a target (`Publisher`,
all the scheduler needs), and connecting an account beside it (`Provider`, one per platform module)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from i18n import N_
from storage.models import (
    Account,
    Content,
    DeliveryOptions,
    DeliveryStatus,
    ErrorKind,
    FollowUp,
    FollowUpKind,
    Platform,
    Post,
    Target,
)


@dataclass
class Outcome:
    """What one attempt to publish a post on one target came to."""

    status: DeliveryStatus
    message_id: str | None = None
    url: str | None = None
    error_kind: ErrorKind | None = None
    error_code: str | None = None
    # A sentence a person understands; never a credential.
    error_message: str | None = None
    # For retryable failures: how long the platform asked us to wait, if it said.
    retry_after: float | None = None
    # Every message a delivery produced, in the order sent (`message_id` is the first).
    message_ids: list[str] = field(default_factory=list)
    # The delivery's first message was pinned right after it (the post asked for it).
    pinned: bool = False

    @classmethod
    def sent(
        cls,
        message_id: str | None = None,
        url: str | None = None,
        note: str | None = None,
        message_ids: list[str] | None = None,
    ) -> Outcome:
        ids = message_ids if message_ids is not None else ([message_id] if message_id else [])
        return cls(DeliveryStatus.SENT, message_id=message_id, url=url, error_message=note, message_ids=ids)

    @classmethod
    def retryable(cls, code: str, message: str, retry_after: float | None = None) -> Outcome:
        return cls(
            DeliveryStatus.FAILED,
            error_kind=ErrorKind.RETRYABLE,
            error_code=code,
            error_message=message,
            retry_after=retry_after,
        )

    @classmethod
    def permanent(cls, code: str, message: str) -> Outcome:
        return cls(DeliveryStatus.FAILED, error_kind=ErrorKind.PERMANENT, error_code=code, error_message=message)

    @classmethod
    def unconfirmed(cls, message: str) -> Outcome:
        return cls(
            DeliveryStatus.UNCONFIRMED,
            error_kind=ErrorKind.UNCONFIRMED,
            error_code="timeout",
            error_message=message,
        )

    @property
    def is_retryable(self) -> bool:
        return self.error_kind is ErrorKind.RETRYABLE


class Withdrawn(Exception):
    """The delivery must not start after all: the worker lost its claim on the post, or is
    stopping. Raised by the `sending` callback; publishers let it through."""


Sending = Callable[[], Awaitable[None]]


async def untracked() -> None:
    """A `sending` callback for a publication nobody records (tests, pings)."""


class Publisher(ABC):
    """Publishes one post's content to one target of its platform."""

    platform: Platform

    @abstractmethod
    async def publish(self, post: Post, target: Target, sending: Sending = untracked) -> Outcome:
        """Send the post to the target once; never raises for what the platform answers.

        `sending` is awaited just before the first request that may make the post appear leaves
        — after checks, rate-limit waits and reading files — so that only a request that may have
        posted can leave the delivery unconfirmed. It raises `Withdrawn` when the delivery must
        not start; the publisher gives back what it holds and lets that through."""

    async def follow_up(self, action: FollowUp) -> Outcome:
        """Unpins or deletes a delivery of a published post (`sent` when done, or when there is
        nothing left to do); never raises for what the platform answers. Only platforms that can
        do it are given actions: the others answer that they cannot."""
        if action.kind is FollowUpKind.UNPIN:
            # i18n: {platform} is a platform's code (facebook_page, webhook).
            refusal = N_("{platform} cannot unpin a post")
        else:
            refusal = N_("{platform} cannot delete a post")
        return Outcome.permanent("unsupported", refusal.format(platform=self.platform.value))


class OptionLack(StrEnum):
    """A delivery option a platform does not do (the preview says it)."""

    NO_SILENT = "no_silent"
    NO_PROTECT = "no_protect"
    NO_PIN = "no_pin"
    NO_DELETE = "no_delete"
    # A webhook is sent the options in its body: the receiver may honour them.
    OPTIONS_IN_BODY = "options_in_body"


def lacking_options(platform: Platform, options: DeliveryOptions) -> list[OptionLack]:
    """What of the chosen delivery options `platform` does not do itself."""
    if platform is Platform.TELEGRAM or options.is_default:
        return []
    if platform is Platform.WEBHOOK:
        return [OptionLack.OPTIONS_IN_BODY]
    chosen = (
        (options.silent, OptionLack.NO_SILENT),
        (options.protect, OptionLack.NO_PROTECT),
        (options.pin, OptionLack.NO_PIN),
        (options.delete_after is not None, OptionLack.NO_DELETE),
    )
    return [lack for on, lack in chosen if on]


@dataclass
class Connection:
    """What connecting an account came to: the targets it offers and the credential to keep, or
    why the user's answers cannot be used (then nothing is to be kept)."""

    targets: list[Target] = field(default_factory=list)
    # Kept encrypted by the store, to publish with later; empty where the platform needs none.
    credential: str = field(default="", repr=False)
    # Why the answers cannot be used: a sentence for the user, never a credential.
    refused: str | None = None
    # Connected, but something the user should hear (a test delivery that failed).
    warning: str | None = None

    @classmethod
    def refusal(cls, reason: str) -> Connection:
        return cls(refused=reason)


class Shortfall(StrEnum):
    """Something of a post's content a platform cannot show as Telegram does (the preview says it)."""

    # Bold, italic, spoilers… go; the text stays, each link's address written after its words.
    PLAIN_TEXT = "plain_text"
    # The buttons are written at the end of the text, each with its link or its text to copy.
    BUTTONS_AS_TEXT = "buttons_as_text"
    DOCUMENTS_LEFT_OUT = "documents_left_out"
    AUDIO_LEFT_OUT = "audio_left_out"
    # Each video (or GIF) beyond the first post is a post of its own.
    VIDEOS_APART = "videos_apart"
    GIFS_AS_VIDEOS = "gifs_as_videos"
    NO_SPOILERS = "no_spoilers"


class Provider(Publisher):
    """A platform, whole, as one module: connecting an account (checking what the user gave,
    listing the targets it offers) beside publishing to them — Postiz's providers' idea.

    What the user is asked, and in which words, is the chat's (handlers/accounts.py, texts.py);
    the answers come here in the order they were asked."""

    @classmethod
    def shortfalls(cls, content: Content) -> list[Shortfall]:
        """What of `content` this platform cannot show as Telegram does (nothing, by default)."""
        return []

    def check(self, answers: Sequence[str]) -> str | None:
        """Why the answers so far cannot be used, found without asking the platform (so the
        question can be asked again at once); None if nothing is wrong with them yet."""
        return None

    @abstractmethod
    async def connect(self, user_id: int, answers: Sequence[str]) -> Connection:
        """Checks the answers with the platform and lists the targets they give the user; never
        raises for what the platform answers."""

    async def refresh(self, account: Account, credential: str) -> Connection:
        """The targets a connected account offers now (by default the ones found when it was
        connected: only a platform that lists them itself looks again)."""
        return Connection(list(account.targets), credential)

    def close(self) -> None:
        """Gives back what the platform holds open (an HTTP session)."""
