"""Inline keyboards, and the callback data their buttons carry (`screen:action[:argument]`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

import i18n
from i18n import N_, _, ngettext, pgettext
from storage.models import Account, Platform, Poster, Target

TARGETS_PER_PAGE = 8
# What a button may carry: short words and ids only, so forged data cannot smuggle anything.
CALLBACK_PATTERN = re.compile(r"^[a-z_]{1,16}:[a-z0-9_]{1,16}(:[A-Za-z0-9_+\-/]{1,48})?$")

MENU = "menu"
NEW = "new"
POST = "post"
TZ = "tz"


@dataclass(frozen=True)
class Callback:
    """A parsed button press: which screen, which action, and its argument if any."""

    screen: str
    action: str
    argument: str = ""


def callback(screen: str, action: str, argument: str = "") -> str:
    """The callback data for a button (Telegram allows 64 bytes)."""
    data = f"{screen}:{action}:{argument}" if argument else f"{screen}:{action}"
    if not CALLBACK_PATTERN.match(data) or len(data.encode()) > 64:
        raise ValueError(f"callback data out of shape: {data!r}")
    return data


def parse_callback(data: str | None) -> Callback | None:
    """The button's meaning, or None if the data is not of a shape Herald makes."""
    if not data or len(data.encode()) > 64 or not CALLBACK_PATTERN.match(data):
        return None
    screen, action, *rest = data.split(":", 2)
    return Callback(screen, action, rest[0] if rest else "")


def button(text: str, screen: str, action: str, argument: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=callback(screen, action, argument))


def main_menu() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [button(_("📝 New post"), MENU, "new")],
            [button(_("🗓 Scheduled & history"), MENU, "scheduled")],
            [button(_("🔑 Accounts"), MENU, "accounts"), button(_("🖼 Posters"), MENU, "posters")],
            [button(_("📥 Queue"), MENU, "queue"), button(_("📦 Batch"), MENU, "batch")],
            [button(_("⚙️ Settings"), MENU, "settings")],
        ]
    )


def cancel_row() -> list[InlineKeyboardButton]:
    return [button(_("✖️ Cancel"), NEW, "cancel")]


def accounts_keyboard(accounts: list[Account]) -> InlineKeyboardMarkup:
    """New post's account step: an account that needs reconnecting is marked ⚠️, with Reconnect beside it."""
    rows = []
    for account in accounts:
        row = [button(("⚠️ " if account.needs_reconnect else "") + account.name, NEW, "acct", account.account_id)]
        if can_reconnect(account):
            row.append(reconnect_button(account.account_id))
        rows.append(row)
    rows.append([button(_("➕ Add account"), NEW, "add_account")])
    rows.append(cancel_row())
    return InlineKeyboardMarkup(rows)


def needs_reconnect_keyboard(account: Account) -> InlineKeyboardMarkup | None:
    """Reconnect, under the warning that a chosen account needs it (None if it cannot be reconnected)."""
    return InlineKeyboardMarkup([[reconnect_button(account.account_id)]]) if can_reconnect(account) else None


def account_step_row(other_accounts: bool) -> list[InlineKeyboardButton]:
    """Back to the account step when there are several accounts; else the way to add one."""
    if other_accounts:
        # i18n: back to the step where the account is chosen
        return [button(_("◀ Account"), NEW, "accounts")]
    return [button(_("➕ Add account"), NEW, "add_account")]


def targets_keyboard(
    targets: list[Target], selected: set[str], page: int, other_accounts: bool = False
) -> InlineKeyboardMarkup:
    pages = max(1, -(-len(targets) // TARGETS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = targets[page * TARGETS_PER_PAGE : (page + 1) * TARGETS_PER_PAGE]
    rows = [[button(("✅ " if t.target_id in selected else "▫️ ") + t.name, NEW, "t", t.target_id)] for t in shown]
    if pages > 1:
        rows.append(
            [
                button("◀", NEW, "pg", str(max(page - 1, 0))),
                button(f"{page + 1}/{pages}", NEW, "pg", str(page)),
                button("▶", NEW, "pg", str(min(page + 1, pages - 1))),
            ]
        )
    all_selected = bool(targets) and len(selected) == len(targets)
    rows.append(
        [
            button(pgettext("button", "Clear all") if all_selected else pgettext("button", "Select all"), NEW, "all"),
            # i18n: {count}: how many are chosen
            button(pgettext("button", "Done ({count})").format(count=i18n.number(len(selected))), NEW, "done"),
        ]
    )
    rows.append([*account_step_row(other_accounts), button(_("🔄 Refresh"), NEW, "refresh"), *cancel_row()])
    return InlineKeyboardMarkup(rows)


def no_targets_keyboard(other_accounts: bool = False) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[button(_("🔄 Refresh"), NEW, "refresh")], [*account_step_row(other_accounts), *cancel_row()]]
    )


