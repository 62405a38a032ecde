"""Reciprocal rank fusion of result lists (Cormack, Clarke and Büttcher, SIGIR 2009), computed here
because Elasticsearch's own RRF needs a paid licence and the embedded store has none."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

RRF_K = 60  # the paper's constant: ranks beyond a few dozen barely matter, the top ranks do not swamp


@dataclass(slots=True)
class Fused:
    """One fused item: its fused score and its 1-based rank in each input list (absent: not there)."""

    id: str
    score: float = 0.0
    ranks: dict[str, int] = field(default_factory=dict)


def reciprocal_rank_fusion(rankings: Mapping[str, Sequence[str]], k: int = RRF_K) -> list[Fused]:
    """Fuse named rankings of ids, best first: each list adds ``1 / (k + rank)`` to an id's score. Ties keep
    the order in which the ids were first met, lists taken in the given order."""
    fused: dict[str, Fused] = {}
    for name, ids in rankings.items():
        for rank, item in enumerate(dict.fromkeys(ids), start=1):
            entry = fused.setdefault(item, Fused(item))
            entry.score += 1.0 / (k + rank)
            entry.ranks[name] = rank
    return sorted(fused.values(), key=lambda f: -f.score)
