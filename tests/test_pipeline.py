"""The load pipeline: a corrupt byte rejects only its own row; the writer thread loses nothing and hides no error;
rows routed to workers by subject are stored in file order."""

import gc
import random
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

from indexer.analysis import AnalysedRecord
from indexer.generate import make_uscc
from indexer.pipeline import load
from stores.base import UpsertCounts
from stores.embedded import EmbeddedStore

HEADER = "行政相对人名称,行政处罚决定书文号,处罚决定日期,处罚机关\r\n"


@pytest.mark.parametrize("workers", [1, 2])
def test_rows_before_a_corrupt_byte_are_kept(tmp_path: Path, workers: int) -> None:
    good = 30000  # well past the 1 MiB that encoding detection samples, and several batches
    lines = [f"清远市恒达建筑工程有限公司,清市监罚〔2026〕{i}号,2026-05-01,清远市市场监督管理局\r\n"
             for i in range(good)]
    path = tmp_path / "gbk.csv"
    path.write_bytes((HEADER + "".join(lines)).encode("gbk") + b"\xff\xfe\xff\r\n" +
                     "清远市宏图商贸有限公司,清市监罚〔2026〕99999号,2026-05-01,清远市市场监督管理局\r\n".encode("gbk"))
    store = EmbeddedStore(tmp_path / "data")
    summary = load([path], store, reject_dir=tmp_path, workers=workers)
    assert summary.exit_code == 3 and summary.unusable == []
    assert store.count() == good + 1  # the row after the corrupt line loads too
    assert summary.reject_report is not None
    report = summary.reject_report.read_text(encoding="utf-8-sig").splitlines()
    assert report[1] == f"gbk.csv,{good + 2},,,该行含有无法按 gb18030 解码的字节"
    store.close()


def test_the_later_of_two_rows_of_one_record_wins_when_their_names_go_to_different_workers(tmp_path: Path) -> None:
    # Rows go to a worker by subject name; a record whose name is spelled two ways (same credit code, so the
    # same record id) has its two rows analysed by different workers, and the later row must still win.
    rng = random.Random(7)
    codes = [make_uscc(rng, "441802") for _ in range(200)]
    header = "行政相对人名称,统一社会信用代码,行政处罚决定书文号,处罚决定日期,处罚机关\r\n"
    first = [f"清远市恒达{i}建材有限公司,{code},清市监罚〔2026〕{i}号,2026-05-01,清远市市场监督管理局\r\n"
             for i, code in enumerate(codes)]
    later = [line.replace("清远市恒达", "清远恒达") for line in first]
    path = tmp_path / "penalties.csv"
    path.write_text(header + "".join(first[:100] + later[:100] + first[100:] + later[100:]), encoding="utf-8")
    store = EmbeddedStore(tmp_path / "data")
    summary = load([path], store, reject_dir=tmp_path, workers=2)
    assert summary.exit_code == 0 and store.count() == 200
    names = [name for (name,) in sqlite3.connect(store.path).execute("SELECT subject_name FROM records")]
    assert len(names) == 200 and all(name.startswith("清远恒达") for name in names)
    store.close()


def test_a_load_written_from_its_thread_is_whole_in_the_database_file_once_closed(tmp_path: Path) -> None:
    # The load writes from a thread of its own; close() must end that thread's connection too, or the
    # records stay in the write-ahead log and a copy of the database file alone (a backup) misses them.
    path = tmp_path / "penalties.csv"
    rows = (f"清远市恒达建筑工程有限公司,清市监罚〔2026〕{i}号,2026-05-01,清远市市场监督管理局\r\n"
            for i in range(25000))
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    store = EmbeddedStore(tmp_path / "data")
    assert load([path], store, reject_dir=tmp_path, workers=1).exit_code == 0
    store.close()
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "credit.sqlite3").write_bytes((tmp_path / "data" / "credit.sqlite3").read_bytes())
    assert EmbeddedStore(copy).count() == 25000
    assert store.count() == 25000  # a closed store opens a new connection when used again


class _FailingStore(EmbeddedStore):
    """Fails at the batch of a transaction that follows its first ``good``."""

    def __init__(self, data_dir: Path, good: int) -> None:
        super().__init__(data_dir)
        self.good = good

    def upsert_batches(self, batches: Iterable[Sequence[AnalysedRecord]]) -> UpsertCounts:
        for read, _ in enumerate(batches, start=1):
            if read > self.good:
                break
        raise sqlite3.OperationalError("database or disk is full")


@pytest.mark.parametrize("good", [0, 1])
def test_a_write_error_ends_the_load_instead_of_being_lost_in_the_writer_thread(tmp_path: Path, good: int) -> None:
    # 25,000 rows: the writer fails at its first or second batch while the main thread still has batches to hand it.
    path = tmp_path / "penalties.csv"
    rows = (f"清远市恒达建筑工程有限公司,清市监罚〔2026〕{i}号,2026-05-01,清远市市场监督管理局\r\n"
            for i in range(25000))
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    assert gc.isenabled()
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            load([path], _FailingStore(tmp_path / "data", good), reject_dir=tmp_path, workers=1)
        except BaseException as exc:  # the test inspects whatever ended the load
            outcome.append(exc)

    loading = threading.Thread(target=run, daemon=True)  # a daemon: a load that hangs fails the test, not the run
    loading.start()
    loading.join(timeout=60)
    assert not loading.is_alive(), "the load waits for a writer that has failed"
    assert len(outcome) == 1 and isinstance(outcome[0], sqlite3.OperationalError)
    assert "disk is full" in str(outcome[0])
    assert gc.isenabled()  # the load pauses garbage collection; the process that called it collects again