def content_keyboard(posters: list[Poster], images: int) -> InlineKeyboardMarkup:
    rows = [[button(f"🖼 {poster.name}", NEW, "poster", poster.poster_id)] for poster in posters[:8]]
    if images:
        rows.append([button(pgettext("button", "No caption"), NEW, "nocap")])
    else:
        rows.append([button(pgettext("button", "No images (text post)"), NEW, "noimg")])
    rows.append(cancel_row())
    return InlineKeyboardMarkup(rows)


def quick_times(screen: str, action: str, show_today: bool) -> list[list[InlineKeyboardButton]]:
    """The rows of quick time buttons (in 1 hour, today 18:00 while it lies ahead, tomorrow 09:00,
    now) that New post and Reschedule both offer."""
    first = [button(pgettext("button", "In 1 hour"), screen, action, "1h")]
    if show_today:
        first.append(button(pgettext("button", "Today 18:00"), screen, action, "today18"))
    later = [
        button(pgettext("button", "Tomorrow 09:00"), screen, action, "tomorrow9"),
        button(pgettext("button", "Post now"), screen, action, "now"),
    ]
    return [first, later]


def calendar_row(screen: str, action: str) -> list[InlineKeyboardButton]:
    """The button that opens the date picker (handlers/date_picker.py) under a time question."""
    return [button(_("📅 Calendar"), screen, action, "o")]


def time_keyboard(show_today: bool) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            *quick_times(NEW, "when", show_today),
            calendar_row(NEW, "cal"),
            repeat_row(),
            add_to_queue_row(),
            cancel_row(),
        ]
    )


def shifted_time_keyboard(label: str, screen: str, action: str, argument: str) -> InlineKeyboardMarkup:
    """One button that confirms a time moved past a DST gap (typing another time works too)."""
    return InlineKeyboardMarkup([[button(label, screen, action, argument)]])


def preview_keyboard(options: list[list[InlineKeyboardButton]] | None = None) -> InlineKeyboardMarkup:
    """Schedule, Change time, Cancel — and the post's `options` (buttons, link preview, layout)."""
    return InlineKeyboardMarkup(
        [
            [button(_("✅ Schedule"), NEW, "go")],
            *(options or []),
            [button(_("🕒 Change time"), NEW, "chtime"), button(_("✖️ Cancel"), NEW, "cancel")],
        ]
    )


def discard_draft_keyboard() -> InlineKeyboardMarkup:
    """/new while a post is in the making: throw it away, or go on with it."""
    return InlineKeyboardMarkup(
        [
            [
                button(_("🗑 Discard and start over"), NEW, "discard"),
                button(_("✏️ Keep editing"), NEW, "keep_draft"),
            ]
        ]
    )


def scheduled_keyboard(post_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(_("🚫 Cancel post"), POST, "cancel", post_id)]])


def confirm_cancel_keyboard(post_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                button(pgettext("button", "Yes, cancel it"), POST, "cancel_yes", post_id),
                button(pgettext("button", "Keep it"), POST, "keep", post_id),
            ]
        ]
    )


def timezone_keyboard(zones: list[str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(zone, TZ, "set", zone)] for zone in zones[:8]])


def report_keyboard(
    post_id: str, can_retry: bool, label: str | None = None, reconnect: list[tuple[str, str]] | None = None
) -> InlineKeyboardMarkup:
    """Details (and Retry failed) under a report; `label` names the post when a message has several.
    `reconnect` holds (account id, name) of each account whose credential was refused: a Reconnect
    button beside them, or a row of them, named, when there are several."""
    suffix = f" #{label}" if label else ""
    row = [button(_("🔎 Details") + suffix, POST, "details", post_id)]
    if can_retry:
        row.append(button(_("🔁 Retry failed") + suffix, POST, "retry", post_id))
    reconnects = _reconnect_buttons(reconnect or [], suffix)
    if len(reconnects) == 1:
        return InlineKeyboardMarkup([[*row, *reconnects]])
    return InlineKeyboardMarkup([row, reconnects] if reconnects else [row])


