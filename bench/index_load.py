"""End-to-end indexing of a generated corpus into the embedded store (without semantic vectors: see
bench/semantic_load.py for their cost), next to the bare analysis rate of the same records (the same
pipeline writing to a store that discards), with peak memory and CPU time of the whole process tree. The bare
analysis runs just before and just after the end-to-end load and the ratio is taken to the mean of the two: this
VM's speed drifts by a fifth and more within minutes, and a single baseline taken minutes earlier measured the
drift as much as the load.

Run: python bench/index_load.py --records 1000000   (appends to bench/RESULTS.md)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import OUT, SCRIPT, generated_corpus, record
from indexer.analysis import AnalysedRecord
from indexer.pipeline import load
from stores.base import UpsertCounts


class DiscardingStore:
    """Accepts batches and drops them: what remains is reading, validation and analysis."""

    def upsert_batches(self, batches: Iterable[Sequence[AnalysedRecord]]) -> UpsertCounts:
        return UpsertCounts(inserted=sum(len(docs) for docs in batches))

    def flush(self) -> None:
        """Nothing derived to bring up to date."""


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants."""
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            with open(f"/proc/{current}/statm") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            with open(f"/proc/{current}/task/{current}/children") as fh:
                pids.extend(int(p) for p in fh.read().split())
        except OSError:
            continue
    return total / 2**20


def cpu_seconds() -> float:
    """CPU time of this process and of every descendant it (or a descendant) has waited for."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_with_peak(cmd: list[str]) -> tuple[float, float, float, str]:
    """Seconds, peak RSS of the process tree (MiB), CPU seconds of the tree, and the command's output."""
    peak = 0.0
    cpu = cpu_seconds()
    started = time.perf_counter()
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_mib(process.pid))
            time.sleep(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, _ = process.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return seconds, peak, cpu_seconds() - cpu, stdout


def bare_analysis(files: Sequence[Path]) -> tuple[float, float]:
    """Seconds and CPU seconds of the load pipeline writing to a store that discards."""
    cpu = cpu_seconds()
    started = time.perf_counter()
    load(files, DiscardingStore(), reject_dir=OUT / "bare-rejects")  # type: ignore[arg-type]
    return time.perf_counter() - started, cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1000000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    files = generated_corpus(args.records, args.seed, name=f"corpus-{args.records}")
    manifest = json.loads((files[0].parent / "manifest.json").read_text(encoding="utf-8"))
    rows = sum(f["rows"] for f in manifest["files"].values())

    before_seconds, before_cpu = bare_analysis(files)
    data = OUT / f"data-{args.records}"
    shutil.rmtree(data, ignore_errors=True)
    command = [str(SCRIPT), "index", *map(str, files), "--data-dir", str(data), "--no-embed"]
    seconds, peak, e2e_cpu, stdout = run_with_peak(command)
    after_seconds, after_cpu = bare_analysis(files)
    before_rate, after_rate = rows / before_seconds, rows / after_seconds
    bare_rate = (before_rate + after_rate) / 2
    e2e_rate = rows / seconds
    again_seconds, again_peak, again_cpu, _ = run_with_peak(command)
    size = sum(p.stat().st_size for p in data.glob("credit.sqlite3*")) / 2**20
    summary = "\n".join(line for line in stdout.splitlines() if line.strip() and "条/秒" not in line)

    body = f"""
Corpus: `credit-search generate --records {args.records} --seed {args.seed}` ({rows:,} rows in {len(files)} files:
CSV UTF-8 / UTF-8-BOM / GBK, XLSX, JSON, JSONL). Two analysis worker processes (both cores) plus the
reading/writing process. CPU seconds are those of every process of the run; divided by the seconds they give
the cores kept busy on average (at most 2). The bare analysis ran just before and just after the end-to-end load;
the ratio is to the mean of the two rates (this VM's speed drifts within minutes).

| measurement | seconds | records/s | CPU seconds (cores busy) | peak RSS (process tree) | target |
|---|---|---|---|---|---|
| bare analysis (read + validate + analyse, store discards), just before | {before_seconds:,.1f} | {before_rate:,.0f} | {before_cpu:,.0f} ({before_cpu / before_seconds:.2f}) | — | baseline |
| end to end: `credit-search index --no-embed` into the embedded store | {seconds:,.1f} | {e2e_rate:,.0f} (**{e2e_rate / bare_rate:.2f}×** the mean bare rate; {e2e_rate / before_rate:.2f}× before, {e2e_rate / after_rate:.2f}× after) | {e2e_cpu:,.0f} ({e2e_cpu / seconds:.2f}) | {peak:,.0f} MiB | ≥ 5,000/s, ≥ 0.6× bare, ≤ 2 GiB |
| bare analysis again, just after | {after_seconds:,.1f} | {after_rate:,.0f} | {after_cpu:,.0f} ({after_cpu / after_seconds:.2f}) | — | baseline |
| second run of the same command (everything unchanged) | {again_seconds:,.1f} | {rows / again_seconds:,.0f} | {again_cpu:,.0f} ({again_cpu / again_seconds:.2f}) | {again_peak:,.0f} MiB | idempotent |

Store size on disk: {size:,.0f} MiB. Load summary of the first run:

```
{summary}
```
"""
    record(f"Indexing {args.records:,} records (indexer issue)", f"python bench/index_load.py --records {args.records}",
           body)


if __name__ == "__main__":
    main()
