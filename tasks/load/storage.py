"""The data directory as a pyarrow filesystem: a local path, `file://…`, or any fsspec URL (s3://, memory://).

Every path the pipeline writes is built here (`DataDir.path`), so the layout of outputs.md §2 has
one home:  raw/ · curated/<dataset>/year=YYYY/ · quarantine/<dataset>/year=YYYY/ · docs/ ·
_staging/<run>/ (outside every published root: DuckDB and Polars would read stray files inside it).
"""

from __future__ import annotations

import json
import os
from typing import Any

import pyarrow.fs as pafs


def resolve_filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    """(filesystem, root path inside it) for a data directory URI."""
    if "://" not in uri or uri.startswith("file://"):
        local = uri.removeprefix("file://")
        return pafs.LocalFileSystem(), os.path.abspath(local)
    import fsspec

    protocol, _, rest = uri.partition("://")
    fs = fsspec.filesystem(protocol)
    return pafs.PyFileSystem(pafs.FSSpecHandler(fs)), rest.rstrip("/") or "/"


class DataDir:
    """Paths and small-file I/O in one data directory."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.fs, self.root = resolve_filesystem(uri)
        self.is_local = isinstance(self.fs, pafs.LocalFileSystem)

    def path(self, *parts: str) -> str:
        return "/".join([self.root.rstrip("/"), *parts]) if self.root != "/" else "/" + "/".join(parts)

    def partition(self, zone: str, dataset: str, year: int) -> str:
        return self.path(zone, dataset, f"year={year}")

    def exists(self, path: str) -> bool:
        return self.fs.get_file_info(path).type != pafs.FileType.NotFound

    def makedirs(self, path: str) -> None:
        self.fs.create_dir(path, recursive=True)

    def write_bytes(self, path: str, data: bytes) -> None:
        self.makedirs(path.rsplit("/", 1)[0])
        with self.fs.open_output_stream(path) as out:
            out.write(data)

    def read_bytes(self, path: str) -> bytes:
        with self.fs.open_input_stream(path) as stream:
            return stream.read()

    def write_json(self, path: str, obj: Any) -> None:
        self.write_bytes(path, json.dumps(obj, ensure_ascii=False, indent=1, default=str).encode("utf-8"))

    def read_json(self, path: str) -> Any:
        return json.loads(self.read_bytes(path))

    def listdir(self, path: str) -> list[str]:
        if not self.exists(path):
            return []
        return sorted(i.path for i in self.fs.get_file_info(pafs.FileSelector(path, recursive=False)))

    def delete_dir(self, path: str) -> None:
        if self.exists(path):
            self.fs.delete_dir(path)

    def move(self, src: str, dst: str) -> None:
        """Rename; atomic on a local filesystem (rename(2) replaces the target in one step)."""
        self.makedirs(dst.rsplit("/", 1)[0])
        if self.is_local:
            os.replace(src, dst)
        else:  # object stores have no rename: copy then delete (documented: not atomic)
            self.fs.move(src, dst)
