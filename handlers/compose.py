"""The New post conversation: account → targets → content → time → preview → scheduled.

The account step is skipped when the bot itself is the person's only account; with several, the
targets step leads back to it.

The draft (handlers/draft.py) lives in `user_data` as JSON, so a restart of the bot loses nothing;
which step the person is at is the ConversationHandler's alone."""

from __future__ import annotations

import functools
import logging
import tempfile
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from handlers import delivery_options, keyboards, repeat, texts
from handlers.buttons import parse_buttons, write_buttons
from handlers.common import (
    ALL_ACCOUNTS_ID,
    TELEGRAM_ACCOUNT_ID,
    accounts_for,
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
from handlers.content import (
    LINK_PREVIEWS,
    MB,
    MediaFile,
    ReceivedMedia,
    link_preview_code,
    received_media,
    shown_options,
    typed_text,
)
from handlers.date_picker import calendar_pressed
from handlers.draft import Draft, DraftUnreadable
from handlers.keyboards import NEW
from handlers.posts import scheduled_text
from handlers.questions import caption_fits, pressed_time, refuse_time, typed_time
from handlers.queue import queue_time, slot_at_scheduling
from handlers.rules import speaks_of_repeating
from handlers.screen import answer_after_a_run, forget_answer, own_account, pressed, send_content, show, user_id
from handlers.topics import PASTED_LINK, target_from_pasted_link
from handlers.when import (
    TimeChoice,
    check_time,
    current_time,
    example_time,
    format_relative,
    format_time,
    repeated_note,
    shows_today_button,
)
from publishers.formatting import formatted, has_type
from publishers.registry import shortfalls
from publishers.telegram_layout import CAPTION_LIMIT, utf16_len
from services import PostEvent
from storage.models import MAX_IMAGES, Account, Image, MediaKind, Platform, Poster, new_id, new_post

log = logging.getLogger(__name__)

ACCOUNT, TARGETS, CONTENT, TIME, PREVIEW = "account", "targets", "content", "time", "preview"
# A side step of CONTENT and TIME: the content so far is saved as a poster, then the step resumes.
SAVE_POSTER = "save_poster"
# A side step of PREVIEW: the buttons under the post are asked for, then the preview shows again.
BUTTONS = "buttons"
# What the content step takes as a media item of the post.
MEDIA = filters.PHOTO | filters.VIDEO | filters.ANIMATION | filters.AUDIO | filters.Document.ALL
CONVERSATION_NAME = "new_post"
DRAFT = "draft"
PHOTO_ACK_DELAY = 1.0  # seconds of quiet after the last photo of an album before acknowledging

State = str | int | None
DraftStep = Callable[[Update, ContextTypes.DEFAULT_TYPE, Draft], Awaitable[State]]
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, State]]


def _saved_draft(context: ContextTypes.DEFAULT_TYPE) -> Draft | None:
    """The person's draft, None if there is none; DraftUnreadable if it cannot be read."""
    saved = (context.user_data or {}).get(DRAFT)
    return None if saved is None else Draft.from_json(saved)


