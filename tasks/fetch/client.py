"""A polite, fast fetcher: async httpx with a global and a per-host connection limit, a per-host rate.

Retries (exponential backoff with jitter, at least `Retry-After`) only on what can pass: timeouts,
connection resets and other transport errors, HTTP 5xx and 429. A 4xx is final. Redirects are
followed only to http(s). A body over `max_body_bytes` is cut off and refused. Conditional requests
(If-None-Match / If-Modified-Since) turn unchanged documents into a cheap 304.

Local paths are sources too (the bundled sample catalogue): they are read from disk, so the same
pipeline runs with no network. httpx errors are translated here and nowhere else.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tasks.settings import DEFAULT_FETCH, FetchSettings

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class FetchRequest:
    url: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass(slots=True)
class FetchResult:
    url: str
    final_url: str | None = None
    status: int | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body: bytes | None = None
    error: str | None = None
    attempts: int = 0
    not_modified: bool = False
    history: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and (self.body is not None or self.not_modified)


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


class _HostPacer:
    """At most N requests in flight to one host, and a minimum gap between their starts."""

    def __init__(self, settings: FetchSettings) -> None:
        self.settings = settings
        self.slots: dict[str, asyncio.Semaphore] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.last: dict[str, float] = {}

    def slot(self, host: str) -> asyncio.Semaphore:
        return self.slots.setdefault(host, asyncio.Semaphore(self.settings.per_host_connections))

    async def wait_turn(self, host: str) -> None:
        lock = self.locks.setdefault(host, asyncio.Lock())
        async with lock:
            gap = self.settings.per_host_interval_s - (time.monotonic() - self.last.get(host, -1e9))
            if gap > 0:
                await asyncio.sleep(gap)
            self.last[host] = time.monotonic()


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _delay(settings: FetchSettings, attempt: int, retry_after: float | None) -> float:
    backoff = settings.backoff_base_s * (2 ** attempt) * random.uniform(0.5, 1.5)
    return min(settings.backoff_max_s, max(backoff, retry_after or 0.0))


async def _get_once(client: httpx.AsyncClient, req: FetchRequest, settings: FetchSettings, result: FetchResult
                    ) -> tuple[bool, float | None]:
    """One attempt; returns (retryable failure?, Retry-After seconds)."""
    headers = {}
    if req.etag:
        headers["If-None-Match"] = req.etag
    if req.last_modified:
        headers["If-Modified-Since"] = req.last_modified
    async with client.stream("GET", req.url, headers=headers) as response:
        result.status = response.status_code
        result.final_url = str(response.url)
        result.history = [str(r.url) for r in response.history]
        if response.status_code == 304:
            result.not_modified, result.error = True, None
            result.etag, result.last_modified = req.etag, req.last_modified
            return False, None
        if response.status_code in RETRY_STATUS:
            result.error = f"HTTP {response.status_code}"
            return True, _retry_after(response)
        if response.status_code >= 400:
            result.error = f"HTTP {response.status_code}"
            return False, None
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > settings.max_body_bytes:
            result.error = f"body of {declared} bytes is over the {settings.max_body_bytes}-byte cap"
            return False, None
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():  # decoded: the cap also stops gzip bombs
            size += len(chunk)
            if size > settings.max_body_bytes:
                result.error = f"body over the {settings.max_body_bytes}-byte cap; download stopped"
                return False, None
            chunks.append(chunk)
        result.body = b"".join(chunks)
        result.content_type = response.headers.get("content-type")
        result.etag = response.headers.get("etag")
        result.last_modified = response.headers.get("last-modified")
        result.error = None
        return False, None


async def _fetch_one(client: httpx.AsyncClient, pacer: _HostPacer, req: FetchRequest,
                     settings: FetchSettings) -> FetchResult:
    result = FetchResult(url=req.url)
    host = urlsplit(req.url).netloc.lower()
    for attempt in range(settings.retries + 1):
        result.attempts = attempt + 1
        retry_after = None
        async with pacer.slot(host):
            await pacer.wait_turn(host)
            try:
                retryable, retry_after = await _get_once(client, req, settings, result)
            except httpx.UnsupportedProtocol as exc:
                result.error = f"redirect to a non-http(s) URL refused: {exc}"
                retryable = False
            except httpx.TooManyRedirects:
                result.error = f"more than {settings.max_redirects} redirects"
                retryable = False
            except httpx.TimeoutException as exc:
                result.error = f"timeout ({exc.__class__.__name__})"
                retryable = True
            except httpx.TransportError as exc:
                result.error = f"{exc.__class__.__name__}: {exc}"
                retryable = True
        if not retryable or attempt == settings.retries:
            return result
        await asyncio.sleep(_delay(settings, attempt, retry_after))
    return result


def _read_local(req: FetchRequest, settings: FetchSettings) -> FetchResult:
    path = Path(req.url.removeprefix("file://"))
    result = FetchResult(url=req.url, final_url=req.url, attempts=1)
    try:
        size = path.stat().st_size
        if size > settings.max_body_bytes:
            result.error = f"file of {size} bytes is over the {settings.max_body_bytes}-byte cap"
            return result
        result.body = path.read_bytes()
        result.status = 200
    except OSError as exc:
        result.error = f"cannot read: {exc.strerror or exc}"
    return result


async def fetch_all_async(requests: list[FetchRequest], settings: FetchSettings = DEFAULT_FETCH
                          ) -> list[FetchResult]:
    """Fetch every request (URLs concurrently within the limits, local paths from disk), in order."""
    limits = httpx.Limits(max_connections=settings.max_connections,
                          max_keepalive_connections=settings.max_connections)
    timeout = httpx.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s)
    pacer = _HostPacer(settings)
    async with httpx.AsyncClient(limits=limits, timeout=timeout, follow_redirects=True,
                                 max_redirects=settings.max_redirects,
                                 headers={"User-Agent": settings.user_agent}) as client:
        async def one(req: FetchRequest) -> FetchResult:
            if is_url(req.url):
                return await _fetch_one(client, pacer, req, settings)
            return _read_local(req, settings)

        return list(await asyncio.gather(*(one(r) for r in requests)))


def fetch_all(requests: list[FetchRequest], settings: FetchSettings = DEFAULT_FETCH) -> list[FetchResult]:
    """Synchronous face of `fetch_all_async` (runs its own event loop)."""
    return asyncio.run(fetch_all_async(requests, settings))
