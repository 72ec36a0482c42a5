"""`xxgk extract`: the JSON contract of docs/contract.md §1, exit status 2 with one line for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flows.cli import main
from tests.conftest import ROOT, SAMPLES
from tests.fixtures import render
from tests.http_server import serve


def test_extract_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract", str(SAMPLES / "002_hequ_2020.txt"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"report", "table2", "table3", "table4", "checks", "warnings"}
    assert out["report"]["organ"] == "河曲县人民政府办公室" and out["report"]["year"] == 2020
    assert len(out["report"]["sha256"]) == 64
    assert len(out["table2"]) == 22 and len(out["table3"]) == 23 * 7 and len(out["table4"]) == 15
    cell = next(c for c in out["table3"] if c["row"] == "other_handling" and c["column"] == "total")
    assert cell["value"] is None and "blank" in cell["flags"] and cell["raw"] == ""
    assert set(out["table2"][0]) == {"block", "row", "column", "value", "unit", "raw", "flags"}
    assert set(out["table4"][0]) == {"column", "value", "raw", "flags"}
    failing = [c for c in out["checks"] if not c["passed"]]
    assert {(c["id"], c["scope"]) for c in failing} == {("S2", "total"), ("S3", "other_handling")}
    assert set(failing[0]) == {"id", "scope", "lhs", "rhs", "passed", "severity", "detail"}


def test_extract_from_a_url_with_gbk_bytes(capsys: pytest.CaptureFixture[str]) -> None:
    page = render.render_sh2019(render.shanghai_2019(), charset=None)
    routes = {"/2019.html": (200, {"Content-Type": "text/html; charset=GBK"}, page),
              "/gone.html": (404, {}, b"")}
    with serve(routes) as base:
        assert main(["extract", f"{base}/2019.html", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["report"]["source"] == f"{base}/2019.html"
        assert out["report"]["organ"] == "上海市人民政府办公厅"
        assert main(["extract", f"{base}/gone.html"]) == 2
        err = capsys.readouterr().err
        assert err.strip() == f"xxgk: {base}/gone.html: HTTP 404"


@pytest.mark.parametrize(("content", "reason"), [
    (render.LISTING_PAGE.encode(), "no statistical tables"),
    (render.LEGACY_2016.encode(), "pre-2019 report format"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "legacy Word .doc"),
    ("一、总体情况\n今年无。\n".encode(), "no statistical tables"),
])
def test_bad_input_exits_2_with_one_line(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "input.html"
    path.write_bytes(content)
    result = subprocess.run([sys.executable, "-m", "flows.cli", "extract", str(path), "--json"],
                            capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and reason in lines[0]


def test_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract", "no/such/report.html"]) == 2
    assert "no/such/report.html: cannot read" in capsys.readouterr().err


def test_summary_of_every_sample(capsys: pytest.CaptureFixture[str]) -> None:
    sources = sorted(str(p) for p in SAMPLES.iterdir() if p.suffix in (".txt", ".md", ".html"))
    assert main(["extract", *sources]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == len(sources)
    assert sum("FAILS" in line for line in out) == 1  # only seed 002


def test_pure_stages_import_without_prefect() -> None:
    """tasks/ is the domain: it must import (and extract) with Prefect and GX unavailable."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('prefect', 'great_expectations'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import tasks, tasks.extract.reader, tasks.validate.checks, tasks.normalise.values\n"
        "import tasks.validate.gate, tasks.validate.expected, tasks.runs, tasks.fetch.client, tasks.fetch.store\n"
        "import tasks.load.parquet, tasks.catalogue, tasks.extract.batch, expectations.schema\n"
        "r = tasks.read_source('data/samples/003_hulunbuir_2022.txt')\n"
        "assert r.meta.template == 'fmt_2021'\n"
        "assert 'prefect' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def _one_line_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    import time

    start = time.monotonic()
    assert main(argv) == 2
    assert time.monotonic() - start < 10
    err = capsys.readouterr().err.strip()
    assert err.startswith("xxgk: ") and "\n" not in err, err
    return err


def test_an_unwritable_data_dir_is_one_line_in_seconds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    err = _one_line_exit_2(["run", "--data-dir", str(not_a_dir)], capsys)
    assert str(not_a_dir) in err and "not writable" in err


