"""/import: posts from a CSV or JSON document — a dry run first, nothing stored until confirmed.

The person may first send media files (to name as `file:1`, `file:2`… in the document), then the
document. Its rows are read and checked (handlers/import_rows.py), the media URLs of the good
rows downloaded into a folder of this import's (handlers/url_media.py), and a preview lists the
rows that will become posts and every row left out with its number and reasons. Store makes the
posts — the files going into the media store then, like uploaded media — or Cancel leaves
nothing behind. A corrected document sent instead replaces the preview.

What the import holds (the files sent, the checked rows, what was downloaded where) lives in
user_data as JSON, so a restart loses nothing; a download lost with its folder is fetched again."""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from telegram import Message, Update
from telegram.error import BadRequest
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
    accounts_for,
    all_accounts,
    answer,
    reply,
    services,
    store_of,
    targets_of,
    user_zone,
)
from handlers.content import MB, received_media
from handlers.import_rows import (
    MAX_DOCUMENT_BYTES,
    MAX_FILES,
    MAX_ROWS,
    DocumentRefused,
    MediaRef,
    PlannedRow,
    RowProblem,
    check_rows,
    file_name_of,
    first_words,
    is_import_document,
    media_kind,
    read_document,
)
from handlers.keyboards import IMPORT
from handlers.questions import AnyHandler, Question
from handlers.screen import pressed, user_id
from handlers.url_media import DownloadFailed, download
from handlers.when import check_time, current_time, format_time
from i18n import _
from services import PostEvent
from storage.models import Account, Button, Content, Image, MediaKind, Target, new_id, new_post

log = logging.getLogger(__name__)

WAITING = "import_waiting"
IMPORTING = "importing"
# Downloads of one import running at once.
DOWNLOADS_AT_ONCE = 4
# A preview message is split before Telegram's 4,096 characters.
PREVIEW_CHARS = 3500
MEDIA = filters.PHOTO | filters.VIDEO | filters.ANIMATION | filters.AUDIO | filters.Document.ALL
State = int | str | None


