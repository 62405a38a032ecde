"""The embedded store's vector files: one float32 matrix per encoder in the data directory, searched by a
matrix product.

Each publication writes a new generation (``<gen>.npy`` with the vectors, ``<gen>.rowids.npy`` with the
record rowid of each row) and then names it in ``CURRENT`` with an atomic rename, so a reader never sees
half a matrix. Readers memory-map the files: several server workers share one copy in the page cache.
Brute force is exact, and at a few hundred thousand vectors of 256 dimensions one product takes
milliseconds, less than building and querying an approximate index would save.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

_CURRENT = "CURRENT"


def encoder_directory(root: Path, encoder_id: str) -> Path:
    """The directory of one encoder's matrices (the id is made safe for a file name)."""
    return root / re.sub(r"[^A-Za-z0-9_.-]", "_", encoder_id)


@dataclass(frozen=True, slots=True)
class VectorMatrix:
    """One published generation: row ``i`` of ``vectors`` belongs to the record with rowid ``rowids[i]``."""

    generation: str
    rowids: npt.NDArray[np.int64]
    vectors: npt.NDArray[np.float32]

    def __len__(self) -> int:
        return int(self.rowids.shape[0])

    def nearest(self, vector: npt.NDArray[np.float32], k: int,
                allowed: npt.NDArray[np.int64] | None = None) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """The rowids and cosine scores of the ``k`` nearest rows, nearest first; with ``allowed`` (sorted
        rowids) only among those rows."""
        if len(self) == 0 or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores = self.vectors @ vector.astype(np.float32, copy=False)
        if allowed is not None:
            position = np.searchsorted(allowed, self.rowids)
            inside = np.minimum(position, max(len(allowed) - 1, 0))
            ok = (position < len(allowed)) & (allowed[inside] == self.rowids) if len(allowed) else \
                np.zeros(len(self), dtype=bool)
            scores = np.where(ok, scores, -np.inf)
            k = min(k, int(ok.sum()))
        k = min(k, len(self))
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return self.rowids[top], scores[top].astype(np.float32)


def write_matrix(directory: Path, rows: Iterable[tuple[int, bytes]], count: int, dims: int) -> int:
    """Write a new generation from exactly ``count`` (rowid, float32 bytes) rows (read them in one
    transaction) and make it current; returns ``count``. Older generations are removed (a reader that has
    one mapped keeps it)."""
    directory.mkdir(parents=True, exist_ok=True)
    generation = f"{time.time_ns()}"
    vectors_path, rowids_path = directory / f"{generation}.npy", directory / f"{generation}.rowids.npy"
    vectors = np.lib.format.open_memmap(vectors_path, mode="w+", dtype=np.float32, shape=(count, dims))
    rowids = np.zeros(count, dtype=np.int64)
    written = 0
    for written, (rowid, blob) in enumerate(rows, start=1):
        vectors[written - 1] = np.frombuffer(blob, dtype=np.float32)
        rowids[written - 1] = rowid
    vectors.flush()
    del vectors
    if written != count:
        vectors_path.unlink()
        raise ValueError(f"expected {count} vectors, read {written}")
    np.save(rowids_path, rowids)
    tmp = directory / f"{_CURRENT}.tmp"
    tmp.write_text(generation, encoding="ascii")
    os.replace(tmp, directory / _CURRENT)
    for old in directory.glob("*.npy"):
        if not old.name.startswith(generation + "."):
            old.unlink(missing_ok=True)
    return count


def current_generation(directory: Path) -> str | None:
    """The generation ``CURRENT`` names, or None before the first publication."""
    try:
        return (directory / _CURRENT).read_text(encoding="ascii").strip() or None
    except FileNotFoundError:
        return None


def read_matrix(directory: Path, generation: str) -> VectorMatrix:
    """Memory-map one generation."""
    vectors = np.load(directory / f"{generation}.npy", mmap_mode="r")
    rowids = np.load(directory / f"{generation}.rowids.npy")
    return VectorMatrix(generation, rowids, vectors)


class MatrixCache:
    """The current matrix of each encoder directory, re-read when ``CURRENT`` changes (checked at most
    every ``check_seconds``)."""

    def __init__(self, check_seconds: float = 2.0) -> None:
        self._check_seconds = check_seconds
        self._lock = threading.Lock()
        self._entries: dict[Path, tuple[float, VectorMatrix | None]] = {}

    def get(self, directory: Path) -> VectorMatrix | None:
        now = time.monotonic()
        with self._lock:
            checked, matrix = self._entries.get(directory, (float("-inf"), None))
            if now - checked < self._check_seconds:
                return matrix
            generation = current_generation(directory)
            if generation is None:
                matrix = None
            elif matrix is None or matrix.generation != generation:
                try:
                    matrix = read_matrix(directory, generation)
                except FileNotFoundError:  # replaced while being read: keep the previous one, look again
                    now = float("-inf")
            self._entries[directory] = (now, matrix)
            return matrix
