"""Publishing to Facebook Pages through the Graph API (groups cannot be published to by any app).

Text goes to ``POST /{page-id}/feed``; one photo to ``POST /{page-id}/photos``; several photos are
each uploaded with ``published=false`` and then attached to one ``POST /{page-id}/feed`` with
``attached_media=[{"media_fbid": id}, …]``. A video (or GIF) goes to ``POST /{page-id}/videos`` on
Graph's video host, streamed from a temporary file; the first carries the text when there is no
photo, the others are posts of their own (a feed post attaches only photos). Facebook shows no
formatting: the text goes plain, each link's address written after its words, the buttons written
at its end; documents and audio files are left out. `shortfalls` names all that for the preview.

The account's credential is a Page access token, or a user token whose Pages (and their Page
tokens) ``GET /me/accounts`` lists. Connecting one asks for that token and lists its Pages as the
account's targets; a user token must also have been granted the permissions posting needs
(``GET /me/permissions``), and a token that cannot be used is refused with the reason
(`token_refusal`). `requests` is blocking, so every call runs in a worker thread
(``asyncio.to_thread``). Tokens go in the ``Authorization`` header, never in a URL, so they cannot
leak into a log line or an error.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import requests
from requests.structures import CaseInsensitiveDict

from i18n import N_
from publishers.base import Connection, Outcome, Sending, Shortfall, Withdrawn
from publishers.formatting import Formatted, formatted, plain_with_links
from publishers.http import MESSAGE_CHARS, Fate, HttpProvider, LostWords, MultipartBody, Unreachable, parse_retry_after
from publishers.spool import MissingMedia, spool
from storage.base import Store
from storage.models import Account, Content, Delivery, Image, MediaKind, Platform, Post, Target

log = logging.getLogger(__name__)

DEFAULT_GRAPH_URL = "https://graph.facebook.com/v21.0"
# Facebook takes video uploads on a host of their own; any other Graph URL (a test server) serves both.
GRAPH_HOST, GRAPH_VIDEO_HOST = "//graph.facebook.com", "//graph-video.facebook.com"
POST_URL = "https://www.facebook.com/{post_id}"
PAGE_URL = "https://www.facebook.com/{page_id}"
VIDEO_URL = "https://www.facebook.com/{page_id}/videos/{video_id}"
VIDEO_KINDS = frozenset({MediaKind.VIDEO, MediaKind.ANIMATION})
NOTHING_FOR_FACEBOOK = N_("nothing in this post can go to Facebook: it leaves documents and audio files out")

TOKEN_CODES = frozenset({190, 102})
# Throttling: application, user, Page and custom rate limits.
THROTTLING_CODES = frozenset({4, 17, 32, 613})
# "Temporary issue due to downtime", "application limit reached".
TRANSIENT_CODES = frozenset({1, 2, 341})
POSTING_PERMISSIONS = ("pages_manage_posts", "pages_read_engagement")
PERMISSION_PATTERN = re.compile(r"\b(pages_[a-z_]+|publish_[a-z_]+|business_management)\b")
TOKEN_REASONS = {
    458: N_("the app was removed from the Facebook account"),
    459: N_("Facebook wants the user to log in on facebook.com first"),
    460: N_("the Facebook password was changed"),
    463: N_("the access token expired"),
    464: N_("the Facebook account is not confirmed"),
    467: N_("the access token is no longer valid"),
}
# Why a pasted token is not valid, by the subcode of Graph's code 190.
INVALID_TOKEN_REASONS = {
    458: N_("it is no longer valid: the app was removed from that Facebook account"),
    459: N_("it is not valid until you log in on facebook.com and do what Facebook asks there"),
    460: N_("it is no longer valid: the Facebook password was changed after it was made"),
    463: N_("it is no longer valid: it has expired"),
    464: N_("it is not valid: that Facebook account is not confirmed yet"),
    467: N_("it is no longer valid: its Facebook session was logged out"),
}
UNKNOWN_TOKEN = N_(
    "it is not a valid access token: Facebook does not recognise it (mistyped, or cut short when copied?)"
)
# Graph's code for a token with no current user behind it: an app token.
NO_CURRENT_USER = 2500
APP_TOKEN = N_("it is the wrong kind of token: an app token speaks for the app, not for you or a Page")
LOST = LostWords(
    invalid_code="config",
    invalid=N_("the Graph API address cannot be used ({detail})"),
    unreachable=N_("could not reach Facebook ({detail})"),
    unanswered=N_("Facebook did not confirm the post ({detail}); it may have been published — check {target}"),
)
# A target's name where the Page's own is not known ("could not reach Facebook … — check the Page").
THE_PAGE = N_("the Page")
PAGE_CACHE_SECONDS = 15 * 60
MAX_PAGE_LISTS = 50  # pages of /me/accounts followed at most


@dataclass(frozen=True)
class PageInfo:
    """A Facebook Page the token can publish to, with the Page's own access token."""

    id: str
    name: str
    access_token: str = field(repr=False)


