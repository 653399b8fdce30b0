"""Batch scheduling (/batch): the person sends or forwards several messages — an album stays one
post — presses Done, picks the account and targets as in New post, then "into the next free slots"
of their posting schedule or "every N minutes/hours/days from <time>", sees one summary (each
post's time and first words) and only then are the posts stored. Cancel stores nothing.

The batch lives in `user_data` as JSON (each post a Draft), so a restart loses nothing. Posts put
into slots are queued (they take those slots, and /queue can reorder them); posts at intervals
have times the person chose, which never take a slot."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from handlers import keyboards, texts
from handlers.common import (
    TELEGRAM_ACCOUNT_ID,
    answer,
    choosable_accounts,
    find_account,
    is_admin,
    reply,
    services,
    store_of,
    targets_of,
    user_zone,
)
from handlers.compose import MEDIA, store_received
from handlers.content import received_media, typed_text
from handlers.draft import Draft, DraftUnreadable
from handlers.keyboards import BATCH
from handlers.questions import caption_fits
from handlers.queue import free_slot_times
from handlers.screen import answer_after_a_run, forget_answer, own_account, pressed, show, user_id
from handlers.when import MAX_AHEAD, check_time, current_time, explain, format_time, parse_time
from services import PostEvent
from storage.models import MAX_IMAGES, Platform, new_post
from storage.queue import spaced_times

log = logging.getLogger(__name__)

COLLECT, ACCOUNT, TARGETS, WHEN, INTERVAL, CONFIRM = (
    "batch_collect",
    "batch_account",
    "batch_targets",
    "batch_when",
    "batch_interval",
    "batch_confirm",
)
BATCH_KEY = "batch"
MAX_BATCH = 50
ACK_DELAY = 1.0  # seconds of quiet after the last message before "n posts so far"
FIRST_WORDS = 40
MIN_INTERVAL, MAX_INTERVAL = timedelta(minutes=1), timedelta(days=7)
INTERVAL_TYPED = re.compile(
    r"^(?:every\s+)?(\d{1,4})\s*(m|min|mins|minutes?|h|hrs?|hours?|d|days?)\s+(?:from|starting(?:\s+at)?|at)\s+(.+)$"
)


@dataclass
class Batch:
    """The batch in the making: its posts (content only), which post each album's items go to, the
    account and targets chosen (in `route`), and the times of the summary."""

    posts: list[Draft] = field(default_factory=list)
    albums: dict[str, int] = field(default_factory=dict)
    route: Draft = field(default_factory=Draft)
    times: list[datetime] = field(default_factory=list)
    queued: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "posts": [post.to_json() for post in self.posts],
            "albums": dict(self.albums),
            "route": self.route.to_json(),
            "times": [moment.isoformat() for moment in self.times],
            "queued": self.queued,
        }

    @classmethod
    def from_json(cls, saved: object) -> Batch:
        """The batch `to_json` made; DraftUnreadable for anything else."""
        if not isinstance(saved, dict):
            raise DraftUnreadable("a batch is a dict")
        try:
            albums = {str(key): int(value) for key, value in dict(saved.get("albums") or {}).items()}
            return cls(
                posts=[Draft.from_json(post) for post in list(saved.get("posts") or [])],
                albums=albums,
                route=Draft.from_json(saved.get("route") or {}),
                times=[datetime.fromisoformat(str(moment)) for moment in list(saved.get("times") or [])],
                queued=bool(saved.get("queued")),
            )
        except (TypeError, ValueError) as error:
            raise DraftUnreadable(str(error)) from error

    def first_words(self, number: int) -> str:
        """The start of a post's text (its first item's caption when it has no main text)."""
        post = self.posts[number]
        text = post.caption or next((image.caption for image in post.images if image.caption), "")
        return texts.caption_start(text, FIRST_WORDS) or texts.media_only(len(post.images))


def _batch(context: ContextTypes.DEFAULT_TYPE) -> Batch | None:
    saved = (context.user_data or {}).get(BATCH_KEY)
    if saved is None:
        return None
    try:
        return Batch.from_json(saved)
    except DraftUnreadable as error:
        log.warning("dropped an unreadable batch: %s", error)
        return None


def _keep(context: ContextTypes.DEFAULT_TYPE, batch: Batch) -> None:
    assert context.user_data is not None
    context.user_data[BATCH_KEY] = batch.to_json()


def _drop(context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.user_data is not None:
        context.user_data.pop(BATCH_KEY, None)


async def _lost(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """The batch is gone (unreadable after an update of Herald): said, and the conversation ends."""
    _drop(context)
    await answer(update)
    await reply(update, texts.BATCH_LEFT)
    return ConversationHandler.END


# -- step 1: the messages ---------------------------------------------------------------------------
async def start_batch(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """/batch: a new batch, waiting for messages."""
    await answer(update)
    _keep(context, Batch())
    await reply(update, texts.BATCH_START, reply_markup=keyboards.batch_collect_keyboard(0))
    return COLLECT


async def add_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """A text sent or forwarded: one text post, formatted as it came."""
    batch = _batch(context)
    if batch is None:
        return await _lost(update, context)
    message = update.effective_message
    assert message is not None
    typed = typed_text(message)
    if not typed.text or not await caption_fits(update, typed.text, False):
        return COLLECT
    if len(batch.posts) >= MAX_BATCH:
        await reply(update, texts.BATCH_FULL.format(limit=MAX_BATCH))
        return COLLECT
    batch.posts.append(Draft(caption=typed.text, caption_entities=typed.entity_list()))
    _keep(context, batch)
    _acknowledge_later(update, context)
    return COLLECT


async def add_media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """A photo, video, GIF, file or audio sent or forwarded: a post of its own, or the next item of
    its album's post. The first item's caption is the post's text, as it showed."""
    batch = _batch(context)
    if batch is None:
        return await _lost(update, context)
    message = update.effective_message
    assert message is not None
    album = message.media_group_id
    number = batch.albums.get(album) if album else None
    post = batch.posts[number] if number is not None else None
    if post is None and len(batch.posts) >= MAX_BATCH:
        await reply(update, texts.BATCH_FULL.format(limit=MAX_BATCH))
        return COLLECT
    if post is not None and len(post.images) >= MAX_IMAGES:
        await reply(update, texts.TOO_MANY_IMAGES.format(count=len(post.images)))
        return COLLECT
    received = received_media(message, len(post.images) + 1 if post else 1)
    if received is None:
        await reply(update, texts.BATCH_NOT_TAKEN)
        return COLLECT
    image = await store_received(update, context, received)
    if image is None:
        return COLLECT
    text, entities = image.caption, image.caption_entities
    if post is None:
        # The first item's caption is the post's text.
        post = Draft(caption=text, caption_entities=entities)
        image.caption, image.caption_entities = "", []
        batch.posts.append(post)
        if album:
            batch.albums[album] = len(batch.posts) - 1
    elif not post.caption and not post.images[0].caption and text and not post.images[1:]:
        # The album's caption came on its second item: it is still the post's text.
        post.caption, post.caption_entities = text, entities
        image.caption, image.caption_entities = "", []
    post.images.append(image)
    if message.show_caption_above_media:
        post.caption_above = True
    _keep(context, batch)
    _acknowledge_later(update, context)
    return COLLECT