def confirm_retry_keyboard(
    post_id: str, may_post_twice: bool = False, reconnect: list[tuple[str, str]] | None = None
) -> InlineKeyboardMarkup:
    """Yes / Not now for a retry; the yes says so when it may post twice; Reconnect for each
    (account id, name) of `reconnect`, whose credential is still refused."""
    yes = pgettext("button", "Yes, retry (may post twice)") if may_post_twice else pgettext("button", "Yes, retry")
    rows = [
        [button(yes, POST, "retry_yes", post_id), button(pgettext("button", "Not now"), POST, "keep_result", post_id)]
    ]
    if reconnect:
        rows.append(_reconnect_buttons(reconnect, ""))
    return InlineKeyboardMarkup(rows)


# A Reconnect pressed on a message that must stay as it is (a report, New post's account list):
# the token is asked for in a message of its own.
ASK_APART = "apart"


def can_reconnect(account: Account) -> bool:
    """True if the account needs a new credential and Herald can take one for it (Facebook Pages)."""
    return account.needs_reconnect and account.platform is Platform.FACEBOOK_PAGE


def reconnect_button(account_id: str, name: str = "") -> InlineKeyboardButton:
    """Reconnect an account from a message other than its own screen; `name` says which, if several."""
    # i18n: {name}: the account (or the post's label) to reconnect
    label = _("🔑 Reconnect {name}").format(name=name) if name else _("🔑 Reconnect")
    return button(label, ACC, "reconnect", f"{account_id}/{ASK_APART}")


def parse_reconnect(argument: str) -> tuple[str, bool]:
    """(account id, True if the token is to be asked apart from the message pressed) of a Reconnect."""
    account_id, _sep, where = argument.partition("/")
    return account_id, where == ASK_APART


def _reconnect_buttons(accounts: list[tuple[str, str]], suffix: str) -> list[InlineKeyboardButton]:
    named = len(accounts) > 1
    return [reconnect_button(account_id, name if named else suffix.strip()) for account_id, name in accounts]


ACC = "acc"


def accounts_list_keyboard(accounts: list[Account]) -> InlineKeyboardMarkup:
    rows = [
        [button(("⚠️ " if account.needs_reconnect else "") + account.name, ACC, "show", account.account_id)]
        for account in accounts
    ]
    rows.append([button(_("➕ Add account"), ACC, "add")])
    return InlineKeyboardMarkup(rows)


def platform_keyboard(form: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [button(pgettext("button", "Facebook Page"), ACC, "platform", "facebook_page")],
            [button(pgettext("button", "Facebook groups (by hand)"), ACC, "platform", "facebook_groups")],
            [button(pgettext("button", "Webhook (Discord, Slack, n8n…)"), ACC, "platform", "webhook")],
            account_cancel_row(form),
        ]
    )


def account_keyboard(account: Account) -> InlineKeyboardMarkup:
    rows = []
    if account.platform.value == "facebook_page":
        rows.append([button(_("🔄 Refresh targets"), ACC, "refresh", account.account_id)])
        rows.append([button(_("🔑 Reconnect"), ACC, "reconnect", account.account_id)])
    if account.account_id != "telegram":
        rows.append([button(_("✏️ Rename"), ACC, "rename", account.account_id)])
        rows.append([button(_("🗑 Remove"), ACC, "remove", account.account_id)])
    rows.append([button(_("◀ Back"), ACC, "list")])
    return InlineKeyboardMarkup(rows)


def confirm_remove_keyboard(account_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                button(pgettext("button", "Yes, remove it"), ACC, "remove_yes", account_id),
                button(pgettext("button", "Keep it"), ACC, "show", account_id),
            ]
        ]
    )


def groups_done_keyboard(form: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(_("✅ Done"), ACC, "groups_done"), *account_cancel_row(form)]])


# The buttons of an accounts question carry its form's id (`form`): one left or finished since
# is told apart from the one open now.
def account_cancel_row(form: str) -> list[InlineKeyboardButton]:
    return [button(_("✖️ Cancel"), ACC, "cancel", form)]


def account_cancel_keyboard(form: str) -> InlineKeyboardMarkup:
    """Cancel, under a question that takes a typed answer (a token, a URL, a secret, a name)."""
    return InlineKeyboardMarkup([account_cancel_row(form)])


def webhook_secret_keyboard(form: str) -> InlineKeyboardMarkup:
    """The secret's question, when the secret sent before another URL was tried can serve again."""
    return InlineKeyboardMarkup(
        [[button(_("♻️ Use the same secret"), ACC, "same_secret", form)], account_cancel_row(form)]
    )


def webhook_test_failed_keyboard(form: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [button(_("💾 Save anyway"), ACC, "save_anyway", form)],
            [button(_("🔁 Try another URL"), ACC, "other_url", form)],
            account_cancel_row(form),
        ]
    )


def webhook_name_keyboard(form: str, default_label: str) -> InlineKeyboardMarkup:
    """The name question's default (the webhook's host) and Cancel."""
    return InlineKeyboardMarkup([[button(default_label, ACC, "use_host", form)], account_cancel_row(form)])


