"""Everything the bot says, in one place."""

from __future__ import annotations

from html import escape

WELCOME = (
    "👋 <b>Herald</b> schedules posts — a caption and up to ten photos — to many channels, "
    "groups and pages at once, publishes them at the time you choose, and tells you here "
    "what happened.\n\nWhat would you like to do?"
)
HELP = (
    "<b>How Herald works</b>\n"
    "1. Add me as an <b>administrator</b> to your channels and groups — they become your targets.\n"
    "2. /new — pick the account, the targets, photos and a caption, then a time.\n"
    "3. At that time I publish and report back: published, partly published (with the reason "
    "for each failure) or failed.\n\n"
    "/new — schedule a post\n"
    "/scheduled — upcoming posts and history\n"
    "/accounts — connected accounts\n"
    "/posters — saved content\n"
    "/timezone — your time zone\n"
    "/cancel — leave what you are doing"
)
COMMANDS = [
    ("new", "Schedule a new post"),
    ("scheduled", "Upcoming posts and history"),
    ("accounts", "Connected accounts"),
    ("posters", "Saved content"),
    ("timezone", "Set your time zone"),
    ("help", "How Herald works"),
    ("cancel", "Leave what you are doing"),
]
NOT_ALLOWED = (
    "Sorry, this Herald bot is private and you are not on its list of users. "
    "Ask its owner to add your Telegram id ({user_id}) to ALLOWED_USER_IDS."
)
SOMETHING_WENT_WRONG = (
    "😕 Sorry — something went wrong on my side. What you had entered is kept; "
    "try again, or /cancel to start over."
)
STALE_BUTTON = "This button belongs to something that is already finished. Start again with /new."
WRONG_STEP_BUTTON = "That button is from an earlier step — please use the latest message."
WHAT_NOW = "I'm not waiting for anything just now. Pick an action, or see /help."
NOTHING_TO_CANCEL = "There is nothing to cancel. /new schedules a post."
CANCELLED = "Cancelled — nothing was saved."
NOT_YOURS = "I can't find that among yours."
COMING_SOON = "This part of Herald is not ready yet — it is coming soon."

# -- New post: account and targets ------------------------------------------------------------
CHOOSE_ACCOUNT = "<b>New post</b> · step 1 of 5\nWhich account should publish it?"
TELEGRAM_ACCOUNT_NAME = "Telegram (this bot)"
ADD_ACCOUNT_HINT = "Connected accounts are managed with /accounts."
NO_TARGETS = (
    "I'm not an administrator in any channel or group that you administer.\n\n"
    "Add me to a channel or group as an <b>administrator</b> (with the right to post), "
    "then tap <b>Refresh</b>."
)
NO_ACCOUNT_TARGETS = "This account has no targets. Refresh them with /accounts."
TARGET_NOT_ALLOWED = "That target isn't one of yours — nothing changed."
TARGET_LOST = "You or I are no longer an administrator in {names}; I've taken it off the list."
PICK_ONE_TARGET = "Pick at least one target first."


def choose_targets(account_name: str, selected: int, total: int) -> str:
    return (
        f"<b>New post</b> · step 2 of 5\nAccount: {escape(account_name)}\n"
        f"Where should it go? Tap to select ({selected} of {total} selected)."
    )


# -- New post: content ------------------------------------------------------------------------
ASK_CONTENT = (
    "<b>New post</b> · step 3 of 5\nSend the photos — as an album or one by one, up to 10; "
    "a photo's own caption becomes that image's caption.\n"
    "Then send the <b>main caption</b> as a message.\n\n"
    "Or tap <b>No images</b> for a text post, or pick a saved poster."
)
ASK_TEXT_ONLY = "A text post, then. Send its text."
ASK_CAPTION_AFTER_PHOTOS = "Now send the main caption, or tap <b>No caption</b>."
TOO_MANY_IMAGES = "A post holds at most 10 images — {count} are already in; the extra one was not added."
NOT_A_PHOTO = (
    "I need photos sent as <b>photos</b> (not as files or stickers), or the caption as text."
)
EMPTY_TEXT_POST = "A post without images needs some text. Send the text, or send photos."
TEXT_TOO_LONG = (
    "That text is {length:,} characters; Telegram allows {limit:,} in one message. "
    "Please shorten it and send it again."
)
CAPTION_OVER_PHOTO_LIMIT = (
    "ℹ️ Your caption is {length:,} characters — more than the 1,024 a photo caption can hold, "
    "so it will go out as the album followed by a text message."
)
POSTER_MISSING = "That poster no longer exists."


def photos_received(count: int) -> str:
    noun = "photo" if count == 1 else "photos"
    return f"📷 {count} {noun} in. Send more (up to 10) or the main caption."


def poster_chosen(name: str) -> str:
    return f"Using the poster <b>{escape(name)}</b>."