class GraphError(Exception):
    """Graph answered with an error (``{"error": {"message", "type", "code", …}}``) or an HTTP error."""

    def __init__(
        self,
        http_status: int,
        message: str,
        *,
        code: int | None = None,
        subcode: int | None = None,
        error_type: str | None = None,
        fbtrace_id: str | None = None,
        is_transient: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.message = message
        self.code = code
        self.subcode = subcode
        self.error_type = error_type
        self.fbtrace_id = fbtrace_id
        self.is_transient = is_transient
        self.retry_after = retry_after

    def __str__(self) -> str:
        codes = f"{self.code}/{self.subcode}" if self.subcode is not None else f"{self.code}"
        return f"Graph error {codes} (HTTP {self.http_status}): {self.message}"


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def _retry_after(headers: CaseInsensitiveDict[str]) -> float | None:
    """How long Graph asked us to wait: ``Retry-After``, else the usage headers' estimate."""
    explicit = parse_retry_after(headers.get("Retry-After"))
    if explicit is not None:
        return explicit
    usage = headers.get("X-Business-Use-Case-Usage")
    if not usage:
        return None
    try:
        parsed = json.loads(usage)
    except ValueError:
        return None
    minutes = [
        _int(entry.get("estimated_time_to_regain_access")) or 0
        for entries in (parsed.values() if isinstance(parsed, dict) else [])
        if isinstance(entries, list)
        for entry in entries
        if isinstance(entry, dict)
    ]
    longest = max(minutes, default=0)
    return float(longest * 60) if longest > 0 else None


def _graph_error(response: requests.Response, secrets: tuple[str, ...]) -> GraphError | None:
    """The error a Graph answer carries, or None for a success."""
    try:
        body = response.json()
    except ValueError:
        body = None
    retry_after = _retry_after(response.headers)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error: dict[str, Any] = body["error"]
        message = error.get("message") or error.get("error_user_msg") or f"HTTP {response.status_code}"
        return GraphError(
            response.status_code,
            _redact(str(message), secrets)[:MESSAGE_CHARS],
            code=_int(error.get("code")),
            subcode=_int(error.get("error_subcode")),
            error_type=str(error["type"]) if error.get("type") is not None else None,
            fbtrace_id=str(error["fbtrace_id"]) if error.get("fbtrace_id") is not None else None,
            is_transient=error.get("is_transient") is True,
            retry_after=retry_after,
        )
    if response.status_code >= 400:
        text = _redact(response.text.strip(), secrets)[:MESSAGE_CHARS] or f"HTTP {response.status_code}"
        return GraphError(response.status_code, text, retry_after=retry_after)
    return None


# What a Graph call raises when it does not succeed: Facebook refused, or its answer was lost.
GraphFailure = GraphError | Unreachable
GRAPH_FAILURES = (GraphError, Unreachable)


def _may_have_posted(error: Exception) -> bool:
    """True if a failed feed post may still have been made (its photos must then stay)."""
    return isinstance(error, Unreachable) and error.fate is not Fate.NOT_SENT


def missing_permissions(message: str) -> str:
    """The permission(s) a Graph permission error names, else the two publishing needs."""
    named = list(dict.fromkeys(PERMISSION_PATTERN.findall(message)))
    return " and ".join(named or POSTING_PERMISSIONS)


def classify(error: GraphFailure, target_name: str = THE_PAGE, *, publishing: bool = True) -> Outcome:
    """What a failed Graph call means for a delivery.

    `publishing` is True for the call that makes the post visible (a feed post, a published photo);
    a lost answer to it is `unconfirmed`. Lost answers to reads and unpublished uploads are safe to
    retry: nothing appeared on the Page."""
    if isinstance(error, Unreachable):
        return error.outcome(LOST, target_name, posting=publishing)
    code, said = error.code, error.message
    if code in TOKEN_CODES:
        reason = TOKEN_REASONS.get(error.subcode or 0, N_("the access token expired or was revoked"))
        return Outcome.permanent(
            str(code),
            N_("Facebook no longer accepts this account ({reason}); reconnect the account in /accounts").format(
                reason=reason
            ),
        )
    if code in THROTTLING_CODES or error.http_status == 429:
        return Outcome.retryable(
            str(code if code is not None else 429),
            N_("Facebook asked to slow down ({said})").format(said=said),
            error.retry_after,
        )
    if code == 10 or (code is not None and 200 <= code <= 299):
        return Outcome.permanent(
            str(code),
            # i18n: {permissions} are Facebook's names, e.g. "pages_manage_posts and pages_read_engagement".
            N_(
                "Facebook refused to post to {target}: the app lacks the {permissions} "
                "permission; reconnect the account and grant it"
            ).format(target=target_name, permissions=missing_permissions(said)),
        )
    if error.http_status >= 500 or error.is_transient or code in TRANSIENT_CODES:
        return Outcome.retryable(
            str(code if code is not None else error.http_status),
            N_("Facebook had a temporary problem ({said})").format(said=said),
            error.retry_after,
        )
    return Outcome.permanent(
        str(code if code is not None else error.http_status), N_("Facebook refused the post: {said}").format(said=said)
    )


def token_refusal(error: GraphFailure) -> str:
    """Why a token someone pasted cannot be connected, for them to send a better one: not valid
    (mistyped, expired, revoked), the wrong kind, a permission missing — or Facebook could not
    be asked just now."""
    if isinstance(error, Unreachable):
        lost = error.outcome(LOST, THE_PAGE, posting=False).error_message
        return N_("{reason}; send it again in a moment").format(reason=lost)
    code = error.code
    if code in TOKEN_CODES:
        return INVALID_TOKEN_REASONS.get(error.subcode or 0, UNKNOWN_TOKEN)
    if code == NO_CURRENT_USER:
        return APP_TOKEN
    if code == 10 or (code is not None and 200 <= code <= 299):
        return lacks_permissions(missing_permissions(error.message))
    outcome = classify(error, publishing=False)
    if outcome.is_retryable:
        return N_("{reason}; send it again in a moment").format(reason=outcome.error_message)
    return N_("Facebook refused it: {said}").format(said=error.message)


def lacks_permissions(permissions: str) -> str:
    """The refusal of a token without the permission(s) named."""
    return N_("it lacks the {permissions} permission: make a new token with it granted").format(permissions=permissions)


@dataclass
class _PageList:
    expires: float
    pages: dict[str, PageInfo]


@dataclass
class _Progress:
    """How far a publication got: True once the request that may make the post appear has left."""

    publishing: bool = False


def _text(value: object) -> str | None:
    return str(value) if value else None


def _caption(image: Image) -> Formatted:
    return formatted(image.caption, image.caption_entities).strip()


def join_plain(parts: Sequence[str]) -> str:
    """The non-empty parts, a blank line between them."""
    return "\n\n".join(part.strip() for part in parts if part.strip())


def _video_mime(video: Image) -> str:
    return video.mime_type if video.mime_type.startswith("video/") else "video/mp4"


def facebook_text(content: Content) -> str:
    """The post's text as Facebook shows it: plain, each link's address written after its words,
    then the buttons, one a line (`Label: https://…`, or `Label: CODE` for a text to copy)."""
    text = plain_with_links(formatted(content.caption, content.caption_entities).strip())
    buttons = [
        f"{button.label}: {button.url or button.copy_text or ''}".strip() for row in content.buttons for button in row
    ]
    return join_plain([text, "\n".join(buttons)])


class FacebookPagePublisher(HttpProvider):
    """Publishes text, photos and videos to a Facebook Page as plain text with the links written
    out; connecting an account finds the Pages its token can publish to."""

    platform = Platform.FACEBOOK_PAGE
    log_name = "facebook"

    def __init__(self, store: Store, graph_url: str = DEFAULT_GRAPH_URL, timeout: float = 30.0) -> None:
        super().__init__(timeout)
        self.store = store
        self.graph_url = graph_url.rstrip("/")
        self.video_url = self.graph_url.replace(GRAPH_HOST, GRAPH_VIDEO_HOST, 1)
        # Pages found per credential, keyed by the credential's hash (never the token itself).
        self._pages: dict[str, _PageList] = {}

    @classmethod
    def shortfalls(cls, content: Content) -> list[Shortfall]:
        """Formatting, buttons, spoilers, documents and audio, several videos: what a Page shows
        otherwise than Telegram."""
        kinds = [image.kind for image in content.images]
        found: list[Shortfall] = []
        rich = content.caption_entities or any(image.caption_entities for image in content.images)
        if rich:
            found.append(Shortfall.PLAIN_TEXT)
        if content.buttons:
            found.append(Shortfall.BUTTONS_AS_TEXT)
        if any(image.spoiler for image in content.images):
            found.append(Shortfall.NO_SPOILERS)
        if MediaKind.DOCUMENT in kinds:
            found.append(Shortfall.DOCUMENTS_LEFT_OUT)
        if MediaKind.AUDIO in kinds:
            found.append(Shortfall.AUDIO_LEFT_OUT)
        videos = sum(1 for kind in kinds if kind in VIDEO_KINDS)
        if videos > 1 or (videos and MediaKind.PHOTO in kinds):
            found.append(Shortfall.VIDEOS_APART)
        if MediaKind.ANIMATION in kinds:
            found.append(Shortfall.GIFS_AS_VIDEOS)
        return found

    # -- connecting: a Page or user token, its Pages as targets ----------------------------------

    async def connect(self, user_id: int, answers: Sequence[str]) -> Connection:
        """The Pages the token (the one answer) can publish to, or why it cannot be used
        (`token_refusal`); a token managing no Page is no refusal, but gives nothing to post to."""
        token = answers[0].strip() if answers else ""
        try:
            pages = await self.discover_pages(token)
            # A Page token is its Page's own; a user token must have let the app post.
            is_page_token = len(pages) == 1 and pages[0].access_token == token
            missing = [] if is_page_token else await self.missing_grants(token, needs_pages=not pages)
        except GRAPH_FAILURES as error:
            return Connection.refusal(token_refusal(error))
        if missing:
            return Connection.refusal(lacks_permissions(" and ".join(missing)))
        return Connection(self._targets(pages), token)

    async def refresh(self, account: Account, credential: str) -> Connection:
        """The Pages the account's token can publish to now; a refusal says the account needs
        reconnecting."""
        try:
            pages = await self.discover_pages(credential)
        except GRAPH_FAILURES as error:
            return Connection.refusal(classify(error, publishing=False).error_message or "")
        return Connection(self._targets(pages), credential)

    def _targets(self, pages: list[PageInfo]) -> list[Target]:
        return [
            Target(f"fb{page.id}", page.name, page.id, url=PAGE_URL.format(page_id=page.id), platform=self.platform)
            for page in pages
        ]

    async def missing_grants(self, user_token: str, *, needs_pages: bool) -> list[str]:
        """The permissions posting needs that the user did not grant the app (with `needs_pages`,
        when no Page was listed, the one that lists them too). Raises GraphError or Unreachable."""
        try:
            answer = await self.call("GET", "me/permissions", user_token)
        except GraphError as error:
            # "(#100) Tried accessing nonexisting field (permissions) on node type (Page)"
            if error.code == 100:
                return []
            raise
        granted = {
            str(entry.get("permission"))
            for entry in answer.get("data") or []
            if isinstance(entry, dict) and entry.get("status") == "granted"
        }
        needed = (*(("pages_show_list",) if needs_pages else ()), *POSTING_PERMISSIONS)
        return [permission for permission in needed if permission not in granted]

    async def discover_pages(self, user_or_page_token: str) -> list[PageInfo]:
        """The Pages a token can publish to, each with its Page token.

        A user token lists its Pages on ``/me/accounts``; a Page token lists none there (or has no
        such edge), and ``/me`` is then the Page itself. Raises GraphError or Unreachable."""
        pages: list[PageInfo] = []
        params = {"fields": "id,name,access_token", "limit": "100"}
        try:
            for _ in range(MAX_PAGE_LISTS):
                answer = await self.call("GET", "me/accounts", user_or_page_token, params=params)
                for item in answer.get("data") or []:
                    if isinstance(item, dict) and item.get("id") and item.get("access_token"):
                        page_id = str(item["id"])
                        pages.append(PageInfo(page_id, str(item.get("name") or page_id), str(item["access_token"])))
                paging = answer.get("paging")
                after = paging.get("cursors", {}).get("after") if isinstance(paging, dict) else None
                if not (isinstance(paging, dict) and paging.get("next") and after) or after == params.get("after"):
                    break
                params = {**params, "after": str(after)}
        except GraphError as error:
            # "(#100) Tried accessing nonexisting field (accounts) on node type (Page)"
            if error.code != 100 or pages:
                raise
        if pages:
            return pages
        me = await self.call("GET", "me", user_or_page_token, params={"fields": "id,name", "metadata": "1"})
        metadata = me.get("metadata")
        kind = metadata.get("type") if isinstance(metadata, dict) else None
        if not me.get("id") or kind not in (None, "page"):
            return []  # a user who manages no Page
        page_id = str(me["id"])
        return [PageInfo(page_id, str(me.get("name") or page_id), user_or_page_token)]

    # -- the Graph API ---------------------------------------------------------------------------

    async def call(
        self,
        method: str,
        path: str,
        token: str,
        *,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> dict[str, Any]:
        """One Graph call; the JSON object it answered. Raises GraphError or Unreachable."""
        return await asyncio.to_thread(self._call, method, path, token, params, data, files)

    def _call(
        self,
        method: str,
        path: str,
        token: str,
        params: dict[str, str] | None,
        data: dict[str, str] | None,
        files: dict[str, tuple[str, bytes, str]] | None,
    ) -> dict[str, Any]:
        response = self.request(
            method,
            f"{self.graph_url}/{path.lstrip('/')}",
            params=params,
            data=data,
            files=files,
            headers={"Authorization": f"Bearer {token}"},
        )
        failure = _graph_error(response, (token,))
        if failure is not None:
            raise failure
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise Unreachable(N_("Facebook's answer could not be read"), Fate.MAYBE_SENT)
        return body

    # -- publishing --------------------------------------------------------------------------

    def log_place(self, target: Target) -> str:
        return f"page {target.address}"

    async def _publish(self, post: Post, target: Target, sending: Sending) -> Outcome:
        page_id = target.address.strip()
        credential = await self.store.account_credential(target.account_id or post.account_id)
        if credential is None:
            return Outcome.permanent("no_account", N_("the Facebook account was removed"))
        content = post.content
        message = facebook_text(content)
        photos: list[tuple[Image, bytes]] = []
        videos = [image for image in content.images if image.kind in VIDEO_KINDS]
        for image in content.images:
            if image.kind is not MediaKind.PHOTO:
                continue
            # Photos are small (Telegram keeps them under 10 MB); videos are read one at a time.
            data = await self.store.load_image(image.blob_id)
            if data is None:
                message = N_("the image {name} is missing from storage").format(name=image.name)
                return Outcome.permanent("missing_image", message)
            photos.append((image, data))
        if not photos and not videos and not message:
            if content.images:
                return Outcome.permanent("nothing_to_post", NOTHING_FOR_FACEBOOK)
            return Outcome.permanent("empty", N_("the post has neither text nor images"))

        try:
            token = await self._page_token(credential, page_id)
        except GRAPH_FAILURES as error:
            return await self._failed(error, post, target, credential, publishing=False)
        if token is None:
            message = N_("this account cannot post to {target} any more: Facebook no longer lists the Page").format(
                target=target.name
            )
            return Outcome.permanent("no_page", message)

        first: tuple[str, str] | None = None
        progress = _Progress()
        try:
            if photos or not videos:
                post_id = await self._post_text_and_photos(page_id, token, message, photos, sending, progress)
                first = (post_id or "", POST_URL.format(post_id=post_id) if post_id else "")
                message = ""
            for number, video in enumerate(videos):
                own = plain_with_links(_caption(video))
                description = join_plain([message, own]) if number == 0 else own
                with await spool(self.store, video) as file:
                    if first is None:
                        await sending()
                        progress.publishing = True
                    answer = await self._post_video(page_id, token, video, file, description)
                if first is None:
                    video_id = _text(answer.get("id"))
                    first = (video_id or "", VIDEO_URL.format(page_id=page_id, video_id=video_id) if video_id else "")
        except MissingMedia as missing:
            if first is None:
                return Outcome.permanent("missing_image", str(missing))
            return self._sent(first, note=N_("a video did not go out: {reason}").format(reason=missing))
        except GRAPH_FAILURES as error:
            if first is None:
                return await self._failed(error, post, target, credential, publishing=progress.publishing)
            # The post is out; sending it again would duplicate it. Report what is missing.
            outcome = await self._failed(error, post, target, credential, publishing=True)
            return self._sent(first, note=N_("a video did not go out: {reason}").format(reason=outcome.error_message))
        assert first is not None
        return self._sent(first)

    def _sent(self, first: tuple[str, str], note: str | None = None) -> Outcome:
        post_id, url = first
        if not post_id:
            return Outcome.sent(note=note or N_("Facebook published the post but gave no id for it"))
        return Outcome.sent(message_id=post_id, url=url or None, note=note)

    async def _post_text_and_photos(
        self,
        page_id: str,
        token: str,
        message: str,
        photos: list[tuple[Image, bytes]],
        sending: Sending,
        progress: _Progress,
    ) -> str | None:
        """The post's text and photos as one Page post (text alone, one photo, or several attached
        to one feed post); its id. Raises GraphError, Unreachable or Withdrawn; `progress` says
        whether the request that may make the post appear had left."""
        if not photos:
            await sending()
            progress.publishing = True
            answer = await self.call("POST", f"{page_id}/feed", token, data={"message": message})
            return _text(answer.get("id"))
        if len(photos) == 1:
            image, data = photos[0]
            text = join_plain([message, plain_with_links(_caption(image))])
            await sending()
            progress.publishing = True
            answer = await self._upload(page_id, token, image, data, text, published=True)
            return _text(answer.get("post_id") or answer.get("id"))
        media: list[dict[str, str]] = []
        try:
            for image, data in photos:
                caption = plain_with_links(_caption(image))
                uploaded = await self._upload(page_id, token, image, data, caption, published=False)
                if not uploaded.get("id"):
                    raise Unreachable(N_("Facebook gave no id for an uploaded photo"), Fate.MAYBE_SENT)
                media.append({"media_fbid": str(uploaded["id"])})
            fields = {"attached_media": json.dumps(media, separators=(",", ":"))}
            if message:
                fields["message"] = message
            await sending()
            progress.publishing = True
            answer = await self.call("POST", f"{page_id}/feed", token, data=fields)
        except (GraphError, Unreachable, Withdrawn) as error:
            if not progress.publishing or not _may_have_posted(error):
                await self._discard_uploads(token, [item["media_fbid"] for item in media])
            raise
        return _text(answer.get("id"))

    async def _post_video(
        self, page_id: str, token: str, video: Image, file: IO[bytes], description: str
    ) -> dict[str, Any]:
        """``POST /{page-id}/videos`` (on Graph's video host) with the file streamed from `file`."""
        fields = {"description": description} if description else {}
        body = MultipartBody(fields, "source", video.name or "video.mp4", _video_mime(video), file)
        return await asyncio.to_thread(self._call_url, f"{self.video_url}/{page_id}/videos", token, body)

    def _call_url(self, url: str, token: str, body: MultipartBody) -> dict[str, Any]:
        response = self.request(
            "POST", url, data=body, headers={"Authorization": f"Bearer {token}", "Content-Type": body.content_type}
        )
        failure = _graph_error(response, (token,))
        if failure is not None:
            raise failure
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise Unreachable(N_("Facebook's answer could not be read"), Fate.MAYBE_SENT)
        return answer

    async def _discard_uploads(self, token: str, photo_ids: list[str]) -> None:
        """Deletes the unpublished photos of a multi-photo post that did not go out, so that a
        failure (or the retry that uploads them again) leaves nothing behind on the Page. Best
        effort: a photo that cannot be deleted stays unpublished, invisible to visitors."""
        for photo_id in photo_ids:
            try:
                await self.call("DELETE", photo_id, token)
            except GRAPH_FAILURES as error:
                log.info("could not delete unpublished photo %s: %s", photo_id, error)

    async def _upload(
        self, page_id: str, token: str, image: Image, data: bytes, caption: str, *, published: bool
    ) -> dict[str, Any]:
        fields = {} if published else {"published": "false"}
        if caption:
            fields["message"] = caption
        files = {"source": (image.name or "photo.jpg", data, image.mime_type or "image/jpeg")}
        return await self.call("POST", f"{page_id}/photos", token, data=fields, files=files)

    async def _page_token(self, credential: str, page_id: str) -> str | None:
        """The Page token for `page_id` that `credential` gives, or None if it gives none."""
        key = hashlib.sha256(credential.encode("utf-8")).hexdigest()
        cached = self._pages.get(key)
        if cached is None or cached.expires < time.monotonic() or page_id not in cached.pages:
            found = await self.discover_pages(credential)
            cached = _PageList(time.monotonic() + PAGE_CACHE_SECONDS, {page.id: page for page in found})
            self._pages[key] = cached
        page = cached.pages.get(page_id)
        return page.access_token if page is not None else None

    async def _failed(
        self, error: GraphFailure, post: Post, target: Target, credential: str, *, publishing: bool
    ) -> Outcome:
        if isinstance(error, GraphError) and error.code in TOKEN_CODES:
            self._pages.pop(hashlib.sha256(credential.encode("utf-8")).hexdigest(), None)
            await self.store.mark_account_needs_reconnect(target.account_id or post.account_id)
            log.warning(
                "facebook account %s needs reconnecting (code %s/%s)",
                target.account_id or post.account_id,
                error.code,
                error.subcode,
            )
        outcome = classify(error, target.name, publishing=publishing)
        if isinstance(error, GraphError) and error.fbtrace_id:
            log.info("facebook error on page %s: fbtrace_id %s", target.address, error.fbtrace_id)
        return outcome

    # -- after publication: edit and delete ------------------------------------------------------

    def edit_refusal(self, old: Content, new: Content, delivery: Delivery) -> str | None:
        """Why a Page post cannot take this edit, known before asking Facebook; None if it can."""
        if [image.blob_id for image in old.images] != [image.blob_id for image in new.images]:
            return N_("Facebook can't swap a photo or video of a published post")
        if not delivery.message_id or "_" not in delivery.message_id:
            # A video post is known by its video's id, whose text Facebook keeps apart.
            return N_("Facebook keeps no text Herald can change on a video post")
        if facebook_text(old) == facebook_text(new):
            return N_("nothing changes on Facebook (it shows no formatting)")
        if not facebook_text(new) and not old.images:
            return N_("a text post on Facebook can't be left without text")
        return None

    async def edit_post(self, post: Post, target: Target, delivery: Delivery, new: Content) -> Outcome:
        """The Page post's text changed to `new`'s (``POST /{post-id}`` with ``message``)."""
        return await self._revise(post, target, delivery, "POST", {"message": facebook_text(new)})

    async def delete_post(self, post: Post, target: Target, delivery: Delivery) -> Outcome:
        """The Page post deleted (``DELETE /{post-id}``, a video post by its video's id)."""
        return await self._revise(post, target, delivery, "DELETE", None)

    async def _revise(
        self, post: Post, target: Target, delivery: Delivery, method: str, data: dict[str, str] | None
    ) -> Outcome:
        if not delivery.message_id:
            return Outcome.permanent("no_id", N_("Facebook gave no id for the post, so it can't be reached again"))
        credential = await self.store.account_credential(target.account_id or post.account_id)
        if credential is None:
            return Outcome.permanent("no_account", N_("the Facebook account was removed"))
        try:
            token = await self._page_token(credential, target.address.strip())
            if token is None:
                message = N_("Facebook no longer lists {target} for this account").format(target=target.name)
                return Outcome.permanent("no_page", message)
            answer = await self.call(method, delivery.message_id, token, data=data)
        except GRAPH_FAILURES as error:
            if isinstance(error, GraphError) and error.code == 100 and error.subcode == 33:
                return Outcome.permanent("not_found", N_("the post is no longer on the Page"))
            outcome = await self._failed(error, post, target, credential, publishing=False)
            log.info("facebook %s of %s: %s (%s)", method, target.address, outcome.error_code, outcome.error_message)
            return outcome
        if answer.get("success") is not True:
            return Outcome.permanent("facebook", N_("Facebook did not say it was done"))
        return Outcome.sent(delivery.message_id, delivery.url)
