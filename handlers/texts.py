"""Everything the bot says, in one place."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from publishers.telegram_layout import CAPTION_LIMIT, DOWNLOAD_LIMIT_MB, TEXT_LIMIT
from publishers.webhook import MIN_SECRET
from storage.models import MAX_IMAGES

# Telegram counts its limits in UTF-16 code units; said to people this way.
AS_TELEGRAM_COUNTS = "as Telegram counts them (most emoji count as 2)"


def plural(count: int, noun: str, many: str = "") -> str:
    """`count` and the noun as people say it: "1 target", "3 targets" (`many` when not noun + s)."""
    return f"{count:,} {noun if count == 1 else many or noun + 's'}"


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
    "/cancel — leave what you are doing\n\n"
    "<b>What a post can hold</b>\n"
    "• Text formatted in Telegram's own editor — bold, italic, underline, strikethrough, spoilers, "
    "links, quotes, code: it goes out exactly as you typed it.\n"
    f"• Up to {MAX_IMAGES} photos, videos, GIFs, files or audio files. Photos and videos share an album; "
    "files only with files and audio only with audio, as Telegram allows; a GIF goes on its own.\n"
    "• Buttons under the post: on the preview, tap <b>🔘 Buttons</b> and send one row per line, "
    "<code>|</code> between the buttons of a row:\n"
    "<code>Order now - https://shop.example\n"
    "Menu - https://shop.example/menu | Promo code - copy: SPRING10</code>\n"
    "A link starts with https://, http:// or tg://; <code>copy:</code> makes a button that copies its "
    "text (a promo code). Under an album the buttons go on a short message of their own.\n"
    "• The link preview: shown, hidden, above the text or with a large picture — on the preview."
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
    "😕 Sorry — something went wrong on my side. What you had entered is kept; try again, or /cancel to start over."
)
STALE_BUTTON = "This button belongs to something that is already finished. Start again with /new."
WRONG_STEP_BUTTON = "That button is from an earlier step — please use the latest message."
WHAT_NOW = "I'm not waiting for anything just now. Pick an action, or see /help."
NOTHING_TO_CANCEL = "There is nothing to cancel. /new schedules a post."
CANCELLED = "Cancelled — nothing was saved."
NOT_YOURS = "I can't find that among yours."

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
    f"<b>New post</b> · step 3 of 5\nSend the photos — or videos, GIFs, files, audio — as an album or one "
    f"by one, up to {MAX_IMAGES}; a photo's own caption becomes that image's caption.\n"
    "Then send the <b>main caption</b> as a message — its bold, italic, links and spoilers go out as typed.\n\n"
    "Or tap <b>No images</b> for a text post, or pick a saved poster."
)
ASK_TEXT_ONLY = "A text post, then. Send its text."
ASK_CAPTION_AFTER_PHOTOS = "Now send the main caption, or tap <b>No caption</b>."
TOO_MANY_IMAGES = f"A post holds at most {MAX_IMAGES} images — {{count}} are already in; the extra one was not added."
NOT_A_PHOTO = (
    "I need photos, videos, GIFs, files or audio files — not stickers, voice messages or round videos — "
    "or the caption as text."
)
EMPTY_TEXT_POST = "A post without images needs some text. Send the text, or send photos."
POSTER_MISSING = "That poster no longer exists."
PHOTO_TOO_BIG = (
    f"This photo is too big for a bot to download (over {DOWNLOAD_LIMIT_MB} MB); send a smaller one. "
    "Everything you sent before it is kept."
)


def text_too_long(length: int) -> str:
    return (
        f"That text is {length:,} characters {AS_TELEGRAM_COUNTS}; Telegram allows {TEXT_LIMIT:,} "
        "in one message. Please shorten it and send it again."
    )


def caption_over_photo_limit(length: int) -> str:
    return (
        f"ℹ️ Your caption is {length:,} characters {AS_TELEGRAM_COUNTS} — more than the {CAPTION_LIMIT:,} "
        "a photo caption can hold, so it will go out as the album followed by a text message."
    )


def photo_caption_cut(number: int, length: int) -> str:
    return (
        f"ℹ️ The caption of photo {number} is {length:,} characters {AS_TELEGRAM_COUNTS}; a bot can put "
        f"{CAPTION_LIMIT:,} under a photo, so it will be cut there (the preview shows how). To keep it "
        "whole, send it as the main caption instead."
    )


def photos_received(count: int) -> str:
    return f"📷 {plural(count, 'photo')} in. Send more (up to {MAX_IMAGES}) or the main caption."


def poster_chosen(name: str) -> str:
    return f"Using the poster <b>{escape(name)}</b>."


# -- New post: time ---------------------------------------------------------------------------
def ask_time(zone: str, example: str) -> str:
    return (
        "<b>New post</b> · step 4 of 5\nWhen should it go out? Tap a time or type one in your zone "
        f"({escape(zone)}): <code>{escape(example)}</code>, <code>tomorrow 9am</code>, "
        "<code>in 2 hours</code>.\nYour zone can be changed with /timezone."
    )


def time_problem(problem: str, typed: str, example: str) -> str:
    """Why a typed time cannot be used; `typed` is the part at fault, `example` a good time."""
    shown = f"<code>{escape(typed)}</code>"
    reasons = {
        "past": "That time is in the past. Please send a time in the future.",
        "too_far": "That is more than a year ahead; Herald schedules up to one year. Please pick an earlier time.",
        "bad_hour": (
            f"{shown} is not a time: hours go from 00 to 23 (or 1 to 12 with am/pm). Please send the time again."
        ),
        "bad_minute": f"{shown} is not a time: minutes go from 00 to 59. Please send the time again.",
        "bad_month": (
            f"{shown} is not a date: I read dates as day/month, and months go from 1 to 12. "
            f"Please send the date again, e.g. <code>{escape(example)}</code>."
        ),
        "no_such_day": f"There is no {escape(typed)}. Please send another date.",
    }
    return reasons.get(
        problem,
        f"I couldn't read that as a time. Try <code>{escape(example)}</code>, "
        "<code>tomorrow 9am</code> or <code>in 2 hours</code>.",
    )


def time_missing(day_text: str, example: str) -> str:
    return f"At what time on {escape(day_text)}? Send the day with a time, e.g. <code>{escape(example)}</code>."


def dst_gap(typed: str, day_text: str, zone: str, shifted: str) -> str:
    return (
        f"{escape(typed)} does not exist on {escape(day_text)} in {escape(zone)} (clocks go forward); "
        f"did you mean {escape(shifted)}? Tap to confirm, or type another time."
    )


def confirm_shifted_time(shifted: str) -> str:
    return f"✅ Yes, {shifted}"


def repeated_time(wall: str, day_text: str, zone: str, which: str, offset: str) -> str:
    return (
        f"ℹ️ {escape(wall)} happens twice on {escape(day_text)} in {escape(zone)} (clocks go back); "
        f"this is the {which} one, at {offset}."
    )


# -- New post: preview and saved --------------------------------------------------------------
def preview(
    when_text: str,
    relative: str,
    target_names: list[str],
    images: int,
    time_note: str = "",
    media: str = "",
    notes: Sequence[str] = (),
    schedule: str = "",
) -> str:
    """The preview's summary under the content; `media` names the media by kind, `notes` are lines
    on its buttons, link preview and what other platforms show otherwise (HTML, escaped);
    `schedule` (HTML), when given, says when it goes out instead of the time (a repeating one)."""
    targets = ", ".join(escape(name) for name in target_names)
    content = media or (plural(images, "image") if images else "text only")
    note = f"\n{time_note}" if time_note else ""
    extra = "".join(f"\n{line}" for line in notes)
    when = schedule or f"🕒 {escape(when_text)} — {relative}{note}"
    return (
        "<b>New post</b> · step 5 of 5 — preview above.\n"
        f"{when}\n"
        f"🎯 {plural(len(target_names), 'target')}: {targets}\n"
        f"🖼 {content}{extra}\n\nSchedule it?"
    )


def scheduled(short_id: str, when_text: str, targets: int) -> str:
    return f"✅ Scheduled #{short_id} for {escape(when_text)} to {plural(targets, 'target')}."


def confirm_cancel(short_id: str) -> str:
    return f"Cancel post #{short_id}? It will not be published."


def post_cancelled(short_id: str) -> str:
    return f"🚫 Post #{short_id} is cancelled; it will not be published."


def cannot_cancel(short_id: str, status: str) -> str:
    return f"Post #{short_id} can no longer be cancelled: it is {status}."


POST_KEPT = "Kept — it stays scheduled."
TIME_GONE_PAST = "The time you picked has passed meanwhile. Please choose the time again."

# -- New post: what each step expects, and leaving a post in the making -----------------------
ACCOUNT_HINT = "Please pick an account with the buttons above, or /cancel."
TARGETS_HINT = "Please pick the targets with the buttons above, then tap Done — or /cancel."
TIME_HINT = "Please type a time or tap one of the buttons above."
PREVIEW_HINT = "Please tap Schedule, Change time or Cancel above."
DISCARD_DRAFT_QUESTION = "You have a post in the making. Discard it and start a new one?"
DRAFT_KEPT = "Kept — carry on with your post where you left off."
DRAFT_UNREADABLE = (
    "Sorry — Herald was updated and can't read the post you were making any more. "
    "Nothing was scheduled; please start it again with /new."
)


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
    """The first line of a report; `status` is the post's, or "unconfirmed" for a post that went
    nowhere for sure but may have gone everywhere it was not confirmed."""
    if status == "published":
        return f"✅ Published #{short_id} to {sent}/{plural(total, 'target')}"
    if status == "partial":
        return f"⚠️ Partly published #{short_id}: {sent}/{total}"
    if status == "unconfirmed":
        return f"❓ Not confirmed #{short_id}: {sent}/{total}"
    return f"❌ Failed #{short_id}: {sent}/{total}"


def report_failure(name: str, reason: str) -> str:
    return f"• {escape(name)}: {escape(reason)}"


def report_link(name: str, url: str) -> str:
    return f'• <a href="{escape(url, quote=True)}">{escape(name)}</a>'


def names_list(names: list[str], shown: int = 5) -> str:
    """Names for a sentence (escaped): "A", "A and B", "A, B and C", "A, B, C, D, E and 3 more"."""
    named = [escape(name) for name in names[:shown]]
    if len(names) > shown:
        return ", ".join(named) + f" and {len(names) - shown:,} more"
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def report_unconfirmed_hint(names: list[str]) -> str:
    return (
        f"❓ No answer came back from {names_list(names)}: the post may be there already. "
        "Check before retrying — a retry could post it twice."
    )


def report_tried_between(reason: str, since: str, until: str) -> str:
    return f"{reason} — tried from {since} to {until}"


def report_cut(lines: int) -> str:
    return f"… and {plural(lines, 'more line')}: see Details."


def delay_headline(short_id: str, waiting: int, total: int, since: str) -> str:
    return f"⏳ Post #{short_id} is delayed: {waiting} of {plural(total, 'target')} could not be reached since {since}."


def delay_until(deadline: str, zone: str) -> str:
    return f"I keep trying until {escape(deadline)} ({escape(zone)}) and will tell you how it ends."


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
    # Not a stored status: a post that reached no target for sure, but may have reached them all.
    "unconfirmed": "❓",
}


def confirm_retry(short_id: str, failed: int, unconfirmed: list[str], refused: list[str] | None = None) -> str:
    """Asks before a retry: to how many targets, which of them may show the post already
    (`unconfirmed`), and which still fail for an account that needs reconnecting (`refused`)."""
    kind = "failed or unconfirmed" if failed and unconfirmed else "unconfirmed" if unconfirmed else "failed"
    text = f"Send post #{short_id} again to its {plural(failed + len(unconfirmed), kind + ' target')}?"
    if unconfirmed:
        text += (
            f"\n❓ <b>It may post twice</b>: no answer came back from {names_list(unconfirmed)}, so the post "
            "may be there already. Check before you retry."
        )
    if refused:
        text += (
            f"\n🔑 {names_list(refused)}: the account still needs reconnecting, so a retry fails again. "
            "Tap Reconnect first."
        )
    return text


def retry_scheduled(short_id: str, targets: int) -> str:
    return f"🔁 Retrying #{short_id} now for {plural(targets, 'target')}. I'll report back."


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
    return f"• {escape(name)} — {PLATFORM_NAMES.get(platform, platform)}, {plural(targets, 'target')}{warning}"


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
    "I delete your message as soon as it arrives and keep the token encrypted. Tap Cancel to stop."
)
CHECKING = "🔒 Got it — your message with the credential is deleted. Checking it…"


def facebook_connected(page_names: list[str]) -> str:
    pages = ", ".join(escape(name) for name in page_names)
    return f"✅ Facebook connected: {plural(len(page_names), 'Page')} — {pages}. They are now targets for /new."


FACEBOOK_NO_PAGES = "That token works, but it manages no Facebook Page. Send another token, or tap Cancel."


def credential_refused(reason: str) -> str:
    """An existing account's credential refused when its targets were read again."""
    return f"❌ That did not work: {escape(reason)}"


