"""The data directory as a pyarrow filesystem: a local path, `file://…`, or any fsspec URL (s3://, memory://).

Every path the pipeline writes is built here (`DataDir.path`), so the layout of docs/contract.md §2 has
one home:  raw/ · curated/<dataset>/YYYY/ · quarantine/<dataset>/YYYY/ · docs/ ·
_staging/<run>/ (outside every published root: DuckDB and Polars would read stray files inside it).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import uuid
from typing import Any

import pyarrow.fs as pafs

from tasks.errors import SettingsError, XxgkError
from tasks.schemas import PART_FILE, partition_dir

# Object stores whose fsspec driver the package offers as an extra (pyproject.toml).
_EXTRAS = {"s3": "s3", "s3a": "s3"}


def resolve_filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    """(filesystem, root path inside it) for a data directory URI."""
    if "://" not in uri or uri.startswith("file://"):
        local = uri.removeprefix("file://")
        return pafs.LocalFileSystem(), os.path.abspath(local)
    import fsspec

    protocol, _, rest = uri.partition("://")
    try:
        fs = fsspec.filesystem(protocol)
    except ImportError as exc:  # fsspec knows the protocol but its driver is not installed
        extra = _EXTRAS.get(protocol)
        hint = f"pip install 'xxgk[{extra}]'" if extra else f"install the fsspec driver for {protocol}://"
        raise SettingsError(f"the data directory {uri} needs a driver that is not installed: {hint} ({exc})") from exc
    except ValueError as exc:  # an unknown protocol
        raise SettingsError(f"the data directory {uri}: {exc}") from exc
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
        return self.path(zone, dataset, partition_dir(year))

    def published_file(self, zone: str, dataset: str, year: int) -> str:
        """Where one year of one dataset of one zone is published: `<zone>/<dataset>/<YYYY>/part-0.parquet`."""
        return self.path(zone, dataset, partition_dir(year), PART_FILE)

    def exists(self, path: str) -> bool:
        return self.fs.get_file_info(path).type != pafs.FileType.NotFound

    def makedirs(self, path: str) -> None:
        self.fs.create_dir(path, recursive=True)

    def write_bytes(self, path: str, data: bytes, durable: bool = True) -> None:
        """Write a whole file in one step: a reader or a crash sees the old file or the new, never half.

        Locally: a temporary file beside it, fsync, rename(2) over the target. On an object store a
        PUT is already all or nothing. `durable=False` skips the fsync, for files that verify
        themselves when read (the raw store's objects hash to their names, a torn manifest reads as
        none): after a power cut such a file may be empty, which its reader takes as never written.
        Two fsyncs a document were a tenth of a national year's fetch stage.
        """
        folder = path.rsplit("/", 1)[0]
        if not self.is_local:
            self.makedirs(folder)
            with self.fs.open_output_stream(path) as out:
                out.write(data)
            return
        tmp = f"{folder}/.{path.rsplit('/', 1)[-1]}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            try:
                f = open(tmp, "wb")
            except FileNotFoundError:  # the folder is made only when missing: not a stat walk per file
                self.makedirs(folder)
                f = open(tmp, "wb")
            with f:
                f.write(data)
                if durable:
                    f.flush()
                    os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def read_bytes(self, path: str) -> bytes:
        with self.fs.open_input_stream(path) as stream:
            return stream.read()

    def write_json(self, path: str, obj: Any, durable: bool = True) -> None:
        self.write_bytes(path, json.dumps(obj, ensure_ascii=False, indent=1, default=str).encode("utf-8"), durable)

    def read_json(self, path: str) -> Any:
        return json.loads(self.read_bytes(path))

    def read_json_or_none(self, path: str) -> Any | None:
        """A small JSON file, or None when it is missing or unreadable (torn by a crash, emptied)."""
        try:
            return json.loads(self.read_bytes(path))
        except (OSError, FileNotFoundError, ValueError):
            return None

    def lock(self, name: str, *, wait_s: float = 0.0) -> DataDirLock:
        """An exclusive lock on `name` in this data directory (see `DataDirLock`)."""
        return DataDirLock(self, name, wait_s=wait_s)

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


class LockHeld(XxgkError):
    """Another run holds the lock; the message names it."""


class DataDirLock:
    """An exclusive lock file `_locks/<name>.lock` in the data directory.

    Taken by creating the file exclusively (O_EXCL on a local disk; on an object store a PUT of a
    lock object after checking that none exists, which is best effort). A lock whose holder is a
    process that no longer runs on this host is stale and taken over. `wait_s` > 0 waits for the
    holder to finish; otherwise a held lock raises `LockHeld` at once.
    """

    def __init__(self, data_dir: DataDir, name: str, *, wait_s: float = 0.0) -> None:
        self.data_dir = data_dir
        self.path = data_dir.path("_locks", f"{name}.lock")
        self.wait_s = wait_s
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def _holder(self) -> str | None:
        try:
            return self.data_dir.read_bytes(self.path).decode("utf-8", "replace").strip() or "?"
        except OSError:
            return None

    def _stale(self, holder: str) -> bool:
        host, _, rest = holder.partition(":")
        pid = rest.partition(":")[0]
        if host != socket.gethostname() or not pid.isdigit():
            return False
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def _try(self) -> bool:
        self.data_dir.makedirs(self.path.rsplit("/", 1)[0])
        if self.data_dir.is_local:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(fd, "w") as f:
                f.write(self.token)
            return True
        if self.data_dir.exists(self.path):
            return False
        self.data_dir.write_bytes(self.path, self.token.encode())
        return self._holder() == self.token

    def __enter__(self) -> DataDirLock:
        deadline = time.monotonic() + self.wait_s
        while not self._try():
            holder = self._holder()
            if holder and self._stale(holder):
                with contextlib.suppress(OSError):
                    self.data_dir.fs.delete_file(self.path)
                continue
            if time.monotonic() >= deadline:
                raise LockHeld(f"{self.path} is held by {holder or 'another run'}: another run is publishing "
                               f"this year; wait for it to finish (or delete the lock file if that run is dead)")
            time.sleep(0.2)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._holder() == self.token:
            with contextlib.suppress(OSError):
                self.data_dir.fs.delete_file(self.path)
