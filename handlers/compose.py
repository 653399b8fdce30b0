"""The New post conversation: account → targets → content → time → preview → scheduled.

The draft lives in `user_data["draft"]` as plain JSON, so a restart of the bot loses nothing."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from telegram import InputMediaPhoto, Message, Update
from telegram.error import BadRequest
from telegram.ext import (
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
    is_admin,
    reply,
    services,
    store_of,
    targets_of,
    user_zone,
)
from handlers.keyboards import NEW, parse_callback
from handlers.when import (
    TimeChoice,
    check_time,
    current_time,
    example_time,
    explain,
    format_relative,
    format_time,
    local,
    parse_time,
    quick_time,
    repeated_note,
    shows_today_button,
)
from publishers.telegram_layout import CAPTION_LIMIT, TEXT_LIMIT, plan_messages, utf16_len
from services import PostEvent
from storage.codec import image_from_doc, image_to_doc, target_from_doc, target_to_doc
from storage.models import MAX_IMAGES, Account, Image, Platform, Poster, Target, new_id, new_post

log = logging.getLogger(__name__)

ACCOUNT, TARGETS, CONTENT, TIME, PREVIEW = "account", "targets", "content", "time", "preview"
# A side step of CONTENT and TIME: the content so far is saved as a poster, then the step resumes.
SAVE_POSTER = "save_poster"
CONVERSATION_NAME = "new_post"
DRAFT = "draft"
PHOTO_ACK_DELAY = 1.0  # seconds of quiet after the last photo of an album before acknowledging
# The pressed argument of the button that confirms a time shifted past a DST gap.
SHIFTED = "shifted"

Draft = dict[str, Any]


def _user_id(update: Update) -> int:
    assert update.effective_user is not None
    return update.effective_user.id


def _draft(context: ContextTypes.DEFAULT_TYPE) -> Draft:
    assert context.user_data is not None
    draft = context.user_data.setdefault(DRAFT, {})
    assert isinstance(draft, dict)
    return draft


def _drop_draft(context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)


def _draft_targets(draft: Draft) -> list[Target]:
    return [target_from_doc(doc) for doc in draft.get("targets", [])]


def _draft_images(draft: Draft) -> list[Image]:
    return [image_from_doc(doc) for doc in draft.get("images", [])]


async def _show(update: Update, text: str, markup: Any = None) -> None:
    """Edit the pressed button's message in place, or send a new message for typed input."""
    query = update.callback_query
    if query is not None and isinstance(query.message, Message) and query.message.text is not None:
        await query.edit_message_text(text, parse_mode="HTML", reply_markup=markup)
        return
    await reply(update, text, reply_markup=markup)


