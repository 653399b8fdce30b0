"""Inline keyboards, and the callback data their buttons carry (`screen:action[:argument]`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from storage.models import Account, Poster, Target

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
            [button("📝 New post", MENU, "new")],
            [button("🗓 Scheduled & history", MENU, "scheduled")],
            [button("🔑 Accounts", MENU, "accounts"), button("🖼 Posters", MENU, "posters")],
            [button("⚙️ Settings", MENU, "settings")],
        ]
    )


def cancel_row() -> list[InlineKeyboardButton]:
    return [button("✖️ Cancel", NEW, "cancel")]


def accounts_keyboard(accounts: list[Account]) -> InlineKeyboardMarkup:
    rows = [[button(f"{account.name}", NEW, "acct", account.account_id)] for account in accounts]
    rows.append([button("➕ Add account", NEW, "add_account")])
    rows.append(cancel_row())
    return InlineKeyboardMarkup(rows)


def targets_keyboard(targets: list[Target], selected: set[str], page: int) -> InlineKeyboardMarkup:
    pages = max(1, -(-len(targets) // TARGETS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = targets[page * TARGETS_PER_PAGE : (page + 1) * TARGETS_PER_PAGE]
    rows = [
        [button(("✅ " if t.target_id in selected else "▫️ ") + t.name, NEW, "t", t.target_id)]
        for t in shown
    ]
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
            button("Clear all" if all_selected else "Select all", NEW, "all"),
            button(f"Done ({len(selected)})", NEW, "done"),
        ]
    )
    rows.append([button("🔄 Refresh", NEW, "refresh"), *cancel_row()])
    return InlineKeyboardMarkup(rows)


def no_targets_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button("🔄 Refresh", NEW, "refresh")], cancel_row()])


def content_keyboard(posters: list[Poster], images: int) -> InlineKeyboardMarkup:
    rows = [[button(f"🖼 {poster.name}", NEW, "poster", poster.poster_id)] for poster in posters[:8]]
    if images:
        rows.append([button("No caption", NEW, "nocap")])
    else:
        rows.append([button("No images (text post)", NEW, "noimg")])
    rows.append(cancel_row())
    return InlineKeyboardMarkup(rows)


def time_keyboard(show_today: bool) -> InlineKeyboardMarkup:
    quick = [button("In 1 hour", NEW, "when", "1h")]
    if show_today:
        quick.append(button("Today 18:00", NEW, "when", "today18"))
    return InlineKeyboardMarkup(
        [
            quick,
            [button("Tomorrow 09:00", NEW, "when", "tomorrow9"), button("Post now", NEW, "when", "now")],
            cancel_row(),
        ]
    )


def preview_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [button("✅ Schedule", NEW, "go")],
            [button("🕒 Change time", NEW, "chtime"), button("✖️ Cancel", NEW, "cancel")],
        ]
    )


def scheduled_keyboard(post_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button("🚫 Cancel post", POST, "cancel", post_id)]])


def confirm_cancel_keyboard(post_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[button("Yes, cancel it", POST, "cancel_yes", post_id), button("Keep it", POST, "keep", post_id)]]
    )


def timezone_keyboard(zones: list[str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button(zone, TZ, "set", zone)] for zone in zones[:8]])


def report_keyboard(post_id: str, can_retry: bool) -> InlineKeyboardMarkup:
    row = [button("🔎 Details", POST, "details", post_id)]
    if can_retry:
        row.append(button("🔁 Retry failed", POST, "retry", post_id))
    return InlineKeyboardMarkup([row])


def confirm_retry_keyboard(post_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[button("Yes, retry", POST, "retry_yes", post_id), button("Not now", POST, "keep_result", post_id)]]
    )


ACC = "acc"


def accounts_list_keyboard(accounts: list[Account]) -> InlineKeyboardMarkup:
    rows = [
        [button(("⚠️ " if account.needs_reconnect else "") + account.name, ACC, "show", account.account_id)]
        for account in accounts
    ]
    rows.append([button("➕ Add account", ACC, "add")])
    return InlineKeyboardMarkup(rows)


def platform_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [button("Facebook Page", ACC, "platform", "facebook_page")],
            [button("Facebook groups (by hand)", ACC, "platform", "facebook_groups")],
            [button("Webhook (Discord, Slack, n8n…)", ACC, "platform", "webhook")],
            [button("✖️ Cancel", ACC, "cancel")],
        ]
    )


def account_keyboard(account: Account) -> InlineKeyboardMarkup:
    rows = []
    if account.platform.value == "facebook_page":
        rows.append([button("🔄 Refresh targets", ACC, "refresh", account.account_id)])
        rows.append([button("🔑 Reconnect", ACC, "reconnect", account.account_id)])
    if account.account_id != "telegram":
        rows.append([button("🗑 Remove", ACC, "remove", account.account_id)])
    rows.append([button("◀ Back", ACC, "list")])
    return InlineKeyboardMarkup(rows)


def confirm_remove_keyboard(account_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[button("Yes, remove it", ACC, "remove_yes", account_id), button("Keep it", ACC, "show", account_id)]]
    )


def groups_done_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button("✅ Done", ACC, "groups_done"), button("✖️ Cancel", ACC, "cancel")]])


def hand_post_keyboard(group_url: str | None, post_id: str, target_id: str) -> InlineKeyboardMarkup:
    row = [button("✅ I posted it", POST, "posted", f"{post_id}/{target_id}")]
    if group_url:
        row.insert(0, InlineKeyboardButton("Open group", url=group_url))
    return InlineKeyboardMarkup([row])
