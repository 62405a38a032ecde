"""A corrupt byte in the middle of a large GBK export rejects its own row; every other row loads."""

from pathlib import Path

import pytest

from indexer.pipeline import load
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