def hand_post_keyboard(group_url: str | None, post_id: str, target_id: str) -> InlineKeyboardMarkup:
    row = [button(_("✅ I posted it"), POST, "posted", f"{post_id}/{target_id}")]
    if group_url:
        row.insert(0, InlineKeyboardButton(pgettext("button", "Open group"), url=group_url))
    return InlineKeyboardMarkup([row])


# -- Scheduled & history, one post's Details, Posters ------------------------------------------
HIST = "hist"
POSTER = "poster"
POSTS_PER_PAGE = 5
# Where a Details screen was opened from, carried in its buttons so Back returns there: `u0`, `h3`.
ORIGIN_PATTERN = re.compile(r"^([uh])(\d{1,5})$")
VIEW_CODES = {"upcoming": "u", "history": "h"}


def origin(view: str, page: int) -> str:
    """The list view and page a Details screen returns to, as a button argument."""
    return f"{VIEW_CODES[view]}{max(page, 0)}"


def parse_origin(argument: str) -> tuple[str, int] | None:
    """(view, page) of an origin argument, or None if it is not one."""
    found = ORIGIN_PATTERN.match(argument)
    if found is None:
        return None
    view = "upcoming" if found.group(1) == "u" else "history"
    return view, int(found.group(2))


def post_ref(post_id: str, where: str = "") -> str:
    """A post's id, with the list page its Details screen returns to when it has one."""
    return f"{post_id}/{where}" if where else post_id


def parse_post_ref(argument: str) -> tuple[str, str]:
    """(post id, origin or "") of a post button's argument."""
    post_id, _sep, where = argument.partition("/")
    return post_id, where if parse_origin(where) else ""


def history_keyboard(posts: list[tuple[str, str]], view: str, page: int, has_next: bool) -> InlineKeyboardMarkup:
    """The view toggle, one Details button per (label, post id), and ◀ ▶."""
    toggle = [
        button(
            ("• " if view == "upcoming" else "") + pgettext("button", "Upcoming"), HIST, "list", origin("upcoming", 0)
        ),
        button(("• " if view == "history" else "") + pgettext("button", "History"), HIST, "list", origin("history", 0)),
    ]
    here = origin(view, page)
    rows = [toggle]
    rows.extend([button(label, POST, "details", post_ref(post_id, here))] for label, post_id in posts)
    if page > 0 or has_next:
        paging = []
        if page > 0:
            paging.append(button("◀", HIST, "list", origin(view, page - 1)))
        paging.append(button(f"· {page + 1} ·", HIST, "list", here))
        if has_next:
            paging.append(button("▶", HIST, "list", origin(view, page + 1)))
        rows.append(paging)
    return InlineKeyboardMarkup(rows)


def details_keyboard(post_id: str, status: str, where: str, *, revisable: bool = False) -> InlineKeyboardMarkup:
    """What can be done with a post in its status (`revisable`: it is out somewhere, and can be
    edited or deleted there), and the way back to the list."""
    ref = post_ref(post_id, where)
    rows = []
    if status == "scheduled":
        rows.append(
            [button(_("🕒 Reschedule"), POST, "resched", ref), button(_("✏️ Edit caption"), POST, "caption", ref)]
        )
        rows.append([button(_("🚫 Cancel post"), POST, "cancel", ref)])
    if status in ("failed", "partial"):
        rows.append([button(_("🔁 Retry failed"), POST, "retry", ref)])
    if revisable:
        rows.append(
            [
                button(_("✏️ Edit everywhere"), POST, "edit_all", ref),
                button(_("🗑 Delete everywhere"), POST, "del_all", ref),
            ]
        )
    rows.append([button(_("◀ Back to the list"), HIST, "list", where), button(_("🔄 Refresh"), POST, "details", ref)])
    return InlineKeyboardMarkup(rows)


def reschedule_keyboard(show_today: bool) -> InlineKeyboardMarkup:
    keep = [button(_("✖️ Keep the time"), POST, "rs_keep")]
    return InlineKeyboardMarkup([*quick_times(POST, "rs_when", show_today), calendar_row(POST, "rs_cal"), keep])


def edit_caption_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(_("✖️ Keep the caption"), POST, "ec_keep")]])


def posters_keyboard(posters: list[Poster]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(f"🖼 {poster.name}", POSTER, "show", poster.poster_id)] for poster in posters])


def poster_keyboard(poster_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[button(_("🗑 Delete"), POSTER, "delete", poster_id), button(_("◀ All posters"), POSTER, "list")]]
    )