ASK_WEBHOOK_URL = (
    "Send the webhook's <b>URL</b> (https://…). Herald POSTs each post there as JSON, signed with "
    "HMAC-SHA256 in the <code>X-Herald-Signature</code> header. Tap Cancel to stop."
)


def webhook_url_refused(reason: str) -> str:
    return f"That URL can't be used: {escape(reason)}. Send another, or tap Cancel."


ASK_WEBHOOK_SECRET = (
    f"Now send the <b>signing secret</b> your receiver checks (at least {MIN_SECRET} characters). "
    "I delete your message at once and keep the secret encrypted."
)
WEBHOOK_SECRET_SHORT = f"That secret is too short — use at least {MIN_SECRET} characters. Send another, or tap Cancel."


def webhook_connected(name: str, problem: str | None) -> str:
    if problem:
        return (
            f"✅ Webhook <b>{escape(name)}</b> saved. ⚠️ Its test delivery failed ({escape(problem)}): "
            "make sure the receiver is ready before its first post."
        )
    return f"✅ Webhook <b>{escape(name)}</b> saved. It is a target for /new now."


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
    return f"✅ {plural(count, 'Facebook group')} saved. Pick them in /new like any other target."


def confirm_remove_account(name: str) -> str:
    return f"Remove <b>{escape(name)}</b>? Its scheduled posts will be cancelled."


