"""The embedded store's vector files: generations, and nearest rows with and without an allowed set."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stores.vector_matrix import MatrixCache, current_generation, read_matrix, write_matrix


def _rows(count: int, dims: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(count, dims)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    rowids = np.sort(rng.choice(10 * count, size=count, replace=False)).astype(np.int64)
    return rowids, vectors


def test_nearest_matches_a_brute_force_ranking(tmp_path: Path) -> None:
    rowids, vectors = _rows(1000, 16, 1)
    kinds = ["penalty" if i % 3 else "licensing" for i in range(1000)]
    write_matrix(tmp_path, ((int(r), v.tobytes(), kind, i) for i, (r, v, kind) in
                            enumerate(zip(rowids, vectors, kinds, strict=True))), 1000, 16, ("kind", "day"))
    generation = current_generation(tmp_path)
    assert generation is not None
    matrix = read_matrix(tmp_path, generation)
    query = vectors[17]
    order = np.argsort(-(vectors @ query), kind="stable")
    found, scores = matrix.nearest(query, 5)
    assert list(found) == list(rowids[order[:5]]) and found[0] == rowids[17]
    assert np.allclose(scores, (vectors @ query)[order[:5]], atol=1e-6)
    allowed = np.sort(rowids[::7])
    only, _ = matrix.nearest(query, 5, matrix.mask_of(allowed))
    expected = [r for r in rowids[order] if r in set(allowed.tolist())][:5]
    assert list(only) == expected
    # Columns filter before ranking: a text column by its values, a number column by comparison.
    licences = matrix.columns["kind"].isin(["licensing"]) & (matrix.columns["day"].values >= 500)
    wanted = [r for r in rowids[order] if kinds[list(rowids).index(r)] == "licensing"
              and list(rowids).index(r) >= 500][:5]
    assert list(matrix.nearest(query, 5, licences)[0]) == wanted
    # Values may come as any iterable, as the store passes them, and each one counts (not only the first).
    penalties = matrix.columns["kind"].isin(kind for kind in ("dishonest", "penalty"))
    assert int(penalties.sum()) == kinds.count("penalty")
    none, _ = matrix.nearest(query, 5, matrix.mask_of(np.zeros(0, dtype=np.int64)))
    assert len(none) == 0


def test_a_new_generation_replaces_the_old_for_readers(tmp_path: Path) -> None:
    cache = MatrixCache(check_seconds=0)
    assert cache.get(tmp_path) is None
    rowids, vectors = _rows(10, 4, 2)
    write_matrix(tmp_path, ((int(r), v.tobytes()) for r, v in zip(rowids, vectors, strict=True)), 10, 4)
    first = cache.get(tmp_path)
    assert first is not None and len(first) == 10
    write_matrix(tmp_path, ((int(r), v.tobytes()) for r, v in zip(rowids[:3], vectors[:3], strict=True)), 3, 4)
    second = cache.get(tmp_path)
    assert second is not None and len(second) == 3 and second.generation != first.generation
    assert len(list(tmp_path.glob("*.np[yz]"))) == 3  # the old generation's files are gone
    assert list(first.nearest(vectors[0], 1)[0]) == [rowids[0]]  # a mapped old generation still answers
