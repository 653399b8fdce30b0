"""Everything the bot says, in one place."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import i18n
from i18n import N_, _, ngettext, pgettext
from publishers.telegram_layout import CAPTION_LIMIT, DOWNLOAD_LIMIT_MB, TEXT_LIMIT
from publishers.webhook import MIN_SECRET
from storage.models import MAX_IMAGES

# Telegram counts its limits in UTF-16 code units; said to people this way.
AS_TELEGRAM_COUNTS = N_("as Telegram counts them (most emoji count as 2)")


def plural(count: int, noun: str, many: str = "") -> str:
    """`count` and the noun as people say it: "1 target", "3 targets" (`many` when not noun + s).
    English only: a sentence for people says its plural with `ngettext` instead."""
    return f"{count:,} {noun if count == 1 else many or noun + 's'}"


WELCOME = N_(
    "👋 <b>Herald</b> schedules posts — a caption and up to ten photos — to many channels, "
    "groups and pages at once, publishes them at the time you choose, and tells you here "
    "what happened.\n\nWhat would you like to do?"
)
HELP = N_(
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
    "/language — the language I speak with you\n"
    "/queue — your posting schedule (weekday and time slots) and the posts queued into it\n"
    "/batch — send or forward several messages, each becomes a post (into your slots or at intervals)\n"
    "/cancel — leave what you are doing\n\n"
    "<b>What a post can hold</b>\n"
    "• Text formatted in Telegram's own editor — bold, italic, underline, strikethrough, spoilers, "
    "links, quotes, code: it goes out exactly as you typed it.\n"
    "• Up to {max_images} photos, videos, GIFs, files or audio files. Photos and videos share an album; "
    "files only with files and audio only with audio, as Telegram allows; a GIF goes on its own.\n"
    "• Buttons under the post: on the preview, tap <b>🔘 Buttons</b> and send one row per line, "
    "<code>|</code> between the buttons of a row:\n"
    "<code>Order now - https://shop.example\n"
    "Menu - https://shop.example/menu | Promo code - copy: SPRING10</code>\n"
    "A link starts with https://, http:// or tg://; <code>copy:</code> makes a button that copies its "
    "text (a promo code). Under an album the buttons go on a short message of their own.\n"
    "• The link preview: shown, hidden, above the text or with a large picture — on the preview.",
    max_images=MAX_IMAGES,
)
# The bot's command menu: (command, its description in the menu).
COMMANDS = [
    ("new", N_("Schedule a new post")),
    ("scheduled", N_("Upcoming posts and history")),
    ("accounts", N_("Connected accounts")),
    ("posters", N_("Saved content")),
    ("import", N_("Import posts from a CSV or JSON file")),
    ("timezone", N_("Set your time zone")),
    ("queue", N_("Posting schedule and queue")),
    ("batch", N_("Schedule several messages at once")),
    ("help", N_("How Herald works")),
    ("language", N_("Choose the bot's language")),
    ("cancel", N_("Leave what you are doing")),
]
NOT_ALLOWED = N_(
    "Sorry, this Herald bot is private and you are not on its list of users. "
    "Ask its owner to add your Telegram id ({user_id}) to ALLOWED_USER_IDS."
)
SOMETHING_WENT_WRONG = N_(
    "😕 Sorry — something went wrong on my side. What you had entered is kept; try again, or /cancel to start over."
)
STALE_BUTTON = N_("This button belongs to something that is already finished. Start again with /new.")
WRONG_STEP_BUTTON = N_("That button is from an earlier step — please use the latest message.")
WHAT_NOW = N_("I'm not waiting for anything just now. Pick an action, or see /help.")
NOTHING_TO_CANCEL = N_("There is nothing to cancel. /new schedules a post.")
CANCELLED = N_("Cancelled — nothing was saved.")
NOT_YOURS = N_("I can't find that among yours.")

# -- New post: account and targets ------------------------------------------------------------
CHOOSE_ACCOUNT = N_("<b>New post</b> · step 1 of 5\nWhich account should publish it?")
TELEGRAM_ACCOUNT_NAME = N_("Telegram (this bot)")
ADD_ACCOUNT_HINT = N_("Connected accounts are managed with /accounts.")
NO_TARGETS = N_(
    "I'm not an administrator in any channel or group that you administer.\n\n"
    "Add me to a channel or group as an <b>administrator</b> (with the right to post), "
    "then tap <b>Refresh</b>."
)
NO_ACCOUNT_TARGETS = N_("This account has no targets. Refresh them with /accounts.")
TARGET_NOT_ALLOWED = N_("That target isn't one of yours — nothing changed.")
TARGET_LOST = N_("You or I are no longer an administrator in {names}; I've taken it off the list.")
PICK_ONE_TARGET = N_("Pick at least one target first.")


def choose_targets(account_name: str, selected: int, total: int) -> str:
    return _(
        "<b>New post</b> · step 2 of 5\nAccount: {account}\n"
        "Where should it go? Tap to select ({selected} of {total} selected)."
    ).format(account=escape(account_name), selected=selected, total=total)


# -- New post: content ------------------------------------------------------------------------
ASK_CONTENT = N_(
    "<b>New post</b> · step 3 of 5\nSend the photos — or videos, GIFs, files, audio — as an album or one "
    "by one, up to {max_images}; a photo's own caption becomes that image's caption.\n"
    "Then send the <b>main caption</b> as a message — its bold, italic, links and spoilers go out as typed.\n\n"
    "Or tap <b>No images</b> for a text post, or pick a saved poster.",
    max_images=MAX_IMAGES,
)
ASK_TEXT_ONLY = N_("A text post, then. Send its text.")
ASK_CAPTION_AFTER_PHOTOS = N_("Now send the main caption, or tap <b>No caption</b>.")
TOO_MANY_IMAGES = N_(
    "A post holds at most {max_images} images — {count} are already in; the extra one was not added.",
    max_images=MAX_IMAGES,
)
NOT_A_PHOTO = N_(
    "I need photos, videos, GIFs, files or audio files — not stickers, voice messages or round videos — "
    "or the caption as text."
)
EMPTY_TEXT_POST = N_("A post without images needs some text. Send the text, or send photos.")
POSTER_MISSING = N_("That poster no longer exists.")
PHOTO_TOO_BIG = N_(
    "This photo is too big for a bot to download (over {download_limit} MB); send a smaller one. "
    "Everything you sent before it is kept.",
    download_limit=DOWNLOAD_LIMIT_MB,
)


def text_too_long(length: int) -> str:
    return _(
        "That text is {length} characters as Telegram counts them (most emoji count as 2); "
        "Telegram allows {limit} in one message. Please shorten it and send it again."
    ).format(length=i18n.number(length), limit=i18n.number(TEXT_LIMIT))


def caption_over_photo_limit(length: int) -> str:
    return _(
        "ℹ️ Your caption is {length} characters as Telegram counts them (most emoji count as 2) — "
        "more than the {limit} a photo caption can hold, so it will go out as the album followed "
        "by a text message."
    ).format(length=i18n.number(length), limit=i18n.number(CAPTION_LIMIT))


def photo_caption_cut(number: int, length: int) -> str:
    return _(
        "ℹ️ The caption of photo {number} is {length} characters as Telegram counts them (most emoji "
        "count as 2); a bot can put {limit} under a photo, so it will be cut there (the preview shows "
        "how). To keep it whole, send it as the main caption instead."
    ).format(number=number, length=i18n.number(length), limit=i18n.number(CAPTION_LIMIT))


def photos_received(count: int) -> str:
    return ngettext(
        "📷 {count} photo in. Send more (up to {max_images}) or the main caption.",
        "📷 {count} photos in. Send more (up to {max_images}) or the main caption.",
        count,
    ).format(count=i18n.number(count), max_images=MAX_IMAGES)


def poster_chosen(name: str) -> str:
    return _("Using the poster <b>{name}</b>.").format(name=escape(name))


# -- New post: time ---------------------------------------------------------------------------
def ask_time(zone: str, example: str) -> str:
    # i18n: the examples after {example} must be times Herald reads in your language
    # (handlers/when.py TYPED_WORDS), e.g. Russian "завтра 9:00", "через 2 часа".
    return _(
        "<b>New post</b> · step 4 of 5\nWhen should it go out? Tap a time or type one in your zone "
        "({zone}): <code>{example}</code>, <code>tomorrow 9am</code>, "
        "<code>in 2 hours</code>.\nYour zone can be changed with /timezone."
    ).format(zone=escape(zone), example=escape(example))


def time_problem(problem: str, typed: str, example: str) -> str:
    """Why a typed time cannot be used; `typed` is the part at fault, `example` a good time."""
    shown = f"<code>{escape(typed)}</code>"
    if problem == "past":
        return _("That time is in the past. Please send a time in the future.")
    if problem == "too_far":
        return _("That is more than a year ahead; Herald schedules up to one year. Please pick an earlier time.")
    if problem == "bad_hour":
        return _(
            "{typed} is not a time: hours go from 00 to 23 (or 1 to 12 with am/pm). Please send the time again."
        ).format(typed=shown)
    if problem == "bad_minute":
        return _("{typed} is not a time: minutes go from 00 to 59. Please send the time again.").format(typed=shown)
    if problem == "bad_month":
        return _(
            "{typed} is not a date: I read dates as day/month, and months go from 1 to 12. "
            "Please send the date again, e.g. <code>{example}</code>."
        ).format(typed=shown, example=escape(example))
    if problem == "no_such_day":
        return _("There is no {day}. Please send another date.").format(day=escape(typed))
    # i18n: the two examples after {example} must be times Herald reads in your language.
    return _(
        "I couldn't read that as a time. Try <code>{example}</code>, "
        "<code>tomorrow 9am</code> or <code>in 2 hours</code>."
    ).format(example=escape(example))


def time_missing(day_text: str, example: str) -> str:
    return _("At what time on {day}? Send the day with a time, e.g. <code>{example}</code>.").format(
        day=escape(day_text), example=escape(example)
    )


def dst_gap(typed: str, day_text: str, zone: str, shifted: str) -> str:
    return _(
        "{typed} does not exist on {day} in {zone} (clocks go forward); "
        "did you mean {shifted}? Tap to confirm, or type another time."
    ).format(typed=escape(typed), day=escape(day_text), zone=escape(zone), shifted=escape(shifted))


def confirm_shifted_time(shifted: str) -> str:
    return _("✅ Yes, {time}").format(time=shifted)


def repeated_time(wall: str, day_text: str, zone: str, which: str, offset: str) -> str:
    """`which` is "first" or "second": which of the two times the local time happens that night."""
    # i18n: {which} is "first" or "second" (of the two times the clock shows that time).
    ordinal = pgettext("repeated time", "first") if which == "first" else pgettext("repeated time", "second")
    return _(
        "ℹ️ {wall} happens twice on {day} in {zone} (clocks go back); this is the {which} one, at {offset}."
    ).format(wall=escape(wall), day=escape(day_text), zone=escape(zone), which=ordinal, offset=offset)


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
    if media:
        content = media
    elif images:
        content = ngettext("{count} image", "{count} images", images).format(count=i18n.number(images))
    else:
        content = _("text only")
    note = f"\n{time_note}" if time_note else ""
    extra = "".join(f"\n{line}" for line in notes)
    when = schedule or f"🕒 {escape(when_text)} — {relative}{note}"
    count = len(target_names)
    aimed = ngettext("🎯 {count} target: {names}", "🎯 {count} targets: {names}", count).format(
        count=i18n.number(count), names=targets
    )
    return _("<b>New post</b> · step 5 of 5 — preview above.\n{when}\n{targets}\n🖼 {content}\n\nSchedule it?").format(
        when=when, targets=aimed, content=content + extra
    )


def scheduled(short_id: str, when_text: str, targets: int) -> str:
    return ngettext(
        "✅ Scheduled #{short_id} for {when} to {count} target.",
        "✅ Scheduled #{short_id} for {when} to {count} targets.",
        targets,
    ).format(short_id=short_id, when=escape(when_text), count=i18n.number(targets))


def _status_word(status: str) -> str:
    """A post's status, as a word after "it is"."""
    words = {
        "scheduled": pgettext("post status", "scheduled"),
        "publishing": pgettext("post status", "publishing"),
        "published": pgettext("post status", "published"),
        "partial": pgettext("post status", "partial"),
        "failed": pgettext("post status", "failed"),
        "cancelled": pgettext("post status", "cancelled"),
    }
    return words.get(status, status)


def confirm_cancel(short_id: str) -> str:
    return _("Cancel post #{short_id}? It will not be published.").format(short_id=short_id)


def post_cancelled(short_id: str) -> str:
    return _("🚫 Post #{short_id} is cancelled; it will not be published.").format(short_id=short_id)


def cannot_cancel(short_id: str, status: str) -> str:
    return _("Post #{short_id} can no longer be cancelled: it is {status}.").format(
        short_id=short_id, status=_status_word(status)
    )


POST_KEPT = N_("Kept — it stays scheduled.")
TIME_GONE_PAST = N_("The time you picked has passed meanwhile. Please choose the time again.")