async def not_taken(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """A sticker, voice message or the like: said, nothing added."""
    await reply(update, texts.BATCH_NOT_TAKEN)
    return COLLECT


def _ack_name(user: int) -> str:
    return f"batch-ack:{user}"


def _acknowledge_later(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One "n posts so far" after a run of messages (a forward of many arrives as many), not one each."""
    answer_after_a_run(update, context, _ack_name(user_id(update)), _send_ack, ACK_DELAY)


async def _send_ack(context: ContextTypes.DEFAULT_TYPE) -> None:
    batch = _batch(context)
    if batch is None or not batch.posts or batch.times or context.job is None or context.job.chat_id is None:
        return
    albums = sum(1 for post in batch.posts if len(post.images) > 1)
    await context.bot.send_message(
        context.job.chat_id,
        texts.batch_collected(len(batch.posts), albums),
        parse_mode="HTML",
        reply_markup=keyboards.batch_collect_keyboard(len(batch.posts)),
    )


async def collected(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int | None:
    """Done: on to the account (skipped when the bot is the only one) and the targets."""
    batch = _batch(context)
    if batch is None:
        return await _lost(update, context)
    if not batch.posts:
        await answer(update, texts.BATCH_EMPTY, alert=True)
        return None
    await answer(update)
    forget_answer(context, _ack_name(user_id(update)))
    accounts = await choosable_accounts(context, user_id(update))
    if len(accounts) == 1:
        batch.route.choose_account(accounts[0])
        await _load_targets(update, context, batch)
        _keep(context, batch)
        return TARGETS
    await show(update, texts.BATCH_ACCOUNT, keyboards.on_screen(keyboards.accounts_keyboard(accounts), BATCH))
    return ACCOUNT


# -- step 2: account and targets, as New post offers them -------------------------------------------------
async def choose_account(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int | None:
    """An account picked: its targets to select."""
    batch = _batch(context)
    if batch is None:
        return await _lost(update, context)
    account = await own_account(update, context, pressed(update).argument, for_a_post=True)
    if account is None:
        return None
    await answer(update)
    batch.route.choose_account(account)
    await _load_targets(update, context, batch)
    _keep(context, batch)
    return TARGETS


async def back_to_accounts(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """◀ Account: the choice of account again."""
    await answer(update)
    accounts = await choosable_accounts(context, user_id(update))
    await show(update, texts.BATCH_ACCOUNT, keyboards.on_screen(keyboards.accounts_keyboard(accounts), BATCH))
    return ACCOUNT


async def _load_targets(update: Update, context: ContextTypes.DEFAULT_TYPE, batch: Batch) -> None:
    route = batch.route
    user = user_id(update)
    account = await find_account(context, user, route.account_id, for_a_post=True)
    route.offer(await targets_of(context, account) if account else [])
    route.other_accounts = len(await choosable_accounts(context, user)) > 1
    if not route.offered:
        empty = texts.NO_TARGETS if route.platform is Platform.TELEGRAM else texts.NO_ACCOUNT_TARGETS
        await show(update, empty, keyboards.on_screen(keyboards.no_targets_keyboard(route.other_accounts), BATCH))
        return
    await _show_targets(update, batch)


async def _show_targets(update: Update, batch: Batch) -> None:
    route = batch.route
    markup = keyboards.targets_keyboard(route.offered, set(route.selected), route.page, route.other_accounts)
    text = texts.batch_targets(route.account_name, len(route.selected), len(route.offered))
    await show(update, text, keyboards.on_screen(markup, BATCH))


async def target_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int | None:
    """A target (✅ toggled), Select all, another page, or Refresh."""
    batch = _batch(context)
    if batch is None:
        return await _lost(update, context)
    choice = pressed(update)
    if not batch.route.press_target(choice.action, choice.argument):
        await answer(update, texts.TARGET_NOT_ALLOWED, alert=True)
        return None
    await answer(update)
    if choice.action == "refresh":
        await _load_targets(update, context, batch)
    else:
        await _show_targets(update, batch)
    _keep(context, batch)
    return None


async def targets_done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int | None:
    """Done: the targets re-checked (still an administrator?), then the question of times."""
    batch = _batch(context)
    if batch is None:
        return await _lost(update, context)
    selected = batch.route.chosen()
    if not selected:
        await answer(update, texts.PICK_ONE_TARGET, alert=True)
        return None
    await answer(update)
    user = user_id(update)
    telegram = [target for target in selected if target.account_id == TELEGRAM_ACCOUNT_ID]
    lost = [target for target in telegram if not await is_admin(context, int(target.address), user)]
    if lost:
        await reply(update, texts.TARGET_LOST.format(names=", ".join(target.name for target in lost)))
        await _load_targets(update, context, batch)
        _keep(context, batch)
        return None
    await reply(update, texts.batch_when(len(batch.posts)), reply_markup=keyboards.batch_when_keyboard())
    return WHEN


async def add_account_hint(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Points to /accounts; the step stays."""
    await answer(update)
    await reply(update, texts.ADD_ACCOUNT_HINT)


# -- step 3: the times ----------------------------------------------------------------------------------
async def into_slots(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int | None:
    """Into the next free slots: one slot a post, in the order they were sent."""
    batch = _batch(context)
    if batch is None:
        return await _lost(update, context)
    await answer(update)
    free = await _free_slots(update, context, batch)
    if free is None:
        return None
    batch.times, batch.queued = free, True
    _keep(context, batch)
    await _summarise(update, context, batch)
    return CONFIRM


async def _free_slots(update: Update, context: ContextTypes.DEFAULT_TYPE, batch: Batch) -> list[datetime] | None:
    """A free slot for each post of the batch; None, after saying why, when there are not enough."""
    user = user_id(update)
    zone = await user_zone(context, user)
    target_ids = batch.route.selected
    free = await free_slot_times(store_of(context), user, zone, target_ids, current_time(), len(batch.posts))
    if free is None:
        await reply(update, texts.NO_SLOTS_FOR_QUEUE, reply_markup=keyboards.no_slots_keyboard())
        return None
    if len(free) < len(batch.posts):
        await reply(update, texts.batch_slots_short(len(free), len(batch.posts)))
        return None
    return free


async def ask_interval(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """At intervals: asks for the interval and the first time, typed."""
    await answer(update)
    await reply(update, texts.ask_interval(await user_zone(context, user_id(update))))
    return INTERVAL


def read_interval(text: str, zone: str, now: datetime) -> tuple[timedelta, datetime] | str:
    """(interval, first time) from "every 2 hours from tomorrow 9:00"; else the reason, to say."""
    found = INTERVAL_TYPED.match(" ".join(text.lower().split()))
    if found is None:
        return texts.INTERVAL_UNREADABLE
    count, unit, start_text = int(found.group(1)), found.group(2)[0], found.group(3)
    every = {"m": timedelta(minutes=count), "h": timedelta(hours=count), "d": timedelta(days=count)}[unit]
    if not MIN_INTERVAL <= every <= MAX_INTERVAL:
        return texts.INTERVAL_UNREADABLE
    start = parse_time(start_text, zone, now)
    if start.when is None:
        return explain(start, zone, now)
    return every, start.when


async def interval_typed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """The interval typed: the posts' times, or the reason it won't do (asked again)."""
    batch = _batch(context)
    if batch is None:
        return await _lost(update, context)
    message = update.effective_message
    assert message is not None and message.text is not None
    zone = await user_zone(context, user_id(update))
    now = current_time()
    read = read_interval(message.text, zone, now)
    if isinstance(read, str):
        await reply(update, read)
        return INTERVAL
    every, start = read
    times = spaced_times(start, every, len(batch.posts))
    if times[-1] - now > MAX_AHEAD:
        await reply(update, texts.INTERVAL_TOO_FAR)
        return INTERVAL
    batch.times, batch.queued = times, False
    _keep(context, batch)
    await _summarise(update, context, batch)
    return CONFIRM


async def other_times(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """🕒 Other times: the question of times again."""
    batch = _batch(context)
    if batch is None:
        return await _lost(update, context)
    await answer(update)
    await reply(update, texts.batch_when(len(batch.posts)), reply_markup=keyboards.batch_when_keyboard())
    return WHEN


# -- step 4: the summary, and only then the posts ---------------------------------------------------------
async def _summarise(update: Update, context: ContextTypes.DEFAULT_TYPE, batch: Batch) -> None:
    zone = await user_zone(context, user_id(update))
    lines = [
        texts.batch_line(number, format_time(moment, zone), batch.first_words(number - 1))
        for number, moment in enumerate(batch.times, start=1)
    ]
    names = [target.name for target in batch.route.chosen()]
    await reply(
        update,
        texts.batch_summary(len(batch.posts), names, lines, batch.queued),
        reply_markup=keyboards.batch_confirm_keyboard(len(batch.posts)),
    )


async def schedule_all(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """Schedule all: each post stored at its time (the slots checked again first: taken meanwhile,
    the new times are shown to confirm instead)."""
    batch = _batch(context)
    if batch is None:
        return await _lost(update, context)
    await answer(update)
    user = user_id(update)
    now = current_time()
    if batch.queued:
        free = await _free_slots(update, context, batch)
        if free is None:
            return WHEN
        if free != batch.times:
            batch.times = free
            _keep(context, batch)
            await reply(update, texts.BATCH_TIMES_CHANGED)
            await _summarise(update, context, batch)
            return CONFIRM
    elif not batch.times or check_time(batch.times[0], now).when is None:
        await reply(update, texts.BATCH_TIME_PAST, reply_markup=keyboards.batch_when_keyboard())
        return WHEN
    account = await find_account(context, user, batch.route.account_id, for_a_post=True)
    chosen = batch.route.chosen()
    if account is None or not chosen:
        _drop(context)
        await reply(update, texts.NOT_YOURS)
        return ConversationHandler.END
    store = store_of(context)
    short_ids = []
    for post_draft, moment in zip(batch.posts, batch.times, strict=True):
        post = new_post(
            user_id=user,
            account=account,
            targets=chosen,
            main_caption=post_draft.caption or "",
            scheduled_time=max(moment, now),
            content=post_draft.content,
        )
        post.queued = batch.queued
        await store.create_post(post)
        await services(context).post_changed(PostEvent.SCHEDULED, post)
        short_ids.append(post.short_id)
    _drop(context)
    log.info("user %s scheduled a batch of %s posts (queued: %s)", user, len(short_ids), batch.queued)
    await reply(update, texts.batch_scheduled(len(short_ids), short_ids, batch.queued))
    return ConversationHandler.END


# -- leaving --------------------------------------------------------------------------------------------
async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Cancel or /cancel: nothing is stored."""
    await answer(update)
    forget_answer(context, _ack_name(user_id(update)))
    _drop(context)
    await reply(update, texts.CANCELLED)
    return ConversationHandler.END


async def leave_for_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Another command, or another screen's button: the batch is left (said so) and that runs."""
    forget_answer(context, _ack_name(user_id(update)))
    _drop(context)
    await reply(update, texts.BATCH_LEFT)
    await context.update_queue.put(update)
    return ConversationHandler.END


async def wrong_step_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A batch button of an earlier step."""
    await answer(update, texts.WRONG_STEP_BUTTON, alert=True)


def _expects(hint: str) -> MessageHandler[ContextTypes.DEFAULT_TYPE, object]:
    async def say_what_the_step_expects(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await reply(update, hint)

    return MessageHandler(~filters.COMMAND, say_what_the_step_expects)


def _pattern(action: str) -> str:
    return rf"^{BATCH}:{action}(:|$)"


def build_batch_conversation() -> ConversationHandler[ContextTypes.DEFAULT_TYPE]:
    """/batch: messages → Done → account and targets → slots or intervals → summary → stored."""
    text = filters.TEXT & ~filters.COMMAND
    targets = rf"^{BATCH}:(t|all|pg|refresh)(:|$)"
    return ConversationHandler(
        entry_points=[
            CommandHandler("batch", start_batch),
            CallbackQueryHandler(start_batch, pattern=r"^menu:batch$"),
        ],
        states={
            COLLECT: [
                MessageHandler(MEDIA, add_media),
                MessageHandler(text, add_text),
                CallbackQueryHandler(collected, pattern=_pattern("done")),
                MessageHandler(~filters.COMMAND & ~filters.StatusUpdate.ALL, not_taken),
            ],
            ACCOUNT: [
                CallbackQueryHandler(choose_account, pattern=_pattern("acct")),
                CallbackQueryHandler(add_account_hint, pattern=_pattern("add_account")),
                _expects(texts.ACCOUNT_HINT),
            ],
            TARGETS: [
                CallbackQueryHandler(target_pressed, pattern=targets),
                CallbackQueryHandler(targets_done, pattern=_pattern("done")),
                CallbackQueryHandler(back_to_accounts, pattern=_pattern("accounts")),
                CallbackQueryHandler(add_account_hint, pattern=_pattern("add_account")),
                _expects(texts.TARGETS_HINT),
            ],
            WHEN: [
                CallbackQueryHandler(into_slots, pattern=_pattern("slots")),
                CallbackQueryHandler(ask_interval, pattern=_pattern("interval")),
                _expects(texts.TIME_HINT),
            ],
            INTERVAL: [
                MessageHandler(text, interval_typed),
                CallbackQueryHandler(into_slots, pattern=_pattern("slots")),
                _expects(texts.BATCH_INTERVAL_HINT),
            ],
            CONFIRM: [
                CallbackQueryHandler(schedule_all, pattern=_pattern("go")),
                CallbackQueryHandler(other_times, pattern=_pattern("when")),
                _expects(texts.PREVIEW_HINT),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(cancel, pattern=_pattern("cancel")),
            CallbackQueryHandler(wrong_step_button, pattern=rf"^{BATCH}:"),
            # /queue and its buttons leave the batch open: setting up slots is part of it.
            MessageHandler(filters.COMMAND & ~filters.Regex(r"^/queue(@\w+)?$"), leave_for_other),
            # A button of another screen (the menu, a post's): the next text typed belongs there.
            CallbackQueryHandler(leave_for_other, pattern=rf"^(?!{keyboards.QUEUE}:)"),
        ],
        name="batch",
        persistent=True,
        allow_reentry=True,
    )


def batch_handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    """A batch button pressed when no batch is open (after a restart lost nothing, a stale one)."""
    return [CallbackQueryHandler(wrong_step_button, pattern=rf"^{BATCH}:")]