def account_removed(name: str, cancelled: int) -> str:
    return f"🗑 {escape(name)} removed; {plural(cancelled, 'scheduled post')} cancelled."


def account_refreshed(count: int) -> str:
    return f"🔄 Targets refreshed: {count} found."


ACCOUNT_GONE = "That account no longer exists."
CANNOT_REMOVE_TELEGRAM = "The Telegram account is this bot itself; remove the bot from a chat to drop that target."


def needs_reconnect_warning(name: str) -> str:
    return (
        f"⚠️ {escape(name)} needs reconnecting: the platform refused its credential, so posts through it "
        "fail until you send a new one. Tap Reconnect."
    )


# -- Accounts: what a token or a webhook's test delivery came to, names, leaving a question -------
def facebook_token_refused(reason: str) -> str:
    """A pasted token that cannot connect a new account, and why."""
    return f"❌ That token can't be used: {escape(reason)}.\nSend another token, or tap Cancel."


def reconnect_token_refused(name: str, reason: str) -> str:
    """A pasted token that cannot reconnect the account `name`, and why."""
    return f"❌ That token can't reconnect <b>{escape(name)}</b>: {escape(reason)}.\nSend another token, or tap Cancel."


def ask_reconnect_token(name: str) -> str:
    return (
        f"Paste a new token for <b>{escape(name)}</b>: a <b>Page access token</b>, or a <b>user access "
        "token</b> with the <code>pages_manage_posts</code> permission.\n"
        "I delete your message as soon as it arrives and keep the token encrypted. Tap Cancel to stop."
    )