@pytest.mark.parametrize(("content", "reason"), [
    ("organ,region,level,year,report_url,listing_url\n某县,,,2021,a.html,\n".encode("gbk"), "save it as UTF-8"),
    (b"\x00\x01\x02binary" * 10, "NUL bytes"),
    ("organ,region,level,year,report_url,listing_url\n某县,,,2021,a\x00.html,\n".encode(), "NUL"),
    ("organ,region,level,year,report_url,listing_url\n某县,,,2021,../../../../etc/hostname,\n".encode(),
     "inside the catalogue's folder"),
])
def test_a_bad_catalogue_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes,
                                     reason: str) -> None:
    catalogue = tmp_path / "cat.csv"
    catalogue.write_bytes(content)
    err = _one_line_exit_2(["run", "--catalogue", str(catalogue), "--data-dir", str(tmp_path / "out")], capsys)
    assert reason in err and str(catalogue) in err


def test_binary_input_says_it_is_not_a_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    elf = tmp_path / "a.out"
    elf.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 20)
    assert "not a document" in _one_line_exit_2(["extract", str(elf)], capsys)


@pytest.mark.parametrize(("argv", "reason"), [
    (["backfill", "--from", "2022", "--to", "2020"], "the years run backwards: 2022 to 2020"),
    (["run", "--year", "2012"], "reporting year 2012 is outside 2019–"),
    (["backfill", "--from", "2019", "--to", "2031"], "reporting year 2031 is outside"),
])
def test_parameters_are_checked_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                argv: list[str], reason: str) -> None:
    err = _one_line_exit_2([*argv, "--data-dir", str(tmp_path / "out")], capsys)
    assert reason in err
    assert not (tmp_path / "out").exists()  # refused before the data directory was even touched


def test_an_unknown_catalogue_column_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalogue = tmp_path / "cat.csv"
    catalogue.write_text("organ,region,level,year,repot_url,report_url,listing_url\n", encoding="utf-8")
    err = _one_line_exit_2(["run", "--catalogue", str(catalogue), "--data-dir", str(tmp_path / "out")], capsys)
    assert "unknown column(s) ['repot_url']" in err


