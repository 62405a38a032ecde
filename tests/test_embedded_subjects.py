"""Subject rows of the embedded store: rebuilt in one pass when most subjects changed (a first load),
refreshed one by one after small changes, and both ways give the same rows."""

import shutil
import sqlite3
from pathlib import Path

from indexer.pipeline import LoadSummary
from stores.embedded import EmbeddedStore
from tests.contract.test_store_contract import penalty

SUBJECT_ROWS = ("SELECT key, name, code, org_code, reg_no, category, record_count, names "
                "FROM subjects ORDER BY key")


def test_subjects_refreshed_one_by_one_equal_the_one_pass_rebuild(indexed: tuple[Path, LoadSummary],
                                                                  tmp_path: Path) -> None:
    shutil.copytree(indexed[0], tmp_path / "data")
    store = EmbeddedStore(tmp_path / "data")
    db = sqlite3.connect(store.path, isolation_level=None)
    coded = db.execute("SELECT s.key, s.name, max(r.decision_date) FROM subjects s JOIN records r "
                       "ON r.subject_key = s.key WHERE s.key = s.code GROUP BY s.key LIMIT 3").fetchall()
    # Other spellings of three subjects' names: newer (renamed), of the same day as the newest record (the
    # later loaded names it), and older (only among the names).
    (newer, _, newest), (same_day, _, day), (older, older_name, _) = coded
    store.upsert([penalty("清远市新名称贸易有限公司", newer, "清城市监罚〔2027〕1号", "2027-01-05", "未明码标价"),
                  penalty("清远市同日更名贸易有限公司", same_day, "清城市监罚〔2027〕2号", day, "未明码标价"),
                  penalty("清远市旧名称贸易有限公司", older, "清城市监罚〔2001〕3号", "2001-01-05", "未明码标价")])
    db.execute("INSERT OR IGNORE INTO dirty_subjects (key) SELECT key FROM subjects")
    store.flush()  # every subject dirty: rebuilt in one pass
    rebuilt = {row[0]: row for row in db.execute(SUBJECT_ROWS)}
    assert rebuilt[newer][1] == "清远市新名称贸易有限公司" and "\x1f" in rebuilt[newer][-1] and newest < "2027"
    assert rebuilt[same_day][1] == "清远市同日更名贸易有限公司"
    assert rebuilt[older][1] == older_name and "清远市旧名称贸易有限公司" in rebuilt[older][-1].split("\x1f")

    keys = list(rebuilt)
    share = len(keys) // 5  # under a quarter of the subjects at a time: refreshed one by one
    for start in range(0, len(keys), share):
        db.executemany("INSERT INTO dirty_subjects (key) VALUES (?)", [(k,) for k in keys[start:start + share]])
        db.execute("UPDATE subjects SET name = '', record_count = 0, names = '' WHERE key IN "
                   "(SELECT key FROM dirty_subjects)")
        store.flush()
        assert db.execute("SELECT count(*) FROM dirty_subjects").fetchone() == (0,)
    assert {row[0]: row for row in db.execute(SUBJECT_ROWS)} == rebuilt
    store.close()
