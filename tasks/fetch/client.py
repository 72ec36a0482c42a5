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
import contextlib
import functools
import ipaddress
import random
import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Final
from urllib.parse import urljoin, urlsplit

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
    deferred: bool = False  # the server asked for a pause longer than we wait: fetched on the next run

    @property
    def ok(self) -> bool:
        return self.error is None and (self.body is not None or self.not_modified)


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


class HostGate:
    """Politeness per host for the whole process: at most N requests in flight to a host and a minimum
    gap between their starts, whichever batch, listing page, attachment or year asks.

    One gate per process (`HOSTS`), shared by every `fetch_all` call of every thread: the flows run
    several batches at once, discovery walks listing pages one call at a time, and each of those
    used to get a fresh pacer (24 URLs on one host: 6 in flight, 12 in the first second). The
    limits are the caller's `FetchSettings`; the state (requests in flight, the last start) is the
    host's. Thread-safe; async callers wait with `asyncio.sleep`, never blocking their loop.
    """

    _POLL_S: Final = 0.02

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight: dict[str, int] = {}
        self._last_start: dict[str, float] = {}

    async def enter(self, host: str, settings: FetchSettings) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                free = self._in_flight.get(host, 0) < settings.per_host_connections
                due = self._last_start.get(host, -1e9) + settings.per_host_interval_s
                if free and now >= due:
                    self._in_flight[host] = self._in_flight.get(host, 0) + 1
                    self._last_start[host] = now
                    return
                wait = min(max(due - now, 0.0), self._POLL_S) if free else self._POLL_S
            await asyncio.sleep(max(wait, 0.001))

    def leave(self, host: str) -> None:
        with self._lock:
            self._in_flight[host] = max(0, self._in_flight.get(host, 0) - 1)

    def last_starts(self) -> dict[str, float]:
        """When each host last saw a request start, as wall-clock (`time.time()`) seconds: handed to
        the process that fetches from the host next (another Dask worker), so it keeps the gap."""
        offset = time.time() - time.monotonic()
        with self._lock:
            return {host: t + offset for host, t in self._last_start.items()}

    def prime(self, starts: dict[str, float]) -> None:
        """Take over another process's `last_starts` (wall clock); a later start known here wins."""
        offset = time.time() - time.monotonic()
        with self._lock:
            for host, t in starts.items():
                self._last_start[host] = max(self._last_start.get(host, -1e9), t - offset)

    @contextlib.asynccontextmanager
    async def turn(self, host: str, settings: FetchSettings) -> AsyncIterator[None]:
        await self.enter(host, settings)
        try:
            yield
        finally:
            self.leave(host)


HOSTS: Final = HostGate()


def host_key(url: str) -> str:
    """The name `HOSTS` gates a URL under: its lower-cased host[:port]."""
    return urlsplit(url).netloc.lower()


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
    """Exponential backoff with jitter, capped; never shorter than the server's Retry-After."""
    backoff = min(settings.backoff_max_s, settings.backoff_base_s * (2 ** attempt) * random.uniform(0.5, 1.5))
    return max(backoff, retry_after or 0.0)


async def _get_once(client: httpx.AsyncClient, req: FetchRequest, settings: FetchSettings, result: FetchResult
                    ) -> tuple[bool, float | None]:
    """One attempt; returns (retryable failure?, Retry-After seconds)."""
    headers = {}
    if req.etag:
        headers["If-None-Match"] = req.etag
    if req.last_modified:
        headers["If-Modified-Since"] = req.last_modified
    url = req.url
    history: list[str] = []
    for _hop in range(settings.max_redirects + 1):
        refused = await destination_refused(url, settings)
        if refused:
            result.error = refused
            return False, None
        async with client.stream("GET", url, headers=headers) as response:
            location = response.headers.get("location")
            if response.status_code in _REDIRECTS and location:
                history.append(url)
                url = urljoin(url, location)
                continue
            result.history = history
            return await _answer(response, req, settings, result)
    result.error = f"more than {settings.max_redirects} redirects"
    return False, None


_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})


