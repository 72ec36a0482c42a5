"""One batch of documents through fetch → extract → normalise, its rows written as Parquet parts.

    run_batch(targets) ─▶ fetch (conditional requests) ─▶ parts cached for these bytes? ─▶ done
                                                       └▶ read in budgeted workers, E4, frames ─▶ parts
                       ─▶ pages that only wrap a PDF/Word attachment: the attachment, the same way,
                          merged into the batch's parts under the page's identity

A batch's parts are its rows of every dataset (docs/contract.md §2, with the provisional status of each
report) under `_cache/batches/year=YYYY/<key>/`, where `key` hashes the documents' content hashes,
their catalogue hints and the extractor's code. So a rerun whose documents are unchanged fetches
(conditionally) and reads one small JSON per batch: no extraction. The cache lives in the data
directory, not in one worker's `PREFECT_HOME`, so every worker of a cluster shares it.

What the flow keeps of a batch is its `BatchResult` (the parts' folder, counts, failures), never
its reports: memory does not grow with the year.
"""

from __future__ import annotations

import hashlib
import io
import os
import socket
from dataclasses import dataclass, field, replace
from typing import Any, Final

import polars as pl
import pyarrow.parquet as pq

from tasks import schemas
from tasks.catalogue import Target
from tasks.extract.batch import batch_key, extract_rows
from tasks.extract.budget import MAX_PROCESSES
from tasks.fetch.attachments import attachment_targets, embed_images, picture_wrappers
from tasks.fetch.client import HOSTS, fetch_all, host_key
from tasks.fetch.store import ManifestEntry, RawStore
from tasks.load.storage import DataDir
from tasks.normalise.frames import UnreadDocument, with_identity
from tasks.settings import DEFAULT_FETCH, FetchSettings

DONE: Final = "batch.json"  # written last: a folder without it is an interrupted write, redone


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What the flow keeps of one batch: where its parts are, and its counts and failures."""

    part: str  # folder holding <dataset>.parquet for every dataset
    fetched: int = 0
    unchanged: int = 0
    failed: int = 0
    extracted: int = 0  # reports read (before the gate)
    cached: bool = False  # the parts came from an earlier run: nothing was extracted
    failures: list[dict[str, str]] = field(default_factory=list)  # fetch and extract stages
    used: tuple[str, ...] = ()  # every cached folder this batch relies on (kept when the cache is pruned)
    host_starts: dict[str, float] = field(default_factory=dict)  # host → last request start (wall clock)


def batches_root(data_dir: DataDir, year: int) -> str:
    return data_dir.path("_cache", "batches", f"year={year}")


def part_path(part: str, dataset: str) -> str:
    return f"{part}/{dataset}.parquet"


def read_part(data_dir: DataDir, part: str, dataset: str) -> pl.DataFrame:
    """One dataset of one batch, in its declared schema.

    Read by Polars' own reader, not `pyarrow` then `pl.from_arrow`: twice as fast here, and a frame
    converted from Arrow keeps each string column's whole Arrow buffer under its string views, so
    any filtered slice of it holds the entire part. Polars' reader still shares the pages of long
    plain-encoded strings with a slice: staging compacts the slices it keeps (`tasks.year.zone_rows`).
    """
    frame = pl.read_parquet(io.BytesIO(data_dir.read_bytes(part_path(part, dataset))))
    return frame.cast(dict(schemas.DATASETS[dataset]))


def write_part_file(data_dir: DataDir, part: str, dataset: str, frame: pl.DataFrame, durable: bool = True) -> None:
    """One dataset of one part (`read_part` reads it back)."""
    buf = io.BytesIO()
    pq.write_table(frame.to_arrow(), buf, compression="zstd")
    data_dir.write_bytes(part_path(part, dataset), buf.getvalue(), durable)


def _write_part(data_dir: DataDir, part: str, frames: dict[str, pl.DataFrame], meta: dict[str, Any]) -> None:
    for dataset, frame in frames.items():
        write_part_file(data_dir, part, dataset, frame)
    data_dir.write_json(f"{part}/{DONE}", meta)


def _cached(data_dir: DataDir, part: str) -> dict[str, Any] | None:
    meta = data_dir.read_json_or_none(f"{part}/{DONE}")
    return meta if isinstance(meta, dict) and isinstance(meta.get("unread"), list) else None


def _unread_of(meta: dict[str, Any], year: int) -> list[UnreadDocument]:
    return [UnreadDocument(u["report_id"], year, u["organ"], u["source"], u.get("sha256"), None, u["error"])
            for u in meta["unread"]]


def _meta(read: int, unread: list[UnreadDocument]) -> dict[str, Any]:
    return {"extracted": read, "worker": f"{socket.gethostname()}:{os.getpid()}",
            "unread": [{"report_id": u.report_id, "organ": u.organ, "source": u.source, "sha256": u.sha256,
                        "error": u.error} for u in unread]}


def _extracted(items: list[tuple[Target, ManifestEntry | None]], data_dir: DataDir, year: int
               ) -> tuple[str, dict[str, Any], bool]:
    """(part folder, its meta, whether it was cached): the documents read, or their cached parts."""
    part = f"{batches_root(data_dir, year)}/{batch_key(items)}"
    meta = _cached(data_dir, part)
    if meta is not None:
        return part, meta, True
    frames, unread, read = extract_rows(items, RawStore(data_dir), workers=MAX_PROCESSES)
    frames = finish_frames(frames, [t for t, _ in items])
    meta = _meta(read, unread)
    _write_part(data_dir, part, frames, meta)
    return part, meta, False


def finish_frames(frames: dict[str, pl.DataFrame], targets: list[Target]) -> dict[str, pl.DataFrame]:
    """A batch's frames as its parts hold them: the reports with their catalogue identity."""
    return {**frames, "reports": with_identity(frames["reports"], targets)}


