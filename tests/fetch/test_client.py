"""The fetcher against a real HTTP server on 127.0.0.1: retries, 304s, redirects, caps, charsets."""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler

from tasks.extract.decode import decode_text
from tasks.fetch.client import FetchRequest, fetch_all
from tasks.fetch.discover import discover, parse_listing
from tasks.fetch.store import RawStore
from tasks.load.storage import DataDir
from tasks.settings import FetchSettings
from tests.fixtures import render
from tests.http_server import serve

FAST = FetchSettings(per_host_interval_s=0.0, backoff_base_s=0.05, backoff_max_s=2.0, read_timeout_s=0.5,
                     connect_timeout_s=1.0, retries=3, max_body_bytes=200_000)


class Flaky:
    """503 (with Retry-After) `failures` times, then 200."""

    def __init__(self, failures: int, body: bytes) -> None:
        self.failures, self.body, self.calls = failures, body, 0

    def __call__(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        self.calls += 1
        if self.calls <= self.failures:
            return 503, {"Retry-After": "0"}, b"busy"
        return 200, {"Content-Type": "text/html; charset=utf-8"}, self.body


class Counting:
    def __init__(self, status: int) -> None:
        self.status, self.calls = status, 0

    def __call__(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        self.calls += 1
        return self.status, {}, b"no"


def slow(handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
    time.sleep(1.5)
    return 200, {}, b"late"


def etagged(handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
    if handler.headers.get("If-None-Match") == '"v1"':
        return 304, {"ETag": '"v1"'}, b""
    return 200, {"ETag": '"v1"', "Last-Modified": "Mon, 20 Jan 2025 08:00:00 GMT",
                 "Content-Type": "text/html; charset=utf-8"}, b"<html>v1</html>"


def test_retries_503_then_succeeds_and_honours_retry_after() -> None:
    flaky = Flaky(2, b"<html>ok</html>")
    with serve({"/flaky": flaky}) as base:
        (r,) = fetch_all([FetchRequest(f"{base}/flaky")], FAST)
    assert r.ok and r.status == 200 and r.body == b"<html>ok</html>"
    assert r.attempts == 3 and flaky.calls == 3


def test_gives_up_after_the_retry_budget_with_the_reason() -> None:
    flaky = Flaky(10, b"")
    with serve({"/down": flaky}) as base:
        (r,) = fetch_all([FetchRequest(f"{base}/down")], FAST)
    assert not r.ok and r.error == "HTTP 503" and flaky.calls == FAST.retries + 1


def test_4xx_is_not_retried() -> None:
    gone = Counting(404)
    with serve({"/gone": gone}) as base:
        (r,) = fetch_all([FetchRequest(f"{base}/gone")], FAST)
    assert r.error == "HTTP 404" and gone.calls == 1 and r.attempts == 1


def test_timeout_is_retried_then_reported() -> None:
    settings = FetchSettings(per_host_interval_s=0, backoff_base_s=0.01, read_timeout_s=0.3, retries=1)
    with serve({"/slow": slow}) as base:
        (r,) = fetch_all([FetchRequest(f"{base}/slow")], settings)
    assert not r.ok and r.error is not None and r.error.startswith("timeout") and r.attempts == 2


def test_etag_answers_304_and_the_store_keeps_the_bytes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = RawStore(DataDir(str(tmp_path)))
    with serve({"/r.html": etagged}) as base:
        url = f"{base}/r.html"
        (first,) = fetch_all([store.request(url)], FAST)
        e1 = store.record(first)
        req = store.request(url)
        assert req.etag == '"v1"' and req.last_modified == "Mon, 20 Jan 2025 08:00:00 GMT"
        (second,) = fetch_all([req], FAST)
        e2 = store.record(second)
    assert first.status == 200 and e1.changed
    assert second.status == 304 and second.not_modified and second.body is None
    assert e2.sha256 == e1.sha256 and not e2.changed and e2.error is None
    assert store.read(e2.sha256) == b"<html>v1</html>"


def test_failed_fetch_is_recorded_and_keeps_the_last_good_bytes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = RawStore(DataDir(str(tmp_path)))
    state = {"up": True}

    def sometimes(handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        return (200, {}, b"<html>good</html>") if state["up"] else (500, {}, b"")

    with serve({"/p": sometimes}) as base:
        good = store.record(fetch_all([FetchRequest(f"{base}/p")], FAST)[0])
        state["up"] = False
        bad = store.record(fetch_all([FetchRequest(f"{base}/p")], FAST)[0])
    assert bad.error == "HTTP 500" and bad.sha256 == good.sha256
    assert store.entry(f"{base}/p").error == "HTTP 500"  # type: ignore[union-attr]


def test_redirects_are_followed_to_http_only() -> None:
    routes = {"/old": (301, {"Location": "/new"}, b""), "/new": (200, {}, b"<html>new</html>"),
              "/ftp": (302, {"Location": "ftp://example.org/report.pdf"}, b"")}
    with serve(routes) as base:
        moved, ftp = fetch_all([FetchRequest(f"{base}/old"), FetchRequest(f"{base}/ftp")], FAST)
    assert moved.ok and moved.final_url == f"{base}/new" and moved.history == [f"{base}/old"]
    assert not ftp.ok and "non-http(s)" in (ftp.error or "")


def test_oversized_body_is_refused() -> None:
    big = b"x" * 300_000
    routes = {"/big": (200, {}, big)}
    with serve(routes) as base:
        (r,) = fetch_all([FetchRequest(f"{base}/big")], FAST)
    assert not r.ok and r.body is None and "cap" in (r.error or "")


def test_gbk_and_utf8_pages_decode() -> None:
    gbk = render.render_sh2019(render.shanghai_2019(), charset=None)
    utf8 = render.render_hz2021(render.hangzhou_2021())
    routes = {"/gbk": (200, {"Content-Type": "text/html"}, gbk),
              "/gbk-declared": (200, {"Content-Type": "text/html; charset=GBK"}, gbk),
              "/utf8": (200, {"Content-Type": "text/html; charset=utf-8"}, utf8)}
    with serve(routes) as base:
        results = fetch_all([FetchRequest(f"{base}{p}") for p in routes], FAST)
    texts = [decode_text(r.body or b"", r.content_type)[0] for r in results]
    assert all("上海市人民政府办公厅" in t for t in texts[:2])
    assert "杭州市西湖区人民政府" in texts[2]


def test_per_host_rate_limit_spaces_requests() -> None:
    routes = {f"/{i}": (200, {}, b"ok") for i in range(4)}
    settings = FetchSettings(per_host_interval_s=0.2, per_host_connections=2)
    with serve(routes) as base:
        start = time.monotonic()
        results = fetch_all([FetchRequest(f"{base}/{i}") for i in range(4)], settings)
        elapsed = time.monotonic() - start
    assert all(r.ok for r in results)
    assert elapsed >= 0.6  # three gaps of 0.2 s between four requests to one host


def listing_page(n: int, links: list[tuple[str, str]], next_href: str | None) -> bytes:
    items = "".join(f'<li><a href="{h}">{t}</a></li>' for h, t in links)
    nxt = f'<a href="{next_href}">下一页</a>' if next_href else ""
    return (f"<html><head><meta charset='gbk'></head><body><ul>{items}</ul>"
            f"<div>第{n}页 {nxt} <a href='/list/index.html'>首页</a></div></body></html>").encode("gb18030")


def test_discovery_follows_pagination_and_picks_report_links() -> None:
    page1 = listing_page(1, [("/a/2023.html", "某区2023年政府信息公开工作年度报告"),
                             ("/a/notice.html", "关于开展政务公开培训的通知"),
                             ("/a/2022.html", "某区2022年度政府信息公开年报")], "/list/index_1.html")
    page2 = listing_page(2, [("/a/2021.html", "某区政府信息公开工作年度报告（2021）"),
                             ("/a/2023.html", "某区2023年政府信息公开工作年度报告")], None)
    routes = {"/list/index.html": (200, {}, page1), "/list/index_1.html": (200, {}, page2)}
    with serve(routes) as base:
        found, errors = discover(f"{base}/list/index.html", FAST)
    assert not errors
    assert sorted((r.year, r.url.removeprefix(base)) for r in found) == [
        (2021, "/a/2021.html"), (2022, "/a/2022.html"), (2023, "/a/2023.html")]


def test_parse_listing_ignores_other_hosts_pagination() -> None:
    html = '<a href="http://other.example/x">下一页</a><a href="2">2</a>'
    reports, pages = parse_listing(html, "http://site.example/list/index.html")
    assert reports == [] and pages == ["http://site.example/list/2"]


def test_local_paths_are_sources(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "r.txt"
    p.write_bytes("一、总体情况".encode())
    ok, missing = fetch_all([FetchRequest(str(p)), FetchRequest(str(tmp_path / "none.txt"))], FAST)
    assert ok.ok and ok.body == "一、总体情况".encode()
    assert not missing.ok and "cannot read" in (missing.error or "")


def test_find_attachments_prefers_the_report() -> None:
    from tasks.fetch.discover import find_attachments

    html = ("<a href='/f/guide.pdf'>办事指南</a><a href='files/rep.docx?x=1'>2023年政府信息公开工作年度报告</a>"
            "<a href='/a.html'>页面</a>")
    assert find_attachments(html, "http://s.example/art/1.html") == [
        "http://s.example/art/files/rep.docx?x=1", "http://s.example/f/guide.pdf"]


def test_fetch_options_are_validated_not_coerced() -> None:
    import pytest

    from tasks.errors import SettingsError
    from tasks.settings import fetch_settings

    ok = fetch_settings({"max_connections": 8, "per_host_interval_s": "2.5", "allow_private_networks": "false"})
    assert (ok.max_connections, ok.per_host_interval_s, ok.allow_private_networks) == (8, 2.5, False)
    for options, named in [({"max_connections": 2.7}, "max_connections"), ({"per_host_interval_s": -1},
                           "per_host_interval_s"), ({"retries": "three"}, "retries"), ({"retries": True}, "retries"),
                           ({"allow_private_networks": "maybe"}, "allow_private_networks"), ({"speed": 1}, "speed")]:
        with pytest.raises(SettingsError, match=named):
            fetch_settings(options)