@dataclass(frozen=True)
class ImportQuestion(Question):
    """The /import question; leaving it also removes the folder of its downloads."""

    def forget(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        subject = self.subject(context)
        if subject and subject.get("folder"):
            shutil.rmtree(str(subject["folder"]), ignore_errors=True)
        super().forget(context)


IMPORT_QUESTION = ImportQuestion("import", WAITING, texts.IMPORT_CANCELLED, texts.IMPORT_HINT, key=IMPORTING)


def _limits() -> tuple[int, int]:
    return MAX_ROWS, MAX_DOCUMENT_BYTES // 1024


async def start_import(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """/import: how the document is written, and the wait for it (or for files first)."""
    IMPORT_QUESTION.forget(context)
    IMPORT_QUESTION.ask_about(context, {"files": [], "plan": [], "plan_id": "", "folder": "", "downloads": {}})
    zone = await user_zone(context, user_id(update))
    await reply(update, texts.import_intro(zone, *_limits()), reply_markup=keyboards.import_cancel_keyboard())
    return WAITING


def _subject(context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any]:
    subject = IMPORT_QUESTION.subject(context)
    if subject is None:
        subject = {"files": [], "plan": [], "plan_id": "", "folder": "", "downloads": {}}
        IMPORT_QUESTION.ask_about(context, subject)
    return subject


async def received(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """A document to import (CSV or JSON), or a media file to refer to in it."""
    message = update.effective_message
    assert message is not None
    document = message.document
    # A GIF comes as an animation and a document: it is a file for the import, never the document.
    if (
        document is not None
        and message.animation is None
        and is_import_document(document.file_name, document.mime_type)
    ):
        return await _read_import(update, context, message)
    return await _keep_file(update, context, message)


async def _keep_file(update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message) -> State:
    subject = _subject(context)
    files: list[dict[str, Any]] = subject["files"]
    if len(files) >= MAX_FILES:
        await reply(update, texts.import_too_many_files(MAX_FILES))
        return None
    media = received_media(message, len(files) + 1)
    if media is None:
        await reply(update, texts.IMPORT_HINT)
        return None
    limit_mb = services(context).settings.file_limit_mb
    size = media.file.file_size or 0
    if size > limit_mb * MB:
        await reply(update, texts.too_big_to_download(media.kind.value, size / MB, limit_mb))
        return None
    files.append(
        {
            "file_id": media.file.file_id,
            "kind": media.kind.value,
            "name": media.name,
            "mime_type": media.mime_type,
            "size": size,
        }
    )
    IMPORT_QUESTION.ask_about(context, subject)
    await reply(update, texts.import_file_kept(len(files), media.kind.value))
    return None


async def _read_import(update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message) -> State:
    """The dry run: the document read, its rows checked, its media downloaded, the preview sent."""
    document = message.document
    assert document is not None
    subject = _subject(context)
    # A new document replaces the preview before it, whatever becomes of it: that one's Store is out of date.
    subject["plan"], subject["plan_id"] = [], ""
    IMPORT_QUESTION.ask_about(context, subject)
    if (document.file_size or 0) > MAX_DOCUMENT_BYTES:
        await reply(update, texts.import_refused("too_big", "", *_limits()))
        return None
    try:
        data = bytes(await (await document.get_file()).download_as_bytearray())
        rows = read_document(data, document.file_name or "", document.mime_type or "")
    except BadRequest as error:
        if "too big" not in error.message.lower():
            raise
        await reply(update, texts.import_refused("too_big", "", *_limits()))
        return None
    except DocumentRefused as refused:
        await reply(update, texts.import_refused(refused.kind, refused.detail, *_limits()))
        return None
    user = user_id(update)
    zone = await user_zone(context, user)
    targets = await targets_of(context, all_accounts(user))
    planned, problems = check_rows(rows, zone, current_time(), targets, len(subject["files"]))
    urls = list(dict.fromkeys(ref.url for row in planned for ref in row.media if ref.url))
    if urls:
        await reply(update, texts.import_checking(len(urls)))
    failures = await _download_all(context, subject, urls)
    good = []
    for row in planned:
        failed = [failures[ref.url] for ref in row.media if ref.url in failures]
        if failed:
            problems.append(RowProblem(row.number, failed))
        else:
            good.append(row)
    problems.sort(key=lambda problem: problem.number)
    subject["plan"] = [_row_json(row) for row in good]
    subject["plan_id"] = new_id()[:8]
    IMPORT_QUESTION.ask_about(context, subject)
    names = {target.target_id: target.name for target in targets}
    await _send_preview(update, good, problems, names, zone, subject["plan_id"])
    log.info("user %s previewed an import: %d rows good, %d left out", user, len(good), len(problems))
    return None


async def _download_all(context: ContextTypes.DEFAULT_TYPE, subject: dict[str, Any], urls: list[str]) -> dict[str, str]:
    """Downloads each URL not downloaded before into the import's folder; returns the reason of
    each that failed (by URL). What came down is noted in `subject["downloads"]`."""
    if not urls:
        return {}
    folder = _folder(subject)
    downloads: dict[str, Any] = subject["downloads"]
    limit = services(context).settings.file_limit_mb * MB
    allow_private = services(context).settings.import_private_urls
    gate = asyncio.Semaphore(DOWNLOADS_AT_ONCE)
    failures: dict[str, str] = {}

    async def fetch(url: str) -> None:
        known = downloads.get(url)
        if known and (folder / str(known["file"])).exists():
            return
        async with gate:
            try:
                got = await download(url, folder / new_id(), limit, allow_private=allow_private)
            except DownloadFailed as failed:
                failures[url] = f"{_short_url(url)}: {failed}"
                return
        kind = media_kind(url, got.content_type)
        if kind is None:
            got.path.unlink(missing_ok=True)
            shown = got.content_type.split(";")[0].strip() or _("no type given")
            failures[url] = f"{_short_url(url)}: " + _("unknown media kind ({type})").format(type=shown)
            return
        mime = got.content_type.split(";")[0].strip() or "application/octet-stream"
        downloads[url] = {"file": got.path.name, "kind": kind.value, "mime_type": mime, "size": got.size}

    await asyncio.gather(*(fetch(url) for url in urls))
    return failures


def _folder(subject: dict[str, Any]) -> Path:
    """The import's own folder for its downloads (made anew if a restart took it away)."""
    folder = Path(str(subject.get("folder") or ""))
    if not subject.get("folder") or not folder.is_dir():
        folder = Path(tempfile.mkdtemp(prefix="herald-import-"))
        subject["folder"] = str(folder)
        subject["downloads"] = {}
    return folder


def _short_url(url: str) -> str:
    return url if len(url) <= 60 else url[:59] + "…"


def _row_json(row: PlannedRow) -> dict[str, Any]:
    return {
        "number": row.number,
        "when": row.when.isoformat(),
        "targets": list(row.target_ids),
        "text": row.text,
        "media": [{"url": ref.url} if ref.url else {"file": ref.file_number} for ref in row.media],
        "buttons": [
            [{"label": b.label, "url": b.url, "copy_text": b.copy_text} for b in button_row]
            for button_row in row.buttons
        ],
    }


def _row_of(saved: dict[str, Any]) -> PlannedRow:
    return PlannedRow(
        number=int(saved["number"]),
        when=datetime.fromisoformat(str(saved["when"])),
        target_ids=[str(target) for target in saved["targets"]],
        text=str(saved["text"]),
        media=[MediaRef(url=str(ref.get("url", "")), file_number=int(ref.get("file", 0))) for ref in saved["media"]],
        buttons=[
            [Button(str(b["label"]), b.get("url"), b.get("copy_text")) for b in button_row]
            for button_row in saved["buttons"]
        ],
    )


async def _send_preview(
    update: Update,
    good: list[PlannedRow],
    problems: list[RowProblem],
    names: dict[str, str],
    zone: str,
    plan_id: str,
) -> None:
    """The preview, in as many messages as it takes; the buttons under the last."""
    lines = [texts.import_preview_head(len(good), len(problems))]
    lines += [
        texts.import_row_line(
            row.number,
            format_time(row.when, zone),
            [names.get(target, target) for target in row.target_ids],
            first_words(row.text),
            len(row.media),
        )
        for row in good
    ]
    if problems:
        lines.append(texts.import_bad_head(len(problems)))
        lines += [texts.import_problem_line(problem.number, problem.reasons) for problem in problems]
    lines.append(texts.import_preview_tail(len(good)))
    messages: list[str] = [""]
    for line in lines:
        if messages[-1] and len(messages[-1]) + len(line) + 1 > PREVIEW_CHARS:
            messages.append("")
        messages[-1] = f"{messages[-1]}\n{line}" if messages[-1] else line
    for text in messages[:-1]:
        await reply(update, text)
    await reply(update, messages[-1], reply_markup=keyboards.import_keyboard(len(good), plan_id))


async def store_import(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """Store: the previewed rows become posts (each checked again: its time, its targets, its media)."""
    subject = IMPORT_QUESTION.subject(context)
    if subject is None:
        await answer(update, texts.IMPORT_NO_PLAN, alert=True)
        return None
    if pressed(update).argument != subject.get("plan_id"):
        await answer(update, texts.IMPORT_OLD_PREVIEW, alert=True)
        return None
    if not subject.get("plan"):
        await answer(update, texts.IMPORT_NO_PLAN, alert=True)
        return None
    await answer(update)
    await _drop_buttons(update)
    user = user_id(update)
    zone = await user_zone(context, user)
    accounts = await accounts_for(context, user)
    targets = {target.target_id: target for target in await targets_of(context, all_accounts(user))}
    media = _MediaStore(context, subject)
    stored, failed = [], []
    for row in (_row_of(saved) for saved in subject["plan"]):
        try:
            post_id, when = await _store_row(context, user, row, targets, accounts, media)
        except _RowFailed as error:
            failed.append(texts.import_problem_line(row.number, [str(error)]))
            continue
        stored.append(texts.import_stored_line(row.number, post_id[:6], format_time(when, zone)))
    IMPORT_QUESTION.forget(context)
    log.info("user %s imported %d posts (%d rows failed on storing)", user, len(stored), len(failed))
    await reply(update, texts.import_done(stored, failed))
    return ConversationHandler.END


class _RowFailed(Exception):
    """A previewed row that cannot be stored after all: why, for the person."""


async def _store_row(
    context: ContextTypes.DEFAULT_TYPE,
    user: int,
    row: PlannedRow,
    targets: dict[str, Target],
    accounts: list[Account],
    media: _MediaStore,
) -> tuple[str, datetime]:
    when = check_time(row.when, current_time()).when
    if when is None:
        raise _RowFailed(_("its time has passed meanwhile"))
    missing = [target for target in row.target_ids if target not in targets]
    if missing:
        raise _RowFailed(_("a target is no longer yours: {targets}").format(targets=", ".join(missing)))
    chosen = [targets[target] for target in row.target_ids]
    images = [await media.image(ref, number) for number, ref in enumerate(row.media, start=1)]
    account_ids = {target.account_id for target in chosen}
    account = next((one for one in accounts if {one.account_id} == account_ids), None) or all_accounts(user)
    content = Content(caption=row.text, images=images, buttons=row.buttons)
    post = new_post(
        user_id=user, account=account, targets=chosen, main_caption=row.text, scheduled_time=when, content=content
    )
    await store_of(context).create_post(post)
    await services(context).post_changed(PostEvent.SCHEDULED, post)
    return post.post_id, when


class _MediaStore:
    """The import's media put into the media store, each once however many rows use it."""

    def __init__(self, context: ContextTypes.DEFAULT_TYPE, subject: dict[str, Any]) -> None:
        self.context = context
        self.subject = subject
        self.stored: dict[str, Image] = {}

    async def image(self, ref: MediaRef, number: int) -> Image:
        key = ref.url or f"file:{ref.file_number}"
        if key not in self.stored:
            self.stored[key] = await (self._from_url(ref.url, number) if ref.url else self._from_file(ref.file_number))
        return self.stored[key]

    async def _from_file(self, number: int) -> Image:
        sent = self.subject["files"][number - 1]
        try:
            telegram_file = await self.context.bot.get_file(str(sent["file_id"]))
        except BadRequest as error:
            raise _RowFailed(
                _("file:{number} cannot be had from Telegram ({reason})").format(number=number, reason=error.message)
            ) from error
        with tempfile.TemporaryDirectory(prefix="herald-import-file-") as folder:
            path = Path(folder) / "download"
            await telegram_file.download_to_drive(path)
            with path.open("rb") as source:
                blob_id = await store_of(self.context).put_media(source)
            size = path.stat().st_size
        return Image(
            name=str(sent["name"]),
            blob_id=blob_id,
            size=size,
            mime_type=str(sent["mime_type"]),
            telegram_file_id=str(sent["file_id"]),
            kind=MediaKind(str(sent["kind"])),
        )

    async def _from_url(self, url: str, number: int) -> Image:
        folder = _folder(self.subject)
        known = self.subject["downloads"].get(url)
        if not known or not (folder / str(known["file"])).exists():
            # The download went with a restart (or never finished): fetched again now.
            failures = await _download_all(self.context, self.subject, [url])
            if url in failures:
                raise _RowFailed(failures[url])
            known = self.subject["downloads"][url]
        path = folder / str(known["file"])
        with path.open("rb") as source:
            blob_id = await store_of(self.context).put_media(source)
        kind = MediaKind(str(known["kind"]))
        return Image(
            name=file_name_of(url, kind, number, str(known["mime_type"])),
            blob_id=blob_id,
            size=int(known["size"]),
            mime_type=str(known["mime_type"]),
            kind=kind,
        )


async def _drop_buttons(update: Update) -> None:
    query = update.callback_query
    if query is not None and isinstance(query.message, Message):
        try:
            await query.edit_message_reply_markup(None)
        except BadRequest as error:
            log.info("import preview's buttons not removed: %s", error)


async def cancel_import(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """Cancel: nothing stored, the downloads removed."""
    await answer(update)
    await _drop_buttons(update)
    return await IMPORT_QUESTION.leave(update, context)


async def import_finished(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button of an import that is over (stored, cancelled, or left)."""
    await answer(update, texts.IMPORT_FINISHED, alert=True)


def import_handlers() -> list[AnyHandler]:
    """The /import question, and the answer to its buttons once it is over; registered before New
    post, so the files and the document sent for an import go to it."""
    conversation = IMPORT_QUESTION.conversation(
        [CommandHandler("import", start_import)],
        [
            MessageHandler(MEDIA, received),
            CallbackQueryHandler(store_import, pattern=rf"^{IMPORT}:go:"),
            CallbackQueryHandler(cancel_import, pattern=rf"^{IMPORT}:no$"),
        ],
    )
    finished: BaseHandler[Update, ContextTypes.DEFAULT_TYPE, Any] = CallbackQueryHandler(
        import_finished, pattern=rf"^{IMPORT}:"
    )
    return [conversation, finished]
