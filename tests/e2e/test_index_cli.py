"""The indexer as an operator meets it: generate, index, re-index, correct, and break things."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from indexer.model import Audience, RecordType, Status
from stores.base import Filters, Visibility
from stores.embedded import EmbeddedStore
from tests.conftest import DATA_FILES
from tests.e2e.cli import SCRIPT, run

pytestmark = pytest.mark.slow


def _reject_rows(report: Path) -> list[dict[str, str]]:
    with report.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _report_path(stdout: str) -> Path:
    line = next(ln for ln in stdout.splitlines() if ln.startswith("被拒绝的行已写入："))
    return Path(line.removeprefix("被拒绝的行已写入："))


def _totals(stdout: str) -> list[int]:
    """The summary's 合计 line: read, inserted, updated, unchanged, skipped, rejected."""
    line = next(ln for ln in stdout.splitlines() if ln.startswith("合计"))
    return [int(x) for x in line.split()[1:]]


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM records").fetchone()[0])
        except sqlite3.OperationalError:  # schema not created yet
            return 0


def _derived(data: Path) -> tuple[list[tuple[object, ...]], ...]:
    """What a load derives from the records: subject rows, autocomplete forms, the records' indexes."""
    with sqlite3.connect(data / "credit.sqlite3") as conn:
        return (conn.execute("SELECT * FROM subjects ORDER BY key").fetchall(),
                conn.execute("SELECT form, key FROM suggest ORDER BY form, key").fetchall(),
                conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records' "
                             "ORDER BY name").fetchall())