def confirm_delete_poster_keyboard(poster_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                button(pgettext("button", "Yes, delete it"), POSTER, "delete_yes", poster_id),
                button(pgettext("button", "Keep it"), POSTER, "keep", poster_id),
            ]
        ]
    )


def back_to_posters_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(_("◀ All posters"), POSTER, "list")]])


def save_poster_row() -> list[InlineKeyboardButton]:
    return [button(_("💾 Save as poster"), NEW, "save")]


def content_keyboard_with_save(posters: list[Poster], images: int) -> InlineKeyboardMarkup:
    """The content step's buttons, with Save as poster once photos are in."""
    rows = [list(row) for row in content_keyboard(posters, images).inline_keyboard]
    if images:
        rows.insert(-1, save_poster_row())
    return InlineKeyboardMarkup(rows)


def time_keyboard_with_save(show_today: bool) -> InlineKeyboardMarkup:
    """The time step's buttons, with Save as poster for the content just given."""
    rows = [list(row) for row in time_keyboard(show_today).inline_keyboard]
    rows.insert(-1, save_poster_row())
    return InlineKeyboardMarkup(rows)


def poster_name_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(_("✖️ Don't save"), NEW, "save_no")]])


# -- New post: the content's options on the preview -----------------------------------------------
def content_option_rows(
    buttons: int, link_preview: str | None, caption_above: bool | None
) -> list[list[InlineKeyboardButton]]:
    """The preview's buttons for the post's own buttons, its link preview (None: the post has no
    text message) and where its captions show (None: no photo, video or GIF has one)."""
    # i18n: {count}: how many buttons the post has
    label = _("🔘 Buttons ({count})").format(count=i18n.number(buttons)) if buttons else _("🔘 Add buttons")
    first = [button(label, NEW, "buttons")]
    if link_preview is not None:
        # i18n: the link preview's setting; {choice}: how it shows now (a label of its own)
        first.append(button(_("🔗 Preview: {choice}").format(choice=link_preview), NEW, "lp"))
    rows = [first]
    if caption_above is not None:
        label = _("⬇️ Caption below the media") if caption_above else _("⬆️ Caption above the media")
        rows.append([button(label, NEW, "above")])
    return rows


def buttons_question_keyboard(has_buttons: bool) -> InlineKeyboardMarkup:
    """Under the question of the post's buttons: remove them (when there are some), or go back."""
    rows = [[button(_("🗑 Remove the buttons"), NEW, "buttons_none")]] if has_buttons else []
    rows.append([button(_("◀ Back to the preview"), NEW, "back")])
    return InlineKeyboardMarkup(rows)


def link_preview_keyboard(choices: dict[str, str], current: str) -> InlineKeyboardMarkup:
    """One button per way the link preview can show, the current one marked."""
    rows = [
        [button(("✅ " if code == current else "") + label, NEW, "lp_set", code)] for code, label in choices.items()
    ]
    rows.append([button(_("◀ Back to the preview"), NEW, "back")])
    return InlineKeyboardMarkup(rows)


# -- Edit and delete a published post everywhere ----------------------------------------------------
def revision_ref(post_id: str, revision: int, where: str = "", question: str = "") -> str:
    """A confirm button's argument: the post, the revision it was asked at, the question it
    answers (an edit's, so that an older question's button cannot confirm a newer change), and
    its origin."""
    ref = f"{post_id}-{revision}" + (f"-{question}" if question else "")
    return post_ref(ref, where)


def parse_revision_ref(argument: str) -> tuple[str, int, str, str] | None:
    """(post id, revision, question or "", origin or "") of a confirm button's argument, or None
    if it is not one."""
    ref, where = parse_post_ref(argument)
    post_id, _sep, rest = ref.partition("-")
    revision, _sep, question = rest.partition("-")
    if not post_id or not revision.isdigit():
        return None
    return post_id, int(revision), question, where


def edit_everywhere_keyboard(ref: str, has_media: bool) -> InlineKeyboardMarkup:
    """What to change of a published post: its text, its buttons, a media item; or nothing."""
    rows = [[button(_("📝 Text"), POST, "ee_text", ref), button(_("🔘 Buttons"), POST, "ee_btns", ref)]]
    if has_media:
        rows.append([button(_("🖼 Swap a photo or video"), POST, "ee_media", ref)])
    rows.append([button(_("✖️ Keep it as it is"), POST, "details", ref)])
    return InlineKeyboardMarkup(rows)


