"""A broad query on a large embedded store is counted from record columns: one of words only is ranked by the
length of the matching texts, one with other clauses within a window of its most recently loaded matches first.
Whatever the path, a query must give the same total, the same facets and, paged to its end by cursor, every
match exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.model import Status
from stores import embedded
from stores.base import Clause, Filters, HitPage, Visibility
from stores.embedded import EmbeddedStore
from tests.contract.test_store_contract import EVERYTHING, PUBLIC, _code, penalty

DUST = [Clause("text", (("扬尘",),))]
DUST_OR_BUILDERS = [Clause("text", (("扬尘",),)), Clause("name", (("建筑",),))]


def _corpus() -> list:  # type: ignore[type-arg]
    docs = []
    for n in range(60):
        facts = "施工工地扬尘污染" + ("，未采取覆盖措施" * (n % 4)) if n % 3 else "销售过期食品"
        authority = "清远市清城区住房和城乡建设局" if n % 2 else "清远市清新区生态环境局"
        docs.append(penalty(f"清远市第{n}建筑工程有限公司", _code(f"91441802MA4U{n:05d}"), f"清建罚〔2026〕{n}号",
                            f"2026-{n % 12 + 1:02d}-01", facts, authority=authority,
                            until="2020-01-01" if n % 7 == 0 else ""))
    return docs


def _pages(store: EmbeddedStore, clauses: list[Clause], filters: Filters, size: int) -> tuple[HitPage, list[str]]:
    first = store.search(clauses, filters, size, facets=True)
    ids, page = [h.record_id for h in first.hits], first
    while len(page.hits) == size:
        page = store.search(clauses, filters, size, after=page.hits[-1].cursor)
        ids += [h.record_id for h in page.hits]
    return first, ids


@pytest.fixture
def stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[EmbeddedStore, EmbeddedStore]:
    monkeypatch.setattr(embedded, "_RANK_WINDOW", 7)
    monkeypatch.setattr(embedded, "_BROAD_MATCHES", 0)
    docs = _corpus()
    plain = EmbeddedStore(tmp_path / "plain")
    windowed = EmbeddedStore(tmp_path / "windowed", columns_min_records=0, columns_in_background=False)
    for store in (plain, windowed):
        store.upsert(docs)
        store.flush()
    return plain, windowed


@pytest.mark.parametrize("visibility", [PUBLIC, EVERYTHING], ids=["public", "staff"])
def test_words_alone_rank_the_shortest_texts_first(stores: tuple[EmbeddedStore, EmbeddedStore],
                                                   visibility: Visibility) -> None:
    plain, counted = stores
    filters = Filters(visibility=visibility)
    expected, every = _pages(plain, DUST, filters, 5)
    got, paged = _pages(counted, DUST, filters, 5)
    assert expected.total == got.total == len(every) > 7
    assert got.facets == expected.facets
    assert sorted(paged) == sorted(every) and len(set(paged)) == len(paged)
    lengths = dict(counted._db().execute("SELECT r.id, length(f.text) FROM fts f JOIN records r ON r.rowid = f.rowid"))
    # Ordered so from the columns and, by SQL, without them (a store too small for columns, or rebuilding them).
    assert [lengths[i] for i in paged] == sorted(lengths[i] for i in paged)
    assert [lengths[i] for i in every] == sorted(lengths[i] for i in every)


@pytest.mark.parametrize("visibility", [PUBLIC, EVERYTHING], ids=["public", "staff"])
def test_a_window_changes_the_order_only(stores: tuple[EmbeddedStore, EmbeddedStore], visibility: Visibility) -> None:
    plain, windowed = stores
    filters = Filters(visibility=visibility)
    expected, every = _pages(plain, DUST_OR_BUILDERS, filters, 5)
    got, paged = _pages(windowed, DUST_OR_BUILDERS, filters, 5)
    assert expected.total == got.total == len(every) > 7  # broad enough for the window
    assert got.facets == expected.facets
    assert sorted(paged) == sorted(every) and len(set(paged)) == len(paged)
    # The first page comes from the seven most recently loaded matches, best first.
    loaded = [d.id for d in _corpus() if d.id in set(every)]
    assert {h.record_id for h in got.hits} <= set(loaded[-7:])
    scores = [h.score for h in got.hits]
    assert scores == sorted(scores, reverse=True)


def test_a_correction_is_counted_at_once(stores: tuple[EmbeddedStore, EmbeddedStore]) -> None:
    _, windowed = stores
    filters = Filters(visibility=PUBLIC)
    before = windowed.search(DUST, filters, 5, facets=True)
    withdrawn = before.hits[0].record_id
    assert windowed.set_status(withdrawn, Status.WITHDRAWN, "撤销", None)
    after = windowed.search(DUST, filters, 5, facets=True)
    assert after.total == before.total - 1
    assert withdrawn not in {h.record_id for h in after.hits}
    assert sum(after.facets["authority"].values()) == after.total