# -- New post: what each step expects, and leaving a post in the making -----------------------
ACCOUNT_HINT = N_("Please pick an account with the buttons above, or /cancel.")
TARGETS_HINT = N_(
    "Please pick the targets with the buttons above, then tap Done (or paste a forum topic's link to add it) "
    "— or /cancel."
)
TIME_HINT = N_("Please type a time or tap one of the buttons above.")
PREVIEW_HINT = N_("Please tap Schedule, Change time or Cancel above.")
DISCARD_DRAFT_QUESTION = N_("You have a post in the making. Discard it and start a new one?")
DRAFT_KEPT = N_("Kept — carry on with your post where you left off.")
DRAFT_UNREADABLE = N_(
    "Sorry — Herald was updated and can't read the post you were making any more. "
    "Nothing was scheduled; please start it again with /new."
)


# -- Settings ---------------------------------------------------------------------------------
def ask_timezone(current: str) -> str:
    return _(
        "Your time zone is <b>{zone}</b>.\nSend a city or zone to change it — "
        "for example <code>Berlin</code> or <code>America/New_York</code> — or /cancel."
    ).format(zone=escape(current))


def timezone_set(zone: str, now_text: str) -> str:
    return _("🕒 Time zone set to <b>{zone}</b>. It is now {now} there.").format(
        zone=escape(zone), now=escape(now_text)
    )


TIMEZONE_UNKNOWN = N_("I don't know a time zone by that name. Try a big city near you, or a zone like Europe/Paris.")
TIMEZONE_PICK = N_("Several zones match — which one?")


# -- Publication reports ----------------------------------------------------------------------
def report_headline(short_id: str, status: str, sent: int, total: int) -> str:
    """The first line of a report; `status` is the post's, or "unconfirmed" for a post that went
    nowhere for sure but may have gone everywhere it was not confirmed."""
    if status == "published":
        return ngettext(
            "✅ Published #{short_id} to {sent}/{total} target",
            "✅ Published #{short_id} to {sent}/{total} targets",
            total,
        ).format(short_id=short_id, sent=sent, total=i18n.number(total))
    if status == "partial":
        return _("⚠️ Partly published #{short_id}: {sent}/{total}").format(short_id=short_id, sent=sent, total=total)
    if status == "unconfirmed":
        return _("❓ Not confirmed #{short_id}: {sent}/{total}").format(short_id=short_id, sent=sent, total=total)
    return _("❌ Failed #{short_id}: {sent}/{total}").format(short_id=short_id, sent=sent, total=total)


def report_failure(name: str, reason: str) -> str:
    """A delivery's reason (stored in English) in the reader's language."""
    return f"• {escape(name)}: {escape(i18n.stored(reason))}"


def report_note(name: str, note: str) -> str:
    """A delivery that went out, with something to know about it (stored in English)."""
    return f"⚠️ {escape(name)}: {escape(i18n.stored(note))}"


def report_link(name: str, url: str) -> str:
    return f'• <a href="{escape(url, quote=True)}">{escape(name)}</a>'


def names_list(names: list[str], shown: int = 5) -> str:
    """Names for a sentence (escaped): "A", "A and B", "A, B and C", "A, B, C, D, E and 3 more"."""
    named = [escape(name) for name in names[:shown]]
    if len(names) > shown:
        # i18n: {names} is a list of names separated by commas.
        return _("{names} and {count} more").format(names=", ".join(named), count=i18n.number(len(names) - shown))
    if len(named) == 1:
        return named[0]
    # i18n: the last two of a list of names: "Alice, Bob and Carol".
    return _("{names} and {last}").format(names=", ".join(named[:-1]), last=named[-1])


def report_unconfirmed_hint(names: list[str]) -> str:
    return _(
        "❓ No answer came back from {names}: the post may be there already. "
        "Check before retrying — a retry could post it twice."
    ).format(names=names_list(names))


def report_tried_between(reason: str, since: str, until: str) -> str:
    return _("{reason} — tried from {since} to {until}").format(reason=reason, since=since, until=until)


def report_cut(lines: int) -> str:
    return ngettext("… and {count} more line: see Details.", "… and {count} more lines: see Details.", lines).format(
        count=i18n.number(lines)
    )


def delay_headline(short_id: str, waiting: int, total: int, since: str) -> str:
    return ngettext(
        "⏳ Post #{short_id} is delayed: {waiting} of {total} target could not be reached since {since}.",
        "⏳ Post #{short_id} is delayed: {waiting} of {total} targets could not be reached since {since}.",
        total,
    ).format(short_id=short_id, waiting=waiting, total=i18n.number(total), since=since)


def delay_until(deadline: str, zone: str) -> str:
    return _("I keep trying until {deadline} ({zone}) and will tell you how it ends.").format(
        deadline=escape(deadline), zone=escape(zone)
    )


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
    count = failed + len(unconfirmed)
    if failed and unconfirmed:
        question = ngettext(
            "Send post #{short_id} again to its {count} failed or unconfirmed target?",
            "Send post #{short_id} again to its {count} failed or unconfirmed targets?",
            count,
        )
    elif unconfirmed:
        question = ngettext(
            "Send post #{short_id} again to its {count} unconfirmed target?",
            "Send post #{short_id} again to its {count} unconfirmed targets?",
            count,
        )
    else:
        question = ngettext(
            "Send post #{short_id} again to its {count} failed target?",
            "Send post #{short_id} again to its {count} failed targets?",
            count,
        )
    text = question.format(short_id=short_id, count=i18n.number(count))
    if unconfirmed:
        text += "\n" + _(
            "❓ <b>It may post twice</b>: no answer came back from {names}, so the post "
            "may be there already. Check before you retry."
        ).format(names=names_list(unconfirmed))
    if refused:
        text += "\n" + _(
            "🔑 {names}: the account still needs reconnecting, so a retry fails again. Tap Reconnect first."
        ).format(names=names_list(refused))
    return text


def retry_scheduled(short_id: str, targets: int) -> str:
    return ngettext(
        "🔁 Retrying #{short_id} now for {count} target. I'll report back.",
        "🔁 Retrying #{short_id} now for {count} targets. I'll report back.",
        targets,
    ).format(short_id=short_id, count=i18n.number(targets))


def cannot_retry(short_id: str, status: str) -> str:
    return _("Post #{short_id} has nothing to retry: it is {status}.").format(
        short_id=short_id, status=_status_word(status)
    )


# -- Accounts ---------------------------------------------------------------------------------
PLATFORM_NAMES = {
    "telegram": "Telegram",
    "facebook_page": N_("Facebook Pages"),
    # i18n: an account that hands its posts to the person to post in Facebook groups themselves
    "facebook_groups": N_("Facebook groups (by hand)"),
    "webhook": N_("Webhook"),
}


def _platform_name(platform: str) -> str:
    return str(i18n.translated(PLATFORM_NAMES.get(platform, platform)))


def _targets(count: int) -> str:
    """ "1 target", "3 targets" — a list's count, on its own."""
    return i18n.ngettext("{count} target", "{count} targets", count).format(count=i18n.number(count))


def accounts_list(lines: list[str]) -> str:
    return _("🔑 <b>Your accounts</b>\n{lines}\n\nTap one to see its targets, or add another.").format(
        lines="\n".join(lines)
    )


def account_line(name: str, platform: str, targets: int, needs_reconnect: bool) -> str:
    warning = " ⚠️ " + _("<b>needs reconnecting</b>") if needs_reconnect else ""
    return f"• {escape(name)} — {_platform_name(platform)}, {_targets(targets)}{warning}"


def account_details(name: str, platform: str, target_names: list[str], needs_reconnect: bool) -> str:
    lines = [f"<b>{escape(name)}</b> — {_platform_name(platform)}"]
    if needs_reconnect:
        lines.append(_("⚠️ The platform refused this account's credential: send a new one with Reconnect."))
    lines.extend(f"• {escape(target)}" for target in target_names)
    if not target_names:
        lines.append(_("No targets."))
    return "\n".join(lines)


CHOOSE_PLATFORM = N_("Which kind of account do you want to connect?")
ASK_FACEBOOK_TOKEN = N_(
    "Paste a <b>Page access token</b>, or a <b>user access token</b> with the "
    "<code>pages_manage_posts</code> permission (its Pages are found for you).\n"
    "I delete your message as soon as it arrives and keep the token encrypted. Tap Cancel to stop."
)
CHECKING = N_("🔒 Got it — your message with the credential is deleted. Checking it…")


def facebook_connected(page_names: list[str]) -> str:
    pages = ", ".join(escape(name) for name in page_names)
    count = len(page_names)
    return i18n.ngettext(
        "✅ Facebook connected: {count} Page — {pages}. They are now targets for /new.",
        "✅ Facebook connected: {count} Pages — {pages}. They are now targets for /new.",
        count,
    ).format(count=i18n.number(count), pages=pages)


FACEBOOK_NO_PAGES = N_("That token works, but it manages no Facebook Page. Send another token, or tap Cancel.")


def credential_refused(reason: str) -> str:
    """An existing account's credential refused when its targets were read again."""
    return _("❌ That did not work: {reason}").format(reason=escape(reason))


ASK_WEBHOOK_URL = N_(
    "Send the webhook's <b>URL</b> (https://…). Herald POSTs each post there as JSON, signed with "
    "HMAC-SHA256 in the <code>X-Herald-Signature</code> header. Tap Cancel to stop."
)


def webhook_url_refused(reason: str) -> str:
    return _("That URL can't be used: {reason}. Send another, or tap Cancel.").format(reason=escape(reason))


ASK_WEBHOOK_SECRET = N_(
    "Now send the <b>signing secret</b> your receiver checks (at least {min_secret} characters). "
    "I delete your message at once and keep the secret encrypted.",
    min_secret=MIN_SECRET,
)
WEBHOOK_SECRET_SHORT = N_(
    "That secret is too short — use at least {min_secret} characters. Send another, or tap Cancel.",
    min_secret=MIN_SECRET,
)


def webhook_connected(name: str, problem: str | None) -> str:
    if problem:
        return _(
            "✅ Webhook <b>{name}</b> saved. ⚠️ Its test delivery failed ({problem}): "
            "make sure the receiver is ready before its first post."
        ).format(name=escape(name), problem=escape(problem))
    return _("✅ Webhook <b>{name}</b> saved. It is a target for /new now.").format(name=escape(name))


ASK_FACEBOOK_GROUPS = N_(
    "Since 22 April 2024 no app can publish to Facebook <b>groups</b>, so Herald does it with you: "
    "at the time, I send you the post ready to paste, with an <b>Open group</b> button.\n\n"
    "Send each group's link (https://www.facebook.com/groups/…) or name, one per message; "
    "tap <b>Done</b> when finished."
)


def facebook_group_added(name: str, count: int) -> str:
    return _("➕ {name} added ({count} so far). Send another, or tap Done.").format(name=escape(name), count=count)


FACEBOOK_GROUPS_EMPTY = N_("Send at least one group's link or name first, or /cancel.")


def facebook_groups_saved(count: int) -> str:
    return i18n.ngettext(
        "✅ {count} Facebook group saved. Pick them in /new like any other target.",
        "✅ {count} Facebook groups saved. Pick them in /new like any other target.",
        count,
    ).format(count=i18n.number(count))


def confirm_remove_account(name: str) -> str:
    return _("Remove <b>{name}</b>? Its scheduled posts will be cancelled.").format(name=escape(name))


def account_removed(name: str, cancelled: int) -> str:
    return i18n.ngettext(
        "🗑 {name} removed; {count} scheduled post cancelled.",
        "🗑 {name} removed; {count} scheduled posts cancelled.",
        cancelled,
    ).format(name=escape(name), count=i18n.number(cancelled))


def account_refreshed(count: int) -> str:
    return _("🔄 Targets refreshed: {count} found.").format(count=count)


ACCOUNT_GONE = N_("That account no longer exists.")
CANNOT_REMOVE_TELEGRAM = N_("The Telegram account is this bot itself; remove the bot from a chat to drop that target.")


def needs_reconnect_warning(name: str) -> str:
    return _(
        "⚠️ {name} needs reconnecting: the platform refused its credential, so posts through it "
        "fail until you send a new one. Tap Reconnect."
    ).format(name=escape(name))


# -- Accounts: what a token or a webhook's test delivery came to, names, leaving a question -------
def facebook_token_refused(reason: str) -> str:
    """A pasted token that cannot connect a new account, and why."""
    return _("❌ That token can't be used: {reason}.\nSend another token, or tap Cancel.").format(reason=escape(reason))


def reconnect_token_refused(name: str, reason: str) -> str:
    """A pasted token that cannot reconnect the account `name`, and why."""
    return _("❌ That token can't reconnect <b>{name}</b>: {reason}.\nSend another token, or tap Cancel.").format(
        name=escape(name), reason=escape(reason)
    )


def ask_reconnect_token(name: str) -> str:
    return _(
        "Paste a new token for <b>{name}</b>: a <b>Page access token</b>, or a <b>user access "
        "token</b> with the <code>pages_manage_posts</code> permission.\n"
        "I delete your message as soon as it arrives and keep the token encrypted. Tap Cancel to stop."
    ).format(name=escape(name))