def _merge_attachments(data_dir: DataDir, year: int, page_part: str, att_part: str, att_meta: dict[str, Any]
                       ) -> tuple[str, dict[str, Any]]:
    """The page batch with every report read from an attachment in place of its wrapper page."""
    key = hashlib.sha256(f"{page_part}|{att_part}".encode()).hexdigest()[:32]
    part = f"{batches_root(data_dir, year)}/merged-{key}"
    meta = _cached(data_dir, part)
    if meta is not None:
        return part, meta
    att_errors = {u["report_id"]: u["error"] for u in att_meta["unread"]}
    att_reports = read_part(data_dir, att_part, "reports")
    done = att_reports.filter(pl.col("error").is_null())["report_id"].implode()
    frames: dict[str, pl.DataFrame] = {}
    for dataset in schemas.DATASETS:
        mine = read_part(data_dir, page_part, dataset).filter(~pl.col("report_id").is_in(done))
        theirs = read_part(data_dir, att_part, dataset).filter(pl.col("report_id").is_in(done))
        if dataset == "reports":
            note = pl.col("report_id").replace_strict(att_errors, default=None, return_dtype=pl.String)
            mine = mine.with_columns(pl.when(note.is_not_null())
                                     .then(pl.format("{}; attachment {}", pl.col("error"), note))
                                     .otherwise(pl.col("error")).alias("error"))
        frames[dataset] = pl.concat([mine, theirs])
    reports = frames["reports"]
    unread = [{"report_id": r["report_id"], "organ": r["organ"], "source": r["source"], "sha256": r["sha256"],
               "error": r["error"]} for r in reports.filter(pl.col("error").is_not_null()).iter_rows(named=True)]
    meta = {"extracted": reports.filter(pl.col("error").is_null()).height,
            "worker": f"{socket.gethostname()}:{os.getpid()}", "unread": unread}
    _write_part(data_dir, part, frames, meta)
    return part, meta


