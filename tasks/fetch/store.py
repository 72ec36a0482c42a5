"""The raw store: fetched bytes, content-addressed, and a manifest entry per source.

    raw/objects/<sha256[:2]>/<sha256>       the bytes, written once however often they are fetched
    raw/manifest/<report_id>.json           the latest fetch of one source: url, final_url, status,
                                            etag, last_modified, sha256, content_type, fetched_at,
                                            error; plus the last *successful* fetch, so a document
                                            that fails today is still read from yesterday's bytes.

Memory between runs (ETag, Last-Modified, sha256) lives here, not in globals or Prefect state.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from tasks.errors import SourceError
from tasks.fetch.client import FetchRequest, FetchResult
from tasks.load.storage import DataDir
from tasks.normalise.frames import report_id


@dataclass(slots=True)
class ManifestEntry:
    url: str
    final_url: str | None
    status: int | None
    etag: str | None
    last_modified: str | None
    sha256: str | None  # of the latest good bytes
    content_type: str | None
    fetched_at: str  # ISO UTC of this attempt
    error: str | None
    changed: bool  # bytes differ from the previous good fetch
    good_fetched_at: str | None  # when the bytes under sha256 were fetched


class RawStore:
    def __init__(self, data_dir: DataDir) -> None:
        self.data_dir = data_dir

    def object_path(self, sha256: str) -> str:
        return self.data_dir.path("raw", "objects", sha256[:2], sha256)

    def manifest_path(self, url: str) -> str:
        return self.data_dir.path("raw", "manifest", f"{report_id(url)}.json")

    def entry(self, url: str) -> ManifestEntry | None:
        """The manifest entry of a source; None when there is none or it is torn (then fetched afresh)."""
        raw = self.data_dir.read_json_or_none(self.manifest_path(url))
        if not isinstance(raw, dict):
            return None
        try:
            return ManifestEntry(**raw)
        except TypeError:
            return None

    def request(self, url: str) -> FetchRequest:
        """A conditional request when the source was fetched before and its bytes are intact."""
        prev = self.entry(url)
        if prev is None or prev.sha256 is None or not self.intact(prev.sha256):
            return FetchRequest(url)
        return FetchRequest(url, etag=prev.etag, last_modified=prev.last_modified)

    def intact(self, sha256: str) -> bool:
        """Whether the stored object exists and still hashes to its name."""
        try:
            return hashlib.sha256(self.data_dir.read_bytes(self.object_path(sha256))).hexdigest() == sha256
        except OSError:
            return False

    def read(self, sha256: str) -> bytes:
        """The stored bytes, verified against their hash (a torn object is an error, never read)."""
        try:
            data = self.data_dir.read_bytes(self.object_path(sha256))
        except OSError as exc:
            raise SourceError(f"raw object {sha256[:12]}… is missing ({exc}); the next run fetches it again") from exc
        if hashlib.sha256(data).hexdigest() != sha256:
            raise SourceError(f"raw object {sha256[:12]}… is torn ({len(data)} bytes do not hash to its name); "
                              f"the next run fetches it again")
        return data

    def put(self, data: bytes) -> str:
        """Store bytes made here (a page with its images inline) by their hash; returns the hash."""
        digest = hashlib.sha256(data).hexdigest()
        if not self.intact(digest):
            self.data_dir.write_bytes(self.object_path(digest), data, durable=False)  # verified when read
        return digest

    def record(self, result: FetchResult) -> ManifestEntry:
        """Store the bytes (if any) and the manifest entry; failures keep the last good bytes."""
        prev = self.entry(result.url)
        now = datetime.now(UTC).isoformat()
        sha, content_type, changed = (prev.sha256, prev.content_type, False) if prev else (None, None, False)
        good_at = prev.good_fetched_at if prev else None
        etag, last_modified = (prev.etag, prev.last_modified) if prev else (None, None)
        if result.body is not None and result.error is None:
            digest = self.put(result.body)
            changed = digest != sha
            sha, content_type, good_at = digest, result.content_type, now
            etag, last_modified = result.etag, result.last_modified
        entry = ManifestEntry(
            url=result.url, final_url=result.final_url, status=result.status, etag=etag,
            last_modified=last_modified, sha256=sha, content_type=content_type, fetched_at=now,
            error=result.error, changed=changed, good_fetched_at=good_at,
        )
        # not fsynced: a manifest torn by a crash reads as none, and the source is fetched afresh
        self.data_dir.write_json(self.manifest_path(result.url), asdict(entry), durable=False)
        return entry

    def entries(self) -> list[dict[str, Any]]:
        out = [self.data_dir.read_json_or_none(p) for p in self.data_dir.listdir(self.data_dir.path("raw", "manifest"))]
        return [e for e in out if isinstance(e, dict)]
