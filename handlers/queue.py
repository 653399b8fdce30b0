"""The posting schedule and its queue (/queue): the slots a person sets (typed or from common ones,
removed a tap each), the queued posts in order with move up / move down / shuffle / post now /
remove, and "the next free slot" that New post's time step and a batch take.

A queued post is a normal scheduled post marked `queued` (storage/queue.py has the rules): the
scheduler publishes it like any other. Reordering gives the queue's times out again in slot order,
so moving a post up swaps its time with its neighbour's."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

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
from handlers.common import all_accounts, answer, reply, services, store_of, targets_of, user_zone
from handlers.draft import Draft, DraftUnreadable
from handlers.keyboards import QUEUE
from handlers.questions import Question
from handlers.screen import pressed, show, user_id
from handlers.slots import parse_slots, preset_slots, schedule_lines, slot_name
from handlers.when import TimeChoice, current_time, format_time
from services import PostEvent
from storage.base import Store
from storage.models import Post, Target
from storage.queue import (
    MAX_SLOTS,
    Queued,
    Slot,
    moved_times,
    next_free_slots,
    schedule_for,
    shuffled_times,
    slot_from_code,
    slots_of,
    target_key,
)

log = logging.getLogger(__name__)

# How many queued posts the queue screen lists with buttons (Telegram allows 100 buttons).
QUEUE_SHOWN = 10
FIRST_WORDS = 40
ASK_SLOTS = "ask_slots"
# user_data: the targets offered and picked for a target set's slots (a Draft as JSON).
SLOT_TARGETS = "queue_slot_targets"
JUST_BEFORE = timedelta(milliseconds=1)


# -- the next free slot (New post's time step, a batch) --------------------------------------------
async def free_slot_times(
    store: Store, user: int, zone: str, target_ids: Iterable[str], now: datetime, count: int = 1
) -> list[datetime] | None:
    """The next `count` free slots (fewer if the year ahead has no more) of the schedule a post to
    `target_ids` follows; None when no slots serve such a post."""
    slots = await store.queue_slots(user)
    if not slots:
        return None
    key = schedule_for(slots, target_ids)
    if not slots_of(slots, key):
        return None  # slots for other target sets only
    taken = [
        post.scheduled_time
        for post in await store.queued_posts(user)
        if schedule_for(slots, (target.target_id for target in post.targets)) == key
    ]
    return next_free_slots(slots_of(slots, key), zone, now, taken, count)


async def queue_time(
    update: Update, context: ContextTypes.DEFAULT_TYPE, targets: Sequence[Target]
) -> tuple[TimeChoice, str] | None:
    """(the next free slot for a post to `targets`, the person's zone) — New post's "Add to queue";
    None, after saying why, when there is no slot (no schedule yet, or a full year)."""
    await answer(update)
    user = user_id(update)
    zone = await user_zone(context, user)
    free = await free_slot_times(store_of(context), user, zone, [t.target_id for t in targets], current_time())
    if free is None:
        await reply(update, texts.NO_SLOTS_FOR_QUEUE, reply_markup=keyboards.no_slots_keyboard())
        return None
    if not free:
        await reply(update, texts.QUEUE_FULL)
        return None
    return TimeChoice(when=free[0]), zone


async def slot_at_scheduling(
    update: Update, context: ContextTypes.DEFAULT_TYPE, targets: Sequence[Target], chosen: datetime | None
) -> datetime | None:
    """The slot a queued New post takes when Schedule is pressed: `chosen` (the one its preview
    showed) if it is still free and ahead, else the next free one (said so); None if none is."""
    user = user_id(update)
    store = store_of(context)
    zone = await user_zone(context, user)
    now = current_time()
    target_ids = [target.target_id for target in targets]
    if chosen is not None and chosen > now:
        # Still free if it is the first free slot from just before it (no queued post took it).
        again = await free_slot_times(store, user, zone, target_ids, chosen - JUST_BEFORE)
        if again and again[0] == chosen:
            return chosen
    free = await free_slot_times(store, user, zone, target_ids, now)
    if not free:
        await reply(update, texts.QUEUE_FULL if free is not None else texts.NO_SLOTS_FOR_QUEUE)
        return None
    await reply(update, texts.queued_elsewhere(format_time(free[0], zone)))
    return free[0]


# -- the queue screen -----------------------------------------------------------------------------------
async def show_queue(update: Update, context: ContextTypes.DEFAULT_TYPE, *, in_place: bool = True) -> None:
    """The person's queue in order with its times, and their posting schedule."""
    user = user_id(update)
    store = store_of(context)
    zone = await user_zone(context, user)
    queued = await _queue(context, user)
    shown = queued[:QUEUE_SHOWN]
    lines = [
        texts.queue_line(
            number,
            # The zone is said once, above the list.
            format_time(post.scheduled_time, zone).removesuffix(f" ({zone})"),
            texts.caption_start(post.main_caption, FIRST_WORDS) or texts.media_only(len(post.images)),
            len(post.targets),
        )
        for number, post in enumerate(shown, start=1)
    ]
    slots = await store.queue_slots(user)
    schedule = schedule_lines(slots_of(slots, ()))
    for_sets = sum(1 for slot in slots if slot.targets)
    if for_sets:
        schedule.append(texts.set_slots_note(for_sets))
    text = texts.queue_screen(zone, lines, len(queued) - len(shown), schedule)
    await show(update, text, keyboards.queue_keyboard([post.post_id for post in shown]), in_place=in_place)


async def open_queue(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/queue, the menu's Queue, or Refresh: the queue as it is now."""
    await answer(update)
    await show_queue(update, context, in_place=update.callback_query is not None)


async def _queue(context: ContextTypes.DEFAULT_TYPE, user: int) -> list[Post]:
    """The person's queued posts still ahead, soonest first (one due now is being published)."""
    now = current_time()
    return [post for post in await store_of(context).queued_posts(user) if post.scheduled_time > now]


async def _queued_or_alert(update: Update, context: ContextTypes.DEFAULT_TYPE) -> tuple[list[Post], str] | None:
    """(the person's queue, the pressed post's id) if that post is in it; else None, after an alert
    and the queue shown as it is now (a stale button, or another person's post)."""
    queued = await _queue(context, user_id(update))
    post_id = pressed(update).argument
    if post_id not in {post.post_id for post in queued}:
        await answer(update, texts.QUEUE_ITEM_GONE, alert=True)
        await show_queue(update, context)
        return None
    return queued, post_id


async def _as_queued(context: ContextTypes.DEFAULT_TYPE, user: int, posts: list[Post]) -> list[Queued]:
    """The queue as reordering sees it: each post with the schedule whose slots it holds."""
    slots = await store_of(context).queue_slots(user)
    return [
        Queued(post.post_id, post.scheduled_time, schedule_for(slots, (t.target_id for t in post.targets)))
        for post in posts
    ]


async def _retime(update: Update, context: ContextTypes.DEFAULT_TYPE, times: dict[str, datetime]) -> None:
    """Moves each post of `times` to its new time (slot order after a move or shuffle), then shows
    the queue."""
    user = user_id(update)
    store = store_of(context)
    changed = False
    for post_id, when in times.items():
        moved_post = await store.reschedule_post(user, post_id, when)
        if moved_post is None:
            # Published or removed meanwhile: the others keep the times given so far.
            changed = True
            continue
        await services(context).post_changed(PostEvent.SCHEDULED, moved_post)
    if changed:
        await reply(update, texts.QUEUE_CHANGED)
    log.info("user %s reordered %s posts of their queue", user, len(times))
    await show_queue(update, context)


async def move_up(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """⬆: the post swaps times with the one before it (among the posts on the same slots)."""
    await _move(update, context, -1)


async def move_down(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """⬇: the post swaps times with the one after it (among the posts on the same slots)."""
    await _move(update, context, +1)


async def _move(update: Update, context: ContextTypes.DEFAULT_TYPE, step: int) -> None:
    found = await _queued_or_alert(update, context)
    if found is None:
        return
    queued, post_id = found
    times = moved_times(await _as_queued(context, user_id(update), queued), post_id, step)
    if not times:
        await answer(update, texts.QUEUE_AT_END)
        return
    await answer(update)
    await _retime(update, context, times)


async def shuffle_queue(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """🔀: the queued posts in a random order, on the same times (each on its own schedule's slots)."""
    user = user_id(update)
    times = shuffled_times(await _as_queued(context, user, await _queue(context, user)))
    if not times:
        await answer(update, texts.QUEUE_TOO_SHORT, alert=True)
        return
    await answer(update, texts.QUEUE_SHUFFLED)
    await _retime(update, context, times)


async def post_now(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """🚀 Now: the post goes out at once; its slot is free again."""
    found = await _queued_or_alert(update, context)
    if found is None:
        return
    _, post_id = found
    user = user_id(update)
    moved_post = await store_of(context).reschedule_post(user, post_id, current_time())
    if moved_post is None:
        await answer(update, texts.QUEUE_ITEM_GONE, alert=True)
        await show_queue(update, context)
        return
    await answer(update, texts.queue_posting_now(moved_post.short_id))
    await services(context).post_changed(PostEvent.SCHEDULED, moved_post)
    log.info("user %s posts queued post %s now", user, post_id)
    await show_queue(update, context)


async def ask_remove(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """🗑: asks before a queued post is removed."""
    found = await _queued_or_alert(update, context)
    if found is None:
        return
    queued, post_id = found
    await answer(update)
    post = next(post for post in queued if post.post_id == post_id)
    zone = await user_zone(context, user_id(update))
    question = texts.confirm_queue_remove(post.short_id, format_time(post.scheduled_time, zone))
    await show(update, question, keyboards.queue_remove_keyboard(post_id))


async def remove_queued(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Yes, remove: the post is cancelled and leaves the queue; its slot is free again."""
    found = await _queued_or_alert(update, context)
    if found is None:
        return
    _, post_id = found
    cancelled = await store_of(context).cancel_post(user_id(update), post_id)
    if cancelled is None:
        await answer(update, texts.QUEUE_ITEM_GONE, alert=True)
    else:
        await answer(update, texts.queue_removed(cancelled.short_id))
        await services(context).post_changed(PostEvent.CANCELLED, cancelled)
        log.info("user %s removed queued post %s", cancelled.user_id, post_id)
    await show_queue(update, context)


# -- the posting schedule ------------------------------------------------------------------------------
async def _target_names(context: ContextTypes.DEFAULT_TYPE, user: int) -> dict[str, str]:
    """The names of the person's targets (of every account) by id."""
    return {target.target_id: target.name for target in await targets_of(context, all_accounts(user))}


def _set_keys(slots: Iterable[Slot]) -> list[tuple[str, ...]]:
    """The target sets that have slots of their own, in a stable order (their remove buttons' numbers)."""
    return sorted({slot.targets for slot in slots if slot.targets})


async def show_slots(update: Update, context: ContextTypes.DEFAULT_TYPE, *, in_place: bool = True) -> None:
    """The person's slots — for all targets, then each target set's — each a button that removes it."""
    user = user_id(update)
    slots = await store_of(context).queue_slots(user)
    zone = await user_zone(context, user)
    keys = _set_keys(slots)
    names = await _target_names(context, user) if keys else {}
    sections = [("", schedule_lines(slots_of(slots, ())))]
    buttons = [(slot_name(slot), slot.code) for slot in slots_of(slots, ())]
    for number, key in enumerate(keys, start=1):
        sections.append(
            (", ".join(names.get(target_id, target_id) for target_id in key), schedule_lines(slots_of(slots, key)))
        )
        buttons += [(f"{slot_name(slot)} ({number})", f"{number}/{slot.code}") for slot in slots_of(slots, key)]
    markup = keyboards.slots_keyboard(buttons)
    await show(update, texts.slots_screen(zone, sections), markup, in_place=in_place)


async def open_slots(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """🗓 Slots: the posting schedule."""
    await answer(update)
    await show_slots(update, context)


def _pressed_slot(argument: str, slots: list[Slot]) -> Slot | None:
    """The slot a remove button names (`0-0900`, or `2/0-0900` for the second target set's)."""
    number, _, code = argument.rpartition("/")
    keys = _set_keys(slots)
    if not number:
        return slot_from_code(code)
    if not number.isdigit() or not 1 <= int(number) <= len(keys):
        return None
    return slot_from_code(code, keys[int(number) - 1])


async def remove_slot(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """✖ a slot: it leaves the schedule (posts queued on it keep their time)."""
    user = user_id(update)
    store = store_of(context)
    slots = await store.queue_slots(user)
    slot = _pressed_slot(pressed(update).argument, slots)
    if slot is None or slot not in slots:
        await answer(update, texts.SLOT_GONE, alert=True)
    else:
        await store.set_queue_slots(user, [one for one in slots if one != slot])
        await answer(update, texts.SLOT_REMOVED)
    await show_slots(update, context)


async def ask_clear_slots(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """🗑 Clear all: asks first."""
    await answer(update)
    await show(update, texts.CONFIRM_CLEAR_SLOTS, keyboards.clear_slots_keyboard())


async def clear_slots(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Yes, remove all: the schedule is empty."""
    await store_of(context).set_queue_slots(user_id(update), [])
    await answer(update, texts.SLOTS_CLEARED)
    await show_slots(update, context)


# -- slots for a target set: the targets picked as in New post ------------------------------------------
def _route(context: ContextTypes.DEFAULT_TYPE) -> Draft | None:
    saved = (context.user_data or {}).get(SLOT_TARGETS)
    try:
        return None if saved is None else Draft.from_json(saved)
    except DraftUnreadable:
        return None


def _keep_route(context: ContextTypes.DEFAULT_TYPE, route: Draft) -> None:
    assert context.user_data is not None
    context.user_data[SLOT_TARGETS] = route.to_json()


async def _show_slot_targets(update: Update, route: Draft) -> None:
    markup = keyboards.targets_keyboard(route.offered, set(route.selected), route.page)
    await show(update, texts.slot_targets(len(route.selected), len(route.offered)), keyboards.on_screen(markup, QUEUE))


async def choose_slot_targets(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """🎯 For chosen targets: the person's targets of every account, to pick the set."""
    await answer(update)
    route = Draft()
    route.offer(await targets_of(context, all_accounts(user_id(update))))
    _keep_route(context, route)
    await _show_slot_targets(update, route)


async def slot_target_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A target (✅ toggled), Select all, another page, or Refresh, while picking a target set."""
    route = _route(context)
    if route is None:
        await answer(update, texts.WRONG_STEP_BUTTON, alert=True)
        return
    choice = pressed(update)
    if choice.action == "refresh":
        route.offer(await targets_of(context, all_accounts(user_id(update))))
    elif not route.press_target(choice.action, choice.argument):
        await answer(update, texts.TARGET_NOT_ALLOWED, alert=True)
        return
    await answer(update)
    _keep_route(context, route)
    await _show_slot_targets(update, route)


async def add_account_hint(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Points to /accounts."""
    await answer(update)
    await reply(update, texts.ADD_ACCOUNT_HINT)


async def back_to_slots(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Cancel while picking a target set: the schedule again, nothing changed."""
    await answer(update)
    if context.user_data is not None:
        context.user_data.pop(SLOT_TARGETS, None)
    await show_slots(update, context)


# -- adding slots -----------------------------------------------------------------------------------------
async def ask_slots(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """➕ Add slots: asks for them typed (for all targets), with common ones as buttons."""
    await answer(update)
    SLOTS_QUESTION.forget(context)
    zone = await user_zone(context, user_id(update))
    await reply(update, texts.ask_slots(zone), reply_markup=keyboards.slot_presets_keyboard())
    return ASK_SLOTS


async def ask_set_slots(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """Done (n) while picking a target set: asks for that set's slots."""
    route = _route(context)
    chosen = route.chosen() if route else []
    if not chosen:
        await answer(update, texts.PICK_ONE_TARGET if route else texts.WRONG_STEP_BUTTON, alert=True)
        return None
    await answer(update)
    if context.user_data is not None:
        context.user_data.pop(SLOT_TARGETS, None)
    SLOTS_QUESTION.ask_about(context, {"targets": list(target_key(target.target_id for target in chosen))})
    zone = await user_zone(context, user_id(update))
    names = ", ".join(target.name for target in chosen)
    await reply(update, texts.ask_slots(zone, names), reply_markup=keyboards.slot_presets_keyboard())
    return ASK_SLOTS


def _asked_for(context: ContextTypes.DEFAULT_TYPE) -> tuple[str, ...]:
    """The target set the open question asks slots for; () for all targets."""
    subject = SLOTS_QUESTION.subject(context) or {}
    return target_key(str(target_id) for target_id in subject.get("targets") or ())


async def _add_slots(update: Update, context: ContextTypes.DEFAULT_TYPE, new: list[Slot]) -> bool:
    """Adds `new` to the person's schedule and shows it; False, after saying so, if it would hold
    too many."""
    user = user_id(update)
    store = store_of(context)
    slots = await store.queue_slots(user)
    merged = sorted(set(slots) | set(new))
    if len(merged) > MAX_SLOTS:
        await reply(update, texts.SLOTS_FULL)
        return False
    await store.set_queue_slots(user, merged)
    log.info("user %s has %s posting slots", user, len(merged))
    await reply(update, texts.slots_added(len(merged) - len(slots), len(merged)))
    await show_slots(update, context, in_place=False)
    return True


async def typed_slots(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    """Slots typed: added, or refused with the reason (the question stays)."""
    message = update.effective_message
    assert message is not None and message.text is not None
    read = parse_slots(message.text, _asked_for(context))
    if read.problem is not None:
        await reply(update, texts.slots_refused(read.problem, read.typed))
        return ASK_SLOTS
    if not await _add_slots(update, context, read.slots):
        return ASK_SLOTS
    SLOTS_QUESTION.forget(context)
    return ConversationHandler.END


async def preset_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """A common slot (Weekdays 09:00…) pressed: added (for the target set asked about, if any)."""
    new = preset_slots(pressed(update).argument)
    if new is None:
        await answer(update, texts.WRONG_STEP_BUTTON, alert=True)
        return ConversationHandler.END
    await answer(update)
    key = _asked_for(context)
    SLOTS_QUESTION.forget(context)
    await _add_slots(update, context, [replace(slot, targets=key) for slot in new])
    return ConversationHandler.END


async def preset_after_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A common slot pressed after its question was left: added all the same (for all targets)."""
    await preset_pressed(update, context)


SLOTS_QUESTION = Question("queue_slots", ASK_SLOTS, texts.CANCELLED, texts.SLOTS_HINT, key="queue_slots_for")


def _pattern(action: str) -> str:
    return rf"^{QUEUE}:{action}(:|$)"


def build_slots_conversation() -> ConversationHandler[ContextTypes.DEFAULT_TYPE]:
    """➕ Add slots → slots typed, or a common one pressed."""
    return SLOTS_QUESTION.conversation(
        [
            CallbackQueryHandler(ask_slots, pattern=_pattern("add")),
            CallbackQueryHandler(ask_set_slots, pattern=_pattern("done")),
        ],
        [
            MessageHandler(filters.TEXT & ~filters.COMMAND, typed_slots),
            CallbackQueryHandler(preset_pressed, pattern=_pattern("preset")),
        ],
    )


def queue_handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    """The queue's and the schedule's buttons, and /queue."""
    return [
        CommandHandler("queue", open_queue),
        CallbackQueryHandler(open_queue, pattern=r"^menu:queue$"),
        CallbackQueryHandler(open_queue, pattern=_pattern("show")),
        CallbackQueryHandler(move_up, pattern=_pattern("up")),
        CallbackQueryHandler(move_down, pattern=_pattern("down")),
        CallbackQueryHandler(shuffle_queue, pattern=_pattern("shuffle")),
        CallbackQueryHandler(post_now, pattern=_pattern("now")),
        CallbackQueryHandler(ask_remove, pattern=_pattern("rm")),
        CallbackQueryHandler(remove_queued, pattern=_pattern("rm_yes")),
        CallbackQueryHandler(open_slots, pattern=_pattern("slots")),
        CallbackQueryHandler(remove_slot, pattern=_pattern("slot_rm")),
        CallbackQueryHandler(ask_clear_slots, pattern=_pattern("clear")),
        CallbackQueryHandler(clear_slots, pattern=_pattern("clear_yes")),
        CallbackQueryHandler(preset_after_question, pattern=_pattern("preset")),
        CallbackQueryHandler(choose_slot_targets, pattern=_pattern("for")),
        CallbackQueryHandler(slot_target_pressed, pattern=rf"^{QUEUE}:(t|all|pg|refresh)(:|$)"),
        CallbackQueryHandler(add_account_hint, pattern=_pattern("add_account")),
        CallbackQueryHandler(back_to_slots, pattern=_pattern("cancel")),
    ]
