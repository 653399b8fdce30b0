"""A fake Facebook Graph API for tests: real HTTP on 127.0.0.1, the documented request and error shapes.

    async with FakeGraphAPI() as graph:
        graph.add_user_token("USER", pages=[("1001", "Shop", "PAGE-TOKEN")])
        publisher = FacebookPagePublisher(store, graph.url)

What it serves (under ``/v21.0``, any ``/vN.M`` prefix or none is accepted):

- ``GET /me/accounts`` — a user token's Pages, each ``{"id", "name", "access_token", "category",
  "tasks"}`` (``fields`` filters them), paged by ``limit`` / ``after`` with ``paging.cursors`` and
  ``paging.next``; a Page token gets ``{"data": []}``.
- ``GET /me`` — ``{"id", "name"}`` of the user or Page the token belongs to; ``metadata=1`` adds
  ``{"metadata": {"type": "user" | "page"}}``.
- ``GET /me/permissions`` — a user token's permissions, ``{"data": [{"permission", "status":
  "granted" | "declined"}]}`` (one never asked for is not listed); a Page token gets ``(#100)``: a
  Page has no such edge.
- ``POST /{page-id}/photos`` — multipart ``source`` (or ``url``), ``published`` (default true),
  ``message`` (or the older ``caption``): ``{"id", "post_id"}`` for a published photo, ``{"id"}``
  for an unpublished one.
- ``POST /{page-id}/feed`` — ``message``, ``link``, ``attached_media`` (a JSON list of
  ``{"media_fbid"}``, or ``attached_media[0]``… fields), each naming an unpublished photo of that
  Page not yet attached: ``{"id": "PAGEID_POSTID"}``.
- ``POST /{page-id}/videos`` — what Facebook takes on its video host (graph-video.facebook.com):
  multipart ``source`` (a video file: an MP4/MOV ``ftyp`` box, WebM or AVI; anything else is
  ``(#352)``), ``description``, ``title``, ``published`` (default true): ``{"id": video_id}``; a
  published video is a post of its own on the Page. ``file_url`` uploads are not served.
- ``DELETE /{photo-id}`` — with its Page's token, deletes a photo no post uses: ``{"success": true}``.

Tokens arrive as an ``access_token`` query or form field, or ``Authorization: Bearer``/``OAuth``.
Posting needs the Page's own token (a user token gets the ``(#200)`` permission error, as on
Facebook). Errors are ``{"error": {"message", "type": "OAuthException", "code", "error_subcode"?,
"fbtrace_id"}}`` with Graph's HTTP statuses (400, 403 for permissions). A token Facebook cannot
parse is code 190 without a subcode; a revoked or expired one 190 with its subcode; an app token
(``{app-id}|{app-secret}``) asking about ``/me`` is code 2500. A user who did not grant
``pages_show_list`` has no Pages on ``/me/accounts``, and the Page tokens of one who did not grant
``pages_manage_posts`` (or ``pages_read_engagement``) cannot post.

Control: ``add_user_token``, ``add_page_token``, ``add_app_token``, ``revoke``, ``deny_permission``,
``fail_next``, ``fail_next_http``, ``delay``, ``clear_faults``. Read-back: ``photos(page_id)``, ``feed(page_id)``,
``videos(page_id)``, ``calls`` (tokens removed).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web
from multidict import MultiDict

from tests.fakes.local_server import LocalServer, take_scripted

JSONDict = dict[str, Any]

API_VERSION = "v21.0"
UPLOAD_LIMIT = 64 * 1024 * 1024
VERSION_PREFIX = re.compile(r"^/v\d+\.\d+(?=/|$)")
TOKEN_MESSAGES = {
    458: "Error validating access token: The user has not authorized application.",
    459: "Error validating access token: You cannot access the app till you log in to www.facebook.com "
    "and follow the instructions given.",
    460: "Error validating access token: The session has been invalidated because the user changed their "
    "password or Facebook has changed the session for security reasons.",
    463: "Error validating access token: Session has expired on Tuesday, 01-Dec-26 10:00:00 PST. "
    "The current time is Tuesday, 01-Dec-26 11:00:00 PST.",
    464: "Error validating access token: Sessions for the user are not allowed because the user is not a "
    "confirmed user.",
    467: "Error validating access token: The session is invalid because the user logged out.",
}
POSTING_NEEDS = (
    "(#200) If posting to a page, requires both pages_read_engagement and pages_manage_posts as an admin "
    "with sufficient administrative permission"
)
# Graph's answer to an app token (or none) asking about the current user.
NO_CURRENT_USER = "An active access token must be used to query information about the current user."
# What a Facebook Login for Pages publishing grants.
PAGE_PUBLISHING = ("public_profile", "pages_show_list", "pages_read_engagement", "pages_manage_posts")
# The permissions without which a Page token made from a user's cannot post.
POSTING_PERMISSIONS = ("pages_read_engagement", "pages_manage_posts")
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM")
UNSUPPORTED_VIDEO = "(#352) Sorry, the video file you selected is in a format that we don't support."


def looks_like_video(data: bytes) -> bool:
    """An MP4 or MOV (an ``ftyp`` box first), a WebM/Matroska file, or an AVI."""
    return (
        data[4:8] == b"ftyp" or data.startswith(b"\x1a\x45\xdf\xa3") or (data[:4] == b"RIFF" and data[8:12] == b"AVI ")
    )


class GraphFault(Exception):
    """An error answer: Graph's JSON error object and an HTTP status."""

    def __init__(
        self,
        code: int,
        message: str,
        http_status: int = 400,
        subcode: int | None = None,
        headers: dict[str, str] | None = None,
        error_type: str = "OAuthException",
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status
        self.subcode = subcode
        self.headers = headers or {}
        self.error_type = error_type

    def response(self) -> web.Response:
        error: JSONDict = {"message": self.message, "type": self.error_type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = _trace_id()
        return web.json_response({"error": error}, status=self.http_status, headers=self.headers)


def _trace_id() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(8)).decode().rstrip("=")


def _unsupported(method: str, object_id: str) -> GraphFault:
    return GraphFault(
        100,
        f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, cannot be loaded due "
        "to missing permissions, or does not support this operation. Please read the Graph API documentation "
        "at https://developers.facebook.com/docs/graph-api",
        subcode=33,
        error_type="GraphMethodException",
    )


@dataclass
class _Page:
    page_id: str
    name: str
    token: str
    denied: set[str] = field(default_factory=set)


@dataclass
class _User:
    user_id: str
    name: str
    token: str
    page_ids: list[str]
    # permission -> "granted" or "declined"; one never asked for is absent.
    permissions: dict[str, str] = field(default_factory=dict)

    def granted(self, permission: str) -> bool:
        return self.permissions.get(permission) == "granted"


@dataclass
class _Photo:
    photo_id: str
    page_id: str
    published: bool
    caption: str
    size: int
    sha256: str | None
    url: str | None
    filename: str | None
    content_type: str | None
    post_id: str | None = None  # the post showing it: its own (published) or the one it is attached to


@dataclass
class _Video:
    video_id: str
    page_id: str
    description: str
    title: str | None
    published: bool
    size: int
    sha256: str
    filename: str | None
    content_type: str | None


@dataclass
class _FeedPost:
    post_id: str
    page_id: str
    message: str
    attached_media: list[str]
    link: str | None
    via: str  # "feed" or "photos"


@dataclass
class _Fault:
    suffix: str
    build: GraphFault | tuple[int, str]  # a Graph error, or a raw (status, body) answer
    times: int


@dataclass
class _Delay:
    suffix: str
    seconds: float
    times: int
    before: bool


@dataclass
class _Request:
    method: str
    path: str  # without the version prefix, e.g. "/1001/feed" or "/me/accounts"
    fields: MultiDict[str]
    files: dict[str, tuple[str | None, str | None, bytes]]
    token: str | None
    token_via: str | None


class FakeGraphAPI(LocalServer):
    """The Graph API's Pages publishing contract, in memory, over real HTTP on 127.0.0.1."""

    body_limit = UPLOAD_LIMIT

    def __init__(self, version: str = API_VERSION) -> None:
        self.version = version
        self._users: dict[str, _User] = {}  # by token
        self._app_tokens: set[str] = set()
        self._pages: dict[str, _Page] = {}  # by page id
        self._revoked: dict[str, int] = {}  # token -> error_subcode
        self._photos: dict[str, _Photo] = {}
        self._feed: dict[str, _FeedPost] = {}
        self._videos: dict[str, _Video] = {}
        self._calls: list[JSONDict] = []
        self._faults: list[_Fault] = []
        self._delays: list[_Delay] = []
        self._ids = itertools.count(10_000_000_001)
        self._user_ids = itertools.count(500_000_001)

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """What FACEBOOK_GRAPH_URL should be: ``http://127.0.0.1:PORT/v21.0``."""
        return f"{self.root}/{self.version}"

    # -- control --------------------------------------------------------------------------------

    def add_user_token(
        self,
        token: str,
        pages: list[tuple[str, str, str]] | None = None,
        *,
        user_name: str = "Test User",
        user_id: str | None = None,
        granted: tuple[str, ...] = PAGE_PUBLISHING,
        declined: tuple[str, ...] = (),
    ) -> str:
        """A user token managing `pages` (page id, name, Page token), with the permissions the
        user `granted` to the app and those they `declined` at login; returns the user's id.

        Without ``pages_show_list`` the Pages are not listed; without a posting permission their
        Page tokens cannot post (``(#200)``), as the Page tokens made from such a user token."""
        page_ids = []
        for page_id, name, page_token in pages or []:
            self.add_page_token(page_id, name, page_token)
            page_ids.append(page_id)
            for permission in POSTING_PERMISSIONS:
                if permission not in granted:
                    self.deny_permission(page_id, permission)
        permissions = {permission: "granted" for permission in granted}
        permissions.update({permission: "declined" for permission in declined if permission not in granted})
        user = _User(user_id or str(next(self._user_ids)), user_name, token, page_ids, permissions)
        self._users[token] = user
        return user.user_id

    def add_app_token(self, token: str) -> None:
        """An app access token (``{app-id}|{app-secret}``): valid, but it speaks for the app, so
        anything about ``/me`` is refused with code 2500."""
        self._app_tokens.add(token)

    def add_page_token(self, page_id: str, name: str, token: str) -> None:
        """A Page and its Page access token (a Page has one token here; adding again replaces it)."""
        page = self._pages.get(page_id)
        if page is None:
            self._pages[page_id] = _Page(page_id, name, token)
        else:
            page.name, page.token = name, token

    def revoke(self, token: str, subcode: int = 460) -> None:
        """From now on the token is refused with code 190 and this subcode (460 password changed, 463
        expired, 458 app removed…)."""
        self._revoked[token] = subcode

    def deny_permission(self, page_id: str, permission: str) -> None:
        """Publishing to the Page fails with ``(#200)`` naming `permission` (``pages_manage_posts``…)."""
        self._pages[page_id].denied.add(permission)

    def fail_next(
        self,
        path_suffix: str,
        code: int,
        message: str,
        http_status: int = 400,
        subcode: int | None = None,
        times: int = 1,
        *,
        retry_after: float | None = None,
        error_type: str = "OAuthException",
    ) -> None:
        """The next `times` requests whose path ends with `path_suffix` (``/feed``, ``/photos``,
        ``/me/accounts``…) get this Graph error, without any effect. Graph answers most errors,
        throttling (4, 17, 32, 613) included, with HTTP 400."""
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else None
        fault = GraphFault(code, message, http_status, subcode, headers, error_type)
        self._faults.append(_Fault(self._suffix(path_suffix), fault, times))

    def fail_next_http(self, path_suffix: str, http_status: int, body: str = "", times: int = 1) -> None:
        """The next `times` matching requests get a bare HTTP answer (an HTML 502 from a proxy…)."""
        self._faults.append(_Fault(self._suffix(path_suffix), (http_status, body), times))

    def delay(self, path_suffix: str, seconds: float, times: int = 1, *, before: bool = False) -> None:
        """Hold the answer of the next `times` matching requests for `seconds`. By default the request
        takes effect first (the post is published, then the answer is late); ``before=True`` waits
        first, so a client that hangs up changes nothing."""
        self._delays.append(_Delay(self._suffix(path_suffix), seconds, times, before))

    def clear_faults(self) -> None:
        self._faults.clear()
        self._delays.clear()

    # -- read-back ------------------------------------------------------------------------------

    def photos(self, page_id: str) -> list[JSONDict]:
        """The Page's photos, oldest first: id, published, caption, size, sha256, url, filename,
        content_type, post_id."""
        return [
            {
                "id": photo.photo_id,
                "published": photo.published,
                "caption": photo.caption,
                "size": photo.size,
                "sha256": photo.sha256,
                "url": photo.url,
                "filename": photo.filename,
                "content_type": photo.content_type,
                "post_id": photo.post_id,
            }
            for photo in self._photos.values()
            if photo.page_id == page_id
        ]

    def feed(self, page_id: str) -> list[JSONDict]:
        """The Page's posts, oldest first: id, message, attached_media (photo ids), link, via."""
        return [
            {
                "id": post.post_id,
                "message": post.message,
                "attached_media": list(post.attached_media),
                "link": post.link,
                "via": post.via,
            }
            for post in self._feed.values()
            if post.page_id == page_id
        ]

    def videos(self, page_id: str) -> list[JSONDict]:
        """The Page's videos, oldest first: id, description, title, published, size, sha256,
        filename, content_type."""
        return [
            {
                "id": video.video_id,
                "description": video.description,
                "title": video.title,
                "published": video.published,
                "size": video.size,
                "sha256": video.sha256,
                "filename": video.filename,
                "content_type": video.content_type,
            }
            for video in self._videos.values()
            if video.page_id == page_id
        ]

    @property
    def calls(self) -> list[JSONDict]:
        """Every request: method, path (without the version), fields (no token; uploads as
        ``{"filename", "content_type", "size"}``), token_via (``header``, ``query``, ``form``, None)."""
        return list(self._calls)

    # -- serving --------------------------------------------------------------------------------

    @staticmethod
    def _suffix(path_suffix: str) -> str:
        return "/" + path_suffix.strip("/")

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        parsed = await self._parse(request)
        self._record(parsed)
        delay = take_scripted(self._delays, lambda delay: parsed.path.endswith(delay.suffix))
        if delay is not None and delay.before:
            await asyncio.sleep(delay.seconds)
        fault = take_scripted(self._faults, lambda fault: parsed.path.endswith(fault.suffix))
        if fault is not None:
            if isinstance(fault.build, GraphFault):
                response: web.Response = fault.build.response()
            else:
                status, body = fault.build
                response = web.Response(status=status, text=body, content_type="text/html")
        else:
            try:
                response = web.json_response(self._dispatch(parsed))
            except GraphFault as error:
                response = error.response()
        if delay is not None and not delay.before:
            await asyncio.sleep(delay.seconds)
        return response

    async def _parse(self, request: web.Request) -> _Request:
        path = VERSION_PREFIX.sub("", request.path) or "/"
        fields: MultiDict[str] = MultiDict(request.query)
        files: dict[str, tuple[str | None, str | None, bytes]] = {}
        query_token = request.query.get("access_token")
        form_token: str | None = None
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "multipart/form-data":
                reader = await request.multipart()
                async for part in reader:
                    if not isinstance(part, BodyPartReader):
                        continue
                    name = part.name or ""
                    data = await part.read(decode=True)
                    if part.filename is not None:
                        files[name] = (part.filename, part.headers.get("Content-Type"), bytes(data))
                    else:
                        fields.add(name, bytes(data).decode("utf-8", "replace"))
            elif request.content_type == "application/x-www-form-urlencoded":
                form = await request.post()
                for name, value in form.items():
                    if isinstance(value, str):
                        fields.add(name, value)
            else:
                await request.read()
        if "access_token" in fields and query_token is None:
            form_token = fields.getone("access_token")
        if "access_token" in fields:
            fields.popall("access_token")
        header = request.headers.get("Authorization", "")
        scheme, _, credential = header.partition(" ")
        header_token = credential.strip() if scheme.lower() in ("bearer", "oauth") and credential.strip() else None
        token, via = None, None
        for candidate, where in ((header_token, "header"), (query_token, "query"), (form_token, "form")):
            if candidate:
                token, via = candidate, where
                break
        return _Request(request.method, path, fields, files, token, via)

    def _record(self, parsed: _Request) -> None:
        fields: dict[str, Any] = {name: value for name, value in parsed.fields.items()}
        for name, (filename, content_type, data) in parsed.files.items():
            fields[name] = {"filename": filename, "content_type": content_type, "size": len(data)}
        self._calls.append(
            {"method": parsed.method, "path": parsed.path, "fields": fields, "token_via": parsed.token_via}
        )

    # -- the contract ---------------------------------------------------------------------------

    def _dispatch(self, request: _Request) -> JSONDict:
        parts = [part for part in request.path.split("/") if part]
        if request.method == "GET" and parts == ["me"]:
            return self._me(request)
        if request.method == "GET" and parts == ["me", "accounts"]:
            return self._accounts(request)
        if request.method == "GET" and parts == ["me", "permissions"]:
            return self._permissions(request)
        if request.method == "POST" and len(parts) == 2 and parts[1] in ("photos", "feed", "videos"):
            page = self._publishing_page(request, parts[0])
            if parts[1] == "photos":
                return self._post_photo(request, page)
            if parts[1] == "videos":
                return self._post_video(request, page)
            return self._post_feed(request, page)
        if request.method == "DELETE" and len(parts) == 1 and parts[0] in self._photos:
            return self._delete_photo(request, self._photos[parts[0]])
        self._identity(request, me=parts[:1] == ["me"])
        raise _unsupported(request.method, parts[0] if parts else "")

    def _delete_photo(self, request: _Request, photo: _Photo) -> JSONDict:
        """``DELETE /{photo-id}`` with the token of the Page it belongs to."""
        self._publishing_page(request, photo.page_id)
        if photo.post_id is not None:
            # Herald only deletes photos no post uses; a fake that allowed more would hide a bug.
            raise GraphFault(100, f"(#100) photo {photo.photo_id} belongs to post {photo.post_id}")
        del self._photos[photo.photo_id]
        return {"success": True}

    def _identity(self, request: _Request, *, me: bool) -> _User | _Page:
        token = request.token
        if not token:
            if me:
                raise GraphFault(
                    2500, "An active access token must be used to query information about the current user."
                )
            raise GraphFault(104, "An access token is required to request this resource.")
        if token in self._revoked:
            subcode = self._revoked[token]
            message = TOKEN_MESSAGES.get(subcode, "Error validating access token: The session is invalid.")
            raise GraphFault(
                190,
                message,
                subcode=subcode,
                headers={"WWW-Authenticate": f'OAuth "Facebook Platform" "invalid_token" "{message}"'},
            )
        user = self._users.get(token)
        if user is not None:
            return user
        if token in self._app_tokens:
            # An app token is valid, but there is no "current user" for it, and it is no Page's.
            raise GraphFault(2500, NO_CURRENT_USER) if me else GraphFault(200, POSTING_NEEDS, http_status=403)
        page = next((page for page in self._pages.values() if page.token == token), None)
        if page is not None:
            return page
        raise GraphFault(
            190,
            "Invalid OAuth access token - Cannot parse access token",
            headers={"WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token" "Invalid OAuth access token"'},
        )

    def _me(self, request: _Request) -> JSONDict:
        who = self._identity(request, me=True)
        if isinstance(who, _User):
            answer: JSONDict = {"id": who.user_id, "name": who.name}
            kind = "user"
        else:
            answer = {"id": who.page_id, "name": who.name}
            kind = "page"
        wanted = self._fields(request)
        if wanted:
            answer = {key: value for key, value in answer.items() if key in wanted or key == "id"}
        if request.fields.get("metadata") == "1":
            answer["metadata"] = {"type": kind}
        return answer

    def _permissions(self, request: _Request) -> JSONDict:
        who = self._identity(request, me=True)
        if isinstance(who, _Page):
            raise GraphFault(100, "(#100) Tried accessing nonexisting field (permissions) on node type (Page)")
        return {"data": [{"permission": name, "status": status} for name, status in who.permissions.items()]}

    def _accounts(self, request: _Request) -> JSONDict:
        who = self._identity(request, me=True)
        if isinstance(who, _Page):
            return {"data": []}
        items = []
        # Facebook lists only the Pages the user let the app see (pages_show_list).
        for page_id in who.page_ids if who.granted("pages_show_list") else []:
            page = self._pages[page_id]
            items.append(
                {
                    "id": page.page_id,
                    "name": page.name,
                    "access_token": page.token,
                    "category": "Local business",
                    "tasks": ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE", "MANAGE"],
                }
            )
        wanted = self._fields(request)
        if wanted:
            items = [{key: value for key, value in item.items() if key in wanted or key == "id"} for item in items]
        try:
            limit = max(1, min(int(request.fields.get("limit", "25")), 100))
        except ValueError:
            raise GraphFault(100, "(#100) The parameter limit must be an integer") from None
        start = 0
        after = request.fields.get("after")
        if after:
            try:
                start = int(base64.urlsafe_b64decode(after.encode()).decode())
            except ValueError:
                raise GraphFault(100, "(#100) Invalid cursor") from None
        chunk = items[start : start + limit]
        answer: JSONDict = {"data": chunk}
        if chunk:
            cursors = {
                "before": base64.urlsafe_b64encode(str(start).encode()).decode(),
                "after": base64.urlsafe_b64encode(str(start + len(chunk)).encode()).decode(),
            }
            answer["paging"] = {"cursors": cursors}
            if start + len(chunk) < len(items):
                # Like Graph, `next` repeats the query, token included; a careful client uses the cursor.
                answer["paging"]["next"] = (
                    f"{self._root}/{self.version}/me/accounts?limit={limit}&after={cursors['after']}"
                    f"&access_token={request.token}"
                )
        return answer

    @staticmethod
    def _fields(request: _Request) -> set[str]:
        return {name.strip() for name in request.fields.get("fields", "").split(",") if name.strip()}

    def _publishing_page(self, request: _Request, page_id: str) -> _Page:
        who = self._identity(request, me=False)
        page = self._pages.get(page_id)
        if page is None:
            raise _unsupported(request.method, page_id)
        if isinstance(who, _User) or who.page_id != page_id:
            raise GraphFault(200, POSTING_NEEDS, http_status=403)
        if page.denied:
            permission = sorted(page.denied)[0]
            raise GraphFault(200, f"(#200) Requires {permission} permission to manage the object", http_status=403)
        return page

    def _post_photo(self, request: _Request, page: _Page) -> JSONDict:
        upload = request.files.get("source")
        url = request.fields.get("url")
        if upload is None and not url:
            raise GraphFault(324, "(#324) Requires upload file")
        filename, content_type, data = upload if upload is not None else (None, None, b"")
        if upload is not None and not (data.startswith(IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")):
            raise GraphFault(324, "(#324) Missing or invalid image file")
        published = request.fields.get("published", "true").strip().lower() not in ("false", "0")
        caption = request.fields.get("message") or request.fields.get("caption") or ""
        photo = _Photo(
            photo_id=str(next(self._ids)),
            page_id=page.page_id,
            published=published,
            caption=caption,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest() if upload is not None else None,
            url=url,
            filename=filename,
            content_type=content_type,
        )
        self._photos[photo.photo_id] = photo
        if not published:
            return {"id": photo.photo_id}
        post = self._new_post(page, caption, [photo.photo_id], None, via="photos")
        photo.post_id = post.post_id
        return {"id": photo.photo_id, "post_id": post.post_id}

    def _post_video(self, request: _Request, page: _Page) -> JSONDict:
        upload = request.files.get("source")
        if upload is None:
            if request.fields.get("file_url"):
                raise _unsupported("POST", f"{page.page_id}/videos with file_url")
            raise GraphFault(390, "(#390) There was a problem uploading your video file. Please try again.")
        filename, content_type, data = upload
        if not looks_like_video(data):
            raise GraphFault(352, UNSUPPORTED_VIDEO)
        video = _Video(
            video_id=str(next(self._ids)),
            page_id=page.page_id,
            description=request.fields.get("description", ""),
            title=request.fields.get("title"),
            published=request.fields.get("published", "true").strip().lower() not in ("false", "0"),
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            filename=filename,
            content_type=content_type,
        )
        self._videos[video.video_id] = video
        return {"id": video.video_id}

    def _post_feed(self, request: _Request, page: _Page) -> JSONDict:
        media = self._attached_media(request, page)
        message = request.fields.get("message", "")
        link = request.fields.get("link")
        if not message and not media and not link:
            raise GraphFault(100, "(#100) Missing message or attachment")
        post = self._new_post(page, message, media, link, via="feed")
        for photo_id in media:
            self._photos[photo_id].post_id = post.post_id
        return {"id": post.post_id}

    def _attached_media(self, request: _Request, page: _Page) -> list[str]:
        raw: list[Any] = []
        if "attached_media" in request.fields:
            try:
                listed = json.loads(request.fields["attached_media"])
            except ValueError:
                raise GraphFault(100, "(#100) param attached_media must be an array") from None
            if not isinstance(listed, list):
                raise GraphFault(100, "(#100) param attached_media must be an array")
            raw.extend(listed)
        indexed = sorted(
            (int(match.group(1)), value)
            for name, value in request.fields.items()
            if (match := re.fullmatch(r"attached_media\[(\d+)\]", name))
        )
        for _, value in indexed:
            try:
                raw.append(json.loads(value))
            except ValueError:
                raise GraphFault(100, "(#100) param attached_media must be an array of objects") from None
        photo_ids: list[str] = []
        for index, item in enumerate(raw):
            media_fbid = str(item.get("media_fbid", "")) if isinstance(item, dict) else ""
            photo = self._photos.get(media_fbid)
            if photo is None or photo.page_id != page.page_id or photo.published or photo.post_id is not None:
                raise GraphFault(
                    100,
                    f"(#100) attached_media[{index}] must be an unpublished photo of this Page that is not "
                    f"attached to another post (media_fbid {media_fbid or 'missing'})",
                )
            if media_fbid in photo_ids:
                raise GraphFault(100, f"(#100) attached_media[{index}] repeats media_fbid {media_fbid}")
            photo_ids.append(media_fbid)
        return photo_ids

    def _new_post(self, page: _Page, message: str, media: list[str], link: str | None, *, via: str) -> _FeedPost:
        post = _FeedPost(f"{page.page_id}_{next(self._ids)}", page.page_id, message, media, link, via)
        self._feed[post.post_id] = post
        return post