ASK_WEBHOOK_SECRET_AGAIN = N_(
    "Now send the <b>signing secret</b> for this URL (at least {min_secret} characters), or tap "
    "<b>Use the same secret</b> to keep the one you sent before.",
    min_secret=MIN_SECRET,
)
CHECKING_WEBHOOK = N_("🔒 Sending a signed test delivery to check the address and the secret…")
WEBHOOK_ADDRESS_LOST = N_("Sorry — I could no longer read the address you sent. Please send the webhook's URL again.")


def webhook_test_failed(host: str, problem: str) -> str:
    return _(
        "⚠️ The signed test delivery to {host} failed: {problem}.\n"
        "The URL may be mistyped, or the receiver not ready yet. <b>Save anyway</b>, or "
        "<b>Try another URL</b> (you can also just send it)."
    ).format(host=escape(host), problem=escape(problem))


ACCOUNT_NAME_LIMIT = 64


def ask_webhook_name(host: str, test_accepted: bool) -> str:
    accepted = _("✅ The webhook works: a signed test delivery was accepted.") + "\n\n" if test_accepted else ""
    # i18n: "Use {host}" is the button under this question (use_host): keep them the same
    return accepted + _(
        "What should this webhook be called? The name shows in /accounts, in New post and in "
        "reports. Send a name (up to {limit} characters), or tap <b>Use {host}</b>."
    ).format(limit=ACCOUNT_NAME_LIMIT, host=escape(host))


def use_host(host: str) -> str:
    # i18n: a button: name the webhook after its host (www.example.com)
    return i18n.pgettext("button", "Use {host}").format(host=host)


def ask_new_name(name: str) -> str:
    return _(
        "✏️ What should <b>{name}</b> be called? Send the new name (up to {limit} "
        "characters); it shows in /accounts, in New post and in reports. Or tap Cancel."
    ).format(name=escape(name), limit=ACCOUNT_NAME_LIMIT)


ACCOUNT_NAME_EMPTY = N_(
    "A name needs at least one visible character. Send a name of 1 to {limit} characters, or tap Cancel.",
    limit=ACCOUNT_NAME_LIMIT,
)


def account_name_too_long(length: int) -> str:
    return i18n.ngettext(
        "That name is {length} character long; the limit is {limit}. Send a shorter one, or tap Cancel.",
        "That name is {length} characters long; the limit is {limit}. Send a shorter one, or tap Cancel.",
        length,
    ).format(length=i18n.number(length), limit=ACCOUNT_NAME_LIMIT)


def account_renamed(old: str, new: str, posts_keep_old: bool) -> str:
    text = _("✏️ <b>{old}</b> is now called <b>{new}</b>.").format(old=escape(old), new=escape(new))
    if posts_keep_old:
        text += " " + _("Posts scheduled from now on go out under this name; those already scheduled keep the old one.")
    return text


NAME_KEPT = N_("Kept — the name is unchanged.")
CANNOT_RENAME_TELEGRAM = N_(
    "The Telegram account is this bot itself and keeps its name; your channels and groups show under their own titles."
)
ACCOUNT_ANSWER_HINT = N_(
    "Please answer the question above — type the answer or tap one of its buttons — or tap Cancel."
)
ACCOUNT_QUESTION_CLOSED = N_("That question is already closed — nothing changed. Open /accounts to carry on.")


# -- Facebook groups, posted by hand ----------------------------------------------------------
def hand_post(short_id: str, group: str) -> str:
    return _(
        "🙋 Time to post #{short_id} in the Facebook group <b>{group}</b>: save the photos above "
        "(or forward them), copy the caption below, open the group and post. Then tap <b>I posted it</b>."
    ).format(short_id=short_id, group=escape(group))


def hand_posted(group: str) -> str:
    return _("👍 Marked as posted in {group}.").format(group=escape(group))


HAND_POST_NOT_WAITING = N_("That post is not waiting for you any more.")


# -- Scheduled & history ----------------------------------------------------------------------
# i18n: the two views of /scheduled: the posts still to go out, and those finished
VIEW_TITLES = {"upcoming": N_("Upcoming"), "history": N_("History")}
NO_UPCOMING = N_("Nothing is scheduled. /new schedules a post.")
NO_HISTORY = N_("Nothing has been published or cancelled yet.")


def history_header(view: str, page: int, zone: str) -> str:
    title = i18n.translated(VIEW_TITLES.get(view, view))
    if page:
        return _("🗓 <b>Scheduled &amp; history</b> — {title} · page {page}\n<i>Times in {zone}</i>").format(
            title=title, page=page + 1, zone=escape(zone)
        )
    return _("🗓 <b>Scheduled &amp; history</b> — {title}\n<i>Times in {zone}</i>").format(
        title=title, zone=escape(zone)
    )


def history_line(badge: str, short_id: str, when_text: str, targets: int, caption: str, after: str = "") -> str:
    """One post of the list; `after` is what becomes of it after publishing (📌, 🗑 …), if anything."""
    start = f" · {escape(caption)}" if caption else ""
    marks = f" · {after}" if after else ""
    return f"{badge} <b>#{short_id}</b> {escape(when_text)} · {_targets(targets)}{marks}{start}"


def history_button(badge: str, short_id: str, caption: str) -> str:
    return f"{badge} #{short_id} {caption}".rstrip()