def everywhere_question_keyboard(remove_buttons: bool = False) -> InlineKeyboardMarkup:
    """Under a question of Edit everywhere: take the buttons away (when asked for buttons), or keep it."""
    rows = [[button(_("🗑 Remove the buttons"), POST, "ee_nobtn")]] if remove_buttons else []
    rows.append([button(_("✖️ Keep it as it is"), POST, "ee_keep")])
    return InlineKeyboardMarkup(rows)


def everywhere_items_keyboard(items: list[str]) -> InlineKeyboardMarkup:
    """One button per media item of the post (its number and kind), and Keep."""
    rows = [[button(f"{number}. {label}", POST, "ee_item", str(number))] for number, label in enumerate(items, 1)]
    rows.append([button(_("✖️ Keep it as it is"), POST, "ee_keep")])
    return InlineKeyboardMarkup(rows)


def confirm_edit_everywhere_keyboard(
    post_id: str, revision: int, where: str, count: int, question: str
) -> InlineKeyboardMarkup:
    rows = []
    if count:
        # i18n: edit the post where it is published; {count}: in how many places
        label = ngettext("✅ Edit in {count}", "✅ Edit in {count}", count).format(count=i18n.number(count))
        rows.append([button(label, POST, "ee_yes", revision_ref(post_id, revision, where, question))])
    rows.append([button(_("✖️ Keep it as it is"), POST, "details", post_ref(post_id, where))])
    return InlineKeyboardMarkup(rows)


def confirm_delete_everywhere_keyboard(post_id: str, revision: int, where: str, count: int) -> InlineKeyboardMarkup:
    rows = []
    if count:
        # i18n: delete the post where it is published; {count}: in how many places
        label = ngettext("🗑 Yes, delete in {count}", "🗑 Yes, delete in {count}", count).format(count=i18n.number(count))
        rows.append([button(label, POST, "del_yes", revision_ref(post_id, revision, where))])
    rows.append([button(_("✖️ Keep it"), POST, "details", post_ref(post_id, where))])
    return InlineKeyboardMarkup(rows)


# -- the posting schedule and its queue (/queue) -----------------------------------------------------
QUEUE = "queue"
# The time step's argument for "the next free slot" (New post: `new:when:queue`).
QUEUE_CHOICE = "queue"
# Common slots offered as buttons: (label, `mask-HHMM` where the mask marks Monday … Sunday).
SLOT_PRESETS = (
    (N_("Weekdays 09:00"), "1111100-0900"),
    (N_("Weekdays 18:00"), "1111100-1800"),
    (N_("Every day 12:00"), "1111111-1200"),
    (N_("Weekends 11:00"), "0000011-1100"),
)


def add_to_queue_row() -> list[InlineKeyboardButton]:
    """The time step's button that takes the next free slot of the posting schedule."""
    return [button(_("➕ Add to queue"), NEW, "when", QUEUE_CHOICE)]


def queue_keyboard(post_ids: list[str]) -> InlineKeyboardMarkup:
    """The queue: per post (numbered as listed) up, down, post now, remove; then shuffle and slots."""
    rows = [
        [
            button(f"{number} ⬆", QUEUE, "up", post_id),
            button(f"{number} ⬇", QUEUE, "down", post_id),
            # i18n: {number}: the post's number in the queue list
            button(_("{number} 🚀 Now").format(number=number), QUEUE, "now", post_id),
            button(f"{number} 🗑", QUEUE, "rm", post_id),
        ]
        for number, post_id in enumerate(post_ids, start=1)
    ]
    rows.append([button(_("🔀 Shuffle"), QUEUE, "shuffle"), button(_("🗓 Slots"), QUEUE, "slots")])
    rows.append([button(_("🔄 Refresh"), QUEUE, "show")])
    return InlineKeyboardMarkup(rows)


def queue_remove_keyboard(post_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[button(_("🗑 Yes, remove"), QUEUE, "rm_yes", post_id), button(pgettext("button", "Keep it"), QUEUE, "show")]]
    )


