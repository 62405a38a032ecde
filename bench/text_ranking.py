"""Keyword relevance of the judged query set (bench/judged_queries.py) with every query ranked whole by bm25 (as a
small store ranks) and ranked as a store with record columns ranks a broad query (see stores/embedded.py: words
alone by the length of the matching texts, other queries within a window of their most recently loaded matches),
on the same generated corpus: what the fast paths cost in relevance.

Run: python bench/text_ranking.py --records 20000   (appends to bench/RESULTS.md)
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import OUT, generated_corpus, index_without_vectors, record
from bench.judged_queries import QUERIES, evaluate, summarise, table
from search_api.publication import Viewer, visibility_for
from search_api.service import SearchService
from search_api.settings import ApiSettings
from stores import embedded
from stores.base import Filters
from stores.embedded import EmbeddedStore

TODAY = date(2026, 11, 1)  # the generator's reference day


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--windows", type=int, nargs="+", default=[embedded._RANK_WINDOW, 100, 20])
    args = parser.parse_args()
    data = OUT / f"quality-{args.records}"
    index_without_vectors(generated_corpus(args.records, args.seed), data)
    viewer = Viewer()
    sections = []
    for window in (None, *args.windows):
        if window is None:
            store = EmbeddedStore(data, create=False, columns_min_records=10**12)
            label = "ranked whole (bm25 over every match)"
        else:
            embedded._RANK_WINDOW = window
            embedded._BROAD_MATCHES = 0  # every query through the columns, as on a store of a million
            store = EmbeddedStore(data, create=False, columns_min_records=0, columns_in_background=False)
            label = (f"as a store with record columns ranks: words alone by length, other queries within the "
                     f"{window:,} most recently loaded visible matches first")
        records = [h.record for h in store.search([], Filters(visibility=visibility_for(viewer, TODAY)),
                                                  10**8).hits]
        results = evaluate(SearchService(store, ApiSettings(today=TODAY)), records, viewer, modes=["keyword"])
        sections.append(f"**{label}**\n\n{table(summarise(results))}")
        store.close()
    body = f"""
Corpus: `credit-search generate --records {args.records} --seed {args.seed}`, {len(records):,} records in the public
view; {len(QUERIES)} judged queries, keyword mode, first page of 10.

{(chr(10) * 2).join(sections)}
"""
    record("Keyword relevance with a ranking window", f"python bench/text_ranking.py --records {args.records}", body)


if __name__ == "__main__":
    main()