ASK_WEBHOOK_SECRET_AGAIN = (
    f"Now send the <b>signing secret</b> for this URL (at least {MIN_SECRET} characters), or tap "
    "<b>Use the same secret</b> to keep the one you sent before."
)
CHECKING_WEBHOOK = "🔒 Sending a signed test delivery to check the address and the secret…"
WEBHOOK_ADDRESS_LOST = "Sorry — I could no longer read the address you sent. Please send the webhook's URL again."


def webhook_test_failed(host: str, problem: str) -> str:
    return (
        f"⚠️ The signed test delivery to {escape(host)} failed: {escape(problem)}.\n"
        "The URL may be mistyped, or the receiver not ready yet. <b>Save anyway</b>, or "
        "<b>Try another URL</b> (you can also just send it)."
    )


ACCOUNT_NAME_LIMIT = 64


def ask_webhook_name(host: str, test_accepted: bool) -> str:
    accepted = "✅ The webhook works: a signed test delivery was accepted.\n\n" if test_accepted else ""
    return (
        f"{accepted}What should this webhook be called? The name shows in /accounts, in New post and in "
        f"reports. Send a name (up to {ACCOUNT_NAME_LIMIT} characters), or tap <b>Use {escape(host)}</b>."
    )


def use_host(host: str) -> str:
    return f"Use {host}"


def ask_new_name(name: str) -> str:
    return (
        f"✏️ What should <b>{escape(name)}</b> be called? Send the new name (up to {ACCOUNT_NAME_LIMIT} "
        "characters); it shows in /accounts, in New post and in reports. Or tap Cancel."
    )


ACCOUNT_NAME_EMPTY = (
    f"A name needs at least one visible character. Send a name of 1 to {ACCOUNT_NAME_LIMIT} characters, or tap Cancel."
)


def account_name_too_long(length: int) -> str:
    return (
        f"That name is {length:,} characters long; the limit is {ACCOUNT_NAME_LIMIT}. "
        "Send a shorter one, or tap Cancel."
    )


def account_renamed(old: str, new: str, posts_keep_old: bool) -> str:
    text = f"✏️ <b>{escape(old)}</b> is now called <b>{escape(new)}</b>."
    if posts_keep_old:
        text += " Posts scheduled from now on go out under this name; those already scheduled keep the old one."
    return text


NAME_KEPT = "Kept — the name is unchanged."
CANNOT_RENAME_TELEGRAM = (
    "The Telegram account is this bot itself and keeps its name; your channels and groups show under their own titles."
)
ACCOUNT_ANSWER_HINT = "Please answer the question above — type the answer or tap one of its buttons — or tap Cancel."
ACCOUNT_QUESTION_CLOSED = "That question is already closed — nothing changed. Open /accounts to carry on."


# -- Facebook groups, posted by hand ----------------------------------------------------------
def hand_post(short_id: str, group: str) -> str:
    return (
        f"🙋 Time to post #{short_id} in the Facebook group <b>{escape(group)}</b>: save the photos above "
        "(or forward them), copy the caption below, open the group and post. Then tap <b>I posted it</b>."
    )


def hand_posted(group: str) -> str:
    return f"👍 Marked as posted in {escape(group)}."


HAND_POST_NOT_WAITING = "That post is not waiting for you any more."


# -- Scheduled & history ----------------------------------------------------------------------
VIEW_TITLES = {"upcoming": "Upcoming", "history": "History"}
NO_UPCOMING = "Nothing is scheduled. /new schedules a post."
NO_HISTORY = "Nothing has been published or cancelled yet."


def history_header(view: str, page: int, zone: str) -> str:
    title = VIEW_TITLES.get(view, view)
    page_text = f" · page {page + 1}" if page else ""
    return f"🗓 <b>Scheduled &amp; history</b> — {title}{page_text}\n<i>Times in {escape(zone)}</i>"


def history_line(badge: str, short_id: str, when_text: str, targets: int, caption: str) -> str:
    start = f" · {escape(caption)}" if caption else ""
    return f"{badge} <b>#{short_id}</b> {escape(when_text)} · {plural(targets, 'target')}{start}"


def history_button(badge: str, short_id: str, caption: str) -> str:
    return f"{badge} #{short_id} {caption}".rstrip()


