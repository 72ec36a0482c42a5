"""The data directory on an object store: a real S3-compatible server (moto's server mode) on
127.0.0.1, started here; publish a year there, rerun it, read it back. And without the driver, a
clear message naming the extra to install."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tasks.errors import SettingsError
from tasks.load.parquet import read_dataset
from tasks.load.storage import DataDir
from tests.conftest import ROOT

pytestmark = pytest.mark.usefixtures("prefect_backend")
CATALOGUE = str(ROOT / "data" / "samples" / "catalogue.csv")


@pytest.fixture
def s3_bucket(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    for key, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}.items():
        monkeypatch.setenv(key, value)
    import fsspec

    fsspec.filesystem("s3", skip_instance_cache=True).mkdir("xxgk-test")
    try:
        yield "s3://xxgk-test/xxgk"
    finally:
        server.stop()


def test_publish_and_rerun_on_s3(s3_bucket: str) -> None:
    from flows.ingest import ingest

    first = ingest(year=2020, catalogue=CATALOGUE, data_dir=s3_bucket)
    dd = DataDir(s3_bucket)
    curated = read_dataset(dd, "curated", "reports")
    assert curated.height == first["counts"]["published"] == 3
    assert read_dataset(dd, "quarantine", "reports").height == 1
    assert read_dataset(dd, "curated", "requests").height > 0
    again = ingest(year=2020, catalogue=CATALOGUE, data_dir=s3_bucket)
    assert again["counts"]["unchanged"] == 4 and again["unchanged_since_publish"]
    assert read_dataset(dd, "curated", "reports").equals(curated)
    assert not dd.listdir(dd.path("_staging")) and not dd.exists(dd.path("_locks", "ingest-year=2020.lock"))


def test_a_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:

    def missing(protocol: str, **kwargs: object) -> object:
        raise ImportError("Install s3fs to access S3")

    import fsspec

    monkeypatch.setattr(fsspec, "filesystem", missing)  # as on a machine without s3fs
    with pytest.raises(SettingsError, match=r"pip install 'xxgk\[s3\]'"):
        DataDir("s3://bucket/xxgk")