def test_a_refused_publish_is_one_line_without_a_traceback(tmp_path: Path) -> None:
    """A real run on Prefect's embedded API, refused by the quarantine rate (1 of 4 reports in 2020)."""
    env = {**__import__("os").environ, "PREFECT_HOME": str(tmp_path / "home"),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    result = subprocess.run([sys.executable, "-m", "flows.cli", "run", "--year", "2020", "--data-dir",
                             str(tmp_path / "out"), "--max-quarantine-rate", "0.1", "--min-reports-for-rate", "1"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "Encountered exception" not in result.stderr, result.stderr
    ours = [line for line in result.stderr.splitlines() if line.startswith("xxgk: ")]
    assert ours == ["xxgk: 2020: 25% of the reports would be quarantined (threshold 10%); the extractor is "
                    "probably broken: nothing was published"]
    assert not (tmp_path / "out" / "curated").exists()


def test_extract_follows_a_pages_pdf_attachment_as_the_flows_do(capsys: pytest.CaptureFixture[str]) -> None:
    wrapper = ("<html><meta charset='utf-8'><body><p>洪泽区2024年政府信息公开工作年度报告</p>"
               "<a href='/files/report.pdf'>洪泽区2024年政府信息公开工作年度报告.pdf</a></body></html>").encode()
    routes = {"/page.html": (200, {"Content-Type": "text/html"}, wrapper),
              "/files/report.pdf": (200, {"Content-Type": "application/pdf"},
                                    (SAMPLES / "022_hongze_2024.pdf").read_bytes())}
    with serve(routes) as base:
        assert main(["extract", f"{base}/page.html", "--json"]) == 0
        captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["report"]["source"] == f"{base}/page.html"  # the page's identity, the attachment's tables
    assert out["report"]["template"] == "fmt_2021" and out["report"]["year"] == 2024
    assert f"reading its attachment {base}/files/report.pdf" in captured.err


def test_version_and_completion(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"xxgk {version('xxgk')}"
    # what `xxgk --install-completion` wires into the shell: completion of commands and options
    for words, cword, want in (("xxgk ba", "1", "backfill"), ("xxgk run --fetch", "2", "--fetch-option")):
        env = {**__import__("os").environ, "_XXGK_COMPLETE": "complete_bash", "COMP_WORDS": words,
               "COMP_CWORD": cword}
        done = subprocess.run([sys.executable, "-m", "flows.cli"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0 and done.stdout.split() == [want], (done.stdout, done.stderr)


@pytest.mark.parametrize(("option", "reason"), [
    ("per_host_connections=2.7", "fetch option per_host_connections: '2.7' is not a whole number"),
    ("per_host_interval_s=-1", "fetch option per_host_interval_s: '-1' is not a number ≥ 0"),
    ("retries=three", "fetch option retries: 'three' is not a number"),
    ("retries", "--fetch-option 'retries' is not KEY=VALUE"),
    ("max_conections=4", "unknown fetch option(s) ['max_conections']"),
])
def test_fetch_options_are_refused_naming_the_option(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     option: str, reason: str) -> None:
    err = _one_line_exit_2(["run", "--fetch-option", option, "--data-dir", str(tmp_path / "out")], capsys)
    assert reason in err
    assert not (tmp_path / "out").exists()


def test_strict_exits_1_when_reports_were_quarantined_and_progress_is_plain_lines(tmp_path: Path) -> None:
    """A real run: 2020 publishes 3 reports and quarantines 河曲县 (S2, S3); --strict makes that exit 1."""
    env = {**__import__("os").environ, "PREFECT_HOME": str(tmp_path / "home"),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    result = subprocess.run([sys.executable, "-m", "flows.cli", "run", "--year", "2020", "--strict",
                             "--fetch-option", "per_host_interval_s=0", "--data-dir", str(tmp_path / "out")],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr
    progress = [line for line in result.stderr.splitlines() if line.startswith("progress 2020: ")]
    assert progress[0] == "progress 2020: discovered 4, fetched 0, extracted 0, failed 0, quarantined 0, published 0"
    assert progress[-1] == "progress 2020: discovered 4, fetched 4, extracted 4, failed 0, quarantined 1, published 3"
    assert result.stderr.strip().splitlines()[-1] == "xxgk: published, but 1 report(s) quarantined (--strict)"
    # not a terminal: every failure whole, on one line of its own
    (line,) = [x for x in result.stdout.splitlines() if "002_hequ_2020.txt" in x]
    assert line.startswith("2020 validate 002_hequ_2020.txt: S2[total]: 总计 column")
    assert line.endswith("S3[other_handling]: row other_handling: 总计 blank while 自然人 = 3")
    assert (tmp_path / "out" / "curated" / "reports" / "2020" / "part-0.parquet").is_file()


def test_the_failures_table_wraps_reasons_without_cutting_words() -> None:
    import io

    from rich.console import Console

    from flows.cli import failures_table

    reason = ("S5: administrative reconsideration total differs from the sum of its outcomes "
              "(maintained, corrected, other, pending) in the printed table")
    console = Console(file=io.StringIO(), width=70, record=True)
    console.print(failures_table([(2023, {"stage": "validate", "source": "021_hongze_2023.pdf", "reason": reason})]))
    text = console.export_text()
    cells = " ".join(line.split("│")[4].strip() for line in text.splitlines() if line.count("│") >= 5)
    assert cells.split() == reason.split()  # every word whole, in order, none cut or lost


def test_prefect_yaml_is_rendered_from_the_one_deployment_definition(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    from flows import deployments

    assert main(["deployments", "--check"]) == 0  # the committed prefect.yaml is the rendering
    committed = yaml.safe_load(deployments.PREFECT_YAML.read_text(encoding="utf-8"))
    assert [d["name"] for d in committed["deployments"]] == [s.name for s in deployments.DEPLOYMENTS]
    assert committed["pull"] == [{"flows.deployments.enter_checkout": {}}]  # no environment variable to set
    served = [d.name for d in deployments.build_deployments()]
    assert served == ["latest-year-serve", "backfill-serve"]  # never the worker route's names
    stale = tmp_path / "prefect.yaml"
    stale.write_text(deployments.PREFECT_YAML.read_text(encoding="utf-8").replace("30 6", "0 7"), encoding="utf-8")
    monkeypatch.setattr(deployments, "PREFECT_YAML", stale)
    assert "differs from flows/deployments.py" in _one_line_exit_2(["deployments", "--check"], capsys)


def test_a_worker_without_a_checkout_is_told_so(tmp_path: Path) -> None:
    """The worker route's pull step, run from an installed copy that has no flows/ingest.py next to it."""
    import shutil

    (tmp_path / "flows").mkdir()
    shutil.copy(ROOT / "flows" / "deployments.py", tmp_path / "flows" / "deployments.py")
    (tmp_path / "flows" / "__init__.py").write_text("")
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from flows.deployments import enter_checkout\n"
            "try:\n    enter_checkout()\nexcept Exception as exc:\n    print(exc)")
    env = {**__import__("os").environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], env=env, capture_output=True, text=True,
                         check=True).stdout
    assert f"no xxgk checkout at {tmp_path} (flows/ingest.py is missing)" in out and "pip install -e" in out


def test_serve_without_a_reachable_server_is_one_line(capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: f"http://127.0.0.1:{port}/api"}):
        err = _one_line_exit_2(["serve"], capsys)
    assert f"the Prefect API at http://127.0.0.1:{port}/api is not reachable" in err


def test_audit_needs_something_published(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _one_line_exit_2(["audit", "--data-dir", str(tmp_path / "nothing")], capsys)
    assert "nothing published under" in err