def _keep_draft(context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> None:
    assert context.user_data is not None
    context.user_data[DRAFT] = draft.to_json()


def _drop_draft(context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)


def with_draft(step: DraftStep) -> Handler:
    """The handler of a step that works on the draft: read before the step, written back after it
    (dropped when the conversation ends). A draft that cannot be read — one from a Herald too old
    or too new — ends the conversation with a word to the person, not an error."""

    @functools.wraps(step)
    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
        try:
            draft = _saved_draft(context)
            if draft is None:
                raise DraftUnreadable("no draft saved")
        except DraftUnreadable as error:
            log.warning("dropped the draft of user %s: %s", user_id(update), error)
            _drop_draft(context)
            await answer(update)
            await reply(update, texts.DRAFT_UNREADABLE)
            return ConversationHandler.END
        state = await step(update, context, draft)
        if state == ConversationHandler.END:
            _drop_draft(context)
        else:
            _keep_draft(context, draft)
        return state

    return handle


# -- step 1: account ----------------------------------------------------------------------------
async def start_new(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """Starts a new post: the user picks the account that publishes it. A post already in the
    making is not thrown away without asking."""
    await answer(update)
    try:
        draft = _saved_draft(context)
    except DraftUnreadable:
        draft = None  # nothing that can be kept: starting over loses nothing
    if draft is not None and draft.worth_keeping():
        await show(update, texts.DISCARD_DRAFT_QUESTION, keyboards.discard_draft_keyboard(), in_place=False)
        return None  # the conversation stays at its step until the person answers
    return await _start_over(update, context, in_place=False)


async def discard_draft(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """Discard and start over: the post in the making goes, a new one starts."""
    await answer(update)
    return await _start_over(update, context, in_place=True)


async def keep_editing(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """Keep editing: the post in the making stays as it was, at its step."""
    await answer(update)
    await show(update, texts.DRAFT_KEPT)
    return None


async def _start_over(update: Update, context: ContextTypes.DEFAULT_TYPE, *, in_place: bool) -> State:
    draft = Draft()
    # The delivery options the person chose last time, until they change them.
    draft.options = await store_of(context).delivery_defaults(user_id(update))
    accounts = await choosable_accounts(context, user_id(update))
    if len(accounts) == 1:
        # The bot is the only account (one tap less): straight to where the post should go.
        draft.choose_account(accounts[0])
        await _load_targets(update, context, draft, accounts[0], in_place=in_place)
        _keep_draft(context, draft)
        return TARGETS
    _keep_draft(context, draft)
    await show(update, texts.CHOOSE_ACCOUNT, keyboards.accounts_keyboard(accounts), in_place=in_place)
    return ACCOUNT


@with_draft
async def choose_account(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """The user picked an account: show its targets to select, after a warning (with Reconnect)
    about each account of it that needs reconnecting."""
    account = await own_account(update, context, pressed(update).argument, for_a_post=True)
    if account is None:
        return None
    await answer(update)
    user = user_id(update)
    publishing = await accounts_for(context, user) if account.account_id == ALL_ACCOUNTS_ID else [account]
    for refused in (one for one in publishing if one.needs_reconnect):
        markup = keyboards.needs_reconnect_keyboard(refused)
        await reply(update, texts.needs_reconnect_warning(refused.name), reply_markup=markup)
    draft.choose_account(account)
    await _load_targets(update, context, draft, account)
    return TARGETS


@with_draft
async def back_to_accounts(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """From the targets, back to the choice of account (the targets picked stay if the same one is
    chosen again)."""
    await answer(update)
    accounts = await choosable_accounts(context, user_id(update))
    await show(update, texts.CHOOSE_ACCOUNT, keyboards.accounts_keyboard(accounts))
    return ACCOUNT


async def add_account_hint(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """Points the user to /accounts to connect another platform; the step stays where it was."""
    await answer(update)
    await reply(update, texts.ADD_ACCOUNT_HINT)
    return None


# -- step 2: targets ----------------------------------------------------------------------------
async def _load_targets(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    draft: Draft,
    account: Account | None = None,
    *,
    in_place: bool = True,
) -> None:
    """Looks up the draft's account (unless just chosen) and shows the targets it offers now."""
    user = user_id(update)
    if account is None:
        account = await find_account(context, user, draft.account_id, for_a_post=True)
    draft.offer(await targets_of(context, account) if account else [])
    draft.other_accounts = len(await choosable_accounts(context, user)) > 1
    if not draft.offered:
        empty = texts.NO_TARGETS if draft.platform is Platform.TELEGRAM else texts.NO_ACCOUNT_TARGETS
        await show(update, empty, keyboards.no_targets_keyboard(draft.other_accounts), in_place=in_place)
        return
    await _show_targets(update, draft, in_place=in_place)


async def _show_targets(update: Update, draft: Draft, *, in_place: bool = True) -> None:
    await show(
        update,
        texts.choose_targets(draft.account_name, len(draft.selected), len(draft.offered)),
        keyboards.targets_keyboard(draft.offered, set(draft.selected), draft.page, draft.other_accounts),
        in_place=in_place,
    )


@with_draft
async def toggle_target(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """Selects or unselects one target (✅)."""
    target_id = pressed(update).argument
    if target_id not in {target.target_id for target in draft.offered}:
        await answer(update, texts.TARGET_NOT_ALLOWED, alert=True)
        return None
    await answer(update)
    draft.toggle(target_id)
    await _show_targets(update, draft)
    return None


@with_draft
async def select_all(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """Selects every target, or clears them all if all were selected."""
    await answer(update)
    draft.toggle_all()
    await _show_targets(update, draft)
    return None


@with_draft
async def turn_page(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """Shows another page of a long target list."""
    page = pressed(update).argument
    await answer(update)
    if not page.isdigit() or int(page) == draft.page:
        return None
    draft.page = int(page)
    await _show_targets(update, draft)
    return None


@with_draft
async def refresh_targets(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """Looks again for the chats where the bot and the user are administrators."""
    await answer(update)
    await _load_targets(update, context, draft)
    return None


@with_draft
async def topic_link_in_targets(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """A forum topic's pasted link: the topic becomes a target, offered and selected at once."""
    target = await target_from_pasted_link(update, context)
    if target is None:
        return None
    account = await find_account(context, user_id(update), draft.account_id, for_a_post=True)
    draft.offer(await targets_of(context, account) if account else [])
    if not any(offered.target_id == target.target_id for offered in draft.offered):
        await reply(update, texts.topic_added_elsewhere(target.name))
        return None
    if target.target_id not in draft.selected:
        draft.toggle(target.target_id)
    await reply(update, texts.topic_added(target.name))
    await _show_targets(update, draft, in_place=False)
    return None


@with_draft
async def targets_done(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """Confirms the selection (re-checking admin rights) and asks for the content."""
    selected = draft.chosen()
    if not selected:
        await answer(update, texts.PICK_ONE_TARGET, alert=True)
        return None
    await answer(update)
    user = user_id(update)
    telegram = [target for target in selected if target.account_id == TELEGRAM_ACCOUNT_ID]
    lost = [target for target in telegram if not await is_admin(context, int(target.address), user)]
    if lost:
        await reply(update, texts.TARGET_LOST.format(names=", ".join(target.name for target in lost)))
        await _load_targets(update, context, draft)
        return None
    draft.start_content()
    await _ask_content(update, context, draft)
    return CONTENT


# -- step 3: content ----------------------------------------------------------------------------
async def _ask_content(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> None:
    posters = await store_of(context).list_posters(user_id(update))
    await show(update, texts.ASK_CONTENT, keyboards.content_keyboard_with_save(posters, len(draft.images)))


@with_draft
async def add_media(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """Keeps one photo, video, GIF, file or audio file of the post (its caption, formatting kept,
    becomes that item's caption); its bytes stored a chunk at a time."""
    message = update.effective_message
    assert message is not None
    if len(draft.images) >= MAX_IMAGES:
        await reply(update, texts.TOO_MANY_IMAGES.format(count=len(draft.images)))
        return None
    received = received_media(message, len(draft.images) + 1)
    if received is None:
        return await not_a_photo(update, context)
    image = await store_received(update, context, received)
    if image is None:
        return None
    draft.images.append(image)
    if message.show_caption_above_media:
        draft.caption_above = True
    # Written now, not when the step returns: the note below may fail, the item is in.
    _keep_draft(context, draft)
    # Telegram Premium lets a person send 2,048 where a bot may send 1,024.
    length = utf16_len(image.caption.strip())
    if length > CAPTION_LIMIT:
        if received.kind is MediaKind.PHOTO:
            await reply(update, texts.photo_caption_cut(len(draft.images), length))
        else:
            await reply(update, texts.media_caption_cut(len(draft.images), received.kind.value, length))
    if any(entity["type"] == "custom_emoji" for entity in image.caption_entities):
        await reply(update, texts.CUSTOM_EMOJI_NOTE)
    _acknowledge_photos_later(update, context)
    return None


async def store_received(update: Update, context: ContextTypes.DEFAULT_TYPE, received: ReceivedMedia) -> Image | None:
    """The item a person sent (New post, /batch), stored a chunk at a time, as an Image with its own
    caption (formatting kept); None once the person was told it is too big for a bot (the draft is
    untouched: they send a smaller one)."""
    message = update.effective_message
    assert message is not None
    limit_mb = services(context).settings.file_limit_mb
    size = received.file.file_size or 0
    if size > limit_mb * MB:
        await reply(update, texts.too_big_to_download(received.kind.value, size / MB, limit_mb))
        return None
    try:
        blob_id, stored_size = await store_media(context, received.file)
    except BadRequest as error:
        # getFile refuses files over 20 MB.
        if "too big" not in error.message.lower():
            raise
        await reply(update, texts.too_big_to_download(received.kind.value, None, limit_mb))
        return None
    caption = formatted(message.caption or "", [entity.to_dict() for entity in message.caption_entities or ()])
    return Image(
        name=received.name,
        blob_id=blob_id,
        caption=caption.text,
        size=stored_size,
        mime_type=received.mime_type,
        telegram_file_id=received.file.file_id,
        kind=received.kind,
        spoiler=bool(message.has_media_spoiler),
        caption_entities=caption.entity_list(),
    )


async def store_media(context: ContextTypes.DEFAULT_TYPE, media: MediaFile) -> tuple[str, int]:
    """(blob id, size) of a file the person sent, downloaded into a temporary file and stored from
    there a chunk at a time. Raises BadRequest as getFile does (a file too big for a bot)."""
    telegram_file = await media.get_file()
    with tempfile.TemporaryDirectory(prefix="herald-media-") as folder:
        path = Path(folder) / "download"
        # A local Bot API server's file is copied from its disk; a cloud one's comes over HTTP.
        await telegram_file.download_to_drive(path)
        with path.open("rb") as source:
            blob_id = await store_of(context).put_media(source)
        return blob_id, path.stat().st_size


def _photo_ack_name(user: int) -> str:
    return f"photos-ack:{user}"


def _acknowledge_photos_later(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One "n photos in" message after an album (or a quick run of photos), not one per photo."""
    answer_after_a_run(update, context, _photo_ack_name(user_id(update)), _send_photo_ack, PHOTO_ACK_DELAY)


async def _send_photo_ack(context: ContextTypes.DEFAULT_TYPE) -> None:
    try:
        draft = _saved_draft(context)
    except DraftUnreadable:
        return
    # Still sending photos: no caption yet (a caption, or a poster, moves the post to its time).
    if draft is None or draft.caption is not None or not draft.images:
        return
    if context.job is None or context.job.chat_id is None:
        return
    posters = await store_of(context).list_posters(context.job.user_id or 0)
    count = len(draft.images)
    await context.bot.send_message(
        context.job.chat_id,
        texts.media_received([image.kind.value for image in draft.images]) + "\n" + texts.ASK_CAPTION_AFTER_PHOTOS,
        parse_mode="HTML",
        reply_markup=keyboards.content_keyboard_with_save(posters, count),
    )


async def not_a_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """A sticker, voice message or other thing where media or the caption was expected."""
    await reply(update, texts.NOT_A_PHOTO)
    return None


@with_draft
async def set_caption(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """The main caption (or a text post's text), formatted as typed: checked against Telegram's limits."""
    message = update.effective_message
    assert message is not None and message.text is not None
    typed = typed_text(message)
    caption = typed.text
    if not draft.images and not caption:
        await reply(update, texts.EMPTY_TEXT_POST)
        return None
    if not await caption_fits(update, caption, bool(draft.images)):
        return None
    draft.caption, draft.caption_entities = caption, typed.entity_list()
    if has_type(typed, "custom_emoji"):
        await reply(update, texts.CUSTOM_EMOJI_NOTE)
    return await _ask_time(update, context, draft)


async def no_images(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """The user wants a text post: ask for its text."""
    await answer(update)
    await reply(update, texts.ASK_TEXT_ONLY)
    return None


@with_draft
async def no_caption(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """Photos without a main caption."""
    if not draft.images:
        await answer(update, texts.EMPTY_TEXT_POST, alert=True)
        return None
    await answer(update)
    draft.caption = ""
    return await _ask_time(update, context, draft)


@with_draft
async def use_poster(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """Takes the caption and images of one of the user's saved posters."""
    poster = await store_of(context).get_poster(user_id(update), pressed(update).argument)
    if poster is None:
        await answer(update, texts.POSTER_MISSING, alert=True)
        return None
    await answer(update)
    draft.use_content(poster.main_caption, poster.images, poster.name, poster.content)
    if not poster.options.is_default:
        draft.options = poster.options
    await reply(update, texts.poster_chosen(poster.name))
    return await _ask_time(update, context, draft)


# -- step 4: time -------------------------------------------------------------------------------
async def _ask_time(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    zone = await user_zone(context, user_id(update))
    now = current_time()
    show_today = shows_today_button(zone, now)
    save = draft.worth_saving()
    markup = keyboards.time_keyboard_with_save(show_today) if save else keyboards.time_keyboard(show_today)
    await reply(update, texts.ask_time(zone, example_time(zone, now)), reply_markup=markup)
    return TIME


@with_draft
async def time_typed(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """A time typed in the user's zone, or a repeating one (`every monday 9:00`)."""
    message = update.effective_message
    if message is not None and message.text is not None and speaks_of_repeating(message.text):
        return await _after_repeat(
            update, context, draft, await repeat.rule_typed(update, context, draft, message.text)
        )
    return await _take_time(update, context, draft, *await typed_time(update, context))


@with_draft
async def time_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """A quick time button (in 1 hour, today 18:00, tomorrow 09:00, now), the confirmation of
    a time shifted past a DST gap, or Add to queue (the next free slot of the posting schedule)."""
    if pressed(update).argument == keyboards.QUEUE_CHOICE:
        slot = await queue_time(update, context, draft.chosen())
        return None if slot is None else await _take_time(update, context, draft, *slot, queued=True)
    chosen = await pressed_time(update, context, draft.suggested_when)
    return None if chosen is None else await _take_time(update, context, draft, *chosen)


@with_draft
async def time_from_calendar(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """A press in the date picker: its next grid, or the day and time picked."""
    chosen = await calendar_pressed(update, context, NEW, "cal")
    return None if chosen is None else await _take_time(update, context, draft, *chosen)


async def _take_time(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    draft: Draft,
    choice: TimeChoice,
    zone: str,
    *,
    queued: bool = False,
) -> State:
    draft.suggested_when = None
    draft.queued = queued
    if choice.when is None:
        draft.suggested_when = await refuse_time(update, choice, zone, NEW, "when")
        return None
    repeat.forget(draft)
    draft.when = choice.when
    await _send_preview(update, context, draft, choice.when)
    return PREVIEW


# -- side step of TIME: a repeating time (handlers/repeat.py) ----------------------------------------
async def _after_repeat(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft, outcome: repeat.Outcome
) -> State:
    """The step a Repeat… step leads to: the preview of the rule chosen, the time question, or
    where it stays."""
    if outcome == repeat.DONE:
        assert draft.when is not None
        await _send_preview(update, context, draft, draft.when)
        return PREVIEW
    if outcome == repeat.BACK:
        return await _ask_time(update, context, draft)
    return outcome


@with_draft
async def repeat_start(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """🔁 Repeat… in the time step."""
    return await repeat.begin(update, context, draft)


@with_draft
async def repeat_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """A button of the Repeat… steps."""
    return await _after_repeat(update, context, draft, await repeat.pressed_button(update, context, draft))


@with_draft
async def repeat_back(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """◀ One-off time: the time question again."""
    return await _after_repeat(update, context, draft, await repeat.back(update, context, draft))


@with_draft
async def repeat_typed(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """Text typed while the Repeat… steps ask."""
    message = update.effective_message
    assert message is not None and message.text is not None
    return await _after_repeat(
        update, context, draft, await repeat.typed_in_repeat(update, context, draft, message.text)
    )


# -- side step: save the content as a poster -----------------------------------------------------
@with_draft
async def ask_poster_name(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """The user wants to keep the photos and caption given so far as a poster: ask its name."""
    if not draft.images and not draft.caption:
        await answer(update, texts.NOTHING_TO_SAVE, alert=True)
        return None
    await answer(update)
    forget_answer(context, _photo_ack_name(user_id(update)))
    await reply(update, texts.ASK_POSTER_NAME, reply_markup=keyboards.poster_name_keyboard())
    return SAVE_POSTER


@with_draft
async def save_as_poster(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """Saves the draft's content under the name typed, then goes on where the user was."""
    message = update.effective_message
    assert message is not None and message.text is not None
    name = " ".join(message.text.split())
    if not 1 <= len(name) <= 64:
        await reply(update, texts.POSTER_NAME_BAD, reply_markup=keyboards.poster_name_keyboard())
        return None
    content = draft.content
    poster = Poster(
        new_id(),
        user_id(update),
        name,
        content.caption,
        list(content.images),
        caption_entities=list(content.caption_entities),
        buttons=[list(row) for row in content.buttons],
        link_preview=content.link_preview,
        caption_above=content.caption_above,
        options=draft.options,
    )
    await store_of(context).save_poster(poster)
    draft.saved_as(name)
    log.info("user %s saved poster %s", poster.user_id, poster.poster_id)
    await reply(update, texts.poster_saved(name))
    return await _resume_after_saving(update, context, draft)


@with_draft
async def skip_saving(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """No poster after all: back to where the user was."""
    await answer(update)
    await reply(update, texts.POSTER_NOT_SAVED)
    return await _resume_after_saving(update, context, draft)


async def _resume_after_saving(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    # Asked from the time step once the caption is in, from the content step before.
    if draft.caption is not None:
        return await _ask_time(update, context, draft)
    posters = await store_of(context).list_posters(user_id(update))
    count = len(draft.images)
    await reply(
        update,
        texts.media_received([image.kind.value for image in draft.images]) + "\n" + texts.ASK_CAPTION_AFTER_PHOTOS,
        reply_markup=keyboards.content_keyboard_with_save(posters, count),
    )
    return CONTENT


# -- step 5: preview and schedule ---------------------------------------------------------------
async def _send_preview(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft, when: datetime) -> None:
    content = draft.content
    await send_content(update, context, content)
    zone = await user_zone(context, user_id(update))
    shown = shown_options(content)
    notes = texts.preview_content_lines(
        sum(len(row) for row in content.buttons),
        shown.buttons_apart,
        shown.link_preview,
        content.caption_above and shown.caption_place is not None,
        shown.custom_emoji,
    )
    chosen = draft.chosen()
    if draft.queued:
        notes.append(texts.QUEUED_NOTE)
    for platform in dict.fromkeys(target.platform for target in chosen):
        missing = shortfalls(platform, content)
        if missing:
            notes.append(
                texts.platform_shortfalls(texts.PLATFORM_NAMES[platform.value], [item.value for item in missing])
            )
    notes.extend(await delivery_options.preview_lines(context, draft.options, chosen))
    await reply(
        update,
        texts.preview(
            format_time(when, zone),
            format_relative(when, current_time()),
            [target.name for target in chosen],
            len(draft.images),
            repeated_note(when, zone),
            media=texts.other_media([image.kind.value for image in draft.images]),
            notes=notes,
            schedule=repeat.preview_schedule(draft, zone, current_time()),
        ),
        reply_markup=keyboards.preview_keyboard(
            keyboards.content_option_rows(
                sum(len(row) for row in content.buttons),
                texts.link_preview_label(shown.link_preview) if shown.link_preview else None,
                content.caption_above if shown.caption_place is not None else None,
            )
            + keyboards.delivery_option_rows(
                texts.silent_label(draft.options.silent),
                texts.protect_label(draft.options.protect),
                texts.after_label(delivery_options.after_summary(draft.options)),
            )
        ),
    )


@with_draft
async def schedule_post(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """Saves the post (or the series, for a repeating time) and confirms it, with a Cancel button."""
    if draft.rule is not None:
        return await _after_repeat(update, context, draft, await repeat.schedule_series(update, context, draft))
    user = user_id(update)
    when = check_time(draft.when, current_time()).when if draft.when else None
    await answer(update)
    if when is None:
        await reply(update, texts.TIME_GONE_PAST)
        return await _ask_time(update, context, draft)
    account = await find_account(context, user, draft.account_id, for_a_post=True)
    chosen = draft.chosen()
    if account is None or not chosen:
        await reply(update, texts.NOT_YOURS)
        return ConversationHandler.END
    if draft.queued:
        when = await slot_at_scheduling(update, context, chosen, when)
        if when is None:
            return await _ask_time(update, context, draft)
    post = new_post(
        user_id=user,
        account=account,
        targets=chosen,
        main_caption=draft.caption or "",
        scheduled_time=when,
        images=list(draft.images),
        poster_name=draft.poster_name,
        content=draft.content,
        options=draft.options,
    )
    post.queued = draft.queued
    await store_of(context).create_post(post)
    await services(context).post_changed(PostEvent.SCHEDULED, post)
    await show(update, scheduled_text(post, await user_zone(context, user)), keyboards.scheduled_keyboard(post.post_id))
    log.info("user %s scheduled post %s for %s", user, post.post_id, when.isoformat())
    return ConversationHandler.END


@with_draft
async def change_time(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """Back from the preview to the time step."""
    await answer(update)
    return await _ask_time(update, context, draft)


# -- side steps of the preview: buttons, link preview, caption place --------------------------------
@with_draft
async def ask_buttons(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """Asks for the buttons under the post, in the syntax the question shows (and /help)."""
    await answer(update)
    question: str = texts.ASK_BUTTONS
    if draft.buttons:
        question += "\n\n" + texts.current_buttons(write_buttons(draft.buttons))
    await reply(update, question, reply_markup=keyboards.buttons_question_keyboard(bool(draft.buttons)))
    return BUTTONS


@with_draft
async def set_buttons(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """The buttons typed: checked line by line; refused with every problem named, or kept and the
    preview shown again with them."""
    message = update.effective_message
    assert message is not None and message.text is not None
    parsed = parse_buttons(message.text)
    if parsed.problems:
        markup = keyboards.buttons_question_keyboard(bool(draft.buttons))
        await reply(update, texts.buttons_refused(parsed.problems), reply_markup=markup)
        return None
    draft.buttons = parsed.rows
    return await _preview_again(update, context, draft)


@with_draft
async def remove_buttons(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """No buttons under the post after all: the preview again."""
    await answer(update)
    draft.buttons = []
    return await _preview_again(update, context, draft)


@with_draft
async def back_to_preview(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """Back from a side question, nothing changed: the preview again."""
    await answer(update)
    return await _preview_again(update, context, draft)


@with_draft
async def ask_link_preview(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """The ways the link preview can show, in place of the preview's summary."""
    await answer(update)
    current = link_preview_code(draft.link_preview)
    await show(update, texts.ASK_LINK_PREVIEW, keyboards.link_preview_keyboard(texts.LINK_PREVIEW_CHOICES, current))
    return None


@with_draft
async def set_link_preview(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """A way of showing the link preview picked: the preview again, showing it so."""
    choice = LINK_PREVIEWS.get(pressed(update).argument)
    if choice is None:
        await answer(update, texts.WRONG_STEP_BUTTON, alert=True)
        return None
    await answer(update)
    draft.link_preview = choice
    return await _preview_again(update, context, draft)


@with_draft
async def toggle_caption_above(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """Captions above the media instead of below (or back): the preview again, showing it so."""
    await answer(update)
    draft.caption_above = not draft.caption_above
    return await _preview_again(update, context, draft)


# -- side steps of the preview: delivery options -------------------------------------------------
async def _options_changed(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """The person's choice is kept as their defaults for the next posts; the preview again."""
    await store_of(context).set_delivery_defaults(user_id(update), draft.options)
    return await _preview_again(update, context, draft)


@with_draft
async def toggle_silent(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """Sent without a sound (or with one again): the preview again."""
    await answer(update)
    draft.options = replace(draft.options, silent=not draft.options.silent)
    return await _options_changed(update, context, draft)


@with_draft
async def toggle_protect(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """Protected from forwarding and saving (or not): the preview again."""
    await answer(update)
    draft.options = replace(draft.options, protect=not draft.options.protect)
    return await _options_changed(update, context, draft)


@with_draft
async def ask_after_publishing(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """The presets of what happens after publishing (pin, unpin, delete), in place of the summary."""
    await answer(update)
    current = delivery_options.preset_code(draft.options)
    markup = keyboards.after_publishing_keyboard(delivery_options.preset_choices(), current)
    await show(update, texts.ASK_AFTER_PUBLISHING, markup)
    return None


@with_draft
async def set_after_publishing(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """A preset picked: kept (and as the person's default), the preview again, with what cannot
    work in which chat said before scheduling."""
    chosen = delivery_options.with_preset(draft.options, pressed(update).argument)
    if chosen is None:
        await answer(update, texts.WRONG_STEP_BUTTON, alert=True)
        return None
    await answer(update)
    draft.options = chosen
    return await _options_changed(update, context, draft)


async def _preview_again(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> State:
    """The preview shown anew after a change; the time is asked again if it has passed meanwhile."""
    if draft.rule is not None:
        repeat.refresh_when(draft, current_time())
    when = check_time(draft.when, current_time()).when if draft.when else None
    if when is None:
        await reply(update, texts.TIME_GONE_PAST)
        return await _ask_time(update, context, draft)
    await _send_preview(update, context, draft, when)
    return PREVIEW


# -- leaving and stray input --------------------------------------------------------------------
async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """Leaves the conversation without saving anything."""
    await answer(update)
    _drop_draft(context)
    await show(update, texts.CANCELLED)
    return ConversationHandler.END


async def wrong_step_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """A button of this conversation pressed at a step where it means nothing."""
    await answer(update, texts.WRONG_STEP_BUTTON, alert=True)
    return None


def _expects(hint: Callable[[], str]) -> MessageHandler[ContextTypes.DEFAULT_TYPE, object]:
    """Anything typed or sent at a step that takes something else: say what the step expects
    (`hint` read when it is said, in the person's language)."""

    async def say_what_the_step_expects(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
        await reply(update, hint())
        return None

    return MessageHandler(~filters.COMMAND, say_what_the_step_expects)


def _pattern(action: str) -> str:
    return rf"^{NEW}:{action}(:|$)"


def build_conversation() -> ConversationHandler[ContextTypes.DEFAULT_TYPE]:
    """The New post ConversationHandler; its table reads like the flow chart."""
    text = filters.TEXT & ~filters.COMMAND
    return ConversationHandler(
        entry_points=[
            CommandHandler("new", start_new),
            CallbackQueryHandler(start_new, pattern=r"^menu:new$"),
            CallbackQueryHandler(discard_draft, pattern=_pattern("discard")),
        ],
        states={
            ACCOUNT: [
                CallbackQueryHandler(choose_account, pattern=_pattern("acct")),
                CallbackQueryHandler(add_account_hint, pattern=_pattern("add_account")),
                _expects(lambda: texts.ACCOUNT_HINT),
            ],
            TARGETS: [
                CallbackQueryHandler(toggle_target, pattern=_pattern("t")),
                CallbackQueryHandler(select_all, pattern=_pattern("all")),
                CallbackQueryHandler(turn_page, pattern=_pattern("pg")),
                CallbackQueryHandler(refresh_targets, pattern=_pattern("refresh")),
                CallbackQueryHandler(targets_done, pattern=_pattern("done")),
                CallbackQueryHandler(back_to_accounts, pattern=_pattern("accounts")),
                CallbackQueryHandler(add_account_hint, pattern=_pattern("add_account")),
                MessageHandler(PASTED_LINK, topic_link_in_targets),
                _expects(lambda: texts.TARGETS_HINT),
            ],
            CONTENT: [
                MessageHandler(MEDIA, add_media),
                MessageHandler(text, set_caption),
                CallbackQueryHandler(no_images, pattern=_pattern("noimg")),
                CallbackQueryHandler(no_caption, pattern=_pattern("nocap")),
                CallbackQueryHandler(use_poster, pattern=_pattern("poster")),
                CallbackQueryHandler(ask_poster_name, pattern=_pattern("save")),
                MessageHandler(~filters.COMMAND, not_a_photo),
            ],
            TIME: [
                MessageHandler(text, time_typed),
                CallbackQueryHandler(time_pressed, pattern=_pattern("when")),
                CallbackQueryHandler(time_from_calendar, pattern=_pattern("cal")),
                CallbackQueryHandler(ask_poster_name, pattern=_pattern("save")),
                CallbackQueryHandler(repeat_start, pattern=_pattern("repeat")),
                _expects(lambda: texts.TIME_HINT),
            ],
            repeat.REPEAT: [
                MessageHandler(text, repeat_typed),
                CallbackQueryHandler(repeat_back, pattern=_pattern("rp_back")),
                CallbackQueryHandler(repeat_pressed, pattern=rf"^{NEW}:rp_[a-z_]+(:|$)"),
                _expects(lambda: texts.REPEAT_HINT),
            ],
            SAVE_POSTER: [
                MessageHandler(text, save_as_poster),
                CallbackQueryHandler(skip_saving, pattern=_pattern("save_no")),
                _expects(lambda: texts.POSTER_NAME_HINT),
            ],
            PREVIEW: [
                CallbackQueryHandler(schedule_post, pattern=_pattern("go")),
                CallbackQueryHandler(change_time, pattern=_pattern("chtime")),
                CallbackQueryHandler(ask_buttons, pattern=_pattern("buttons")),
                CallbackQueryHandler(ask_link_preview, pattern=_pattern("lp")),
                CallbackQueryHandler(set_link_preview, pattern=_pattern("lp_set")),
                CallbackQueryHandler(toggle_caption_above, pattern=_pattern("above")),
                CallbackQueryHandler(toggle_silent, pattern=_pattern("silent")),
                CallbackQueryHandler(toggle_protect, pattern=_pattern("protect")),
                CallbackQueryHandler(ask_after_publishing, pattern=_pattern("after")),
                CallbackQueryHandler(set_after_publishing, pattern=_pattern("after_set")),
                CallbackQueryHandler(back_to_preview, pattern=_pattern("back")),
                _expects(lambda: texts.PREVIEW_HINT),
            ],
            BUTTONS: [
                MessageHandler(text, set_buttons),
                CallbackQueryHandler(remove_buttons, pattern=_pattern("buttons_none")),
                CallbackQueryHandler(back_to_preview, pattern=_pattern("back")),
                _expects(lambda: texts.BUTTONS_HINT),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(cancel, pattern=_pattern("cancel")),
            CallbackQueryHandler(keep_editing, pattern=_pattern("keep_draft")),
            CallbackQueryHandler(wrong_step_button, pattern=rf"^{NEW}:"),
        ],
        name=CONVERSATION_NAME,
        persistent=True,
        allow_reentry=True,
    )
