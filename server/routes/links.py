"""Short links and QR codes: POST /api/links, GET /api/links/{id}, GET /s/{id} (→ the page), /s/{id}.svg and .png,
and GET /api/qr.svg|png?url=<one of this server's pages>.

A link stores the scene's canonical query string (core.scene_url.scene_to_query: every value written out), so
a link in last year's slides opens the same race when a default changes. Only scenes that POST /api/race
accepts are stored. The redirect's target is built here, from the stored query and this server's own page
(``/`` or ``/embed``), never from the request: there is no open redirect. Without OPTIRACE_PUBLIC_URL it is a
relative Location (``/?<query>``), which the browser resolves against the short link itself; with it, an
absolute URL on that base. The short URLs in replies and QR codes take OPTIRACE_PUBLIC_URL's base, else the
request's own scheme and host.

Creation is rate-limited per client (``links_burst`` at once, ``links_per_minute`` after that, per worker
process; the client is the connection's address, or the X-Forwarded-For of a proxy uvicorn trusts:
FORWARDED_ALLOW_IPS). Asking again for a link that exists costs nothing: a deck of slides may ask for its links
every time it opens.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import OrderedDict
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from core.presets import expand_preset
from core.scene import Scene
from core.scene_url import parse_query, scene_from_query, scene_json_from_query, scene_to_query
from server.links import LinkStore, StorageFull, StoreUnavailable, candidate_ids, database_url, is_link_id, open_store
from server.qr import PNG_SCALES, TooLong, qr_png, qr_svg
from server.responses import cached_json, error_body, json_reply, ok
from server.routes.embed import EMBED_OPTIONS
from server.schemas import (
    LINK_SIZE,
    LINK_TEXT,
    PAGE_URL_PATTERN,
    QR_FITS,
    QR_OWN_PAGE,
    QUERY_LENGTH,
    SCENE_QUERY_RULES,
    SCENE_RULES,
    ErrorReply,
    SceneSchema,
    states,
)
from server.settings import get_settings
from server.strict import check_json

router = APIRouter(tags=["links"])

PAGE_OPTIONS = ("qr", "present")  # display options of the page a short link may pass on (/s/{id}?qr=1)
LINK_EMBED_OPTIONS = EMBED_OPTIONS  # and of the embed (/s/{id}?embed=1&autoplay=1&qr=1)
_OPTION_VALUE = re.compile(r"^[A-Za-z0-9.]{1,16}$")
_SHORT_PATH = re.compile(r"^/s/([A-Za-z0-9_-]{8,10})$")


class LinkReply(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(description="8 to 10 URL-safe characters, derived from the scene: the same scene, the same id")
    url: str = Field(description="the short link: it redirects to the page with the whole scene")
    query: str = Field(description="the scene as the page's query string, every value written out")
    created: bool = Field(description="whether this request stored the link (false: it existed already)")


class LinkSceneReply(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    url: str
    query: str
    scene: SceneSchema = Field(description="the scene, every default written out")


# --- errors ---------------------------------------------------------------------------------------------
_EXAMPLE_QUERY = scene_to_query(Scene.model_validate({"landscape": {"name": "bowl"}, "steps": 200}))
_EXAMPLE_ID = candidate_ids(_EXAMPLE_QUERY)[0]
_EXAMPLE_URL = f"http://127.0.0.1:8000/s/{_EXAMPLE_ID}"
_ERRORS: dict[int, tuple[str, dict[str, Any]]] = {
    400: ("The body is not UTF-8", error_body("the body must be UTF-8", ["body"], "body_invalid")),
    404: (
        "No link has this id",
        error_body("no short link 'AbCdEf12'; links are made by POST /api/links", ["path", "id"], "not_found"),
    ),
    414: (
        "The query string is too long",
        error_body("query string must be at most 8192 bytes", ["query"], "query_too_long"),
    ),
    413: (
        "The scene is too large to keep as a link",
        error_body("the scene's query string is 9120 bytes; a link holds at most 8192", ["body"], "scene_too_large"),
    ),
    415: (
        "The body is neither JSON nor a query string",
        error_body(
            "send the scene as application/json, or its query string as text/plain or "
            "application/x-www-form-urlencoded; got 'image/png'",
            ["header", "content-type"],
            "unsupported_media_type",
        ),
    ),
    422: (
        "Invalid input: each problem names the field, the value and what is allowed",
        error_body(
            "body.racers.0.params.lr: lr must be ≥ 0, got -1", ["body", "racers", 0, "params", "lr"], "value_error"
        ),
    ),
    429: (
        "This client made too many new links; the Retry-After header says when to try again",
        error_body(
            "too many new links from this client: 20 at once, then 30 a minute; try again in 2 s", [], "rate_limited"
        ),
    ),
    503: (
        "The link database cannot be reached",
        error_body("link storage is unavailable: the link database cannot be opened", [], "link_storage_unavailable"),
    ),
    507: (
        "The link store is full: no new links, existing ones still open",
        error_body("link storage is full: at most 1073741824 bytes", [], "link_storage_full"),
    ),
}


def _responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "model": ErrorReply,
            "description": _ERRORS[status][0],
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/ErrorReply"},
                    "example": _ERRORS[status][1],
                }
            },
        }
        for status in statuses
    }


class LinkError(Exception):
    def __init__(self, status: int, message: str, loc: list[Any], kind: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.reply = JSONResponse(status_code=status, content=error_body(message, loc, kind), headers=headers)


def _not_found(link_id: str) -> LinkError:
    return LinkError(
        404, f"no short link {link_id[:40]!r}; links are made by POST /api/links", ["path", "id"], "not_found"
    )


# --- the store, the base URL and the rate limit -----------------------------------------------------------
def link_store() -> LinkStore:
    """This process's store for the configured database (opened and migrated on first use)."""
    settings = get_settings()
    try:
        url = database_url(settings.database_url, settings.data_dir)
        return open_store(url, settings.links_max_storage_bytes)
    except StoreUnavailable as error:
        raise LinkError(503, f"link storage is unavailable: {error}", [], "link_storage_unavailable") from None


