"""The fetcher against a server that misbehaves in every way (issue 9 §4, §5): no hang, no blow-up,
nothing fetched that should not be, every document with an outcome."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tasks.catalogue import load_catalogue
from tasks.errors import CatalogueError
from tasks.extract.decode import decode_text
from tasks.fetch.client import FetchRequest, destination_refused, fetch_all
from tasks.fetch.discover import find_attachments, parse_listing
from tasks.settings import FetchSettings
from tests.conftest import SAMPLES
from tests.misbehaving_server import PATHS, Behaviours, misbehaving

HOSTILE = FetchSettings(per_host_interval_s=0.0, per_host_connections=8, backoff_base_s=0.05, backoff_max_s=1.0,
                        read_timeout_s=3.0, connect_timeout_s=1.0, retries=2, max_body_bytes=200_000,
                        request_deadline_s=2.0, document_deadline_s=6.0, max_retry_after_s=5.0,
                        allow_private_networks=True)


@pytest.fixture(scope="module")
def page() -> bytes:
    return (SAMPLES / "012_hangzhou_2021.html").read_bytes()


def test_every_misbehaviour_ends_with_an_outcome_in_bounded_time(page: bytes) -> None:
    behaviours = Behaviours(page, page_gbk=(SAMPLES / "010_shanghai_2019_gbk.html").read_bytes())
    with misbehaving(behaviours) as base:
        start = time.monotonic()
        results = {r.url.removeprefix(base): r for r in fetch_all([FetchRequest(base + p) for p in PATHS], HOSTILE)}
        elapsed = time.monotonic() - start
    assert elapsed < 20, elapsed  # the trickle alone would hold a run for minutes
    ok = {p for p, r in results.items() if r.ok}
    # a Content-Length shorter than the body is indistinguishable from a short page: 200 bytes arrive,
    # and the reader's completeness check keeps such a report out of curated/ (test_hostile_sites.py)
    assert ok == {"/ok", "/503-twice", "/429-short", "/wrong-charset", "/short-length"}, \
        {p: r.error for p, r in results.items()}
    assert len(results["/short-length"].body or b"") == 200
    assert results["/503-twice"].attempts == 3 and results["/429-short"].attempts == 2
    assert results["/429-long"].deferred and results["/429-long"].attempts == 1
    assert "deadline" in (results["/trickle"].error or "")
    assert "redirects" in (results["/loop"].error or "")
    assert "non-http(s)" in (results["/to-file"].error or "") and results["/to-file"].body is None
    assert "non-http(s)" in (results["/to-ftp"].error or "")
    for path in ("/gzip-bomb", "/huge", "/huge-chunked"):
        assert "cap" in (results[path].error or ""), (path, results[path].error)
    for path in ("/reset", "/truncated"):
        assert results[path].error is not None and results[path].body is None, path


def test_ten_misbehaving_hosts_at_once_each_end_the_same_way(page: bytes) -> None:
    """Every misbehaviour on ten hosts (127.0.0.1 … 127.0.0.10) in one call: the hosts are served side by
    side, not one after another, and each host's documents end as they do on one host alone."""
    from contextlib import ExitStack

    behaviours = Behaviours(page, page_gbk=(SAMPLES / "010_shanghai_2019_gbk.html").read_bytes())
    with ExitStack() as stack:
        bases = [stack.enter_context(misbehaving(behaviours, f"127.0.0.{k}")) for k in range(1, 11)]
        start = time.monotonic()
        results = fetch_all([FetchRequest(b + p) for b in bases for p in PATHS], HOSTILE)
        elapsed = time.monotonic() - start
    assert len(results) == 10 * len(PATHS)
    outcome = {}
    for base in bases:
        mine = {r.url.removeprefix(base): (r.ok, bool(r.deferred), (r.error or "").split(":")[0][:20])
                for r in results if r.url.startswith(base + "/")}
        assert len(mine) == len(PATHS)
        outcome[base] = mine
    first = outcome[bases[0]]
    assert all(o == first for o in outcome.values())  # the same ending for every host
    assert {p for p, (ok, _, _) in first.items() if ok} == \
        {"/ok", "/503-twice", "/429-short", "/wrong-charset", "/short-length"}
    assert elapsed < 40, elapsed  # ten hosts in parallel: about one host's time, not ten


def test_a_wrong_http_charset_does_not_override_the_bytes() -> None:
    """`Content-Type: …; charset=iso-8859-1` over a GBK page with <meta charset=gb2312>: the bytes decide."""
    gbk = (SAMPLES / "010_shanghai_2019_gbk.html").read_bytes()
    text, encoding = decode_text(gbk, "text/html; charset=iso-8859-1")
    assert encoding == "gb18030" and "政府信息公开" in text


@pytest.mark.parametrize("url", ["http://127.0.0.1/x", "http://localhost/x", "http://10.1.2.3/x",
                                 "http://192.168.0.1/x", "http://169.254.169.254/latest/meta-data",
                                 "http://[::1]/x", "http://0.0.0.0/x", "file:///etc/hostname", "ftp://example.org/x"])
def test_internal_destinations_are_refused_by_default(url: str) -> None:
    default = FetchSettings(allow_private_networks=False)
    assert asyncio.run(destination_refused(url, default)) is not None
    if url.startswith("http"):
        assert asyncio.run(destination_refused(url, FetchSettings(allow_private_networks=True))) is None


def test_a_loopback_server_is_not_fetched_unless_allowed(page: bytes) -> None:
    with misbehaving(Behaviours(page)) as base:
        (refused,) = fetch_all([FetchRequest(base + "/ok")], FetchSettings(allow_private_networks=False))
        (allowed,) = fetch_all([FetchRequest(base + "/ok")], HOSTILE)
    assert refused.body is None and "loopback/private/reserved" in (refused.error or "")
    assert allowed.ok


def test_pages_cannot_point_the_crawler_at_local_files() -> None:
    html = ('<a href="file:///etc/passwd">2021年政府信息公开工作年度报告</a>'
            '<a href="ftp://x.org/r.html">2021年政府信息公开工作年度报告</a>'
            '<a href="/ok/2021.html">2021年政府信息公开工作年度报告</a>'
            '<a href="file:///srv/report.pdf">附件：2021年报告.pdf</a><a href="/a/report.pdf">附件：报告.pdf</a>')
    reports, _ = parse_listing(html, "http://gov.example.cn/list/")
    assert [r.url for r in reports] == ["http://gov.example.cn/ok/2021.html"]
    assert find_attachments(html, "http://gov.example.cn/r/") == ["http://gov.example.cn/a/report.pdf"]
    (local,) = fetch_all([FetchRequest("file:///etc/hostname")], HOSTILE)
    assert local.body is None and "non-http(s)" in (local.error or "")


@pytest.mark.parametrize("path", ["../../../../etc/hostname", "/etc/hostname", "file:///etc/hostname"])
def test_catalogue_paths_stay_inside_the_catalogue_folder(tmp_path: Path, path: str) -> None:
    csv = tmp_path / "cat.csv"
    csv.write_text(f"organ,region,level,year,report_url,listing_url\n某局,,,2021,{path},\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="line 2, column report_url"):
        load_catalogue(csv)
