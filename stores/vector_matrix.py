"""The embedded store's vector files: one float32 matrix per encoder in the data directory, searched by a
matrix product.

Each publication writes a new generation (``<gen>.npy`` with the vectors, ``<gen>.rowids.npy`` with the
record rowid of each row, ``<gen>.columns.npz`` with attributes of each row to filter on) and then names it
in ``CURRENT`` with an atomic rename, so a reader never sees half a matrix. Readers memory-map the vectors:
several server workers share one copy in the page cache. Brute force is exact, and at a few hundred
thousand vectors of 256 dimensions one product takes milliseconds, less than building and querying an
approximate index would save.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from stores.record_columns import Column

_CURRENT = "CURRENT"


def encoder_directory(root: Path, encoder_id: str) -> Path:
    """The directory of one encoder's matrices (the id is made safe for a file name)."""
    return root / re.sub(r"[^A-Za-z0-9_.-]", "_", encoder_id)


@dataclass(frozen=True, slots=True)
class VectorMatrix:
    """One published generation: row ``i`` of ``vectors`` belongs to the record with rowid ``rowids[i]``;
    ``columns`` hold attributes of each row as they were when it was published."""

    generation: str
    rowids: npt.NDArray[np.int64]
    vectors: npt.NDArray[np.float32]
    columns: dict[str, Column]

    def __len__(self) -> int:
        return int(self.rowids.shape[0])

    def mask_of(self, rowids: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Rows whose rowid is among ``rowids`` (sorted)."""
        if not len(rowids):
            return np.zeros(len(self), dtype=bool)
        position = np.minimum(np.searchsorted(rowids, self.rowids), len(rowids) - 1)
        return np.asarray(rowids[position] == self.rowids)

    def nearest(self, vector: npt.NDArray[np.float32], k: int,
                mask: npt.NDArray[np.bool_] | None = None) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """The rowids and cosine scores of the ``k`` nearest rows, nearest first; with ``mask``, only among
        the rows it marks."""
        query = vector.astype(np.float32, copy=False)
        if mask is None:
            positions, scores = np.arange(len(self)), self.vectors @ query
        else:
            # Gathering the marked rows reads only them; for most rows one product over all is cheaper.
            positions = np.flatnonzero(mask)
            if len(positions) < len(self) // 4:
                scores = self.vectors[positions] @ query
            else:
                scores = (self.vectors @ query)[positions]
        k = min(k, len(positions))
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return self.rowids[positions[top]], scores[top].astype(np.float32)


Row = tuple[Any, ...]  # rowid, the vector as float32 bytes, then one value (int or str) per column


def write_matrix(directory: Path, rows: Iterable[Row], count: int, dims: int, columns: Sequence[str] = ()) -> int:
    """Write a new generation from exactly ``count`` rows (read them in one transaction) and make it
    current; returns ``count``. Older generations are removed (a reader that has one mapped keeps it)."""
    directory.mkdir(parents=True, exist_ok=True)
    generation = f"{time.time_ns()}"
    vectors_path = directory / f"{generation}.npy"
    vectors = np.lib.format.open_memmap(vectors_path, mode="w+", dtype=np.float32, shape=(count, dims))
    rowids = np.zeros(count, dtype=np.int64)
    values: list[list[Any]] = [[] for _ in columns]
    written = 0
    for written, (rowid, blob, *attributes) in enumerate(rows, start=1):
        vectors[written - 1] = np.frombuffer(blob, dtype=np.float32)
        rowids[written - 1] = rowid
        for column, value in zip(values, attributes, strict=True):
            column.append(value)
    vectors.flush()
    del vectors
    if written != count:
        vectors_path.unlink()
        raise ValueError(f"expected {count} vectors, read {written}")
    np.save(directory / f"{generation}.rowids.npy", rowids)
    arrays: dict[str, npt.NDArray[Any]] = {}
    for name, column in zip(columns, values, strict=True):
        if column and isinstance(column[0], str):
            vocabulary = sorted(set(column))
            code = {v: i for i, v in enumerate(vocabulary)}
            arrays[f"{name}.codes"] = np.array([code[v] for v in column], dtype=np.int64)
            arrays[f"{name}.vocabulary"] = np.array(vocabulary, dtype=str)
        else:
            arrays[name] = np.array(column, dtype=np.int64)
    with open(directory / f"{generation}.columns.npz", "wb") as fh:
        np.savez(fh, allow_pickle=False, **arrays)
    tmp = directory / f"{_CURRENT}.tmp"
    tmp.write_text(generation, encoding="ascii")
    os.replace(tmp, directory / _CURRENT)
    for old in directory.iterdir():
        if old.suffix in (".npy", ".npz") and not old.name.startswith(generation + "."):
            old.unlink(missing_ok=True)
    return count


def current_generation(directory: Path) -> str | None:
    """The generation ``CURRENT`` names, or None before the first publication."""
    try:
        return (directory / _CURRENT).read_text(encoding="ascii").strip() or None
    except FileNotFoundError:
        return None


def read_matrix(directory: Path, generation: str) -> VectorMatrix:
    """Memory-map one generation's vectors and read its ids and columns."""
    vectors = np.load(directory / f"{generation}.npy", mmap_mode="r")
    rowids = np.load(directory / f"{generation}.rowids.npy")
    columns: dict[str, Column] = {}
    with np.load(directory / f"{generation}.columns.npz") as data:
        for key in data.files:
            name, _, part = key.partition(".")
            if not part:
                columns[name] = Column(data[key])
            elif part == "codes":
                columns[name] = Column(data[key], tuple(str(v) for v in data[f"{name}.vocabulary"]))
    return VectorMatrix(generation, rowids, vectors, columns)


class MatrixCache:
    """The current matrix of each encoder directory, re-read when ``CURRENT`` changes (checked at most
    every ``check_seconds``)."""

    def __init__(self, check_seconds: float = 2.0) -> None:
        self._check_seconds = check_seconds
        self._lock = threading.Lock()
        self._entries: dict[Path, tuple[float, VectorMatrix | None]] = {}

    def forget(self, directory: Path) -> None:
        """Look again at the next :meth:`get`: this process has just published a new matrix there."""
        with self._lock:
            self._entries.pop(directory, None)

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
