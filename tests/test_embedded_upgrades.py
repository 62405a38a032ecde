"""Stores written by earlier versions of the embedded store open with their data whole in the current layout."""

import shutil
import sqlite3
from pathlib import Path

from indexer.pipeline import LoadSummary
from stores.embedded import DB_NAME, EmbeddedStore
from tests.contract.test_store_contract import penalty
from tests.test_embedded_subjects import SUBJECT_ROWS

# Records whose subject category column disagrees with their body.
MISFILED = "SELECT count(*) FROM records WHERE subject_category IS NOT json_extract(body, '$.subject_category')"


def test_records_get_the_category_column_from_their_bodies(indexed: tuple[Path, LoadSummary], tmp_path: Path) -> None:
    shutil.copytree(indexed[0], tmp_path / "data")
    db = sqlite3.connect(tmp_path / "data" / DB_NAME, isolation_level=None)
    assert db.execute(MISFILED).fetchone() == (0,)
    loaded = db.execute(SUBJECT_ROWS).fetchall()
    assert {row[5] for row in loaded} == {"organization", "individual_business", "person"}
    db.execute("ALTER TABLE records DROP COLUMN subject_category")
    db.close()

    store = EmbeddedStore(tmp_path / "data")
    db = sqlite3.connect(store.path, isolation_level=None)
    assert db.execute(MISFILED).fetchone() == (0,)
    db.execute("INSERT OR IGNORE INTO dirty_subjects (key) SELECT key FROM subjects")
    db.execute("UPDATE subjects SET category = ''")
    store.flush()
    assert db.execute(SUBJECT_ROWS).fetchall() == loaded
    store.close()


def test_forms_left_in_the_old_queue_by_a_killed_load_are_filed(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    store.upsert([penalty("清远市恒达建材有限公司", "91441802MA4UJ3XK72", "清城市监罚〔2025〕1号", "2025-01-05",
                          "未明码标价")])
    store.close()
    db = sqlite3.connect(tmp_path / DB_NAME, isolation_level=None)
    # What the killed load had queued, in the layout of one row per form, instead of the current queue.
    queued = db.execute("SELECT f.value, q.key FROM suggest_queue q, json_each(q.forms) f ORDER BY 1").fetchall()
    assert ("qingyuanhengdajiancai", "91441802MA4UJ3XK72") in queued
    db.execute("CREATE TABLE suggest_pending (form TEXT NOT NULL, key TEXT NOT NULL)")
    db.executemany("INSERT INTO suggest_pending (form, key) VALUES (?, ?)", queued)
    db.execute("DELETE FROM suggest_queue")
    db.close()

    store = EmbeddedStore(tmp_path)
    store.flush()
    assert [s.code for s in store.suggest("qyhd", 10)] == ["91441802MA4UJ3XK72"]
    db = sqlite3.connect(tmp_path / DB_NAME, isolation_level=None)
    assert db.execute("SELECT form, key FROM suggest ORDER BY 1").fetchall() == queued
    assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'suggest_pending'").fetchone() == (0,)
    store.close()


def test_subjects_lose_the_public_count_that_ignored_publication_dates(indexed: tuple[Path, LoadSummary],
                                                                       tmp_path: Path) -> None:
    shutil.copytree(indexed[0], tmp_path / "data")
    db = sqlite3.connect(tmp_path / "data" / DB_NAME, isolation_level=None)
    loaded = db.execute(SUBJECT_ROWS).fetchall()
    db.execute("ALTER TABLE subjects ADD COLUMN public_count INTEGER NOT NULL DEFAULT 0")
    db.close()

    store = EmbeddedStore(tmp_path / "data")
    db = sqlite3.connect(store.path, isolation_level=None)
    assert "public_count" not in {row[1] for row in db.execute("PRAGMA table_info(subjects)")}
    db.execute("INSERT OR IGNORE INTO dirty_subjects (key) SELECT key FROM subjects")
    store.flush()  # writes subject rows in the current layout
    assert db.execute(SUBJECT_ROWS).fetchall() == loaded
    store.close()