def slots_keyboard(slots: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    """The posting schedule: each slot (label, code) a button that removes it, then add and clear."""
    buttons = [button(f"✖ {label}", QUEUE, "slot_rm", code) for label, code in slots]
    rows = [buttons[start : start + 3] for start in range(0, len(buttons), 3)]
    rows.append([button(_("➕ Add slots"), QUEUE, "add"), button(_("🎯 For chosen targets"), QUEUE, "for")])
    if slots:
        rows.append([button(_("🗑 Clear all"), QUEUE, "clear")])
    rows.append([button(_("◀ Queue"), QUEUE, "show")])
    return InlineKeyboardMarkup(rows)


def slot_presets_keyboard() -> InlineKeyboardMarkup:
    rows = [[button(_(label), QUEUE, "preset", code)] for label, code in SLOT_PRESETS]
    rows.append([button(_("◀ Slots"), QUEUE, "slots")])
    return InlineKeyboardMarkup(rows)


def clear_slots_keyboard() -> InlineKeyboardMarkup:
    # i18n: keep the posting schedule's slots as they are
    keep = button(pgettext("button", "Keep"), QUEUE, "slots")
    return InlineKeyboardMarkup([[button(_("🗑 Yes, remove all"), QUEUE, "clear_yes"), keep]])


def no_slots_keyboard() -> InlineKeyboardMarkup:
    """Under "no posting schedule yet": the way to set one up."""
    return InlineKeyboardMarkup([[button(_("🗓 Set up slots"), QUEUE, "slots")]])


# -- batch scheduling (/batch) -------------------------------------------------------------------------
BATCH = "batch"


def on_screen(markup: InlineKeyboardMarkup, screen: str) -> InlineKeyboardMarkup:
    """New post's keyboard (the account or targets step) for another conversation: its `new:`
    buttons carry `screen:` instead; other buttons (Reconnect) stay as they are."""
    prefix = f"{NEW}:"
    rows = [
        [
            InlineKeyboardButton(one.text, callback_data=f"{screen}:{one.callback_data[len(prefix) :]}")
            if isinstance(one.callback_data, str) and one.callback_data.startswith(prefix)
            else one
            for one in row
        ]
        for row in markup.inline_keyboard
    ]
    return InlineKeyboardMarkup(rows)


def batch_collect_keyboard(posts: int) -> InlineKeyboardMarkup:
    # i18n: {count}: how many posts the batch has
    done = _("✅ Done ({count})").format(count=i18n.number(posts))
    return InlineKeyboardMarkup([[button(done, BATCH, "done"), button(_("✖️ Cancel"), BATCH, "cancel")]])


def batch_when_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [button(_("📥 Into the next free slots"), BATCH, "slots")],
            [button(_("⏱ At intervals from a time"), BATCH, "interval")],
            [button(_("✖️ Cancel"), BATCH, "cancel")],
        ]
    )


def batch_confirm_keyboard(posts: int) -> InlineKeyboardMarkup:
    # i18n: {count}: how many posts the batch has
    schedule = ngettext("✅ Schedule all {count}", "✅ Schedule all {count}", posts).format(count=i18n.number(posts))
    return InlineKeyboardMarkup(
        [
            [button(schedule, BATCH, "go")],
            [button(_("🕒 Other times"), BATCH, "when"), button(_("✖️ Cancel"), BATCH, "cancel")],
        ]
    )


# -- /import ------------------------------------------------------------------------------------
IMPORT = "imp"


def import_keyboard(good: int, plan_id: str) -> InlineKeyboardMarkup:
    """Under an import's preview: store the good rows (this preview's, `plan_id`), or cancel."""
    store = ngettext("✅ Store {count} post", "✅ Store {count} posts", good).format(count=i18n.number(good))
    rows = [[button(store, IMPORT, "go", plan_id)]] if good else []
    rows.append(import_cancel_row())
    return InlineKeyboardMarkup(rows)


def import_cancel_row() -> list[InlineKeyboardButton]:
    return [button(_("✖️ Cancel import"), IMPORT, "no")]


def import_cancel_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([import_cancel_row()])


def delivery_option_rows(silent_label: str, protect_label: str, after_label: str) -> list[list[InlineKeyboardButton]]:
    """The preview's buttons of the delivery options: silent and protected (each a toggle), and
    what happens after publishing (the presets)."""
    return [
        [button(silent_label, NEW, "silent"), button(protect_label, NEW, "protect")],
        [button(after_label, NEW, "after")],
    ]


def after_publishing_keyboard(presets: list[tuple[str, str]], current: str | None) -> InlineKeyboardMarkup:
    """The presets of what happens after publishing ((label, code) each; the current one ticked),
    and the way back to the preview."""
    rows = [[button(("✅ " if code == current else "") + label, NEW, "after_set", code)] for label, code in presets]
    rows.append([button(_("◀ Back to the preview"), NEW, "back")])
    return InlineKeyboardMarkup(rows)


# -- Recurring series: the Repeat… side of New post's time step, and a series' screen --------------
SERIES = "ser"
REPEAT_TIMES = ("0900", "1200", "1800")
REPEAT_COUNTS = (5, 10, 20, 52)


def repeat_row() -> list[InlineKeyboardButton]:
    """The time step's way into a repeating time."""
    return [button(_("🔁 Repeat…"), NEW, "repeat")]