# -- step 1: account ----------------------------------------------------------------------------
async def start_new(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """Starts a new post: the user picks the account that publishes it."""
    await answer(update)
    assert context.user_data is not None
    context.user_data[DRAFT] = {"step": ACCOUNT}
    accounts = await choosable_accounts(context, _user_id(update))
    await reply(update, texts.CHOOSE_ACCOUNT, reply_markup=keyboards.accounts_keyboard(accounts))
    return ACCOUNT


async def choose_account(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """The user picked an account: show its targets to select."""
    pressed = parse_callback(update.callback_query.data if update.callback_query else None)
    assert pressed is not None
    accounts = {a.account_id: a for a in await choosable_accounts(context, _user_id(update))}
    account = accounts.get(pressed.argument)
    if account is None:
        await answer(update, texts.NOT_YOURS, alert=True)
        return None
    await answer(update)
    if account.needs_reconnect:
        await reply(update, texts.needs_reconnect_warning(account.name))
    draft = _draft(context)
    draft.update(
        step=TARGETS,
        account_id=account.account_id,
        account_name=account.name,
        platform=account.platform.value,
        selected=[],
        page=0,
    )
    await _load_targets(update, context, draft, account)
    return TARGETS


async def add_account_hint(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """Points the user to /accounts to connect another platform."""
    await answer(update)
    await reply(update, texts.ADD_ACCOUNT_HINT)
    return ACCOUNT


# -- step 2: targets ----------------------------------------------------------------------------
async def _load_targets(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft, account: Account | None = None
) -> None:
    """Looks up the draft's account (unless just chosen) and shows the targets it offers now."""
    if account is None:
        accounts = {a.account_id: a for a in await choosable_accounts(context, _user_id(update))}
        account = accounts.get(draft.get("account_id", ""))
    found = await targets_of(context, account) if account else []
    draft["targets"] = [target_to_doc(target) for target in found]
    known = {target.target_id for target in found}
    draft["selected"] = [target_id for target_id in draft.get("selected", []) if target_id in known]
    if not found:
        empty = texts.NO_TARGETS if draft.get("platform") == Platform.TELEGRAM.value else texts.NO_ACCOUNT_TARGETS
        await _show(update, empty, keyboards.no_targets_keyboard())
        return
    await _show_targets(update, draft)


async def _show_targets(update: Update, draft: Draft) -> None:
    targets = _draft_targets(draft)
    selected = set(draft.get("selected", []))
    await _show(
        update,
        texts.choose_targets(draft.get("account_name", ""), len(selected), len(targets)),
        keyboards.targets_keyboard(targets, selected, int(draft.get("page", 0))),
    )


async def toggle_target(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """Selects or unselects one target (✅)."""
    pressed = parse_callback(update.callback_query.data if update.callback_query else None)
    assert pressed is not None
    draft = _draft(context)
    if pressed.argument not in {t.target_id for t in _draft_targets(draft)}:
        await answer(update, texts.TARGET_NOT_ALLOWED, alert=True)
        return None
    await answer(update)
    selected = list(draft.get("selected", []))
    if pressed.argument in selected:
        selected.remove(pressed.argument)
    else:
        selected.append(pressed.argument)
    draft["selected"] = selected
    await _show_targets(update, draft)
    return None


async def select_all(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """Selects every target, or clears them all if all were selected."""
    await answer(update)
    draft = _draft(context)
    everything = [t.target_id for t in _draft_targets(draft)]
    draft["selected"] = [] if set(draft.get("selected", [])) == set(everything) else everything
    await _show_targets(update, draft)
    return None


async def turn_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """Shows another page of a long target list."""
    pressed = parse_callback(update.callback_query.data if update.callback_query else None)
    assert pressed is not None
    draft = _draft(context)
    if not pressed.argument.isdigit() or int(pressed.argument) == int(draft.get("page", 0)):
        await answer(update)
        return None
    await answer(update)
    draft["page"] = int(pressed.argument)
    await _show_targets(update, draft)
    return None


async def refresh_targets(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """Looks again for the chats where the bot and the user are administrators."""
    await answer(update)
    await _load_targets(update, context, _draft(context))
    return None


async def targets_done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """Confirms the selection (re-checking admin rights) and asks for the content."""
    draft = _draft(context)
    selected = [t for t in _draft_targets(draft) if t.target_id in set(draft.get("selected", []))]
    if not selected:
        await answer(update, texts.PICK_ONE_TARGET, alert=True)
        return None
    await answer(update)
    user_id = _user_id(update)
    telegram = [t for t in selected if t.account_id == TELEGRAM_ACCOUNT_ID]
    if telegram:
        lost = [t for t in telegram if not await is_admin(context, int(t.address), user_id)]
        if lost:
            await reply(update, texts.TARGET_LOST.format(names=", ".join(t.name for t in lost)))
            await _load_targets(update, context, draft)
            return None
    draft["step"] = CONTENT
    draft["images"] = []
    draft.pop("caption", None)
    await _ask_content(update, context)
    return CONTENT


# -- step 3: content ----------------------------------------------------------------------------
async def _ask_content(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    posters = await store_of(context).list_posters(_user_id(update))
    images = len(_draft(context).get("images", []))
    await _show(update, texts.ASK_CONTENT, keyboards.content_keyboard_with_save(posters, images))


async def add_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """Keeps one photo of the post (its caption becomes the image's caption)."""
    message = update.effective_message
    assert message is not None and message.photo
    draft = _draft(context)
    images = list(draft.get("images", []))
    if len(images) >= MAX_IMAGES:
        await reply(update, texts.TOO_MANY_IMAGES.format(count=len(images)))
        return None
    largest = message.photo[-1]
    try:
        data = bytes(await (await largest.get_file()).download_as_bytearray())
    except BadRequest as error:
        # getFile refuses files over 20 MB; the draft is untouched, the person sends a smaller one.
        if "too big" not in error.message.lower():
            raise
        await reply(update, texts.PHOTO_TOO_BIG)
        return None
    store = store_of(context)
    blob_id = await store.put_image(data)
    await store.set_image_file_id(blob_id, largest.file_id)
    caption = message.caption or ""
    image = Image(
        name=f"photo-{len(images) + 1}.jpg",
        blob_id=blob_id,
        caption=caption,
        size=len(data),
        telegram_file_id=largest.file_id,
    )
    images.append(image_to_doc(image))
    draft["images"] = images
    # Telegram Premium lets a person send 2,048 where a bot may send 1,024.
    if utf16_len(caption.strip()) > CAPTION_LIMIT:
        await reply(update, texts.photo_caption_cut(len(images), utf16_len(caption.strip())))
    _acknowledge_photos_later(update, context)
    return None


def _acknowledge_photos_later(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One "n photos in" message after an album (or a quick run of photos), not one per photo."""
    assert context.job_queue is not None and update.effective_chat is not None
    user_id = _user_id(update)
    name = f"photos-ack:{user_id}"
    # Found by id, replaced in O(1): a lookup by name scans every job, posts' included.
    context.job_queue.run_once(
        _send_photo_ack,
        PHOTO_ACK_DELAY,
        name=name,
        chat_id=update.effective_chat.id,
        user_id=user_id,
        job_kwargs={"id": name, "replace_existing": True},
    )


async def _send_photo_ack(context: ContextTypes.DEFAULT_TYPE) -> None:
    draft = (context.user_data or {}).get(DRAFT) or {}
    if draft.get("step") != CONTENT or context.job is None or context.job.chat_id is None:
        return
    posters = await store_of(context).list_posters(context.job.user_id or 0)
    count = len(draft.get("images", []))
    await context.bot.send_message(
        context.job.chat_id,
        texts.photos_received(count) + "\n" + texts.ASK_CAPTION_AFTER_PHOTOS,
        parse_mode="HTML",
        reply_markup=keyboards.content_keyboard_with_save(posters, count),
    )


async def not_a_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """A document, sticker or other thing where a photo or the caption was expected."""
    await reply(update, texts.NOT_A_PHOTO)
    return None


async def set_caption(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """The main caption (or a text post's text): checked against Telegram's limits."""
    message = update.effective_message
    assert message is not None and message.text is not None
    caption = message.text.strip()
    draft = _draft(context)
    images = draft.get("images", [])
    if not images and not caption:
        await reply(update, texts.EMPTY_TEXT_POST)
        return None
    length = utf16_len(caption)
    if length > TEXT_LIMIT:
        await reply(update, texts.text_too_long(length))
        return None
    if images and length > CAPTION_LIMIT:
        await reply(update, texts.caption_over_photo_limit(length))
    draft["caption"] = caption
    return await _ask_time(update, context)


async def no_images(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """The user wants a text post: ask for its text."""
    await answer(update)
    await reply(update, texts.ASK_TEXT_ONLY)
    return None


async def no_caption(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """Photos without a main caption."""
    draft = _draft(context)
    if not draft.get("images"):
        await answer(update, texts.EMPTY_TEXT_POST, alert=True)
        return None
    await answer(update)
    draft["caption"] = ""
    return await _ask_time(update, context)


async def use_poster(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """Takes the caption and images of one of the user's saved posters."""
    pressed = parse_callback(update.callback_query.data if update.callback_query else None)
    assert pressed is not None
    poster = await store_of(context).get_poster(_user_id(update), pressed.argument)
    if poster is None:
        await answer(update, texts.POSTER_MISSING, alert=True)
        return None
    await answer(update)
    draft = _draft(context)
    draft.update(
        images=[image_to_doc(image) for image in poster.images],
        caption=poster.main_caption,
        poster_name=poster.name,
    )
    await reply(update, texts.poster_chosen(poster.name))
    return await _ask_time(update, context)


# -- step 4: time -------------------------------------------------------------------------------
async def _ask_time(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    draft = _draft(context)
    draft["step"] = TIME
    zone = await user_zone(context, _user_id(update))
    now = current_time()
    show_today = shows_today_button(zone, now)
    markup = (
        keyboards.time_keyboard_with_save(show_today) if _worth_saving(draft) else keyboards.time_keyboard(show_today)
    )
    await reply(update, texts.ask_time(zone, example_time(zone, now)), reply_markup=markup)
    return TIME


async def typed_time(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """A time typed in the user's zone."""
    message = update.effective_message
    assert message is not None and message.text is not None
    zone = await user_zone(context, _user_id(update))
    return await _take_time(update, context, parse_time(message.text, zone, current_time()), zone)


async def quick_time_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """A quick time button (in 1 hour, today 18:00, tomorrow 09:00, now), or the confirmation of
    a time shifted past a DST gap."""
    pressed = parse_callback(update.callback_query.data if update.callback_query else None)
    assert pressed is not None
    zone = await user_zone(context, _user_id(update))
    now = current_time()
    if pressed.argument == SHIFTED:
        suggested = _draft(context).pop("suggested_when", None)
        if not isinstance(suggested, str):
            await answer(update, texts.WRONG_STEP_BUTTON, alert=True)
            return None
        await answer(update)
        return await _take_time(update, context, check_time(datetime.fromisoformat(suggested), now), zone)
    await answer(update)
    return await _take_time(update, context, quick_time(pressed.argument, zone, now), zone)


async def _take_time(
    update: Update, context: ContextTypes.DEFAULT_TYPE, choice: TimeChoice, zone: str
) -> str | None:
    draft = _draft(context)
    if choice.when is None:
        markup = None
        if choice.problem == "dst_gap" and choice.suggestion is not None:
            draft["suggested_when"] = choice.suggestion.isoformat()
            label = texts.confirm_shifted_time(f"{local(choice.suggestion, zone):%H:%M}")
            markup = keyboards.shifted_time_keyboard(label, NEW, "when", SHIFTED)
        await reply(update, explain(choice, zone, current_time()), reply_markup=markup)
        return None
    draft.pop("suggested_when", None)
    draft["when"] = choice.when.isoformat()
    draft["step"] = PREVIEW
    await _send_preview(update, context, draft)
    return PREVIEW


# -- side step: save the content as a poster -----------------------------------------------------
def _content_key(draft: Draft) -> list[Any]:
    return [draft.get("caption", ""), [doc.get("blob_id") for doc in draft.get("images", [])]]


def _worth_saving(draft: Draft) -> bool:
    """False when the content is a poster already: picked from one, or saved as it is now."""
    if not draft.get("poster_name"):
        return True
    saved = draft.get("saved_content")
    return saved is not None and saved != _content_key(draft)


async def ask_poster_name(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """The user wants to keep the photos and caption given so far as a poster: ask its name."""
    draft = _draft(context)
    if not draft.get("images") and not draft.get("caption"):
        await answer(update, texts.NOTHING_TO_SAVE, alert=True)
        return None
    await answer(update)
    draft["save_from"] = draft.get("step", CONTENT)
    draft["step"] = SAVE_POSTER
    await reply(update, texts.ASK_POSTER_NAME, reply_markup=keyboards.poster_name_keyboard())
    return SAVE_POSTER


async def save_as_poster(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """Saves the draft's content under the name typed, then goes on where the user was."""
    message = update.effective_message
    assert message is not None and message.text is not None
    name = " ".join(message.text.split())
    if not 1 <= len(name) <= 64:
        await reply(update, texts.POSTER_NAME_BAD, reply_markup=keyboards.poster_name_keyboard())
        return None
    draft = _draft(context)
    poster = Poster(new_id(), _user_id(update), name, draft.get("caption", ""), _draft_images(draft))
    await store_of(context).save_poster(poster)
    draft["poster_name"] = name
    draft["saved_content"] = _content_key(draft)
    log.info("user %s saved poster %s", poster.user_id, poster.poster_id)
    await reply(update, texts.poster_saved(name))
    return await _resume_after_saving(update, context)


async def skip_saving(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """No poster after all: back to where the user was."""
    await answer(update)
    await reply(update, texts.POSTER_NOT_SAVED)
    return await _resume_after_saving(update, context)


async def _resume_after_saving(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    draft = _draft(context)
    if draft.pop("save_from", CONTENT) == TIME:
        return await _ask_time(update, context)
    draft["step"] = CONTENT
    posters = await store_of(context).list_posters(_user_id(update))
    count = len(draft.get("images", []))
    await reply(
        update,
        texts.photos_received(count) + "\n" + texts.ASK_CAPTION_AFTER_PHOTOS,
        reply_markup=keyboards.content_keyboard_with_save(posters, count),
    )
    return CONTENT


# -- step 5: preview and schedule ---------------------------------------------------------------
async def _send_preview(update: Update, context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> None:
    chat = update.effective_chat
    assert chat is not None
    for planned in plan_messages(draft.get("caption", ""), _draft_images(draft)):
        if planned.kind == "text":
            await chat.send_message(planned.text)
            continue
        media = [
            await _photo_input(context, image, caption) for image, caption in planned.photos
        ]
        if planned.kind == "photo":
            await chat.send_photo(media[0].media, caption=media[0].caption)
        else:
            await chat.send_media_group(media)
    zone = await user_zone(context, _user_id(update))
    when = datetime.fromisoformat(draft["when"])
    chosen = [t.name for t in _draft_targets(draft) if t.target_id in set(draft.get("selected", []))]
    await reply(
        update,
        texts.preview(
            format_time(when, zone),
            format_relative(when, current_time()),
            chosen,
            len(draft.get("images", [])),
            repeated_note(when, zone),
        ),
        reply_markup=keyboards.preview_keyboard(),
    )


async def _photo_input(context: ContextTypes.DEFAULT_TYPE, image: Image, caption: str) -> InputMediaPhoto:
    if image.telegram_file_id:
        return InputMediaPhoto(image.telegram_file_id, caption=caption or None)
    data = await store_of(context).load_image(image.blob_id)
    return InputMediaPhoto(data or b"", caption=caption or None)


async def schedule_post(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int | None:
    """Saves the post and confirms it, with a Cancel button."""
    draft = _draft(context)
    user_id = _user_id(update)
    now = current_time()
    when = check_time(datetime.fromisoformat(draft["when"]), now).when
    if when is None:
        await answer(update)
        await reply(update, texts.TIME_GONE_PAST)
        return await _ask_time(update, context)
    await answer(update)
    accounts = {a.account_id: a for a in await choosable_accounts(context, user_id)}
    account = accounts.get(draft.get("account_id", ""))
    chosen = [t for t in _draft_targets(draft) if t.target_id in set(draft.get("selected", []))]
    if account is None or not chosen:
        await reply(update, texts.NOT_YOURS)
        _drop_draft(context)
        return ConversationHandler.END
    post = new_post(
        user_id=user_id,
        account=account,
        targets=chosen,
        main_caption=draft.get("caption", ""),
        scheduled_time=when,
        images=_draft_images(draft),
        poster_name=draft.get("poster_name"),
    )
    await store_of(context).create_post(post)
    await services(context).post_changed(PostEvent.SCHEDULED, post)
    zone = await user_zone(context, user_id)
    await _show(
        update,
        texts.scheduled(post.short_id, format_time(when, zone), len(chosen)),
        keyboards.scheduled_keyboard(post.post_id),
    )
    _drop_draft(context)
    log.info("user %s scheduled post %s for %s", user_id, post.post_id, when.isoformat())
    return ConversationHandler.END


async def change_time(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """Back from the preview to the time step."""
    await answer(update)
    return await _ask_time(update, context)


# -- leaving and stray input --------------------------------------------------------------------
async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Leaves the conversation without saving anything."""
    await answer(update)
    _drop_draft(context)
    await _show(update, texts.CANCELLED)
    return ConversationHandler.END


async def wrong_step_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button of this conversation pressed at a step where it means nothing."""
    await answer(update, texts.WRONG_STEP_BUTTON, alert=True)


STEP_HINTS = {
    ACCOUNT: "Please pick an account with the buttons above, or /cancel.",
    TARGETS: "Please pick the targets with the buttons above, then tap Done — or /cancel.",
    CONTENT: texts.NOT_A_PHOTO,
    TIME: "Please type a time or tap one of the buttons above.",
    PREVIEW: "Please tap Schedule, Change time or Cancel above.",
    SAVE_POSTER: texts.POSTER_NAME_HINT,
}


async def stray_input(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Something typed or sent that the current step does not take: say what it expects."""
    step = _draft(context).get("step", ACCOUNT)
    await reply(update, STEP_HINTS.get(step, texts.WRONG_STEP_BUTTON))


def _pattern(action: str) -> str:
    return rf"^{NEW}:{action}(:|$)"


def build_conversation() -> ConversationHandler[ContextTypes.DEFAULT_TYPE]:
    """The New post ConversationHandler; its table reads like the flow chart."""
    text = filters.TEXT & ~filters.COMMAND
    return ConversationHandler(
        entry_points=[
            CommandHandler("new", start_new),
            CallbackQueryHandler(start_new, pattern=r"^menu:new$"),
        ],
        states={
            ACCOUNT: [
                CallbackQueryHandler(choose_account, pattern=_pattern("acct")),
                CallbackQueryHandler(add_account_hint, pattern=_pattern("add_account")),
            ],
            TARGETS: [
                CallbackQueryHandler(toggle_target, pattern=_pattern("t")),
                CallbackQueryHandler(select_all, pattern=_pattern("all")),
                CallbackQueryHandler(turn_page, pattern=_pattern("pg")),
                CallbackQueryHandler(refresh_targets, pattern=_pattern("refresh")),
                CallbackQueryHandler(targets_done, pattern=_pattern("done")),
            ],
            CONTENT: [
                MessageHandler(filters.PHOTO, add_photo),
                MessageHandler(text, set_caption),
                CallbackQueryHandler(no_images, pattern=_pattern("noimg")),
                CallbackQueryHandler(no_caption, pattern=_pattern("nocap")),
                CallbackQueryHandler(use_poster, pattern=_pattern("poster")),
                CallbackQueryHandler(ask_poster_name, pattern=_pattern("save")),
                MessageHandler(~filters.COMMAND, not_a_photo),
            ],
            TIME: [
                MessageHandler(text, typed_time),
                CallbackQueryHandler(quick_time_pressed, pattern=_pattern("when")),
                CallbackQueryHandler(ask_poster_name, pattern=_pattern("save")),
            ],
            SAVE_POSTER: [
                MessageHandler(text, save_as_poster),
                CallbackQueryHandler(skip_saving, pattern=_pattern("save_no")),
            ],
            PREVIEW: [
                CallbackQueryHandler(schedule_post, pattern=_pattern("go")),
                CallbackQueryHandler(change_time, pattern=_pattern("chtime")),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(cancel, pattern=_pattern("cancel")),
            CallbackQueryHandler(wrong_step_button, pattern=rf"^{NEW}:"),
            MessageHandler(~filters.COMMAND, stray_input),
        ],
        name=CONVERSATION_NAME,
        persistent=True,
        allow_reentry=True,
    )