async def destination_refused(url: str, settings: FetchSettings) -> str | None:
    """Why a URL may not be fetched (a non-http(s) scheme, a loopback or private address), or None.

    Every hop of a redirect chain is checked before it is requested: a public page that
    redirects to 127.0.0.1 or 10.0.0.1 would otherwise make the crawler fetch (and store) an
    internal service's answer. The host is resolved here; an address that is not global
    (loopback, private, link-local, reserved, multicast, unspecified) is refused unless
    `settings.allow_private_networks`.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"a non-http(s) URL refused: {url[:200]}"
    if settings.allow_private_networks:
        return None
    host = parts.hostname or ""
    try:
        literal = ipaddress.ip_address(host)
        addresses = [literal]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, parts.port or 80, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            return None  # the request itself will report that the name does not resolve
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for address in addresses:
        if not address.is_global or address.is_multicast:
            return (f"{host} resolves to {address}, a loopback/private/reserved address: refused "
                    f"(set allow_private_networks to fetch from internal hosts)")
    return None


async def _answer(response: httpx.Response, req: FetchRequest, settings: FetchSettings, result: FetchResult
                  ) -> tuple[bool, float | None]:
    """Read the final (non-redirect) response into `result`: status, conditional hit, capped body."""
    result.status = response.status_code
    result.final_url = str(response.url)
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


async def _fetch_one(client: httpx.AsyncClient, req: FetchRequest, settings: FetchSettings) -> FetchResult:
    result = FetchResult(url=req.url)
    host = host_key(req.url)
    started = time.monotonic()
    for attempt in range(settings.retries + 1):
        result.attempts = attempt + 1
        retry_after = None
        async with HOSTS.turn(host, settings):
            try:
                async with asyncio.timeout(settings.request_deadline_s):
                    retryable, retry_after = await _get_once(client, req, settings, result)
            except TimeoutError:
                result.error = f"no complete answer within the {settings.request_deadline_s:g} s request deadline"
                result.body = None
                retryable = True
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
        if retry_after is not None and retry_after > settings.max_retry_after_s:
            result.error = (f"deferred: the server asks to retry after {retry_after:g} s, over the "
                            f"{settings.max_retry_after_s:g} s maximum; the next run fetches it")
            result.deferred = True
            return result
        delay = _delay(settings, attempt, retry_after)
        if time.monotonic() - started + delay > settings.document_deadline_s:
            result.error = f"{result.error}; gave up: the {settings.document_deadline_s:g} s document deadline"
            return result
        await asyncio.sleep(delay)
    return result


def _read_local(req: FetchRequest, settings: FetchSettings) -> FetchResult:
    """A catalogue's local path (the catalogue confines them to its folder); never a URL of another scheme."""
    result = FetchResult(url=req.url, final_url=req.url, attempts=1)
    if "://" in req.url or req.url.startswith(("file:", "ftp:", "data:", "javascript:")):
        result.error = f"a non-http(s) URL refused: {req.url[:200]}"
        return result
    path = Path(req.url)
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


@functools.cache
def _tls() -> ssl.SSLContext:
    """httpx's default TLS context (certifi's roots), made once: loading the roots for every batch's
    client was 3 % of the flow process's CPU in a national year."""
    return httpx.create_ssl_context()


async def fetch_all_async(requests: list[FetchRequest], settings: FetchSettings = DEFAULT_FETCH
                          ) -> list[FetchResult]:
    """Fetch every request (URLs concurrently within the limits, local paths from disk), in order."""
    limits = httpx.Limits(max_connections=settings.max_connections,
                          max_keepalive_connections=settings.max_connections)
    timeout = httpx.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s)
    async with httpx.AsyncClient(limits=limits, timeout=timeout, follow_redirects=False, verify=_tls(),
                                 headers={"User-Agent": settings.user_agent}) as client:
        async def one(req: FetchRequest) -> FetchResult:
            if is_url(req.url):
                return await _fetch_one(client, req, settings)
            return _read_local(req, settings)

        return list(await asyncio.gather(*(one(r) for r in requests)))


def fetch_all(requests: list[FetchRequest], settings: FetchSettings = DEFAULT_FETCH) -> list[FetchResult]:
    """Synchronous face of `fetch_all_async` (runs its own event loop)."""
    return asyncio.run(fetch_all_async(requests, settings))