def repeat_back_row() -> list[InlineKeyboardButton]:
    return [button(_("◀ One-off time"), NEW, "rp_back"), *cancel_row()]


def repeat_back_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([repeat_back_row()])


def repeat_kind_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                button(pgettext("button", "Every day"), NEW, "rp_kind", "daily"),
                button(pgettext("button", "Chosen weekdays"), NEW, "rp_kind", "weekdays"),
            ],
            [
                button(pgettext("button", "Every N weeks"), NEW, "rp_kind", "weeks"),
                button(pgettext("button", "A day of the month"), NEW, "rp_kind", "monthly"),
            ],
            repeat_back_row(),
        ]
    )


def repeat_weekdays_keyboard(chosen: list[int]) -> InlineKeyboardMarkup:
    """One toggle per weekday (✅ when chosen), then Done."""
    days = [
        button(("✅ " if day in chosen else "") + label, NEW, "rp_day", str(day))
        for day, label in enumerate(i18n.weekday_names())
    ]
    return InlineKeyboardMarkup(
        [
            days[:4],
            days[4:],
            # i18n: {count}: how many weekdays are chosen
            [button(pgettext("button", "Done ({count})").format(count=i18n.number(len(chosen))), NEW, "rp_days_ok")],
            repeat_back_row(),
        ]
    )


def repeat_weeks_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                button(
                    ngettext("Every {count} week", "Every {count} weeks", n).format(count=i18n.number(n)),
                    NEW,
                    "rp_every",
                    str(n),
                )
                for n in (2, 3, 4)
            ],
            repeat_back_row(),
        ]
    )


def repeat_month_day_keyboard() -> InlineKeyboardMarkup:
    days = [button(str(day), NEW, "rp_mday", str(day)) for day in range(1, 32)]
    rows = [days[start : start + 7] for start in range(0, 31, 7)]
    return InlineKeyboardMarkup([*rows, repeat_back_row()])


def repeat_at_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[button(f"{at[:2]}:{at[2:]}", NEW, "rp_at", at) for at in REPEAT_TIMES], repeat_back_row()]
    )


def repeat_end_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [button(pgettext("button", "Never"), NEW, "rp_end", "never")],
            [
                button(pgettext("button", "On a date…"), NEW, "rp_end", "date"),
                button(pgettext("button", "After N times…"), NEW, "rp_end", "count"),
            ],
            repeat_back_row(),
        ]
    )


def repeat_count_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                button(
                    ngettext("{count} time", "{count} times", n).format(count=i18n.number(n)), NEW, "rp_count", str(n)
                )
                for n in REPEAT_COUNTS
            ],
            repeat_back_row(),
        ]
    )


def series_scheduled_keyboard(series_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(_("🔁 Open the series"), SERIES, "show", series_id)]])


def series_keyboard(series_id: str, status: str, next_number: int | None) -> InlineKeyboardMarkup:
    """What can be done with a series in its status (skip names the occurrence it skips, so a
    press after that occurrence went out is refused, not applied to the next one)."""
    rows = []
    if status == "active":
        row = [button(_("⏸ Pause"), SERIES, "pause", series_id)]
        if next_number is not None:
            row.append(button(_("⏭ Skip next"), SERIES, "skip", f"{series_id}/{next_number}"))
        rows.append(row)
    if status == "paused":
        rows.append([button(_("▶️ Resume"), SERIES, "resume", series_id)])
    if status != "ended":
        rows.append(
            [
                button(_("✏️ Edit text"), SERIES, "caption", series_id),
                button(_("🕒 Edit times"), SERIES, "rule", series_id),
            ]
        )
        rows.append([button(_("⏹ End series"), SERIES, "end", series_id)])
    rows.append(
        [button(_("◀ Back to the list"), HIST, "list", "u0"), button(_("🔄 Refresh"), SERIES, "open", series_id)]
    )
    return InlineKeyboardMarkup(rows)


def confirm_end_series_keyboard(series_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                button(pgettext("button", "Yes, end it"), SERIES, "end_yes", series_id),
                button(pgettext("button", "Keep it"), SERIES, "open", series_id),
            ]
        ]
    )


def resume_series_keyboard(series_id: str) -> list[InlineKeyboardButton]:
    """Under a report: the series' screen comes as a new message, the report stays."""
    return [button(_("▶️ Resume the series"), SERIES, "resume_new", series_id)]


def series_edit_keyboard(action: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(_("✖️ Keep it"), SERIES, action)]])


def series_button(label: str, series_id: str, action: str = "open") -> list[InlineKeyboardButton]:
    """A series' button: `open` edits the list into its screen, `show` sends the screen anew."""
    return [button(label, SERIES, action, series_id)]