def public_base(request: Request) -> str:
    """The base of this server's absolute URLs: OPTIRACE_PUBLIC_URL, else the request's scheme, host and root path."""
    configured = get_settings().public_url.strip()
    if not configured:
        return str(request.base_url).rstrip("/")
    parts = urlsplit(configured)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise LinkError(
            503,
            f"OPTIRACE_PUBLIC_URL must be an http(s) URL without query or fragment, like https://optirace.example.org; "
            f"got {configured[:100]!r}",
            [],
            "misconfigured",
        )
    return configured.rstrip("/")


class RateLimiter:
    """A token bucket per client: ``burst`` at once, refilled at ``per_minute``. Remembers at most ``clients``
    clients (the least recently seen are forgotten, as if their buckets were full)."""

    def __init__(self, clients: int = 65_536) -> None:
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._clients = clients

    def take(self, client: str, per_minute: float, burst: int) -> float:
        """0 if ``client`` may go on (one token taken), else the seconds until it may."""
        now = time.monotonic()
        rate = per_minute / 60.0
        with self._lock:
            tokens, then = self._buckets.pop(client, (float(burst), now))
            tokens = min(float(burst), tokens + (now - then) * rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self._buckets[client] = (tokens, now)
                wait = math.inf if rate <= 0 else (1.0 - tokens) / rate
            while len(self._buckets) > self._clients:
                self._buckets.popitem(last=False)
        return wait


def _limiter(request: Request) -> RateLimiter:
    state = request.app.state
    limiter = getattr(state, "link_rate_limiter", None)
    if limiter is None:
        with _limiter_lock:
            limiter = getattr(state, "link_rate_limiter", None)
            if limiter is None:
                limiter = state.link_rate_limiter = RateLimiter()
    return limiter


_limiter_lock = threading.Lock()


# --- creating ---------------------------------------------------------------------------------------------
async def _scene_of(request: Request) -> Scene:
    """The scene of a POST /api/links body: a Scene as JSON, or a query string (or a page URL) as text."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    body = await request.body()
    if media_type == "application/json" or media_type.endswith("+json"):
        try:
            return check_json(Scene, body)
        except ValidationError as error:
            problems = error.errors(include_url=False)
            raise RequestValidationError([{**p, "loc": ("body", *p["loc"])} for p in problems]) from None
    if media_type in ("text/plain", "application/x-www-form-urlencoded"):
        try:
            text = body.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise LinkError(400, "the body must be UTF-8", ["body"], "body_invalid") from None
        if "://" in text or text.startswith("/"):  # a page or embed URL: its scene (?preset= too), no display options
            pairs = [(k, v) for k, v in parse_query(urlsplit(text).query) if k not in (*PAGE_OPTIONS, *EMBED_OPTIONS)]
            return Scene.model_validate(scene_json_from_query(expand_preset(pairs)))
        return scene_from_query(text)
    raise LinkError(
        415,
        _ERRORS[415][1]["error"].replace("'image/png'", repr(media_type)),
        ["header", "content-type"],
        "unsupported_media_type",
    )


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


_EXAMPLE_REPLY = {"id": _EXAMPLE_ID, "url": _EXAMPLE_URL, "query": _EXAMPLE_QUERY, "created": True}


@router.post(
    "/api/links",
    summary="Make a short link for a scene",
    responses={**ok(_EXAMPLE_REPLY, LinkReply), **_responses(400, 413, 415, 422, 429, 503, 507)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/Scene"},
                    "examples": {"bowl": {"value": {"landscape": {"name": "bowl"}, "steps": 200}}},
                },
                "text/plain": {"schema": {"type": "string"}, "example": "landscape=bowl&steps=200"},
            },
        }
    },
)
@states(*dict.fromkeys((*SCENE_RULES, *SCENE_QUERY_RULES)), LINK_SIZE, LINK_TEXT)
async def create_link(request: Request) -> Response:
    """The scene (as POST /api/race takes it, or as the page's query string or URL, sent as text/plain) gets a
    short link: ``{"id", "url", "query", "created"}``. The same scene always gets the same id; asking again
    returns it (``created`` false) and does not count against the rate limit."""
    try:
        scene = await _scene_of(request)
        settings = get_settings()
        query = scene_to_query(scene)
        limit = min(settings.links_max_scene_bytes, settings.max_query_bytes)
        if len(query.encode()) > limit:
            raise LinkError(
                413,
                f"the scene's query string is {len(query.encode())} bytes; a link holds at most {limit}",
                ["body"],
                "scene_too_large",
            )
        store = await run_in_threadpool(link_store)
        link_id = await run_in_threadpool(store.find, query)
        created = False
        if link_id is None:
            wait = _limiter(request).take(_client(request), settings.links_per_minute, settings.links_burst)
            if wait:
                seconds = max(1, math.ceil(min(wait, 86_400)))
                raise LinkError(
                    429,
                    f"too many new links from this client: {settings.links_burst} at once, then "
                    f"{settings.links_per_minute:g} a minute; try again in {seconds} s",
                    [],
                    "rate_limited",
                    headers={"Retry-After": str(seconds)},
                )
            try:
                link_id, created = await run_in_threadpool(store.create, query)
            except StorageFull as error:
                raise LinkError(507, str(error), [], "link_storage_full") from None
        base = public_base(request)
    except LinkError as error:
        return error.reply
    return json_reply({"id": link_id, "url": f"{base}/s/{link_id}", "query": query, "created": created})


# --- reading ----------------------------------------------------------------------------------------------
def _stored(link_id: str) -> str:
    if not is_link_id(link_id):
        raise _not_found(link_id)
    query = link_store().get(link_id)
    if query is None:
        raise _not_found(link_id)
    return query


def _scene_json(query: str) -> dict[str, Any]:
    """The stored scene, filled; if a later version no longer accepts it, its fields as stored."""
    try:
        return scene_from_query(query).filled().model_dump(mode="json")
    except ValueError:
        return scene_json_from_query(parse_query(query))


@router.get(
    "/api/links/{link_id}",
    summary="The scene of a short link",
    responses={
        **ok(
            {
                "id": _EXAMPLE_ID,
                "url": _EXAMPLE_URL,
                "query": _EXAMPLE_QUERY,
                "scene": scene_from_query(_EXAMPLE_QUERY).filled().model_dump(mode="json"),
            },
            LinkSceneReply,
        ),
        **_responses(404, 422, 503),
    },
    response_model=None,
)
def get_link(link_id: str, request: Request) -> Response:
    """``{"id", "url", "query", "scene"}``: the scene a short link opens, every value written out."""
    try:
        query = _stored(link_id)
        base = public_base(request)
    except LinkError as error:
        return error.reply
    return cached_json(
        request, {"id": link_id, "url": f"{base}/s/{link_id}", "query": query, "scene": _scene_json(query)}
    )


def _options(request: Request, allowed: tuple[str, ...]) -> list[tuple[str, str]]:
    """The request's display options that the target page knows, with harmless values (others are dropped)."""
    return [
        (key, value)
        for key, value in request.query_params.multi_items()
        if key in allowed and _OPTION_VALUE.match(value)
    ]


def _immutable(seconds: int) -> dict[str, str]:
    return {"Cache-Control": f"public, max-age={seconds}"}


@router.get("/s/{link_id}.svg", include_in_schema=False)
def link_qr_svg(link_id: str, request: Request) -> Response:
    """The short link's QR code, as SVG."""
    try:
        _stored(link_id)
        url = f"{public_base(request)}/s/{link_id}"
    except LinkError as error:
        return error.reply
    return Response(qr_svg(url), media_type="image/svg+xml", headers=_immutable(get_settings().cache_seconds))


@router.get("/s/{link_id}.png", include_in_schema=False)
def link_qr_png(link_id: str, request: Request, scale: Annotated[int, Query(ge=1, le=32)] = 8) -> Response:
    """The short link's QR code, as PNG (``scale`` pixels per module)."""
    try:
        _stored(link_id)
        url = f"{public_base(request)}/s/{link_id}"
    except LinkError as error:
        return error.reply
    return Response(qr_png(url, scale), media_type="image/png", headers=_immutable(get_settings().cache_seconds))


@router.get("/s/{link_id}", include_in_schema=False)
def resolve_link(link_id: str, request: Request) -> Response:
    """302 to the page (``?embed=1``: to /embed) with the whole stored scene, and the known display options."""
    try:
        query = _stored(link_id)
        embed = request.query_params.get("embed") in ("1", "true")
        path = "/embed" if embed else "/"
        options = _options(request, LINK_EMBED_OPTIONS if embed else PAGE_OPTIONS)
        target = path + "?" + query + ("&" + urlencode(options) if options else "")
        configured = get_settings().public_url.strip()
        base = public_base(request) if configured else request.scope.get("root_path", "").rstrip("/")
    except LinkError as error:
        return error.reply
    return Response(status_code=302, headers={"Location": base + target, **_immutable(get_settings().cache_seconds)})


# --- QR codes of this server's pages ------------------------------------------------------------------------
def _own_page(url: str, request: Request) -> str:
    """``url`` as an absolute URL of this server's page, embed or short link; else a LinkError naming ``url``."""
    base = public_base(request)
    base_parts = urlsplit(base)
    try:
        parts = urlsplit(url)
    except ValueError as error:  # e.g. a host that NFKC normalization turns into '#', '/', '?' or '@'
        raise LinkError(
            422,
            f"url must be a page of this server ({base}/…), got {url[:200]!r} ({error})",
            ["query", "url"],
            "value_error",
        ) from None
    same_origin = (parts.scheme.lower(), parts.netloc.lower()) == (base_parts.scheme.lower(), base_parts.netloc.lower())
    if (parts.scheme or parts.netloc) and not same_origin:
        raise LinkError(
            422, f"url must be a page of this server ({base}/…), got {url[:200]!r}", ["query", "url"], "value_error"
        )
    path = parts.path
    prefix = base_parts.path.rstrip("/")
    if prefix and (parts.scheme or parts.netloc):
        if not path.startswith(prefix + "/"):
            raise LinkError(422, f"url must lie under {base}/, got {url[:200]!r}", ["query", "url"], "value_error")
        path = path.removeprefix(prefix)
    short = _SHORT_PATH.match(path)
    if path not in ("/", "/embed") and not short:
        raise LinkError(
            422,
            f"url must be this server's page (/), embed (/embed) or a short link (/s/<id>), got path {path[:200]!r}",
            ["query", "url"],
            "value_error",
        )
    if parts.fragment:
        raise LinkError(422, "url must not have a #fragment", ["query", "url"], "value_error")
    if short:
        _stored(short.group(1))
    return f"{base}{path}" + (f"?{parts.query}" if parts.query else "")


def _page_qr(url: str, request: Request, draw: Any, media_type: str) -> Response:
    try:
        try:
            body = draw(_own_page(url, request))
        except TooLong as error:
            raise LinkError(422, str(error), ["query", "url"], "value_error") from None
    except LinkError as error:
        return error.reply
    return Response(body, media_type=media_type, headers=_immutable(get_settings().cache_seconds))


_PAGE_URL = Query(
    min_length=1,
    pattern=PAGE_URL_PATTERN,
    description="a URL of this server's page (/?<scene>), embed (/embed?<scene>) or short link (/s/<id>); "
    "absolute on this server's origin, or a path",
    examples=["/?landscape=bowl&steps=200"],
)


@router.get(
    "/api/qr.svg",
    summary="The QR code of one of this server's pages, as SVG",
    response_class=Response,
    responses={
        200: {
            "description": "An SVG of the URL's QR code",
            "content": {"image/svg+xml": {"example": qr_svg(_EXAMPLE_URL).decode()}},
        },
        **_responses(404, 414, 422),
    },
)
@states(QR_OWN_PAGE, QR_FITS, QUERY_LENGTH)
def page_qr_svg(request: Request, url: Annotated[str, _PAGE_URL]) -> Response:
    """Only this server's own pages: the QR code of any other URL is refused (422 naming ``url``)."""
    return _page_qr(url, request, qr_svg, "image/svg+xml")


@router.get(
    "/api/qr.png",
    summary="The QR code of one of this server's pages, as PNG",
    response_class=Response,
    responses={
        200: {
            "description": "A PNG of the URL's QR code",
            "content": {"image/png": {"schema": {"type": "string", "format": "binary"}, "example": "(a PNG image)"}},
        },
        **_responses(404, 414, 422),
    },
)
@states(QR_OWN_PAGE, QR_FITS, QUERY_LENGTH)
def page_qr_png(
    request: Request,
    url: Annotated[str, _PAGE_URL],
    scale: Annotated[int, Query(ge=PNG_SCALES.start, le=PNG_SCALES.stop - 1, description="pixels per module")] = 8,
) -> Response:
    """Only this server's own pages: the QR code of any other URL is refused (422 naming ``url``)."""
    return _page_qr(url, request, lambda page: qr_png(page, scale), "image/png")
