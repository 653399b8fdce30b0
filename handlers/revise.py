"""Edit everywhere and Delete everywhere: a published post changed where it went out.

From a published (or partly published) post's Details: ✏️ Edit everywhere asks what should change
— the text (formatting kept), the buttons (New post's syntax), or one photo or video swapped for one
of a kind that can take its place — then shows a confirm step with the new text and the targets,
each that cannot take it with the reason; 🗑 Delete everywhere goes straight to its confirm step.
After the confirm, every target is reached (publishers/revision.py) and a report like a
publication's replaces the question: ✅ edited in A, ❌ B: the reason.

The confirm button carries the post's revision number at the time it was asked; the store takes
each number once (`begin_revision`), so a second press, or a stale question, does nothing but say
so. What the person asked to change waits in user_data (JSON) until the confirm, so a restart
loses nothing; the change is applied to the post as it is then."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, ContextTypes, ConversationHandler, MessageHandler, filters

from handlers import keyboards, texts
from handlers.buttons import parse_buttons, write_buttons
from handlers.common import answer, reply, services, store_of
from handlers.compose import store_media
from handlers.content import received_media, typed_text
from handlers.keyboards import POST, parse_post_ref, post_ref
from handlers.posts import show_post
from handlers.questions import Question
from handlers.screen import own_post, pressed, show, user_id
from i18n import N_, _, stored
from publishers.facebook import FacebookPagePublisher
from publishers.formatting import formatted, to_html
from publishers.revision import Everywhere, Reached, build_revisers, sent_targets
from publishers.telegram_layout import TEXT_LIMIT, utf16_len
from publishers.webhook import WebhookPublisher
from storage.base import REVISABLE_STATUSES, Revised
from storage.models import Content, Image, MediaKind, Post, utc_now

log = logging.getLogger(__name__)

ASK_EVERYWHERE = "ask_everywhere"
# What the open question is about: {"post_id", "origin", "revision", "want", "index"}.
ASKING = "edit_everywhere"
# The change waiting for its confirm: {"post_id", "revision", and "caption" + "entities", or
# "buttons" (as written), or "media" (the new item)}.
PENDING = "edit_everywhere_pending"
# The kinds that may take a media item's place (as the Bot API lets an album item change).
SWAPS = {
    MediaKind.PHOTO: (MediaKind.PHOTO, MediaKind.VIDEO),
    MediaKind.VIDEO: (MediaKind.PHOTO, MediaKind.VIDEO),
    MediaKind.ANIMATION: (MediaKind.ANIMATION,),
    MediaKind.DOCUMENT: (MediaKind.DOCUMENT,),
    MediaKind.AUDIO: (MediaKind.AUDIO,),
}
# i18n: what may take an item's place: "Send the photo or video to put in place of photo 2"
SWAP_WORDS = {
    MediaKind.PHOTO: N_("photo or video"),
    MediaKind.VIDEO: N_("photo or video"),
    MediaKind.ANIMATION: N_("GIF"),
    MediaKind.DOCUMENT: N_("file"),
    MediaKind.AUDIO: N_("audio file"),
}

State = str | int | None

EVERYWHERE = Question("edit_everywhere", ASK_EVERYWHERE, texts.EVERYWHERE_KEPT, key=ASKING)


@contextmanager
def _everywhere(context: ContextTypes.DEFAULT_TYPE) -> Iterator[Everywhere]:
    """The platforms' revisers, built for one revision and closed after."""
    store = store_of(context)
    facebook = FacebookPagePublisher(store, services(context).settings.facebook_graph_url)
    webhook = WebhookPublisher(store)
    try:
        yield Everywhere(build_revisers(context.bot, facebook, webhook))
    finally:
        facebook.close()
        webhook.close()


async def _revisable_post(update: Update, context: ContextTypes.DEFAULT_TYPE) -> tuple[Post | None, str]:
    """(the user's pressed post if it can be changed now, else None after saying why; its origin)."""
    post_id, where = parse_post_ref(pressed(update).argument)
    post = await own_post(update, context, post_id)
    if post is None:
        return None, where
    if post.status not in REVISABLE_STATUSES:
        await answer(update, texts.cannot_revise(post.short_id, post.status.value), alert=True)
        return None, where
    if not sent_targets(post):
        await answer(update, texts.EVERYWHERE_NOTHING_TO_REACH, alert=True)
        return None, where
    return post, where