def caption_start(caption: str, limit: int) -> str:
    """The first `limit` characters of a caption on one line, with … when cut."""
    flat = " ".join(caption.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


# -- Details of one post ----------------------------------------------------------------------
DELIVERY_LABELS = {
    "pending": "waiting",
    "sending": "being sent",
    "sent": "sent",
    "failed": "failed",
    "unconfirmed": "unconfirmed — it may be there; check before retrying",
    "awaiting_you": "awaiting you (post it by hand)",
    "missed": "missed",
}
POST_STATUS_LABELS = {
    "scheduled": "scheduled",
    "publishing": "publishing now",
    "published": "published",
    "partial": "partly published",
    "failed": "failed",
    "cancelled": "cancelled",
    "unconfirmed": "not confirmed",
}


def details_headline(badge: str, short_id: str, status: str) -> str:
    return f"{badge} <b>Post #{short_id}</b> — {POST_STATUS_LABELS.get(status, status)}"


def details_times(scheduled_text: str, relative: str | None, finished_text: str | None) -> list[str]:
    lines = [f"🕒 Scheduled for {escape(scheduled_text)}" + (f" — {relative}" if relative else "")]
    if finished_text:
        lines.append(f"🏁 Finished {escape(finished_text)}")
    return lines


def details_retry(when: str) -> str:
    return f"🔁 Some targets could not be reached; trying again at {escape(when)}"


def details_content(caption: str, images: int, poster_name: str | None, media: str = "", buttons: int = 0) -> list[str]:
    """The content lines of a post's Details: the start of its text (plain), its media (`media`
    names them by kind), its buttons, the poster it came from."""
    lines = [f"📝 {escape(caption)}" if caption else "📝 <i>no caption</i>"]
    lines.append(f"🖼 {media or plural(images, 'image')}" if images else "🖼 text only")
    if buttons:
        lines.append(f"🔘 {plural(buttons, 'button')}")
    if poster_name:
        lines.append(f"💾 from the poster {escape(poster_name)}")
    return lines


def details_delivery(badge: str, name: str, status: str, url: str | None, reason: str | None) -> str:
    line = f"{badge} {escape(name)}: {DELIVERY_LABELS.get(status, status)}"
    if url:
        line += f' — <a href="{escape(url, quote=True)}">open</a>'
    if reason and status != "sent":
        line += f" — {escape(reason)}"
    return line


def cannot_cancel_now(short_id: str, status: str) -> str:
    if status == "publishing":
        return (
            f"⏳ Post #{short_id} can't be cancelled any more: it has just started publishing. I'll report how it went."
        )
    if status == "cancelled":
        return f"Post #{short_id} is already cancelled."
    return f"Post #{short_id} can't be cancelled: it is already {POST_STATUS_LABELS.get(status, status)}."


# -- Reschedule and edit caption --------------------------------------------------------------
def ask_new_time(short_id: str, current_text: str, zone: str, example: str) -> str:
    return (
        f"🕒 When should post #{short_id} go out instead? It is set for {escape(current_text)}.\n"
        f"Tap a time or type one in your zone ({escape(zone)}): <code>{escape(example)}</code>, "
        "<code>tomorrow 9am</code>, <code>in 2 hours</code>. /cancel keeps the time."
    )


def rescheduled(short_id: str, when_text: str, relative: str, time_note: str = "") -> str:
    note = f"\n{time_note}" if time_note else ""
    return f"🕒 Post #{short_id} now goes out {escape(when_text)} — {relative}.{note}"


def cannot_change(short_id: str, status: str) -> str:
    return (
        f"Post #{short_id} can't be changed any more: it is "
        f"{POST_STATUS_LABELS.get(status, status)}. Only scheduled posts can be changed."
    )


TIME_KEPT = "Kept — the time is unchanged."
RESCHEDULE_HINT = "Please type the new time or tap one of the buttons above — or /cancel to keep the time."


def ask_new_caption(short_id: str, current: str, images: int) -> str:
    limit = (
        f"A photo caption holds {CAPTION_LIMIT:,} characters {AS_TELEGRAM_COUNTS}; a longer one goes out "
        "as a text message after the photos."
        if images
        else f"A text message holds up to {TEXT_LIMIT:,} characters {AS_TELEGRAM_COUNTS}."
    )
    now = f"\nNow: {escape(current)}" if current else ""
    return f"✏️ Send the new caption for post #{short_id}.{now}\n{limit} /cancel keeps it."


def caption_updated(short_id: str) -> str:
    return f"✏️ The caption of post #{short_id} is updated."


CAPTION_KEPT = "Kept — the caption is unchanged."
CAPTION_HINT = "Please send the new caption as a text message — or /cancel to keep it."


# -- Posters ----------------------------------------------------------------------------------
def posters_list(count: int) -> str:
    return f"🖼 <b>Your posters</b> ({count})\nTap one to see it as it will look."


NO_POSTERS = (
    "🖼 You have no posters yet.\nTo save one: in /new, send the photos (or the caption), "
    "then tap <b>💾 Save as poster</b>."
)


def poster_summary(name: str, images: int, caption: str) -> str:
    content = plural(images, "image") if images else "text only"
    text = f"🖼 <b>{escape(name)}</b> — {content}"
    return text + (f"\n📝 {escape(caption)}" if caption else "")


def confirm_delete_poster(name: str) -> str:
    return f"Delete the poster <b>{escape(name)}</b>? Posts already scheduled with it keep their images and caption."


def poster_deleted(name: str) -> str:
    return f"🗑 The poster {escape(name)} is deleted."


POSTER_KEPT = "Kept."
ASK_POSTER_NAME = "💾 What should this poster be called? Send a short name (up to 64 characters)."
POSTER_NAME_BAD = "Please send a name of 1 to 64 characters, or tap <b>Don't save</b>."
NOTHING_TO_SAVE = "Send the photos or the caption first; then they can be saved as a poster."
POSTER_NAME_HINT = "Please send the poster's name as a text message, or tap <b>Don't save</b>."
POSTER_NOT_SAVED = "Not saved — let's go on with the post."


def poster_saved(name: str) -> str:
    return (
        f"💾 Saved as the poster <b>{escape(name)}</b> — it is in /posters and offered in /new. "
        "Let's go on with the post."
    )


def more_targets(count: int) -> str:
    return f"… and {plural(count, 'more target')} — the report of the publication lists every failure."


# -- Content: media kinds, formatting, buttons, link preview ------------------------------------
MEDIA_NOUNS = {
    "photo": ("photo", "photos"),
    "video": ("video", "videos"),
    "animation": ("GIF", "GIFs"),
    "document": ("file", "files"),
    "audio": ("audio file", "audio files"),
}


def media_list(kinds: list[str]) -> str:
    """The media of a post by kind, as people say it: "2 photos, 1 video and 1 file"."""
    counts: dict[str, int] = {}
    for kind in kinds:
        counts[kind] = counts.get(kind, 0) + 1
    parts = [plural(count, *MEDIA_NOUNS.get(kind, (kind, kind + "s"))) for kind, count in counts.items()]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def other_media(kinds: list[str]) -> str:
    """The media by kind when they are not all photos (photos alone are said as "images", as ever)."""
    return "" if all(kind == "photo" for kind in kinds) else media_list(kinds)


def media_received(kinds: list[str]) -> str:
    """The acknowledgement of the media sent so far (only photos: as it always said)."""
    if all(kind == "photo" for kind in kinds):
        return photos_received(len(kinds))
    return f"📎 {media_list(kinds)} in. Send more (up to {MAX_IMAGES} in all) or the main caption."


def too_big_to_download(kind: str, size_mb: float | None, limit_mb: int) -> str:
    noun = MEDIA_NOUNS.get(kind, ("file", "files"))[0]
    if kind == "photo" and limit_mb == DOWNLOAD_LIMIT_MB:
        return PHOTO_TOO_BIG
    size = f" ({size_mb:,.1f} MB)" if size_mb else ""
    return (
        f"This {noun}{size} is too big for a bot to download (over {limit_mb:,} MB); send a smaller one. "
        "Everything you sent before it is kept."
    )


CUSTOM_EMOJI_NOTE = (
    "ℹ️ Custom emoji: Telegram shows them in a bot's posts only where it allows bots to use them; "
    "elsewhere your readers see the plain emoji."
)


def media_caption_cut(number: int, kind: str, length: int) -> str:
    noun = MEDIA_NOUNS.get(kind, ("item", "items"))[0]
    return (
        f"ℹ️ The caption of {noun} {number} is {length:,} characters {AS_TELEGRAM_COUNTS}; a bot can put "
        f"{CAPTION_LIMIT:,} under it, so it will be cut there (the preview shows how). To keep it "
        "whole, send it as the main caption instead."
    )


ASK_BUTTONS = (
    "🔘 Send the buttons to show under the post: one row per line, <code>|</code> between the buttons "
    "of a row, each as <code>Label - link</code>:\n"
    "<code>Order now - https://shop.example\n"
    "Menu - https://shop.example/menu | Promo code - copy: SPRING10</code>\n"
    "A link starts with https://, http:// or tg://; <code>copy:</code> and a text make a button that "
    "copies it."
)
BUTTONS_HINT = "Please send the buttons as text (one row per line), or tap a button above."


def current_buttons(written: str) -> str:
    return f"Now:\n<code>{escape(written)}</code>"


def buttons_refused(problems: list[str]) -> str:
    shown = problems[:8]
    more = f"\n… and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
    lines = "\n".join(f"• {escape(problem)}" for problem in shown)
    return f"Those buttons can't go out as they are:\n{lines}{more}\nPlease send them again."


LINK_PREVIEW_CHOICES = {
    "on": "Shown below the text",
    "above": "Shown above the text",
    "large": "Shown with a large picture",
    "above_large": "Above the text, large picture",
    "off": "Hidden",
}
ASK_LINK_PREVIEW = "🔗 How should the preview of the first link in the text show?"


def link_preview_label(choice: str) -> str:
    return {
        "on": "shown",
        "above": "above the text",
        "large": "large picture",
        "above_large": "above, large",
        "off": "hidden",
    }[choice]


def preview_content_lines(
    buttons: int, buttons_apart: bool, link_preview: str | None, caption_above: bool, custom_emoji: bool
) -> list[str]:
    """What the preview says of the post's buttons, link preview and layout."""
    lines = []
    if buttons:
        apart = " — on a short message after the album, since an album can't carry buttons" if buttons_apart else ""
        lines.append(f"🔘 {plural(buttons, 'button')}{apart}")
    if link_preview is not None:
        lines.append(f"🔗 Link preview: {link_preview_label(link_preview)}")
    if caption_above:
        lines.append("⬆️ Caption above the media")
    if custom_emoji:
        lines.append(CUSTOM_EMOJI_NOTE)
    return lines


SHORTFALL_WORDS = {
    "plain_text": "plain text, each link's address written out",
    "buttons_as_text": "no buttons: they are written at the end of the text",
    "documents_left_out": "files left out",
    "audio_left_out": "audio left out",
    "videos_apart": "each further video is a post of its own",
    "gifs_as_videos": "GIFs go as videos",
    "no_spoilers": "no spoilers",
}


def platform_shortfalls(platform_name: str, shortfalls: list[str]) -> str:
    """ "⚠️ Facebook Page: plain text…; no buttons…" — what a platform shows otherwise."""
    return f"⚠️ {escape(platform_name)}: " + "; ".join(SHORTFALL_WORDS.get(item, item) for item in shortfalls) + "."


# -- Recurring series (handlers/repeat.py, handlers/series.py) ---------------------------------------
WEEKDAY_FULL = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKDAY_SHORT = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def rule_days(frequency: str, interval: int, weekdays: Sequence[int], month_day: int) -> str:
    """The days a rule falls on, in words: "every day", "every 2 weeks on Monday and Thursday",
    "on the 31st of every month (the last day in shorter months)"."""
    if frequency == "daily":
        return "every day" if interval == 1 else f"every {interval} days"
    if frequency == "weekly":
        days = sorted(weekdays)
        names = "weekday (Mon–Fri)" if days == [0, 1, 2, 3, 4] else _and([WEEKDAY_FULL[day] for day in days])
        if days == [5, 6]:
            names = "weekend (Sat and Sun)"
        return f"every {names}" if interval == 1 else f"every {interval} weeks on {names.removesuffix(' (Mon–Fri)')}"
    months = "every month" if interval == 1 else f"every {interval} months"
    shorter = " (the last day in shorter months)" if month_day > 28 else ""
    return f"on the {ordinal(month_day)} of {months}{shorter}"


def rule_words(days: str, at: str, zone: str, until: str | None, count: int | None) -> str:
    """A whole rule in words: "every Monday at 09:00 (Europe/Berlin), until Sun 31 Jan 2027"."""
    end = f", until {until}" if until else f", {plural(count, 'time')}" if count else ""
    return f"{days} at {at} ({zone}){end}"


REPEAT_HOW = (
    "<b>New post</b> · step 4 of 5 — 🔁 <b>Repeat</b>\nHow often should it go out? "
    "You can also type a rule, like <code>every monday 9:00</code>."
)
REPEAT_WEEKDAYS = "On which days? Tap the days, then <b>Done</b>."
REPEAT_WEEKS = "Every how many weeks?"
REPEAT_MONTH_DAY = "On which day of the month? (A month too short for it takes its last day.)"
REPEAT_NO_DAYS = "Please tap at least one day first."
REPEAT_END = "When should the series end?"
REPEAT_UNTIL = "Send the last day it may go out, like <code>31 jan</code> or <code>2027-01-31</code>."
REPEAT_COUNT = "How many times should it go out? Tap a number or type one (1–1,000)."
REPEAT_HINT = "Please tap one of the buttons above, or type what it asks for."


def repeat_at(days: str, zone: str) -> str:
    return (
        f"🔁 {escape(days)}\nAt what time of day, in your zone ({escape(zone)})? Tap one or type it, "
        "like <code>9:00</code> or <code>18:30</code>."
    )


def repeat_bad_at(typed: str) -> str:
    example = "<code>9:00</code> or <code>18:30</code>"
    return f"<code>{escape(typed)}</code> is not a time of day. Please send one like {example}."


def repeat_bad_until(typed: str, problem: str) -> str:
    if problem == "until_past":
        return f"<code>{escape(typed)}</code> is before the series' first time. Please send a later day."
    return f"<code>{escape(typed)}</code> is not a day I can read. Please send one like <code>31 jan</code>."


def repeat_bad_count(typed: str) -> str:
    return (
        f"<code>{escape(typed)}</code> is not a number of times from 1 to 1,000. Please send one like <code>10</code>."
    )


RULE_EXAMPLES = (
    "<code>every monday 9:00</code>, <code>every day 18:30</code>, <code>every 2 weeks on mon, thu at 9</code>, "
    "<code>on the 15th of every month at 10:00</code> — add <code>until 31 jan</code> or <code>10 times</code> "
    "to end it"
)


def rule_problem(problem: str, typed: str) -> str:
    """Why a typed repeating rule cannot be used, with examples that work."""
    shown = f"<code>{escape(typed)}</code>"
    reasons = {
        "no_time": "At what time of day should it repeat? Add it, like <code>every monday 9:00</code>.",
        "bad_hour": f"{shown} is not a time: hours go from 00 to 23 (or 1 to 12 with am/pm).",
        "bad_minute": f"{shown} is not a time: minutes go from 00 to 59.",
        "no_days": "On which days of the week? Name them, like <code>every 2 weeks on mon, thu at 9</code>.",
        "no_month_day": "On which day of the month? Name it, like <code>on the 15th of every month at 10:00</code>.",
        "bad_interval": f"Every {escape(typed)} is too far apart: up to 365 days, 52 weeks or 12 months.",
        "bad_month_day": f"{shown} is not a day of the month: they go from 1st to 31st.",
        "bad_count": f"{shown}: a series goes out from 1 to 1,000 times.",
        "bad_until": f"{shown} is not a date I can read, like <code>31 jan</code> or <code>2027-01-31</code>.",
        "until_past": f"The series would end ({shown}) before its first time. Please pick a later end.",
        "too_far": f"{shown} is more than ten years ahead. Please pick an earlier end, or none.",
    }
    unreadable = f"I can't read {shown} in a repeating time." if typed else "I can't read that repeating time."
    return f"{reasons.get(problem, unreadable)}\nRules I understand: {RULE_EXAMPLES}."


def series_preview_times(rule_text: str, times: list[str]) -> str:
    """The preview's lines for a series: the rule, and its next times."""
    listed = "".join(f"\n   • {escape(one)}" for one in times)
    return f"🔁 Repeats {escape(rule_text)}\n🕒 Next times:{listed}"


def series_scheduled(short_id: str, rule_text: str, next_text: str, targets: int) -> str:
    return (
        f"✅ Series #{short_id} scheduled: {escape(rule_text)}, to {plural(targets, 'target')}.\n"
        f"🕒 First time: {escape(next_text)}"
    )


SERIES_ENDS_BEFORE_START = "That rule has no time left to go out (its end has passed). Please choose the time again."
SERIES_LIST_HEADER = "🔁 <b>Recurring series</b>"
POST_CANNOT_REPEAT = (
    "A scheduled post goes out once. To repeat it, make a new post (/new) and tap 🔁 Repeat… or type the "
    "rule at its time step. Here, please send one time, like <code>tomorrow 9:00</code>."
)
NO_SINGLE_POSTS = "No single posts are scheduled."
SERIES_BADGES = {"active": "🔁", "paused": "⏸", "ended": "⏹"}
SERIES_STATUS_LABELS = {"active": "active", "paused": "paused", "ended": "ended"}


def series_line(badge: str, short_id: str, rule_text: str, next_text: str | None, caption: str) -> str:
    nxt = f" · next {escape(next_text)}" if next_text else ""
    start = f" · {escape(caption)}" if caption else ""
    return f"{badge} <b>Series #{short_id}</b> {escape(rule_text)}{nxt}{start}"


def series_button(badge: str, short_id: str, caption: str) -> str:
    return f"{badge} Series #{short_id} {caption}".rstrip()


def series_details(
    badge: str,
    short_id: str,
    status: str,
    rule_text: str,
    next_text: str | None,
    made: int,
    remaining: int | None,
    targets: list[str],
) -> list[str]:
    lines = [f"{badge} <b>Series #{short_id}</b> — {SERIES_STATUS_LABELS.get(status, status)}"]
    lines.append(f"🔁 {escape(rule_text)}")
    if next_text:
        lines.append(f"🕒 Next: {escape(next_text)}")
    left = f", {remaining:,} to come" if remaining is not None else ""
    lines.append(f"📊 Made so far: {made:,}{left}")
    lines.append(f"🎯 {plural(len(targets), 'target')}: " + ", ".join(escape(name) for name in targets))
    return lines


def series_paused_line(by_failures: bool, reason: str | None) -> str:
    if not by_failures:
        return "⏸ Paused by you: nothing goes out until you resume it."
    why = f" The last one failed with: {escape(reason)}" if reason else ""
    return f"⏸ Paused after 3 failed times in a row.{why}"


SERIES_MISSING = "I can't find that series among yours."
SERIES_PAUSED = "⏸ Paused: nothing goes out until you resume it."
SERIES_NOT_ACTIVE = "This series is not active, so there is nothing to pause or skip."
SERIES_NOT_PAUSED = "This series is not paused."
SERIES_ENDED_ALREADY = "This series has ended already."
SERIES_CHANGED_MEANWHILE = (
    "The series changed meanwhile (its time went out, or another change) — here it is as it is now."
)


def series_resumed(next_text: str | None) -> str:
    return f"▶️ Resumed: next time {escape(next_text)}." if next_text else "▶️ Resumed, but the rule has no time left."


def series_skipped(skipped_text: str, next_text: str | None) -> str:
    after = f" The next one is {escape(next_text)}." if next_text else " No time is left after it: the series ends."
    return f"⏭ Skipped {escape(skipped_text)}.{after}"


def confirm_end_series(short_id: str) -> str:
    return f"End series #{short_id}? No more posts will be made from it (those already made stay)."


def series_ended(short_id: str) -> str:
    return f"⏹ Series #{short_id} has ended; no more posts will be made from it."


SERIES_KEPT = "Kept — the series goes on."


def ask_series_caption(short_id: str, caption: str) -> str:
    now = f"\nNow: {escape(caption)}" if caption else ""
    return (
        f"✏️ Send the new text of series #{short_id}: the next post and those after it carry it "
        f"(posts already made keep theirs).{now}"
    )


def ask_series_rule(short_id: str, rule_text: str, zone: str) -> str:
    return (
        f"🕒 Series #{short_id} repeats {escape(rule_text)}.\nSend a new rule, like <code>every monday 9:00</code>, "
        f"or only a time of day (like <code>18:30</code>) to keep the days. Times in {escape(zone)}."
    )


def series_caption_updated(short_id: str) -> str:
    return f"✏️ Series #{short_id}: the next posts carry the new text."


def series_rule_updated(short_id: str, rule_text: str) -> str:
    return f"🕒 Series #{short_id} now repeats {escape(rule_text)}."


SERIES_CAPTION_KEPT = "Kept — the series' text stays as it was."
SERIES_RULE_KEPT = "Kept — the series' times stay as they were."
SERIES_CAPTION_HINT = "Please send the new text, or tap Keep."
SERIES_RULE_HINT = "Please send a rule like <code>every monday 9:00</code> or a time of day, or tap Keep."


def occurrence_hint(series_short_id: str, number: int) -> str:
    """A post's line saying it is one time of a series."""
    return f"🔁 Time {number + 1:,} of series #{series_short_id}"


def series_paused_by_failures(short_id: str, reason: str | None) -> str:
    why = f"\nThe last failure: {escape(reason)}" if reason else ""
    return (
        f"⏸ <b>Series #{short_id} paused</b>: its last 3 posts failed in a row, so no more are made "
        f"until you resume it.{why}"
    )