def test_index_generated_corpus_end_to_end(corpus: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    directory, manifest = corpus
    files = [directory / f for f in DATA_FILES]
    first = run("index", *files, "--data-dir", tmp_path)
    assert first.returncode == 3, first.stderr  # some rows rejected, the rest indexed
    planted = manifest["planted"]
    report = _report_path(first.stdout)
    rejects = _reject_rows(report)
    assert list(rejects[0]) == ["源文件", "行号", "字段", "值", "原因"]
    assert all(r["原因"] for r in rejects)
    rejected_rows = {(r["源文件"].split("#")[0], int(r["行号"])) for r in rejects}
    assert rejected_rows == {(f, n) for f, n in manifest["invalid_rows"]}

    store = EmbeddedStore(tmp_path, create=False)
    read = sum(f["rows"] for f in manifest["files"].values())
    assert read == manifest["records"]
    stored = read - len(rejected_rows) - planted["not_public"] - planted["duplicates"]
    assert store.count() == stored
    by_type = {t: store.count(t) for t in RecordType}
    assert all(by_type.values())
    assert _totals(first.stdout) == [read, stored, 0, planted["duplicates"], planted["not_public"],
                                     len(rejected_rows)]
    checksum = store.checksum()
    # The built-in encoder was trained on the load and every record became searchable by meaning.
    assert "已训练内置语义模型" in first.stdout
    assert f"可语义检索的记录 {stored} 条" in first.stdout
    store.close()

    second = run("index", *files, "--data-dir", tmp_path)
    assert second.returncode == 3
    assert _totals(second.stdout) == [read, 0, 0, stored + planted["duplicates"], planted["not_public"],
                                      len(rejected_rows)]
    assert "新编码 0 条文本" in second.stdout and "已训练" not in second.stdout  # vectors are cached by text
    store = EmbeddedStore(tmp_path, create=False)
    assert store.checksum() == checksum and store.count() == stored
    store.close()


def test_corrections_hide_records_from_the_public(corpus: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    directory, manifest = corpus
    assert run("index", directory / "penalty-utf8.csv", "--data-dir", tmp_path).returncode in (0, 3)
    result = run("withdraw", "--file", directory / "corrections.csv", "--data-dir", tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"已更正 {manifest['planted']['corrections']} 条记录" in result.stdout
    store = EmbeddedStore(tmp_path, create=False)
    everything = Visibility(None, frozenset(Audience), None)
    corrected = [h.record for h in store.search([], Filters(visibility=everything), limit=100000).hits
                 if h.record.status in (Status.REPAIRED, Status.WITHDRAWN)]
    assert len(corrected) == manifest["planted"]["corrections"]
    public = Visibility(frozenset({Status.ACTIVE}), frozenset({Audience.PUBLIC}), date(2026, 11, 1))
    shown = {h.record.id for h in store.search([], Filters(visibility=public), limit=100000).hits}
    assert not shown & {r.id for r in corrected}
    one = corrected[0].id
    store.close()
    assert run("repair", one, "--date", "2026-11-20", "--data-dir", tmp_path).returncode == 0
    store = EmbeddedStore(tmp_path, create=False)
    record = store.get(one)
    assert record is not None and record.status is Status.REPAIRED and record.status_date == date(2026, 11, 20)
    store.close()
    missing = run("withdraw", "cf-0000000000000000", "--data-dir", tmp_path)
    assert missing.returncode == 2 and "不存在" in missing.stderr


def test_unusable_input_exits_2_and_still_loads_the_rest(corpus: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    directory, _ = corpus
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "unknown.csv").write_text("姓名,年龄\n张三,30\n", encoding="utf-8")
    result = run("index", tmp_path / "missing.csv", tmp_path / "notes.pdf", tmp_path / "unknown.csv",
                 directory / "dishonest.json", "--data-dir", tmp_path / "data")
    assert result.returncode == 2
    assert "文件不存在" in result.stdout and "不支持的文件格式“.pdf”" in result.stdout
    assert "无法从表头识别记录类型" in result.stdout
    store = EmbeddedStore(tmp_path / "data", create=False)
    assert store.count(RecordType.DISHONEST) > 0
    store.close()
    bad_type = run("index", directory / "dishonest.json", "--type", "fines", "--data-dir", tmp_path / "data")
    assert bad_type.returncode == 2 and "--type 的值“fines”无效" in bad_type.stderr


def test_a_killed_load_completes_on_rerun(corpus: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    directory, _ = corpus
    files = [directory / f for f in DATA_FILES]
    clean = tmp_path / "clean"
    assert run("index", *files, "--data-dir", clean).returncode == 3
    reference = EmbeddedStore(clean, create=False)
    expected = (reference.count(), reference.checksum())
    reference.close()
    derived = _derived(clean)
    assert len(derived[0]) > 1000 and len(derived[1]) > len(derived[0]) and len(derived[2]) >= 3

    crashed = tmp_path / "crashed"
    process = subprocess.Popen([str(SCRIPT), "index", *map(str, files), "--data-dir", str(crashed)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    db = crashed / "credit.sqlite3"
    deadline = time.monotonic() + 120
    # Kill once some batches are committed but the load is not finished.
    while time.monotonic() < deadline and process.poll() is None:
        if _count(db) >= 1000:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the load finished before it could be killed; make the corpus larger"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    partial = EmbeddedStore(crashed, create=False)
    assert 0 < partial.count() < expected[0]
    partial.close()

    assert run("index", *files, "--data-dir", crashed).returncode == 3
    recovered = EmbeddedStore(crashed, create=False)
    assert (recovered.count(), recovered.checksum()) == expected
    recovered.close()
    assert _derived(crashed) == derived
    shutil.rmtree(crashed)


def _children(pid: int) -> set[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_analysis_workers_die_with_a_killed_load(corpus: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    directory, _ = corpus
    process = subprocess.Popen([str(SCRIPT), "index", *(str(directory / f) for f in DATA_FILES), "--workers", "2",
                                "--no-embed", "--data-dir", str(tmp_path / "data")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while time.monotonic() < deadline and process.poll() is None and len(workers) < 2:
        workers = _children(process.pid)
        time.sleep(0.02)
    assert process.poll() is None and len(workers) == 2, "the load ended before its workers could be seen"
    os.kill(process.pid, signal.SIGKILL)  # the load alone, as `kill -9 PID` does: not its process group
    process.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.05)
    assert not any(_alive(w) for w in workers)


def test_scale_out_store_without_its_address_says_so(corpus: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    cases = [((), {"CREDIT_SEARCH_STORE": "elasticsearch"}, "CREDIT_SEARCH_ES_URL"),
             (("--store", "elasticsearch"), {}, "CREDIT_SEARCH_ES_URL"),
             (("--store", "opensearch"), {}, "CREDIT_SEARCH_OPENSEARCH_URL"),
             (("--store", "solr"), {}, "未知的存储“solr”")]
    for args, env, said in cases:
        result = run("index", corpus[0] / "dishonest.json", *args, "--data-dir", tmp_path,
                     env={**env, "CREDIT_SEARCH_ES_URL": "", "CREDIT_SEARCH_OPENSEARCH_URL": ""})
        assert result.returncode == 2 and said in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    # An engine that does not answer (nothing listens on port 9): a Chinese message, no traceback.
    result = run("index", corpus[0] / "dishonest.json", "--store", "opensearch", "--data-dir", tmp_path,
                 env={"CREDIT_SEARCH_OPENSEARCH_URL": "http://127.0.0.1:9"})
    assert result.returncode == 2 and "存储不可用" in result.stderr and "Traceback" not in result.stderr, result.stderr