# -- Edit everywhere: what should change ------------------------------------------------------------
async def ask_what_to_edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The choice of what to change in a published post: its text, its buttons, a media item."""
    post, where = await _revisable_post(update, context)
    if post is None:
        return
    await answer(update)
    question = texts.ask_edit_everywhere(post.short_id, len(sent_targets(post)))
    await show(update, question, keyboards.edit_everywhere_keyboard(post_ref(post.post_id, where), bool(post.images)))


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE, want: str) -> Post | None:
    post, where = await _revisable_post(update, context)
    if post is None:
        return None
    await answer(update)
    subject = {"post_id": post.post_id, "origin": where, "revision": post.revision, "want": want}
    EVERYWHERE.ask_about(context, subject)
    return post


async def ask_new_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """Asks for the post's new text."""
    post = await _start(update, context, "text")
    if post is None:
        return ConversationHandler.END
    now = texts.caption_start(post.main_caption, 200)
    await show(update, texts.ask_everywhere_text(post.short_id, now), keyboards.everywhere_question_keyboard())
    return ASK_EVERYWHERE


async def ask_new_buttons(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """Asks for the buttons the post should carry now, in New post's syntax."""
    post = await _start(update, context, "buttons")
    if post is None:
        return ConversationHandler.END
    question: str = texts.ASK_BUTTONS
    if post.buttons:
        question += "\n\n" + texts.current_buttons(write_buttons(post.buttons))
    await show(update, question, keyboards.everywhere_question_keyboard(remove_buttons=bool(post.buttons)))
    return ASK_EVERYWHERE


async def ask_which_item(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """Asks which media item to swap (straight for the new one when there is only one)."""
    post = await _start(update, context, "media")
    if post is None:
        return ConversationHandler.END
    if len(post.images) == 1:
        return await _ask_item(update, context, post, 1)
    items = [texts.media_noun(image.kind.value) for image in post.images]
    await show(update, texts.ask_everywhere_item(post.short_id), keyboards.everywhere_items_keyboard(items))
    return ASK_EVERYWHERE


async def item_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """The media item to swap was chosen: ask for the new one."""
    post = await _asked_post(update, context)
    argument = pressed(update).argument
    if post is None or not argument.isdigit() or not 1 <= int(argument) <= len(post.images):
        await answer(update, texts.EVERYWHERE_STALE, alert=True)
        return ConversationHandler.END
    await answer(update)
    return await _ask_item(update, context, post, int(argument))


async def _ask_item(update: Update, context: ContextTypes.DEFAULT_TYPE, post: Post, number: int) -> State:
    asked = EVERYWHERE.subject(context)
    assert asked is not None
    asked["index"] = number - 1
    old = post.images[number - 1].kind
    question = texts.ask_everywhere_media(number, old.value, _(SWAP_WORDS[old]))
    await show(update, question, keyboards.everywhere_question_keyboard())
    return ASK_EVERYWHERE


async def _asked_post(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Post | None:
    """The post the open question is about, if it is still the user's."""
    asked = EVERYWHERE.subject(context)
    if asked is None:
        return None
    return await store_of(context).get_post(user_id(update), str(asked["post_id"]))


# -- the answers ---------------------------------------------------------------------------------
async def typed_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """The new text, or the new buttons, as the question asked."""
    message = update.effective_message
    assert message is not None and message.text is not None
    asked = EVERYWHERE.subject(context)
    post = await _asked_post(update, context)
    if asked is None or post is None:
        EVERYWHERE.forget(context)
        await reply(update, texts.EVERYWHERE_STALE)
        return ConversationHandler.END
    if asked.get("want") == "buttons":
        parsed = parse_buttons(message.text)
        if parsed.problems:
            await reply(update, texts.buttons_refused(parsed.problems))
            return ASK_EVERYWHERE
        return await _confirm_edit(update, context, post, {"buttons": write_buttons(parsed.rows)})
    if asked.get("want") != "text":
        await reply(update, texts.EVERYWHERE_MEDIA_HINT)
        return ASK_EVERYWHERE
    typed = typed_text(message)
    length = utf16_len(typed.text)
    if length > TEXT_LIMIT:
        await reply(update, texts.text_too_long(length))
        return ASK_EVERYWHERE
    if not typed.text and not post.images:
        await reply(update, texts.EVERYWHERE_TEXT_EMPTY)
        return ASK_EVERYWHERE
    return await _confirm_edit(update, context, post, {"caption": typed.text, "entities": typed.entity_list()})


async def buttons_removed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """No buttons under the post any more."""
    post = await _asked_post(update, context)
    if post is None:
        await answer(update, texts.EVERYWHERE_STALE, alert=True)
        return ConversationHandler.END
    await answer(update)
    return await _confirm_edit(update, context, post, {"buttons": ""})


async def media_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """The photo or video (or file) to put in place of the chosen item: of a kind that can stand there."""
    message = update.effective_message
    assert message is not None
    asked = EVERYWHERE.subject(context)
    post = await _asked_post(update, context)
    if asked is None or post is None:
        EVERYWHERE.forget(context)
        await reply(update, texts.EVERYWHERE_STALE)
        return ConversationHandler.END
    index = asked.get("index")
    if asked.get("want") != "media" or not isinstance(index, int) or not 0 <= index < len(post.images):
        await reply(update, texts.EVERYWHERE_TEXT_HINT)
        return ASK_EVERYWHERE
    old = post.images[index]
    received = received_media(message, index + 1)
    if received is None or received.kind not in SWAPS[old.kind]:
        await reply(update, texts.everywhere_wrong_kind(index + 1, old.kind.value, _(SWAP_WORDS[old.kind])))
        return ASK_EVERYWHERE
    # Kept like New post's media (the bytes too), so that the post stays whole for every platform.
    blob_id, size = await store_media(context, received.file)
    media = {
        "index": index,
        "name": received.name,
        "blob_id": blob_id,
        "size": size,
        "mime_type": received.mime_type,
        "file_id": received.file.file_id,
        "kind": received.kind.value,
    }
    return await _confirm_edit(update, context, post, {"media": media})


async def wrong_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """Something that answers nothing the question asked."""
    asked = EVERYWHERE.subject(context) or {}
    await reply(update, texts.EVERYWHERE_MEDIA_HINT if asked.get("want") == "media" else texts.EVERYWHERE_TEXT_HINT)
    return ASK_EVERYWHERE


async def keep_as_it_is(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """Keep: nothing changes; the post's Details again."""
    asked = EVERYWHERE.subject(context)
    post = await _asked_post(update, context)
    EVERYWHERE.forget(context)
    await answer(update, texts.EVERYWHERE_KEPT)
    if post is not None and asked is not None:
        await show_post(update, context, post, str(asked.get("origin", "")), in_place=True)
    return ConversationHandler.END


# -- the confirm step ------------------------------------------------------------------------------
def changed_content(post: Post, change: dict[str, Any]) -> Content:
    """The post's content with the change asked for applied to it."""
    content = post.content
    if "caption" in change:
        content = replace(content, caption=str(change["caption"]), caption_entities=list(change.get("entities") or []))
    if "buttons" in change:
        written = str(change["buttons"])
        content = replace(content, buttons=parse_buttons(written).rows if written else [])
    media = change.get("media")
    if isinstance(media, dict):
        images = list(content.images)
        index = int(media["index"])
        old = images[index]
        kind = MediaKind(media["kind"])
        images[index] = Image(
            name=str(media["name"]),
            blob_id=str(media["blob_id"]),
            caption=old.caption,
            size=int(media["size"]),
            mime_type=str(media["mime_type"]),
            telegram_file_id=str(media["file_id"]),
            kind=kind,
            spoiler=old.spoiler,
            caption_entities=list(old.caption_entities),
        )
        content = replace(content, images=images)
    return content


def _shown_change(post: Post, change: dict[str, Any], new: Content) -> str:
    if "caption" in change:
        return texts.new_text_shown(to_html(formatted(new.caption, new.caption_entities)))
    if "buttons" in change:
        return texts.new_buttons_shown(str(change["buttons"]))
    index = int(change["media"]["index"])
    return texts.new_media_shown(index + 1, post.images[index].kind.value, str(change["media"]["kind"]))


async def _confirm_edit(
    update: Update, context: ContextTypes.DEFAULT_TYPE, post: Post, change: dict[str, Any]
) -> State:
    """The confirm step: the new text (or buttons, or media) and every target, each that cannot
    take it with the reason."""
    asked = EVERYWHERE.subject(context)
    assert asked is not None and context.user_data is not None
    new = changed_content(post, change)
    if new == post.content:
        await reply(update, texts.EVERYWHERE_SAME)
        return ASK_EVERYWHERE
    EVERYWHERE.forget(context)
    revision = int(asked.get("revision", post.revision))
    question = secrets.token_hex(2)
    context.user_data[PENDING] = {"post_id": post.post_id, "revision": revision, "question": question, **change}
    with _everywhere(context) as everywhere:
        plan = everywhere.plan_edit(post, new)
    reachable = [reached.target.name for reached in plan if reached.refusal is None]
    refused = _refused(plan)
    text = texts.confirm_edit_everywhere(post.short_id, _shown_change(post, change, new), reachable, refused)
    where = str(asked.get("origin", ""))
    markup = keyboards.confirm_edit_everywhere_keyboard(post.post_id, revision, where, len(reachable), question)
    await show(update, text, markup, in_place=update.callback_query is not None)
    return ConversationHandler.END


async def _taken(update: Update, context: ContextTypes.DEFAULT_TYPE) -> tuple[Post, str] | None:
    """(the post with this confirm's revision taken, its origin), or None after saying why not:
    someone else's post, a confirm already carried out (a second press), a post not published."""
    ref = parse_revision_ref_of(update)
    if ref is None:
        await answer(update, texts.EVERYWHERE_STALE, alert=True)
        return None
    post_id, seen, _question, where = ref
    post = await own_post(update, context, post_id)
    if post is None:
        return None
    if post.revision != seen:
        await answer(update, texts.EVERYWHERE_ALREADY, alert=True)
        await show_post(update, context, post, where, in_place=True, notice=texts.EVERYWHERE_ALREADY)
        return None
    taken = await store_of(context).begin_revision(user_id(update), post_id, seen)
    if taken is None:
        await answer(update, texts.cannot_revise(post.short_id, post.status.value), alert=True)
        return None
    await answer(update)
    return taken, where


def parse_revision_ref_of(update: Update) -> tuple[str, int, str, str] | None:
    return keyboards.parse_revision_ref(pressed(update).argument)


def _results(reached: list[Reached]) -> list[tuple[str, str | None, str | None]]:
    """(target name, why it failed or None, a note on a success) of each target reached, the
    publishers' sentences (stored in English) in the reader's language."""
    results: list[tuple[str, str | None, str | None]] = []
    for one in reached:
        outcome = one.outcome
        if outcome is None:
            results.append((one.target.name, stored(one.refusal or ""), None))
        elif one.done:
            note = outcome.error_message
            results.append((one.target.name, None, stored(note) if note else note))
        else:
            results.append((one.target.name, stored(outcome.error_message or ""), None))
    return results


def _refused(plan: list[Reached]) -> list[tuple[str, str]]:
    """(target name, why it cannot be done there) of each target that refuses, in the reader's language."""
    return [(reached.target.name, stored(reached.refusal)) for reached in plan if reached.refusal is not None]


async def confirm_edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Edits the post on every target, once; the report, then the post's Details."""
    ref = parse_revision_ref_of(update)
    pending = (context.user_data or {}).get(PENDING)
    # The change this button confirms must be the one asked last (an older question's button is stale).
    asked_now = ref is not None and isinstance(pending, dict) and pending.get("question") == ref[2]
    if ref is not None and not (asked_now and isinstance(pending, dict) and pending.get("post_id") == ref[0]):
        post = await own_post(update, context, ref[0])
        if post is None:
            return
        stale = texts.EVERYWHERE_ALREADY if post.revision != ref[1] else texts.EVERYWHERE_STALE
        await answer(update, stale, alert=True)
        return
    taken = await _taken(update, context)
    if taken is None:
        return
    post, where = taken
    assert isinstance(pending, dict) and context.user_data is not None
    context.user_data.pop(PENDING, None)
    new = changed_content(post, pending)
    with _everywhere(context) as everywhere:
        reached = await everywhere.edit(post, new)
    edited = any(one.done for one in reached)
    revised = Revised(utc_now(), content=new if edited else None)
    saved = await store_of(context).save_revision(post.user_id, post.post_id, post.revision, revised)
    log.info("user %s edited post %s everywhere: %d/%d", post.user_id, post.post_id, edited, len(reached))
    notice = texts.everywhere_report(post.short_id, "edited", _results(reached))
    await show_post(update, context, saved or post, where, in_place=True, notice=notice)


# -- Delete everywhere --------------------------------------------------------------------------------
async def ask_delete(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Asks to confirm deleting the post on every target where it is, each that cannot with the reason."""
    post, where = await _revisable_post(update, context)
    if post is None:
        return
    await answer(update)
    with _everywhere(context) as everywhere:
        plan = everywhere.plan_delete(post)
    reachable = [reached.target.name for reached in plan if reached.refusal is None]
    refused = _refused(plan)
    text = texts.confirm_delete_everywhere(post.short_id, reachable, refused)
    markup = keyboards.confirm_delete_everywhere_keyboard(post.post_id, post.revision, where, len(reachable))
    await show(update, text, markup)


async def confirm_delete(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Deletes the post on every target, once; the report, then the post's Details."""
    taken = await _taken(update, context)
    if taken is None:
        return
    post, where = taken
    with _everywhere(context) as everywhere:
        reached = await everywhere.delete(post)
    deleted = [one.target.target_id for one in reached if one.done]
    revised = Revised(utc_now(), deleted=deleted)
    saved = await store_of(context).save_revision(post.user_id, post.post_id, post.revision, revised)
    log.info("user %s deleted post %s everywhere: %d/%d", post.user_id, post.post_id, len(deleted), len(reached))
    notice = texts.everywhere_report(post.short_id, "deleted", _results(reached))
    await show_post(update, context, saved or post, where, in_place=True, notice=notice)


def build_everywhere_conversation() -> ConversationHandler[ContextTypes.DEFAULT_TYPE]:
    """Edit everywhere: what to change → the new text, buttons or media → the confirm step."""
    media = filters.PHOTO | filters.VIDEO | filters.ANIMATION | filters.Document.ALL | filters.AUDIO
    return EVERYWHERE.conversation(
        [
            CallbackQueryHandler(ask_new_text, pattern=rf"^{POST}:ee_text:"),
            CallbackQueryHandler(ask_new_buttons, pattern=rf"^{POST}:ee_btns:"),
            CallbackQueryHandler(ask_which_item, pattern=rf"^{POST}:ee_media:"),
        ],
        [
            MessageHandler(filters.TEXT & ~filters.COMMAND, typed_answer),
            MessageHandler(media, media_answer),
            CallbackQueryHandler(item_chosen, pattern=rf"^{POST}:ee_item:"),
            CallbackQueryHandler(buttons_removed, pattern=rf"^{POST}:ee_nobtn$"),
            CallbackQueryHandler(keep_as_it_is, pattern=rf"^{POST}:ee_keep$"),
            MessageHandler(~filters.COMMAND & ~filters.StatusUpdate.ALL, wrong_answer),
        ],
    )


def everywhere_handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    return [
        CallbackQueryHandler(ask_what_to_edit, pattern=rf"^{POST}:edit_all:"),
        CallbackQueryHandler(confirm_edit, pattern=rf"^{POST}:ee_yes:"),
        CallbackQueryHandler(ask_delete, pattern=rf"^{POST}:del_all:"),
        CallbackQueryHandler(confirm_delete, pattern=rf"^{POST}:del_yes:"),
    ]