# -- New post: time ---------------------------------------------------------------------------
def ask_time(zone: str) -> str:
    return (
        "<b>New post</b> · step 4 of 5\nWhen should it go out? Tap a time or type one in your zone "
        f"({escape(zone)}): <code>2026-12-01 18:30</code>, <code>tomorrow 9am</code>, "
        "<code>in 2 hours</code>.\nYour zone can be changed with /timezone."
    )


TIME_PROBLEMS = {
    "past": "That time is in the past. Please send a time in the future.",
    "too_far": "That is more than a year ahead; Herald schedules up to one year. Please pick an earlier time.",
    "unreadable": (
        "I couldn't read that as a time. Try <code>2026-12-01 18:30</code>, "
        "<code>tomorrow 9am</code> or <code>in 2 hours</code>."
    ),
}


# -- New post: preview and saved --------------------------------------------------------------
def preview(when_text: str, relative: str, target_names: list[str], images: int) -> str:
    targets = ", ".join(escape(name) for name in target_names)
    noun = "target" if len(target_names) == 1 else "targets"
    content = f"{images} image(s)" if images else "text only"
    return (
        "<b>New post</b> · step 5 of 5 — preview above.\n"
        f"🕒 {escape(when_text)} — {relative}\n"
        f"🎯 {len(target_names)} {noun}: {targets}\n"
        f"🖼 {content}\n\nSchedule it?"
    )


def scheduled(short_id: str, when_text: str, targets: int) -> str:
    noun = "target" if targets == 1 else "targets"
    return f"✅ Scheduled #{short_id} for {escape(when_text)} to {targets} {noun}."


def confirm_cancel(short_id: str) -> str:
    return f"Cancel post #{short_id}? It will not be published."


def post_cancelled(short_id: str) -> str:
    return f"🚫 Post #{short_id} is cancelled; it will not be published."


def cannot_cancel(short_id: str, status: str) -> str:
    return f"Post #{short_id} can no longer be cancelled: it is {status}."


POST_KEPT = "Kept — it stays scheduled."
TIME_GONE_PAST = "The time you picked has passed meanwhile. Please choose the time again."

# -- Settings ---------------------------------------------------------------------------------
def ask_timezone(current: str) -> str:
    return (
        f"Your time zone is <b>{escape(current)}</b>.\nSend a city or zone to change it — "
        "for example <code>Berlin</code> or <code>America/New_York</code> — or /cancel."
    )


def timezone_set(zone: str, now_text: str) -> str:
    return f"🕒 Time zone set to <b>{escape(zone)}</b>. It is now {escape(now_text)} there."


TIMEZONE_UNKNOWN = "I don't know a time zone by that name. Try a big city near you, or a zone like Europe/Paris."
TIMEZONE_PICK = "Several zones match — which one?"


# -- Publication reports ----------------------------------------------------------------------
def report_headline(short_id: str, status: str, sent: int, total: int) -> str:
    if status == "published":
        return f"✅ Published #{short_id} to {sent}/{total} targets"
    if status == "partial":
        return f"⚠️ Partly published #{short_id}: {sent}/{total}"
    return f"❌ Failed #{short_id}: {sent}/{total}"


def report_failure(name: str, reason: str) -> str:
    return f"• {escape(name)}: {escape(reason)}"


def report_link(name: str, url: str) -> str:
    return f'• <a href="{escape(url, quote=True)}">{escape(name)}</a>'


def report_unconfirmed_hint() -> str:
    return "❓ Unconfirmed targets may already show the post: check them before retrying."


# -- Details and retry ------------------------------------------------------------------------
DELIVERY_BADGES = {
    "pending": "⏳",
    "sending": "📤",
    "sent": "✅",
    "failed": "❌",
    "unconfirmed": "❓",
    "awaiting_you": "🙋",
    "missed": "⌛",
}
POST_BADGES = {
    "scheduled": "🕒",
    "publishing": "📤",
    "published": "✅",
    "partial": "⚠️",
    "failed": "❌",
    "cancelled": "🚫",
}


def confirm_retry(short_id: str, failed: int, unconfirmed: int) -> str:
    text = f"Send post #{short_id} again to its {failed + unconfirmed} failed target(s)?"
    if unconfirmed:
        text += (
            f"\n❓ {unconfirmed} of them are <b>unconfirmed</b>: the post may already be live there, "
            "and retrying could show it twice."
        )
    return text


def retry_scheduled(short_id: str, targets: int) -> str:
    return f"🔁 Retrying #{short_id} now for {targets} target(s). I'll report back."


def cannot_retry(short_id: str, status: str) -> str:
    return f"Post #{short_id} has nothing to retry: it is {status}."


# -- Accounts ---------------------------------------------------------------------------------
PLATFORM_NAMES = {
    "telegram": "Telegram",
    "facebook_page": "Facebook Pages",
    "facebook_groups": "Facebook groups (by hand)",
    "webhook": "Webhook",
}