def run_batch(targets: list[Target], data_dir: DataDir, year: int, settings: FetchSettings = DEFAULT_FETCH,
              host_starts: dict[str, float] | None = None) -> BatchResult:
    """Fetch, read and normalise one batch; its rows go to its parts, the flow gets a `BatchResult`.

    `host_starts` are the last request starts of this batch's hosts in the batch before (perhaps
    on another machine): the gap a host is owed is kept across the hand-over.
    """
    HOSTS.prime(host_starts or {})
    store = RawStore(data_dir)
    entries = [store.record(r) for r in fetch_all([store.request(t.location) for t in targets], settings)]
    part, meta, cached = _extracted(list(zip(targets, entries, strict=True)), data_dir, year)
    used: tuple[str, ...] = (part,)
    attached = attachment_targets(targets, entries, _unread_of(meta, year), store)
    if attached:
        att_entries = [store.record(r) for r in fetch_all([store.request(t.location) for t in attached], settings)]
        att_part, att_meta, att_cached = _extracted(list(zip(attached, att_entries, strict=True)), data_dir, year)
        used += (att_part,)
        part, meta = _merge_attachments(data_dir, year, part, att_part, att_meta)
        cached = cached and att_cached
    pictured = picture_wrappers(targets, entries, _unread_of(meta, year), store, attached)
    if pictured:
        pic_part, pic_meta, pic_cached = _extracted(_with_pictures(pictured, store, settings), data_dir, year)
        used += (pic_part,)
        part, meta = _merge_attachments(data_dir, year, part, pic_part, pic_meta)
        cached = cached and pic_cached
    failures: list[dict[str, str]] = []
    for t, e in zip(targets, entries, strict=True):
        if e.error is not None:
            fallback = " (read from the last good bytes)" if e.sha256 else ""
            failures.append({"source": t.source, "stage": "fetch", "reason": e.error + fallback})
    touched = {host_key(u) for u in [*(t.location for t in [*targets, *attached]),
                                     *(u for _, _, urls in pictured for u in urls)]}
    starts = {h: t for h, t in HOSTS.last_starts().items() if h in touched}
    listed = {f["source"] for f in failures}
    failures += [{"source": u["source"], "stage": "extract", "reason": u["error"]}
                 for u in meta["unread"] if u["source"] not in listed]
    return BatchResult(
        part=part,
        fetched=sum(1 for e in entries if e.error is None and e.changed),
        unchanged=sum(1 for e in entries if e.error is None and not e.changed),
        failed=sum(1 for e in entries if e.error is not None),
        extracted=int(meta["extracted"]), cached=cached, failures=failures, used=(*used, part),
        host_starts=starts)


def _with_pictures(pictured: list[tuple[Target, ManifestEntry, list[str]]], store: RawStore,
                   settings: FetchSettings) -> list[tuple[Target, ManifestEntry | None]]:
    """Each picture wrapper as one document: its images fetched (politely, cached like any source)
    and put inline into the page, stored as a raw object of its own."""
    links = [u for _, _, urls in pictured for u in urls]
    fetched = {u: store.record(r) for u, r in zip(links, fetch_all([store.request(u) for u in links], settings),
                                                   strict=True)}
    out: list[tuple[Target, ManifestEntry | None]] = []
    for target, entry, urls in pictured:
        assert entry.sha256 is not None
        images = {u: store.read(e.sha256) for u in urls if (e := fetched[u]).sha256 is not None}
        page = embed_images(store.read(entry.sha256), entry.content_type, entry.final_url or target.location, images)
        out.append((target, replace(entry, sha256=store.put(page), content_type="text/html; charset=utf-8",
                                    changed=entry.changed or any(fetched[u].changed for u in urls))))
    return out


def prune_batches(data_dir: DataDir, year: int, keep: list[str]) -> int:
    """Remove the year's cached batches that the latest published run did not use; returns how many."""
    wanted = {k.rstrip("/") for k in keep}
    removed = 0
    for folder in data_dir.listdir(batches_root(data_dir, year)):
        if folder.rstrip("/") not in wanted:
            data_dir.delete_dir(folder)
            removed += 1
    return removed