def caption_start(caption: str, limit: int) -> str:
    """The first `limit` characters of a caption on one line, with … when cut."""
    flat = " ".join(caption.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


# -- Details of one post ----------------------------------------------------------------------
DELIVERY_LABELS = {
    # i18n: what became of a post at one of its targets (a channel, a group, a Page…): "My channel: waiting"
    "pending": N_("waiting"),
    "sending": N_("being sent"),
    "sent": N_("sent"),
    "failed": N_("failed"),
    "unconfirmed": N_("unconfirmed — it may be there; check before retrying"),
    "awaiting_you": N_("awaiting you (post it by hand)"),
    "missed": N_("missed"),
}
POST_STATUS_LABELS = {
    # i18n: a post's status: "Post #a1b2c3 — scheduled", "it is already scheduled"
    "scheduled": N_("scheduled"),
    "publishing": N_("publishing now"),
    "published": N_("published"),
    "partial": N_("partly published"),
    "failed": N_("failed"),
    "cancelled": N_("cancelled"),
    "unconfirmed": N_("not confirmed"),
}


def _post_status(status: str) -> str:
    return str(i18n.translated(POST_STATUS_LABELS.get(status, status)))


def details_headline(badge: str, short_id: str, status: str) -> str:
    return _("{badge} <b>Post #{short_id}</b> — {status}").format(
        badge=badge, short_id=short_id, status=_post_status(status)
    )


def details_times(scheduled_text: str, relative: str | None, finished_text: str | None) -> list[str]:
    scheduled = _("🕒 Scheduled for {when}").format(when=escape(scheduled_text))
    lines = [scheduled + (f" — {relative}" if relative else "")]
    if finished_text:
        lines.append(_("🏁 Finished {when}").format(when=escape(finished_text)))
    return lines


def details_retry(when: str) -> str:
    return _("🔁 Some targets could not be reached; trying again at {when}").format(when=escape(when))


def details_content(caption: str, images: int, poster_name: str | None, media: str = "", buttons: int = 0) -> list[str]:
    """The content lines of a post's Details: the start of its text (plain), its media (`media`
    names them by kind), its buttons, the poster it came from."""
    lines = [f"📝 {escape(caption)}" if caption else _("📝 <i>no caption</i>")]
    if images:
        counted = i18n.ngettext("{count} image", "{count} images", images).format(count=i18n.number(images))
        lines.append(f"🖼 {media or counted}")
    else:
        lines.append(_("🖼 text only"))
    if buttons:
        lines.append(
            i18n.ngettext("🔘 {count} button", "🔘 {count} buttons", buttons).format(count=i18n.number(buttons))
        )
    if poster_name:
        lines.append(_("💾 from the poster {name}").format(name=escape(poster_name)))
    return lines


def details_delivery(badge: str, name: str, status: str, url: str | None, reason: str | None) -> str:
    """`reason` as it is to be read (a stored one through i18n.stored)."""
    label = i18n.translated(DELIVERY_LABELS.get(status, status))
    line = f"{badge} {escape(name)}: {label}"
    if url:
        # i18n: a link to the post where it was published
        line += " — " + _('<a href="{url}">open</a>').format(url=escape(url, quote=True))
    if reason and status != "sent":
        line += f" — {escape(reason)}"
    return line


def cannot_cancel_now(short_id: str, status: str) -> str:
    if status == "publishing":
        return _(
            "⏳ Post #{short_id} can't be cancelled any more: it has just started publishing. I'll report how it went."
        ).format(short_id=short_id)
    if status == "cancelled":
        return _("Post #{short_id} is already cancelled.").format(short_id=short_id)
    return _("Post #{short_id} can't be cancelled: it is already {status}.").format(
        short_id=short_id, status=_post_status(status)
    )


# -- Reschedule and edit caption --------------------------------------------------------------
def ask_new_time(short_id: str, current_text: str, zone: str, example: str) -> str:
    # i18n: keep "tomorrow 9am" and "in 2 hours" as examples a person may type in your language
    return _(
        "🕒 When should post #{short_id} go out instead? It is set for {current}.\n"
        "Tap a time or type one in your zone ({zone}): <code>{example}</code>, "
        "<code>tomorrow 9am</code>, <code>in 2 hours</code>. /cancel keeps the time."
    ).format(short_id=short_id, current=escape(current_text), zone=escape(zone), example=escape(example))


def rescheduled(short_id: str, when_text: str, relative: str, time_note: str = "") -> str:
    note = f"\n{time_note}" if time_note else ""
    moved = _("🕒 Post #{short_id} now goes out {when} — {relative}.").format(
        short_id=short_id, when=escape(when_text), relative=relative
    )
    return moved + note


def cannot_change(short_id: str, status: str) -> str:
    return _("Post #{short_id} can't be changed any more: it is {status}. Only scheduled posts can be changed.").format(
        short_id=short_id, status=_post_status(status)
    )


TIME_KEPT = N_("Kept — the time is unchanged.")
RESCHEDULE_HINT = N_("Please type the new time or tap one of the buttons above — or /cancel to keep the time.")


def ask_new_caption(short_id: str, current: str, images: int) -> str:
    counted = i18n.translated(AS_TELEGRAM_COUNTS)
    limit = (
        _(
            "A photo caption holds {limit} characters {as_counted}; a longer one goes out "
            "as a text message after the photos."
        ).format(limit=i18n.number(CAPTION_LIMIT), as_counted=counted)
        if images
        else _("A text message holds up to {limit} characters {as_counted}.").format(
            limit=i18n.number(TEXT_LIMIT), as_counted=counted
        )
    )
    now = "\n" + _("Now: {caption}").format(caption=escape(current)) if current else ""
    return _("✏️ Send the new caption for post #{short_id}.{now}\n{limit} /cancel keeps it.").format(
        short_id=short_id, now=now, limit=limit
    )


def caption_updated(short_id: str) -> str:
    return _("✏️ The caption of post #{short_id} is updated.").format(short_id=short_id)


CAPTION_KEPT = N_("Kept — the caption is unchanged.")
CAPTION_HINT = N_("Please send the new caption as a text message — or /cancel to keep it.")


# -- Posters ----------------------------------------------------------------------------------
def posters_list(count: int) -> str:
    return _("🖼 <b>Your posters</b> ({count})\nTap one to see it as it will look.").format(count=count)


NO_POSTERS = N_(
    "🖼 You have no posters yet.\nTo save one: in /new, send the photos (or the caption), "
    "then tap <b>💾 Save as poster</b>."
)


def poster_summary(name: str, images: int, caption: str) -> str:
    content = (
        i18n.ngettext("{count} image", "{count} images", images).format(count=i18n.number(images))
        if images
        else _("text only")
    )
    text = f"🖼 <b>{escape(name)}</b> — {content}"
    return text + (f"\n📝 {escape(caption)}" if caption else "")


def confirm_delete_poster(name: str) -> str:
    return _("Delete the poster <b>{name}</b>? Posts already scheduled with it keep their images and caption.").format(
        name=escape(name)
    )


def poster_deleted(name: str) -> str:
    return _("🗑 The poster {name} is deleted.").format(name=escape(name))


# i18n: the answer to "Keep" under "Delete the poster …?"
POSTER_KEPT = N_("Kept.")
ASK_POSTER_NAME = N_("💾 What should this poster be called? Send a short name (up to 64 characters).")
POSTER_NAME_BAD = N_("Please send a name of 1 to 64 characters, or tap <b>Don't save</b>.")
NOTHING_TO_SAVE = N_("Send the photos or the caption first; then they can be saved as a poster.")
POSTER_NAME_HINT = N_("Please send the poster's name as a text message, or tap <b>Don't save</b>.")
POSTER_NOT_SAVED = N_("Not saved — let's go on with the post.")


def poster_saved(name: str) -> str:
    return _(
        "💾 Saved as the poster <b>{name}</b> — it is in /posters and offered in /new. Let's go on with the post."
    ).format(name=escape(name))


def more_targets(count: int) -> str:
    return i18n.ngettext(
        "… and {count} more target — the report of the publication lists every failure.",
        "… and {count} more targets — the report of the publication lists every failure.",
        count,
    ).format(count=i18n.number(count))


# -- Content: media kinds, formatting, buttons, link preview ------------------------------------
# Each kind as a noun on its own (singular, plural): "photo", "GIF", "audio file" — counted ones
# ("2 photos") are said by `_media_count`.
MEDIA_NOUNS: dict[str, tuple[str, str]] = {
    "photo": (i18n.N_("photo"), i18n.N_("photos")),
    "video": (i18n.N_("video"), i18n.N_("videos")),
    "animation": (i18n.N_("GIF"), i18n.N_("GIFs")),
    "document": (i18n.N_("file"), i18n.N_("files")),
    "audio": (i18n.N_("audio file"), i18n.N_("audio files")),
}


def media_noun(kind: str, other: str = "item") -> str:
    """A media item's kind as a noun on its own: "photo", "GIF", "audio file" (`other` — "item" or
    "file" — for a kind it does not know)."""
    nouns = i18n.translated(MEDIA_NOUNS)
    if kind in nouns:
        return str(nouns[kind][0])
    return i18n._("file") if other == "file" else i18n._("item")


def _media_noun_of(kind: str) -> str:
    """The noun as it follows "the caption of", "in place of" (a case of its own in some languages)."""
    nouns = {
        # i18n: the form after "the caption of …", "in place of …" (genitive in Russian)
        "photo": i18n.pgettext("media noun: of the …", "photo"),
        "video": i18n.pgettext("media noun: of the …", "video"),
        "animation": i18n.pgettext("media noun: of the …", "GIF"),
        "document": i18n.pgettext("media noun: of the …", "file"),
        "audio": i18n.pgettext("media noun: of the …", "audio file"),
    }
    return nouns.get(kind, i18n.pgettext("media noun: of the …", "item"))


def _new_media_noun(kind: str) -> str:
    """ "the new photo": what an item is swapped for."""
    nouns = {
        # i18n: "Photo 2 is swapped for the new video."
        "photo": i18n.pgettext("swapped for …", "the new photo"),
        "video": i18n.pgettext("swapped for …", "the new video"),
        "animation": i18n.pgettext("swapped for …", "the new GIF"),
        "document": i18n.pgettext("swapped for …", "the new file"),
        "audio": i18n.pgettext("swapped for …", "the new audio file"),
    }
    return nouns.get(kind, i18n.pgettext("swapped for …", "the new item"))


def _media_count(kind: str, count: int) -> str:
    """ "2 photos", "1 GIF"."""
    number = i18n.number(count)
    if kind == "photo":
        return i18n.ngettext("{count} photo", "{count} photos", count).format(count=number)
    if kind == "video":
        return i18n.ngettext("{count} video", "{count} videos", count).format(count=number)
    if kind == "animation":
        return i18n.ngettext("{count} GIF", "{count} GIFs", count).format(count=number)
    if kind == "document":
        return i18n.ngettext("{count} file", "{count} files", count).format(count=number)
    if kind == "audio":
        return i18n.ngettext("{count} audio file", "{count} audio files", count).format(count=number)
    return plural(count, kind)


def media_list(kinds: list[str]) -> str:
    """The media of a post by kind, as people say it: "2 photos, 1 video and 1 file"."""
    counts: dict[str, int] = {}
    for kind in kinds:
        counts[kind] = counts.get(kind, 0) + 1
    parts = [_media_count(kind, count) for kind, count in counts.items()]
    if len(parts) == 1:
        return parts[0]
    # i18n: the last two of a list: "2 photos, 1 video and 1 file"
    return i18n._("{items} and {last}").format(items=", ".join(parts[:-1]), last=parts[-1])


def other_media(kinds: list[str]) -> str:
    """The media by kind when they are not all photos (photos alone are said as "images", as ever)."""
    return "" if all(kind == "photo" for kind in kinds) else media_list(kinds)


def media_received(kinds: list[str]) -> str:
    """The acknowledgement of the media sent so far (only photos: as it always said)."""
    if all(kind == "photo" for kind in kinds):
        return photos_received(len(kinds))
    return i18n._("📎 {media} in. Send more (up to {max_images} in all) or the main caption.").format(
        media=media_list(kinds), max_images=i18n.number(MAX_IMAGES)
    )


def too_big_to_download(kind: str, size_mb: float | None, limit_mb: int) -> str:
    noun = media_noun(kind, "file")
    if kind == "photo" and limit_mb == DOWNLOAD_LIMIT_MB:
        return str(i18n.translated(PHOTO_TOO_BIG))
    limit = i18n.number(limit_mb)
    if size_mb:
        return i18n._(
            "This {noun} ({size} MB) is too big for a bot to download (over {limit} MB); send a smaller one. "
            "Everything you sent before it is kept."
        ).format(noun=noun, size=i18n.decimal(size_mb), limit=limit)
    return i18n._(
        "This {noun} is too big for a bot to download (over {limit} MB); send a smaller one. "
        "Everything you sent before it is kept."
    ).format(noun=noun, limit=limit)


CUSTOM_EMOJI_NOTE = i18n.N_(
    "ℹ️ Custom emoji: Telegram shows them in a bot's posts only where it allows bots to use them; "
    "elsewhere your readers see the plain emoji."
)


def media_caption_cut(number: int, kind: str, length: int) -> str:
    # i18n: {as_telegram_counts} is "as Telegram counts them (most emoji count as 2)"
    return i18n._(
        "ℹ️ The caption of {noun} {number} is {length} characters {as_telegram_counts}; a bot can put "
        "{limit} under it, so it will be cut there (the preview shows how). To keep it "
        "whole, send it as the main caption instead."
    ).format(
        noun=_media_noun_of(kind),
        number=number,
        length=i18n.number(length),
        as_telegram_counts=i18n.translated(AS_TELEGRAM_COUNTS),
        limit=i18n.number(CAPTION_LIMIT),
    )


# i18n: the example lines (labels, links, the promo code) may be translated; keep " - ", "|" and "copy:"
ASK_BUTTONS = i18n.N_(
    "🔘 Send the buttons to show under the post: one row per line, <code>|</code> between the buttons "
    "of a row, each as <code>Label - link</code>:\n"
    "<code>Order now - https://shop.example\n"
    "Menu - https://shop.example/menu | Promo code - copy: SPRING10</code>\n"
    "A link starts with https://, http:// or tg://; <code>copy:</code> and a text make a button that "
    "copies it."
)
BUTTONS_HINT = i18n.N_("Please send the buttons as text (one row per line), or tap a button above.")


def current_buttons(written: str) -> str:
    # i18n: the buttons the post has now, as they are written
    return i18n._("Now:\n<code>{buttons}</code>").format(buttons=escape(written))


def buttons_refused(problems: list[str]) -> str:
    shown = problems[:8]
    lines = "\n".join(f"• {escape(problem)}" for problem in shown)
    if len(problems) > len(shown):
        # i18n: after a list of problems with the buttons, how many more are not listed
        lines += "\n" + i18n._("… and {count} more").format(count=i18n.number(len(problems) - len(shown)))
    return i18n._("Those buttons can't go out as they are:\n{problems}\nPlease send them again.").format(problems=lines)


LINK_PREVIEW_CHOICES: dict[str, str] = {
    "on": i18n.N_("Shown below the text"),
    "above": i18n.N_("Shown above the text"),
    "large": i18n.N_("Shown with a large picture"),
    "above_large": i18n.N_("Above the text, large picture"),
    "off": i18n.N_("Hidden"),
}
ASK_LINK_PREVIEW = i18n.N_("🔗 How should the preview of the first link in the text show?")


def link_preview_label(choice: str) -> str:
    return {
        # i18n: how the link preview shows, short (on a button and in "🔗 Link preview: …")
        "on": i18n.pgettext("link preview", "shown"),
        "above": i18n.pgettext("link preview", "above the text"),
        "large": i18n.pgettext("link preview", "large picture"),
        "above_large": i18n.pgettext("link preview", "above, large"),
        "off": i18n.pgettext("link preview", "hidden"),
    }[choice]


def preview_content_lines(
    buttons: int, buttons_apart: bool, link_preview: str | None, caption_above: bool, custom_emoji: bool
) -> list[str]:
    """What the preview says of the post's buttons, link preview and layout."""
    lines = []
    if buttons:
        count = i18n.number(buttons)
        if buttons_apart:
            said = i18n.ngettext(
                "🔘 {count} button — on a short message after the album, since an album can't carry buttons",
                "🔘 {count} buttons — on a short message after the album, since an album can't carry buttons",
                buttons,
            )
        else:
            said = i18n.ngettext("🔘 {count} button", "🔘 {count} buttons", buttons)
        lines.append(said.format(count=count))
    if link_preview is not None:
        lines.append(i18n._("🔗 Link preview: {choice}").format(choice=link_preview_label(link_preview)))
    if caption_above:
        lines.append(i18n._("⬆️ Caption above the media"))
    if custom_emoji:
        lines.append(i18n.translated(CUSTOM_EMOJI_NOTE))
    return lines


SHORTFALL_WORDS: dict[str, str] = {
    "plain_text": i18n.N_("plain text, each link's address written out"),
    "buttons_as_text": i18n.N_("no buttons: they are written at the end of the text"),
    "documents_left_out": i18n.N_("files left out"),
    "audio_left_out": i18n.N_("audio left out"),
    "videos_apart": i18n.N_("each further video is a post of its own"),
    "gifs_as_videos": i18n.N_("GIFs go as videos"),
    "no_spoilers": i18n.N_("no spoilers"),
}


def platform_shortfalls(platform_name: str, shortfalls: list[str]) -> str:
    """ "⚠️ Facebook Page: plain text…; no buttons…" — what a platform shows otherwise."""
    words = i18n.translated(SHORTFALL_WORDS)
    # i18n: what a platform shows otherwise than Telegram: "⚠️ Facebook Page: files left out; no spoilers."
    return i18n._("⚠️ {platform}: {shortfalls}.").format(
        platform=escape(platform_name), shortfalls="; ".join(words.get(item, item) for item in shortfalls)
    )


# -- forum topics (targets of their own) ------------------------------------------------------------
TOPIC_REFUSALS: dict[str, str] = {
    "cannot_see": i18n.N_(
        "I can't see that chat. Add me to the forum as an <b>administrator</b>, then paste the topic's link again."
    ),
    "not_a_forum": i18n.N_("That chat isn't a forum, so it has no topics — the chat itself is the target."),
    "bot_not_admin": i18n.N_(
        "I'm not an administrator of that forum. Make me one (with the right to post), then paste the link again."
    ),
    "not_your_chat": i18n.N_("You're not an administrator of that forum, so its topics can't be your targets."),
    "closed": i18n.N_("That topic is closed. Reopen it in Telegram, then paste its link again."),
    "unreachable": i18n.N_("I couldn't reach Telegram to check that link. Please try again in a moment."),
}
NOT_A_TOPIC_LINK = i18n.N_(
    "That link doesn't point to a forum topic. A topic's link looks like "
    "<code>https://t.me/c/1234567890/42</code> — in Telegram, open the topic's menu and tap "
    "<b>Copy link</b>. A channel or group becomes a target when you add me to it as an administrator."
)
TOPIC_LINK_HINT = i18n.N_(
    "💬 Forum topics are targets too: I learn them as they're created; to add one now, paste its link "
    "here (e.g. <code>https://t.me/c/1234567890/42</code>), followed by its name if you like."
)


def topic_added(name: str) -> str:
    """A pasted topic link became a target."""
    return i18n._("✅ <b>{name}</b> is one of your targets now.").format(name=escape(name))


def topic_added_elsewhere(name: str) -> str:
    """A topic added while composing for an account that does not publish to Telegram."""
    return i18n._(
        "✅ <b>{name}</b> is one of your Telegram targets now — choose the Telegram account "
        "(or All accounts) to post there."
    ).format(name=escape(name))


# -- Edit and delete a published post everywhere ----------------------------------------------------
def ask_edit_everywhere(short_id: str, targets: int) -> str:
    where = i18n.ngettext("{count} target", "{count} targets", targets).format(count=i18n.number(targets))
    return i18n._(
        "✏️ <b>Edit #{short_id} everywhere</b> — where it went out ({targets}).\n"
        "What should change? The text keeps the formatting you type; the buttons take the syntax of "
        "New post; a photo or video can be swapped for one of a kind that can take its place."
    ).format(short_id=short_id, targets=where)


def ask_everywhere_text(short_id: str, now: str) -> str:
    # i18n: the text the post has now, under the question for the new one
    now_line = "\n\n" + i18n._("Now: <i>{text}</i>").format(text=escape(now)) if now else ""
    return (
        i18n._("📝 Send the new text of #{short_id}, formatted as it should show.").format(short_id=short_id) + now_line
    )


def ask_everywhere_item(short_id: str) -> str:
    return i18n._("🖼 Which photo or video of #{short_id} should be swapped?").format(short_id=short_id)


def ask_everywhere_media(number: int, kind: str, allowed: str) -> str:
    # i18n: {allowed} is "photo or video", "GIF", "file" or "audio file"
    return i18n._("🖼 Send the {allowed} to put in place of {noun} {number} (its caption stays).").format(
        allowed=allowed, noun=_media_noun_of(kind), number=number
    )


EVERYWHERE_TEXT_HINT = i18n.N_("Please send the new text as a message, or tap a button above.")
EVERYWHERE_MEDIA_HINT = i18n.N_("Please send a photo or video (or the kind of file to swap), or tap a button above.")
EVERYWHERE_KEPT = i18n.N_("Nothing was changed.")
EVERYWHERE_NOTHING_TO_REACH = i18n.N_(
    "There is nowhere to change it: the post is not (or no longer) on any target. Only what went out can be "
    "edited or deleted."
)
EVERYWHERE_TEXT_EMPTY = i18n.N_("A text post needs some text: please send the new text.")
EVERYWHERE_SAME = i18n.N_("That is what the post shows already: nothing to change. Send something else, or /cancel.")
EVERYWHERE_ALREADY = i18n.N_("Already done: this was carried out before — see the post's Details.")
EVERYWHERE_STALE = i18n.N_("This question is out of date: open the post's Details and start again.")


def everywhere_wrong_kind(number: int, kind: str, allowed: str) -> str:
    # i18n: {allowed} is "photo or video", "GIF", "file" or "audio file"
    return i18n._(
        "That can't take the place of {noun} {number}: Telegram only lets a {allowed} stand there. Send one."
    ).format(noun=_media_noun_of(kind), number=number, allowed=allowed)


def cannot_revise(short_id: str, status: str) -> str:
    label = i18n.translated(POST_STATUS_LABELS).get(status, status).lower()
    # i18n: {status} is a post's status, lower-case: "scheduled", "failed", "cancelled"…
    return i18n._("#{short_id} is {status}: only a published post can be changed.").format(
        short_id=short_id, status=label
    )


def _reasons(names: list[tuple[str, str]]) -> list[str]:
    return [f"• {escape(name)}: {escape(reason)}" for name, reason in names]


def confirm_edit_everywhere(short_id: str, change: str, reachable: list[str], refused: list[tuple[str, str]]) -> str:
    lines = [i18n._("✏️ <b>Edit #{short_id} everywhere?</b>").format(short_id=short_id), "", change, ""]
    if reachable:
        lines.append(i18n._("It will be edited in:"))
        lines.extend(f"• {escape(name)}" for name in reachable)
    if refused:
        lines.append(i18n._("Can't be edited:"))
        lines.extend(_reasons(refused))
    if not reachable:
        lines.append("\n" + i18n._("Nothing can be edited: change what is said above, or keep the post as it is."))
    return "\n".join(lines)


def new_text_shown(html: str) -> str:
    return i18n._("New text:\n{html}").format(html=html) if html else i18n._("New text: <i>none</i>")


def new_buttons_shown(written: str) -> str:
    if written:
        return i18n._("New buttons:\n<code>{buttons}</code>").format(buttons=escape(written))
    return i18n._("The buttons are taken away.")


def new_media_shown(number: int, old_kind: str, new_kind: str) -> str:
    # i18n: "Photo 2 is swapped for the new video."
    return i18n._("{old} {number} is swapped for {new}.").format(
        old=media_noun(old_kind).capitalize(), number=number, new=_new_media_noun(new_kind)
    )


def confirm_delete_everywhere(short_id: str, reachable: list[str], refused: list[tuple[str, str]]) -> str:
    lines = [i18n._("🗑 <b>Delete #{short_id} everywhere?</b> This can't be undone.").format(short_id=short_id), ""]
    if reachable:
        lines.append(i18n._("It will be deleted in:"))
        lines.extend(f"• {escape(name)}" for name in reachable)
    if refused:
        lines.append(i18n._("Can't be deleted:"))
        lines.extend(_reasons(refused))
    return "\n".join(lines)


def everywhere_report(short_id: str, verb: str, results: list[tuple[str, str | None, str | None]]) -> str:
    """ "✅ Edited #a1b2 in 3/3 targets" ("edited" or "deleted") and a line per target: (name, None
    or the reason it failed, a note on a success)."""
    done = sum(1 for _name, failure, _note in results if failure is None)
    badge = "✅" if done == len(results) else ("⚠️" if done else "❌")
    total = len(results)
    if verb == "deleted":
        head = i18n._("{badge} Deleted #{short_id} in {done}/{total} targets")
    else:
        head = i18n._("{badge} Edited #{short_id} in {done}/{total} targets")
    lines = [head.format(badge=badge, short_id=short_id, done=done, total=total)]
    for name, failure, note in results:
        if failure is not None:
            lines.append(f"❌ {escape(name)}: {escape(failure)}")
        elif verb == "deleted":
            done_line = i18n._("✅ deleted in {target} ({note})") if note else i18n._("✅ deleted in {target}")
            lines.append(done_line.format(target=escape(name), note=escape(note or "")))
        else:
            done_line = i18n._("✅ edited in {target} ({note})") if note else i18n._("✅ edited in {target}")
            lines.append(done_line.format(target=escape(name), note=escape(note or "")))
    return "\n".join(lines)


def details_revised(edited_at: str | None, deleted_at: str | None) -> list[str]:
    lines = []
    if edited_at:
        lines.append(i18n._("✏️ Edited at {time}").format(time=escape(edited_at)))
    if deleted_at:
        lines.append(i18n._("🗑 Deleted at {time}").format(time=escape(deleted_at)))
    return lines


# i18n: a target's line in a post's Details, for a post deleted everywhere
DELETED_THERE = i18n.N_("deleted")


def revised_mark(edited: bool, deleted: bool) -> str:
    """What a history line adds for a post changed after publication."""
    return (" · " + i18n._("✏️ edited") if edited else "") + (" · " + i18n._("🗑 deleted") if deleted else "")


# -- the posting schedule and its queue (/queue) -----------------------------------------------------
def queue_screen(zone: str, lines: list[str], more: int, schedule: list[str]) -> str:
    """The queue: each queued post with its time, then the posting schedule."""
    head = _("📥 <b>Your queue</b> (times in {zone})").format(zone=escape(zone))
    if lines:
        body = "\n".join(lines)
        if more:
            body += "\n" + i18n.ngettext("…and {count} more post", "…and {count} more posts", more).format(
                count=i18n.number(more)
            )
    else:
        body = _("Nothing is queued. In New post, tap <b>➕ Add to queue</b> at the time step, or send /batch.")
    slots = "\n".join(escape(line) for line in schedule) if schedule else _("no slots yet — tap 🗓 Slots")
    return f"{head}\n\n{body}\n\n" + _("<b>Posting schedule</b>:") + f"\n{slots}"


def _queue_target_count(count: int) -> str:
    """ "1 target", "3 targets"."""
    return i18n.ngettext("{count} target", "{count} targets", count).format(count=i18n.number(count))


def _slot_count(count: int) -> str:
    """ "1 slot", "3 slots"."""
    return i18n.ngettext("{count} slot", "{count} slots", count).format(count=i18n.number(count))


def _batch_post_count(count: int) -> str:
    """ "1 post", "3 posts"."""
    return i18n.ngettext("{count} post", "{count} posts", count).format(count=i18n.number(count))


def queue_line(number: int, when_text: str, first_words: str, targets: int) -> str:
    return f"{number}. <b>{escape(when_text)}</b> — {escape(first_words)} ({_queue_target_count(targets)})"


def slots_screen(zone: str, sections: list[tuple[str, list[str]]]) -> str:
    """The posting schedule: the slots for all targets, then each target set's (numbered as its
    remove buttons are), a weekday a line, with how to change it."""
    head = _("🗓 <b>Posting schedule</b> (times in {zone})").format(zone=escape(zone)) + "\n\n"
    if not any(lines for _names, lines in sections):
        return head + _(
            "No slots yet. A slot is a weekday and a time when a queued post goes out. Tap <b>➕ Add slots</b> "
            "and type them, e.g. <code>mon-fri 9:00, 18:00</code>, or pick a common one. Slots for chosen "
            "targets (🎯) serve only posts to exactly those targets."
        )
    parts = []
    for number, (names, lines) in enumerate(sections):
        title = (
            _("<b>For all targets</b>")
            if not names
            else _("<b>({number}) For {names}</b>").format(number=number, names=escape(names))
        )
        parts.append(title + ":\n" + ("\n".join(escape(line) for line in lines) or _("no slots")))
    return head + "\n\n".join(parts) + "\n\n" + _("Tap a slot below to remove it, or add more.")


def ask_slots(zone: str, target_names: str = "") -> str:
    if target_names:
        return _(
            "Send the slots for posts to exactly {targets}: days and times in your zone ({zone}), for example\n"
            "<code>mon-fri 9:00, 18:00</code>\n<code>sat 11:30</code>\n<code>weekends 10am; wed 20:00</code>\n"
            "Or tap a common one below. /cancel leaves."
        ).format(targets=escape(target_names), zone=escape(zone))
    return _(
        "Send the slots: days and times in your zone ({zone}), for example\n"
        "<code>mon-fri 9:00, 18:00</code>\n<code>sat 11:30</code>\n<code>weekends 10am; wed 20:00</code>\n"
        "Or tap a common one below. /cancel leaves."
    ).format(zone=escape(zone))


def slot_targets(selected: int, total: int) -> str:
    return _(
        "🎯 <b>Slots for chosen targets</b>\nPick the targets: these slots will serve posts to exactly them "
        "(other posts keep the slots for all targets). ({selected} of {total} selected)"
    ).format(selected=selected, total=total)


# i18n: {typed} is what the person typed; the days and times in <code> are typed that way.
SLOT_PROBLEMS = {
    "empty": N_("I found no days or times there."),
    "unknown": N_(
        "I don't know “{typed}” — days are like <code>mon</code>, <code>mon-fri</code>, "
        "<code>weekends</code>, <code>daily</code>; times like <code>9:00</code> or <code>6pm</code>."
    ),
    "bad_hour": N_("“{typed}” has no such hour (0–23, or 1–12 with am/pm)."),
    "bad_minute": N_("“{typed}” has no such minute (00–59, two digits)."),
    "no_time": N_("Which time on “{typed}”? Add one, e.g. <code>{typed} 9:00</code>."),
    "too_many": N_("That is more slots than a schedule holds (70). Please send fewer."),
}


def slots_refused(problem: str, typed: str) -> str:
    problems: dict[str, str] = i18n.translated(SLOT_PROBLEMS)
    reason = problems.get(problem, problems["empty"]).format(typed=escape(typed))
    return reason + "\n" + _("Please send the slots again, e.g. <code>mon-fri 9:00, 18:00</code>, or /cancel.")


def slots_added(added: int, total: int) -> str:
    if not added:
        return _("Those slots were in your schedule already ({slots}).").format(slots=_slot_count(total))
    return _("✅ Added {added} — your schedule has {total}.").format(added=_slot_count(added), total=_slot_count(total))


SLOTS_HINT = N_("Please type the slots (e.g. <code>mon-fri 9:00, 18:00</code>), tap a common one, or /cancel.")
SLOTS_FULL = N_("Your schedule holds 70 slots at most — remove some before adding more.")
SLOT_GONE = N_("That slot is not in your schedule any more.")
SLOT_REMOVED = N_("Slot removed.")
CONFIRM_CLEAR_SLOTS = N_("Remove every slot of your posting schedule? Queued posts keep their times.")
SLOTS_CLEARED = N_("Every slot removed. Queued posts keep their times.")
QUEUE_ITEM_GONE = N_("That post is not in your queue any more (published, removed, or not yours).")
QUEUE_CHANGED = N_("The queue changed meanwhile — here it is as it is now.")
QUEUE_AT_END = N_("It is at that end of the queue already.")
QUEUE_TOO_SHORT = N_("Shuffling needs two queued posts or more on the same slots.")
QUEUE_SHUFFLED = N_("Shuffled — the times stay, the posts swapped places.")


def queue_posting_now(short_id: str) -> str:
    return _("🚀 Publishing #{short_id} now.").format(short_id=short_id)


def confirm_queue_remove(short_id: str, when_text: str) -> str:
    return _("Remove #{short_id} ({when}) from the queue? It will not be published.").format(
        short_id=short_id, when=escape(when_text)
    )


def queue_removed(short_id: str) -> str:
    return _("Removed #{short_id} from the queue; its slot is free again.").format(short_id=short_id)


NO_SLOTS_FOR_QUEUE = N_(
    "No posting schedule covers these targets yet, so there is no slot to queue into. Set one in /queue → 🗓 Slots "
    "(e.g. <code>mon-fri 9:00, 18:00</code>), or type an exact time here."
)
QUEUE_FULL = N_("Every slot of your posting schedule in the coming year is taken. Add slots in /queue, or type a time.")
QUEUED_NOTE = N_("📥 The next free slot of your posting schedule.")


def queued_elsewhere(when_text: str) -> str:
    return _("That slot was taken meanwhile — queued for the next free one: {when}.").format(when=escape(when_text))


def media_only(count: int) -> str:
    """What a post without text is, in a list: "(2 media, no text)"."""
    return i18n.ngettext("({count} media item, no text)", "({count} media items, no text)", count).format(
        count=i18n.number(count)
    )


# -- batch scheduling (/batch) -------------------------------------------------------------------------
BATCH_START = N_(
    "📦 <b>Batch</b> · step 1 of 4\nSend or forward the messages to schedule — texts, photos, videos, GIFs, "
    "files, audio; an album stays one post. Tap <b>Done</b> when they are all here, or /cancel."
)


def batch_collected(posts: int, albums: int) -> str:
    if albums:
        return _("📦 {posts} so far ({albums}). Send or forward more, or tap Done.").format(
            posts=_batch_post_count(posts),
            albums=i18n.ngettext("{count} album", "{count} albums", albums).format(count=i18n.number(albums)),
        )
    return _("📦 {posts} so far. Send or forward more, or tap Done.").format(posts=_batch_post_count(posts))


BATCH_EMPTY = N_("Send or forward at least one message first.")
# i18n: {limit} is a number of posts (50).
BATCH_FULL = N_("A batch holds at most {limit} posts — that message was not added. Tap Done to go on.")
BATCH_NOT_TAKEN = N_(
    "I can't take that into a batch — stickers, voice messages and round videos can't be scheduled. "
    "Send texts, photos, videos, GIFs, files or audio."
)
BATCH_COLLECT_HINT = N_("Send or forward the messages, then tap Done — or /cancel.")
BATCH_ACCOUNT = N_("📦 <b>Batch</b> · step 2 of 4\nWhich account should publish the posts?")


def batch_targets(account_name: str, selected: int, total: int) -> str:
    return _(
        "📦 <b>Batch</b> · step 2 of 4\nAccount: {account}\n"
        "Where should the posts go? Tap to select ({selected} of {total} selected)."
    ).format(account=escape(account_name), selected=selected, total=total)


def batch_when(posts: int) -> str:
    return i18n.ngettext(
        "📦 <b>Batch</b> · step 3 of 4\nWhen should the {count} post go out — into the next free slots "
        "of your posting schedule, or at intervals from a time you give?",
        "📦 <b>Batch</b> · step 3 of 4\nWhen should the {count} posts go out — into the next free slots "
        "of your posting schedule, or at intervals from a time you give?",
        posts,
    ).format(count=i18n.number(posts))


def ask_interval(zone: str) -> str:
    return _(
        "Type the interval and the first time, in your zone ({zone}):\n"
        "<code>every 2 hours from tomorrow 9:00</code>\n<code>every 30 min from 18:00</code>\n"
        "<code>every 1 day from friday 10am</code>"
    ).format(zone=escape(zone))


INTERVAL_UNREADABLE = N_(
    "I read that as no interval. Please type it like <code>every 2 hours from tomorrow 9:00</code> "
    "(minutes, hours or days, from 1 minute to 7 days)."
)
INTERVAL_TOO_FAR = N_("The last post would be more than a year ahead — please choose a shorter interval.")
BATCH_INTERVAL_HINT = N_("Please type the interval and first time, e.g. <code>every 2 hours from tomorrow 9:00</code>.")


def batch_slots_short(free: int, posts: int) -> str:
    return _(
        "Your posting schedule has only {free} in the coming year {for_posts}. Add slots in /queue, "
        "or choose intervals."
    ).format(
        free=i18n.ngettext("{count} free slot", "{count} free slots", free).format(count=i18n.number(free)),
        # i18n: "for 3 posts", said after "Your posting schedule has only 2 free slots in the coming year".
        for_posts=i18n.ngettext("for {count} post", "for {count} posts", posts).format(count=i18n.number(posts)),
    )


def batch_summary(count: int, target_names: list[str], lines: list[str], queued: bool) -> str:
    if queued:
        head = i18n.ngettext(
            "📦 <b>Batch</b> · step 4 of 4\n{count} post into the next free slots of your posting schedule, "
            "to {targets}:",
            "📦 <b>Batch</b> · step 4 of 4\n{count} posts into the next free slots of your posting schedule, "
            "to {targets}:",
            count,
        )
    else:
        head = i18n.ngettext(
            "📦 <b>Batch</b> · step 4 of 4\n{count} post at the intervals you gave, to {targets}:",
            "📦 <b>Batch</b> · step 4 of 4\n{count} posts at the intervals you gave, to {targets}:",
            count,
        )
    return (
        head.format(count=i18n.number(count), targets=escape(", ".join(target_names)))
        + "\n\n"
        + "\n".join(lines)
        + "\n\n"
        + _("Schedule them all? Nothing is stored until you tap Schedule.")
    )


def batch_line(number: int, when_text: str, first_words: str) -> str:
    return f"{number}. <b>{escape(when_text)}</b> — {escape(first_words)}"


BATCH_TIMES_CHANGED = N_("The free slots changed meanwhile — here are the times now. Nothing is stored yet.")
BATCH_TIME_PAST = N_("The first time has passed meanwhile — please choose the times again. Nothing is stored yet.")


def batch_scheduled(count: int, short_ids: list[str], queued: bool) -> str:
    ids = ", ".join(f"#{short_id}" for short_id in short_ids)
    if queued:
        message = i18n.ngettext(
            "✅ Scheduled {count} post into your queue (/queue): {ids}",
            "✅ Scheduled {count} posts into your queue (/queue): {ids}",
            count,
        )
    else:
        message = i18n.ngettext("✅ Scheduled {count} post: {ids}", "✅ Scheduled {count} posts: {ids}", count)
    return message.format(count=i18n.number(count), ids=ids)


BATCH_LEFT = N_("Batch left — nothing was stored.")


def set_slots_note(count: int) -> str:
    return i18n.ngettext(
        "+ {count} slot for chosen targets (🗓 Slots)", "+ {count} slots for chosen targets (🗓 Slots)", count
    ).format(count=i18n.number(count))


# -- The date picker (handlers/date_picker.py) ----------------------------------------------------
# i18n: the typed times and repeat rules in <code> are read in English only: keep them as they are.
HELP_TIMES = N_(
    "<b>Picking a time</b>\n"
    "Type it in your zone (<code>2026-12-01 18:30</code>, <code>tomorrow 9am</code>, <code>in 2 hours</code>), "
    "tap a quick time, or tap <b>📅 Calendar</b>: a day (◀ ▶ between months; days gone are struck "
    "through), then the hour, then the minutes — or type the minutes (<code>07</code>).\n"
    "To repeat a post, type a rule in the time step (<code>every monday 9:00</code>, "
    "<code>every 2 weeks on mon, thu at 9</code>, <code>on the 15th of every month at 10:00 10 times</code>, "
    "<code>every day 18:30 until 31 jan</code>) or tap <b>🔁 Repeat…</b>; /scheduled shows each series once."
)
# The calendar's weekday header is i18n.weekday_names("short"); in English these.
CALENDAR_WEEKDAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
CALENDAR_DAYS = N_("◀ Days")
CALENDAR_HOURS = N_("◀ Hours")
DAY_PASSED = N_("That day has passed — pick today or a later day.")
DAY_TOO_FAR = N_("That is more than a year ahead; Herald schedules up to one year.")
HOUR_PASSED = N_("That hour has passed today — pick a later one.")
MONTH_OUT_OF_RANGE = N_("Herald schedules from today up to a year ahead — that month is out of reach.")
CALENDAR_BUTTON_UNKNOWN = N_("That calendar button isn't one I made — tap 📅 Calendar again.")


def calendar_month(zone: str) -> str:
    return _("📅 Pick a day — times in your zone, {zone}.").format(zone=escape(zone))


def calendar_hours(day: str, zone: str) -> str:
    return _("📅 <b>{day}</b>: pick the hour ({zone}).").format(day=escape(day), zone=escape(zone))


def calendar_minutes(day: str, hour: int, zone: str) -> str:
    return _("📅 <b>{day}, {hour}:__</b>: pick the minutes, or type them (e.g. <code>07</code>) — {zone}.").format(
        day=escape(day), hour=f"{hour:02d}", zone=escape(zone)
    )


def calendar_picked(when: str) -> str:
    return _("📅 Picked: <b>{when}</b>").format(when=escape(when))


# -- /import (handlers/importing.py) ---------------------------------------------------------------
def import_intro(zone: str, max_rows: int, max_kb: int) -> str:
    # i18n: the column names (time, targets, text, media, buttons) and the example are written that way
    # in every language: keep them.
    return _(
        "📥 <b>Import posts</b>\n"
        "Send me a CSV or JSON document, one post a row, with the columns <code>time</code>, "
        "<code>targets</code>, <code>text</code>, <code>media</code> and <code>buttons</code>:\n"
        "<code>time,targets,text,media\n"
        "2026-12-01 18:30,Shop news;Team chat,Hello!,https://example.com/a.jpg</code>\n"
        "• <b>time</b>: <code>YYYY-MM-DD HH:MM</code> in your zone ({zone}), or ISO 8601 with an "
        "offset (<code>2026-12-01T18:30:00+01:00</code>)\n"
        "• <b>targets</b>: names or ids of your targets, <code>;</code> between them\n"
        "• <b>media</b>: http(s) URLs, or <code>file:1</code> for the first file you send me here before "
        "the document, <code>file:2</code> the second…; <code>;</code> between them\n"
        "• <b>buttons</b>: as on the preview, one row a line\n"
        "JSON: a list of objects with the same fields (lists allowed for targets and media).\n"
        "Up to {max_rows} rows and {max_kb} KB. I show what would be stored first — nothing is stored "
        "until you confirm."
    ).format(zone=escape(zone), max_rows=i18n.number(max_rows), max_kb=i18n.number(max_kb))


def import_file_kept(number: int, kind: str) -> str:
    nouns = {
        "photo": i18n.pgettext("media kind", "photo"),
        "video": i18n.pgettext("media kind", "video"),
        "animation": i18n.pgettext("media kind", "GIF"),
        "document": i18n.pgettext("media kind", "file"),
        "audio": i18n.pgettext("media kind", "audio file"),
    }
    noun = nouns.get(kind, nouns["document"])
    return _("📎 File {number} kept ({kind}) — write <code>file:{number}</code> in the media column to use it.").format(
        number=number, kind=noun
    )


def import_too_many_files(limit: int) -> str:
    return _("An import takes up to {limit} files; this one was not kept. Send the document now, or /cancel.").format(
        limit=limit
    )


IMPORT_HINT = N_("Send the CSV or JSON document (or media files to use as file:1, file:2…), or /cancel.")
IMPORT_CANCELLED = N_("Import cancelled — nothing was stored.")
IMPORT_OLD_PREVIEW = N_("That preview is out of date — use the latest one.")
IMPORT_FINISHED = N_("This import is finished. /import starts another.")
IMPORT_NO_PLAN = N_("Nothing to store yet: send the document first.")
IMPORT_NOTHING_GOOD = N_("No row can be imported. Fix the document and send it again, or /cancel.")


def import_checking(urls: int) -> str:
    return i18n.ngettext(
        "⏳ Reading the document and downloading {count} media URL…",
        "⏳ Reading the document and downloading {count} media URLs…",
        urls,
    ).format(count=i18n.number(urls))


def import_refused(kind: str, detail: str, max_rows: int, max_kb: int) -> str:
    """Why a document as a whole cannot be imported; the import stays open for another."""
    if kind == "too_big":
        reason = _(
            "That document is too big: an import takes up to {max_kb} KB. Split it and send the parts one by one."
        ).format(max_kb=i18n.number(max_kb))
    elif kind == "not_utf8":
        reason = _("I can't read that document: save it as UTF-8 text (CSV UTF-8 in a spreadsheet).")
    elif kind == "bad_csv":
        reason = _("I can't read that CSV: {detail}.").format(detail=escape(detail))
    elif kind == "bad_json":
        reason = _("I can't read that JSON: {detail}.").format(detail=escape(detail))
    elif kind == "json_shape":
        reason = _('That JSON is not a list of posts: write a list of objects (or {"posts": [...]}).')
    elif kind == "unknown_columns":
        reason = _(
            "Unknown column(s) in the header: {detail}. The columns are time, targets, text, media and buttons."
        ).format(detail=escape(detail))
    elif kind == "missing_columns":
        reason = _("The header lacks: {detail}. The columns are time, targets, text, media and buttons.").format(
            detail=escape(detail)
        )
    elif kind == "no_rows":
        reason = _("That document holds no rows to import.")
    elif kind == "too_many_rows":
        reason = _(
            "That document has {detail} rows; an import takes up to {max_rows}. Split it and send the parts one by one."
        ).format(detail=escape(detail), max_rows=i18n.number(max_rows))
    elif kind == "not_a_document":
        reason = _("That is not a CSV or JSON document.")
    else:
        reason = _("I can't read that document.")
    return "❌ " + reason + " " + _("Send another, or /cancel.")


# A preview line names this many targets or reasons, then how many more: one line stays short.
IMPORT_LINE_ITEMS = 5


def _some(items: Sequence[str], separator: str) -> str:
    shown = separator.join(items[:IMPORT_LINE_ITEMS])
    more = len(items) - IMPORT_LINE_ITEMS
    if more <= 0:
        return shown
    # i18n: after a list cut short: "A, B, C, D, E, and 3 more".
    return shown + separator + _("and {count} more").format(count=i18n.number(more))


def import_row_line(number: int, when_text: str, targets: Sequence[str], words: str, media: int) -> str:
    line = _("• row {number} — {when} → {targets}").format(
        number=number, when=escape(when_text), targets=escape(_some(targets, ", "))
    )
    if words:
        line += " — " + _("“{words}”").format(words=escape(words))
    if media:
        counted = i18n.ngettext("{count} media item", "{count} media items", media).format(count=i18n.number(media))
        line += f" (+{counted})"
    return line


def import_problem_line(number: int, reasons: Sequence[str]) -> str:
    return _("• row {number} — {reasons}").format(number=number, reasons=escape(_some(reasons, "; ")))


def import_preview_head(good: int, bad: int) -> str:
    head = _("📥 <b>Import preview</b> — nothing is stored yet.")
    if good:
        head += "\n" + i18n.ngettext(
            "✅ {count} post will be stored:", "✅ {count} posts will be stored:", good
        ).format(count=i18n.number(good))
    return head


def import_bad_head(bad: int) -> str:
    return i18n.ngettext("❌ {count} row will be left out:", "❌ {count} rows will be left out:", bad).format(
        count=i18n.number(bad)
    )


def import_preview_tail(good: int) -> str:
    if not good:
        return IMPORT_NOTHING_GOOD.translated()
    return i18n.ngettext(
        "Tap <b>Store {count} post</b> to schedule them, or Cancel. A corrected document replaces this one.",
        "Tap <b>Store {count} posts</b> to schedule them, or Cancel. A corrected document replaces this one.",
        good,
    ).format(count=i18n.number(good))


def import_done(stored: Sequence[str], failed: Sequence[str]) -> str:
    text = i18n.ngettext("✅ Imported {count} post.", "✅ Imported {count} posts.", len(stored)).format(
        count=i18n.number(len(stored))
    )
    if stored:
        text += "\n" + "\n".join(stored)
    if failed:
        text += (
            "\n"
            + i18n.ngettext(
                "❌ {count} row could not be stored now:", "❌ {count} rows could not be stored now:", len(failed)
            ).format(count=i18n.number(len(failed)))
            + "\n"
            + "\n".join(failed)
        )
    return text + "\n" + _("See them in /scheduled.")


def import_stored_line(number: int, short_id: str, when_text: str) -> str:
    return _("• row {number} → #{short_id} {when}").format(
        number=number, short_id=escape(short_id), when=escape(when_text)
    )


HELP_IMPORT = N_(
    "<b>Importing posts</b>\n"
    "/import — send a CSV or JSON document, one post a row (time, targets, text, media URLs or "
    "<code>file:1</code> for a file sent first, buttons). I list what would be stored and every bad row with "
    "its number and reason; nothing is stored until you tap <b>Store</b>."
)


# -- Delivery options: silent, protected, pinned, unpinned and deleted after a while ---------------
def hours_text(seconds: int) -> str:
    """A delay as people say it: "45 min", "1 h", "24 h", "3 days"."""
    if seconds < 3600:
        minutes = max(seconds // 60, 1)
        # i18n: a delay in minutes, short ("45 min")
        return i18n.ngettext("{count} min", "{count} min", minutes).format(count=i18n.number(minutes))
    if seconds % 86400 == 0 and seconds >= 4 * 86400:
        days = seconds // 86400
        # i18n: a delay in days ("3 days"), as in "deleted after 3 days"
        return i18n.ngettext("{count} day", "{count} days", days).format(count=i18n.number(days))
    if seconds % 3600 == 0:
        hours = seconds // 3600
        # i18n: a delay in hours, short ("24 h")
        return i18n.ngettext("{count} h", "{count} h", hours).format(count=i18n.number(hours))
    # i18n: a delay in hours with a fraction, short ("1.5 h")
    return i18n.pgettext("hours with a fraction", "{hours} h").format(hours=i18n.decimal(seconds / 3600))


def after_publishing(pin: bool, unpin_after: int | None, delete_after: int | None) -> str:
    """What happens after publishing, short, as the preview's button and the presets show it."""
    parts = []
    if pin:
        parts.append(
            # i18n: pinned for a while after publishing ("📌 24 h pinned"), on a button
            i18n._("📌 {duration} pinned").format(duration=hours_text(unpin_after))
            if unpin_after is not None
            else i18n._("📌 pinned")
        )
    if delete_after is not None:
        parts.append(f"🗑 {hours_text(delete_after)}")
    # i18n: nothing is done after publishing (on the "After publishing" button)
    return " / ".join(parts) or i18n.pgettext("after publishing", "nothing")


def options_summary(silent: bool, protect: bool, pin: bool, unpin_after: int | None, delete_after: int | None) -> str:
    """The chosen delivery options in one line (empty when none is chosen)."""
    parts = []
    if silent:
        parts.append(i18n._("🔕 silent"))
    if protect:
        parts.append(i18n._("🛡 protected from forwarding and saving"))
    if pin:
        parts.append(
            i18n._("📌 pinned silently, unpinned after {duration}").format(duration=hours_text(unpin_after))
            if unpin_after is not None
            else i18n._("📌 pinned silently")
        )
    if delete_after is not None:
        parts.append(i18n._("🗑 deleted after {duration}").format(duration=hours_text(delete_after)))
    return " · ".join(parts)


def silent_label(on: bool) -> str:
    return i18n._("🔕 Silent: on") if on else i18n._("🔔 Silent: off")


def protect_label(on: bool) -> str:
    return i18n._("🛡 Protected: on") if on else i18n._("🛡 Protected: off")


def after_label(summary: str) -> str:
    return i18n._("⏳ After publishing: {summary}").format(summary=summary)


ASK_AFTER_PUBLISHING = i18n.N_(
    "⏳ <b>After publishing</b> — pin the post (silently) and unpin it later, and/or delete it after a "
    "while (every message of it, an album's too). Your choice is kept for your next posts."
)
NOTHING_AFTER = i18n.N_("✖️ Nothing after publishing")

# Why an option chosen cannot work in a chat (publishers.telegram_after.OptionProblem).
OPTION_PROBLEMS = {
    "no_pin_right": i18n.N_(
        "⚠️ {name}: the bot may not pin messages there (give it the right to pin, or edit in channels)"
    ),
    "no_delete_right": i18n.N_("⚠️ {name}: the bot may not delete messages there, so it won't be deleted"),
    "delete_too_late": i18n.N_(
        "⚠️ {name}: Telegram lets the bot delete its messages in a group only for 48 hours — deleting after "
        "{after} won't work unless the bot may delete any message there"
    ),
}


def option_problem(problem: str, name: str, delete_after: int | None) -> str:
    message: str = i18n.translated(OPTION_PROBLEMS[problem])
    return message.format(name=escape(name), after=hours_text(delete_after or 0))


# What another platform does not do of the delivery options (publishers.base.OptionLack).
OPTION_LACKS = {
    "no_silent": i18n.N_("no silent posts"),
    "no_protect": i18n.N_("no protected posts"),
    "no_pin": i18n.N_("no pin"),
    "no_delete": i18n.N_("no delete after a while"),
    "options_in_body": i18n.N_("the options are sent in the body, for the receiver to honour"),
}


def option_lacks(platform: str, lacks: Sequence[str]) -> str:
    names: dict[str, str] = i18n.translated(OPTION_LACKS)
    return f"ℹ️ {escape(platform)}: " + ", ".join(names[lack] for lack in lacks)


def follow_up_line(kind: str, status: str, name: str, when: str, error: str | None) -> str:
    """One follow-up action as a post's Details show it."""
    name, when = escape(name), escape(when)
    if status == "pending":
        if kind == "unpin":
            return i18n._("📌 pinned in {name} until {time}").format(name=name, time=when)
        return i18n._("🗑 will be deleted from {name} at {time}").format(name=name, time=when)
    if status == "done":
        if kind == "unpin":
            return i18n._("📌 unpinned in {name} at {time}").format(name=name, time=when)
        return i18n._("🗑 deleted from {name} at {time}").format(name=name, time=when)
    reason = escape(i18n.stored(error)) if error else i18n._("unknown reason")
    if kind == "unpin":
        return i18n._("⚠️ couldn't unpin in {name}: {reason}").format(name=name, reason=reason)
    return i18n._("⚠️ couldn't delete in {name}: {reason}").format(name=name, reason=reason)


def more_follow_ups(count: int) -> str:
    return i18n.ngettext("… and {count} more action", "… and {count} more actions", count).format(
        count=i18n.number(count)
    )


def follow_up_failed(kind: str, name: str, short_id: str, reason: str) -> str:
    """A line of the owner's report of failed follow-ups."""
    values = {"short_id": escape(short_id), "name": escape(name), "reason": escape(i18n.stored(reason))}
    if kind == "unpin":
        return i18n._("⚠️ Post #{short_id}: couldn't unpin in {name}: {reason}").format(**values)
    return i18n._("⚠️ Post #{short_id}: couldn't delete in {name}: {reason}").format(**values)


FOLLOW_UPS_FAILED_HEADLINE = i18n.N_("<b>After publishing</b>, something could not be done:")


def history_after(
    silent: bool, pinned_now: bool, pin_planned: bool, delete_at: str | None, deleted: bool, failed: bool
) -> str:
    """A post's delivery options and follow-ups in the list, short: 🔕, 📌, 🗑 Wed 3 Dec 09:00,
    🗑 deleted, ⚠️."""
    marks = []
    if silent:
        marks.append("🔕")
    if pinned_now or pin_planned:
        marks.append("📌")
    if deleted:
        # i18n: in the list of posts: the post was deleted after publishing, as chosen
        marks.append(i18n._("🗑 deleted"))
    elif delete_at:
        marks.append(f"🗑 {escape(delete_at)}")
    if failed:
        marks.append("⚠️")
    return " ".join(marks)


# -- Recurring series (handlers/repeat.py, handlers/series.py) ---------------------------------------
def ordinal(number: int) -> str:
    """A day of the month as a rule says it: 1st, 2nd, 3rd, 4th, 11th, 21st ("on the 15th")."""
    if 10 <= number % 100 <= 20 or number % 10 not in (1, 2, 3):
        # i18n: a day of the month in "on the {day} of every month": 4th, 11th, 15th…
        form = i18n.pgettext("day of the month", "{number}th")
    elif number % 10 == 1:
        # i18n: a day of the month in "on the {day} of every month": 1st, 21st, 31st
        form = i18n.pgettext("day of the month", "{number}st")
    elif number % 10 == 2:
        # i18n: a day of the month in "on the {day} of every month": 2nd, 22nd
        form = i18n.pgettext("day of the month", "{number}nd")
    else:
        # i18n: a day of the month in "on the {day} of every month": 3rd, 23rd
        form = i18n.pgettext("day of the month", "{number}rd")
    return form.format(number=number)


def _and(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    # i18n: the last of several names joined: "Monday, Tuesday and Friday"
    return i18n._("{items} and {last}").format(items=", ".join(names[:-1]), last=names[-1])


def _rule_weekday(day: int) -> str:
    """A weekday as a rule names it, after "every" ("every Monday and Thursday")."""
    # i18n: weekdays in a repeating rule: "every {days}" ("every Monday and Thursday") and "every 2
    # weeks on {days}"; in Russian the dative plural of «по понедельникам и четвергам»
    names = (
        i18n.pgettext("every …", "Monday"),
        i18n.pgettext("every …", "Tuesday"),
        i18n.pgettext("every …", "Wednesday"),
        i18n.pgettext("every …", "Thursday"),
        i18n.pgettext("every …", "Friday"),
        i18n.pgettext("every …", "Saturday"),
        i18n.pgettext("every …", "Sunday"),
    )
    return names[day]


def rule_days(frequency: str, interval: int, weekdays: Sequence[int], month_day: int) -> str:
    """The days a rule falls on, in words: "every day", "every 2 weeks on Monday and Thursday",
    "on the 31st of every month (the last day in shorter months)"."""
    count = i18n.number(interval)
    if frequency == "daily":
        if interval == 1:
            # i18n: a repeating rule's days
            return i18n._("every day")
        return i18n.ngettext("every {count} day", "every {count} days", interval).format(count=count)
    if frequency == "weekly":
        days = sorted(weekdays)
        if days == [0, 1, 2, 3, 4]:
            if interval == 1:
                return i18n._("every weekday (Mon–Fri)")
            # i18n: in "every 2 weeks on {days}": Monday to Friday
            names = i18n.pgettext("every …", "weekday")
        elif days == [5, 6]:
            # i18n: in "every {days}" and "every 2 weeks on {days}": Saturday and Sunday
            names = i18n.pgettext("every …", "weekend (Sat and Sun)")
        else:
            names = _and([_rule_weekday(day) for day in days])
        if interval == 1:
            # i18n: {days} are weekdays as _rule_weekday names them ("Monday and Thursday")
            return i18n._("every {days}").format(days=names)
        return i18n.ngettext("every {count} week on {days}", "every {count} weeks on {days}", interval).format(
            count=count, days=names
        )
    day = ordinal(month_day)
    if interval == 1:
        # i18n: {day} is a day of the month as "{number}th" (context "day of the month") says it
        text = i18n._("on the {day} of every month").format(day=day)
    else:
        text = i18n.ngettext(
            "on the {day} of every {count} month", "on the {day} of every {count} months", interval
        ).format(day=day, count=count)
    if month_day > 28:
        text = i18n._("{days} (the last day in shorter months)").format(days=text)
    return text


def rule_words(days: str, at: str, zone: str, until: str | None, count: int | None) -> str:
    """A whole rule in words: "every Monday at 09:00 (Europe/Berlin), until Sun 31 Jan 2027"."""
    # i18n: a repeating rule: "every Monday at 09:00 (Europe/Berlin)"
    text = i18n._("{days} at {at} ({zone})").format(days=days, at=at, zone=zone)
    if until:
        # i18n: a repeating rule and its last day (inclusive)
        return i18n._("{rule}, until {day}").format(rule=text, day=until)
    if count:
        # i18n: a repeating rule and how many times it goes out
        return i18n.ngettext("{rule}, {count} time", "{rule}, {count} times", count).format(
            rule=text, count=i18n.number(count)
        )
    return text


REPEAT_HOW = i18n.N_(
    "<b>New post</b> · step 4 of 5 — 🔁 <b>Repeat</b>\nHow often should it go out? "
    "You can also type a rule, like <code>every monday 9:00</code>."
)
REPEAT_WEEKDAYS = i18n.N_("On which days? Tap the days, then <b>Done</b>.")
REPEAT_WEEKS = i18n.N_("Every how many weeks?")
REPEAT_MONTH_DAY = i18n.N_("On which day of the month? (A month too short for it takes its last day.)")
REPEAT_NO_DAYS = i18n.N_("Please tap at least one day first.")
REPEAT_END = i18n.N_("When should the series end?")
REPEAT_UNTIL = i18n.N_("Send the last day it may go out, like <code>31 jan</code> or <code>2027-01-31</code>.")
REPEAT_COUNT = i18n.N_("How many times should it go out? Tap a number or type one (1–1,000).")
REPEAT_HINT = i18n.N_("Please tap one of the buttons above, or type what it asks for.")


def repeat_at(days: str, zone: str) -> str:
    return i18n._(
        "🔁 {days}\nAt what time of day, in your zone ({zone})? Tap one or type it, "
        "like <code>9:00</code> or <code>18:30</code>."
    ).format(days=escape(days), zone=escape(zone))


def repeat_bad_at(typed: str) -> str:
    return i18n._(
        "<code>{typed}</code> is not a time of day. Please send one like <code>9:00</code> or <code>18:30</code>."
    ).format(typed=escape(typed))


def repeat_bad_until(typed: str, problem: str) -> str:
    if problem == "until_past":
        return i18n._("<code>{typed}</code> is before the series' first time. Please send a later day.").format(
            typed=escape(typed)
        )
    return i18n._("<code>{typed}</code> is not a day I can read. Please send one like <code>31 jan</code>.").format(
        typed=escape(typed)
    )


def repeat_bad_count(typed: str) -> str:
    return i18n._(
        "<code>{typed}</code> is not a number of times from 1 to 1,000. Please send one like <code>10</code>."
    ).format(typed=escape(typed))


RULE_EXAMPLES = i18n.N_(
    "<code>every monday 9:00</code>, <code>every day 18:30</code>, <code>every 2 weeks on mon, thu at 9</code>, "
    "<code>on the 15th of every month at 10:00</code> — add <code>until 31 jan</code> or <code>10 times</code> "
    "to end it"
)


def rule_problem(problem: str, typed: str) -> str:
    """Why a typed repeating rule cannot be used, with examples that work."""
    reasons = {
        "no_time": i18n._("At what time of day should it repeat? Add it, like <code>every monday 9:00</code>."),
        "bad_hour": i18n._("<code>{typed}</code> is not a time: hours go from 00 to 23 (or 1 to 12 with am/pm)."),
        "bad_minute": i18n._("<code>{typed}</code> is not a time: minutes go from 00 to 59."),
        "no_days": i18n._("On which days of the week? Name them, like <code>every 2 weeks on mon, thu at 9</code>."),
        "no_month_day": i18n._(
            "On which day of the month? Name it, like <code>on the 15th of every month at 10:00</code>."
        ),
        # i18n: {typed} is the number typed after "every": "Every 60 is too far apart…"
        "bad_interval": i18n._("Every {typed} is too far apart: up to 365 days, 52 weeks or 12 months."),
        "bad_month_day": i18n._("<code>{typed}</code> is not a day of the month: they go from 1st to 31st."),
        "bad_count": i18n._("<code>{typed}</code>: a series goes out from 1 to 1,000 times."),
        "bad_until": i18n._(
            "<code>{typed}</code> is not a date I can read, like <code>31 jan</code> or <code>2027-01-31</code>."
        ),
        "until_past": i18n._(
            "The series would end (<code>{typed}</code>) before its first time. Please pick a later end."
        ),
        "too_far": i18n._("<code>{typed}</code> is more than ten years ahead. Please pick an earlier end, or none."),
    }
    if typed:
        unreadable = i18n._("I can't read <code>{typed}</code> in a repeating time.")
    else:
        unreadable = i18n._("I can't read that repeating time.")
    reason = reasons.get(problem, unreadable).format(typed=escape(typed))
    examples: str = i18n.translated(RULE_EXAMPLES)
    return i18n._("{reason}\nRules I understand: {examples}.").format(reason=reason, examples=examples)


def series_preview_times(rule_text: str, times: list[str]) -> str:
    """The preview's lines for a series: the rule, and its next times."""
    listed = "".join(f"\n   • {escape(one)}" for one in times)
    # i18n: {times} are lines of their own, each "• Wed 2 Dec 09:00"
    return i18n._("🔁 Repeats {rule}\n🕒 Next times:{times}").format(rule=escape(rule_text), times=listed)


def series_scheduled(short_id: str, rule_text: str, next_text: str, targets: int) -> str:
    return i18n.ngettext(
        "✅ Series #{short_id} scheduled: {rule}, to {count} target.\n🕒 First time: {time}",
        "✅ Series #{short_id} scheduled: {rule}, to {count} targets.\n🕒 First time: {time}",
        targets,
    ).format(short_id=short_id, rule=escape(rule_text), count=i18n.number(targets), time=escape(next_text))


SERIES_ENDS_BEFORE_START = i18n.N_(
    "That rule has no time left to go out (its end has passed). Please choose the time again."
)
SERIES_LIST_HEADER = i18n.N_("🔁 <b>Recurring series</b>")
POST_CANNOT_REPEAT = i18n.N_(
    "A scheduled post goes out once. To repeat it, make a new post (/new) and tap 🔁 Repeat… or type the "
    "rule at its time step. Here, please send one time, like <code>tomorrow 9:00</code>."
)
NO_SINGLE_POSTS = i18n.N_("No single posts are scheduled.")
SERIES_BADGES = {"active": "🔁", "paused": "⏸", "ended": "⏹"}


def series_status_label(status: str) -> str:
    """A series' status in words ("active", "paused", "ended")."""
    labels = {
        "active": i18n.pgettext("series status", "active"),
        "paused": i18n.pgettext("series status", "paused"),
        "ended": i18n.pgettext("series status", "ended"),
    }
    return labels.get(status, status)


def series_line(badge: str, short_id: str, rule_text: str, next_text: str | None, caption: str) -> str:
    line = i18n._("{badge} <b>Series #{short_id}</b> {rule}").format(
        badge=badge, short_id=short_id, rule=escape(rule_text)
    )
    if next_text:
        # i18n: a series' next time, in the list of posts ("next Wed 2 Dec 09:00")
        line += " · " + i18n.pgettext("series list", "next {time}").format(time=escape(next_text))
    if caption:
        line += f" · {escape(caption)}"
    return line


def series_button(badge: str, short_id: str, caption: str) -> str:
    return (
        i18n._("{badge} Series #{short_id} {caption}").format(badge=badge, short_id=short_id, caption=caption).rstrip()
    )


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
    lines = [
        i18n._("{badge} <b>Series #{short_id}</b> — {status}").format(
            badge=badge, short_id=short_id, status=series_status_label(status)
        )
    ]
    lines.append(f"🔁 {escape(rule_text)}")
    if next_text:
        lines.append(i18n._("🕒 Next: {time}").format(time=escape(next_text)))
    if remaining is not None:
        lines.append(
            i18n._("📊 Made so far: {made}, {remaining} to come").format(
                made=i18n.number(made), remaining=i18n.number(remaining)
            )
        )
    else:
        lines.append(i18n._("📊 Made so far: {made}").format(made=i18n.number(made)))
    lines.append(
        i18n.ngettext("🎯 {count} target: {names}", "🎯 {count} targets: {names}", len(targets)).format(
            count=i18n.number(len(targets)), names=", ".join(escape(name) for name in targets)
        )
    )
    return lines


def series_paused_line(by_failures: bool, reason: str | None) -> str:
    if not by_failures:
        return i18n._("⏸ Paused by you: nothing goes out until you resume it.")
    if reason:
        return i18n._("⏸ Paused after 3 failed times in a row. The last one failed with: {reason}").format(
            reason=escape(i18n.stored(reason))
        )
    return i18n._("⏸ Paused after 3 failed times in a row.")


SERIES_MISSING = i18n.N_("I can't find that series among yours.")
SERIES_PAUSED = i18n.N_("⏸ Paused: nothing goes out until you resume it.")
SERIES_NOT_ACTIVE = i18n.N_("This series is not active, so there is nothing to pause or skip.")
SERIES_NOT_PAUSED = i18n.N_("This series is not paused.")
SERIES_ENDED_ALREADY = i18n.N_("This series has ended already.")
SERIES_CHANGED_MEANWHILE = i18n.N_(
    "The series changed meanwhile (its time went out, or another change) — here it is as it is now."
)


def series_resumed(next_text: str | None) -> str:
    if next_text:
        return i18n._("▶️ Resumed: next time {time}.").format(time=escape(next_text))
    return i18n._("▶️ Resumed, but the rule has no time left.")


def series_skipped(skipped_text: str, next_text: str | None) -> str:
    if next_text:
        return i18n._("⏭ Skipped {time}. The next one is {next}.").format(
            time=escape(skipped_text), next=escape(next_text)
        )
    return i18n._("⏭ Skipped {time}. No time is left after it: the series ends.").format(time=escape(skipped_text))


def confirm_end_series(short_id: str) -> str:
    return i18n._("End series #{short_id}? No more posts will be made from it (those already made stay).").format(
        short_id=short_id
    )


def series_ended(short_id: str) -> str:
    return i18n._("⏹ Series #{short_id} has ended; no more posts will be made from it.").format(short_id=short_id)


SERIES_KEPT = i18n.N_("Kept — the series goes on.")


def ask_series_caption(short_id: str, caption: str) -> str:
    text = i18n._(
        "✏️ Send the new text of series #{short_id}: the next post and those after it carry it "
        "(posts already made keep theirs)."
    ).format(short_id=short_id)
    if caption:
        # i18n: the series' text as it is now
        text += "\n" + i18n._("Now: {caption}").format(caption=escape(caption))
    return text


def ask_series_rule(short_id: str, rule_text: str, zone: str) -> str:
    return i18n._(
        "🕒 Series #{short_id} repeats {rule}.\nSend a new rule, like <code>every monday 9:00</code>, "
        "or only a time of day (like <code>18:30</code>) to keep the days. Times in {zone}."
    ).format(short_id=short_id, rule=escape(rule_text), zone=escape(zone))


def series_caption_updated(short_id: str) -> str:
    return i18n._("✏️ Series #{short_id}: the next posts carry the new text.").format(short_id=short_id)


def series_rule_updated(short_id: str, rule_text: str) -> str:
    return i18n._("🕒 Series #{short_id} now repeats {rule}.").format(short_id=short_id, rule=escape(rule_text))


SERIES_CAPTION_KEPT = i18n.N_("Kept — the series' text stays as it was.")
SERIES_RULE_KEPT = i18n.N_("Kept — the series' times stay as they were.")
SERIES_CAPTION_HINT = i18n.N_("Please send the new text, or tap Keep.")
SERIES_RULE_HINT = i18n.N_("Please send a rule like <code>every monday 9:00</code> or a time of day, or tap Keep.")


def occurrence_hint(series_short_id: str, number: int) -> str:
    """A post's line saying it is one time of a series."""
    # i18n: a post made by a series: "🔁 Time 3 of series #a1b2c3"
    return i18n._("🔁 Time {number} of series #{short_id}").format(
        number=i18n.number(number + 1), short_id=series_short_id
    )


def series_paused_by_failures(short_id: str, reason: str | None) -> str:
    text = i18n._(
        "⏸ <b>Series #{short_id} paused</b>: its last 3 posts failed in a row, so no more are made until you resume it."
    ).format(short_id=short_id)
    if reason:
        text += "\n" + i18n._("The last failure: {reason}").format(reason=escape(i18n.stored(reason)))
    return text


# -- /language (handlers/language.py) ---------------------------------------------------------------
LANGUAGE_UNKNOWN = N_("I no longer speak that language here — pick one of the list.")


def language_question(current: str) -> str:
    return _(
        "🌐 <b>Language</b>: {current}.\nWhich language should I speak? “My Telegram app's language” "
        "follows your app's setting."
    ).format(current=escape(current))


def language_chosen(name: str, automatic: bool) -> str:
    if automatic:
        return _("🌐 Done — I speak your Telegram app's language: {name}.").format(name=escape(name))
    return _("🌐 Done — I speak {name} with you from now on. /language changes it.").format(name=escape(name))


i18n.translating(__name__)