def accounts_list(lines: list[str]) -> str:
    return "🔑 <b>Your accounts</b>\n" + "\n".join(lines) + "\n\nTap one to see its targets, or add another."


def account_line(name: str, platform: str, targets: int, needs_reconnect: bool) -> str:
    warning = " ⚠️ <b>needs reconnecting</b>" if needs_reconnect else ""
    noun = "target" if targets == 1 else "targets"
    return f"• {escape(name)} — {PLATFORM_NAMES.get(platform, platform)}, {targets} {noun}{warning}"


def account_details(name: str, platform: str, target_names: list[str], needs_reconnect: bool) -> str:
    lines = [f"<b>{escape(name)}</b> — {PLATFORM_NAMES.get(platform, platform)}"]
    if needs_reconnect:
        lines.append("⚠️ The platform refused this account's credential: send a new one with Reconnect.")
    lines.extend(f"• {escape(target)}" for target in target_names)
    if not target_names:
        lines.append("No targets.")
    return "\n".join(lines)


CHOOSE_PLATFORM = "Which kind of account do you want to connect?"
ASK_FACEBOOK_TOKEN = (
    "Paste a <b>Page access token</b>, or a <b>user access token</b> with the "
    "<code>pages_manage_posts</code> permission (its Pages are found for you).\n"
    "I delete your message as soon as it arrives and keep the token encrypted. /cancel to stop."
)
CHECKING = "🔒 Got it — your message with the credential is deleted. Checking it…"


def facebook_connected(page_names: list[str]) -> str:
    pages = ", ".join(escape(name) for name in page_names)
    return f"✅ Facebook connected: {len(page_names)} Page(s) — {pages}. They are now targets for /new."


FACEBOOK_NO_PAGES = "That token works, but it manages no Facebook Page. Send another token, or /cancel."


def credential_refused(reason: str) -> str:
    return f"❌ That did not work: {escape(reason)}\nSend another, or /cancel."


ASK_WEBHOOK_URL = (
    "Send the webhook's <b>URL</b> (https://…). Herald POSTs each post there as JSON, signed with "
    "HMAC-SHA256 in the <code>X-Herald-Signature</code> header. /cancel to stop."
)


def webhook_url_refused(reason: str) -> str:
    return f"That URL can't be used: {escape(reason)}. Send another, or /cancel."


ASK_WEBHOOK_SECRET = (
    "Now send the <b>signing secret</b> your receiver checks (at least 16 characters). "
    "I delete your message at once and keep the secret encrypted."
)
WEBHOOK_SECRET_SHORT = "That secret is too short — use at least 16 characters. Send another, or /cancel."


def webhook_connected(url_host: str, problem: str | None) -> str:
    if problem:
        return f"✅ Webhook to {escape(url_host)} saved. ⚠️ A test delivery failed: {escape(problem)}"
    return f"✅ Webhook to {escape(url_host)} saved, and a signed test delivery was accepted."


ASK_FACEBOOK_GROUPS = (
    "Since 22 April 2024 no app can publish to Facebook <b>groups</b>, so Herald does it with you: "
    "at the time, I send you the post ready to paste, with an <b>Open group</b> button.\n\n"
    "Send each group's link (https://www.facebook.com/groups/…) or name, one per message; "
    "tap <b>Done</b> when finished."
)


def facebook_group_added(name: str, count: int) -> str:
    return f"➕ {escape(name)} added ({count} so far). Send another, or tap Done."


FACEBOOK_GROUPS_EMPTY = "Send at least one group's link or name first, or /cancel."


def facebook_groups_saved(count: int) -> str:
    return f"✅ {count} Facebook group(s) saved. Pick them in /new like any other target."


def confirm_remove_account(name: str) -> str:
    return f"Remove <b>{escape(name)}</b>? Its scheduled posts will be cancelled."


def account_removed(name: str, cancelled: int) -> str:
    return f"🗑 {escape(name)} removed; {cancelled} scheduled post(s) cancelled."


def account_refreshed(count: int) -> str:
    return f"🔄 Targets refreshed: {count} found."


ACCOUNT_GONE = "That account no longer exists."
CANNOT_REMOVE_TELEGRAM = "The Telegram account is this bot itself; remove the bot from a chat to drop that target."


def needs_reconnect_warning(name: str) -> str:
    return f"⚠️ {escape(name)} needs reconnecting: the platform refused its credential. Fix it in /accounts first."


# -- Facebook groups, posted by hand ----------------------------------------------------------
def hand_post(short_id: str, group: str) -> str:
    return (
        f"🙋 Time to post #{short_id} in the Facebook group <b>{escape(group)}</b>: save the photos above "
        "(or forward them), copy the caption below, open the group and post. Then tap <b>I posted it</b>."
    )


def hand_posted(group: str) -> str:
    return f"👍 Marked as posted in {escape(group)}."


HAND_POST_NOT_WAITING = "That post is not waiting for you any more."
