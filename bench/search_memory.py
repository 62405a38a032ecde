"""Memory of a serving process over many distinct searches: the server's resident memory after every 1,000 of
10,000 random public searches (random words, names and codes, so that nothing repeats), on an indexed generated
corpus. With ``--baseline REF`` the same run is made first against a git revision of the project, checked out
beside it, for comparison in the same stretch of this VM.

    python bench/search_memory.py --records 20000 --baseline 394e61b   (appends to bench/RESULTS.md)
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import OUT, ROOT, checkout_command, checkout_env, generated_corpus, record, served, worktree

# Common characters of names and penalty texts: random words of them hit the index in many ways.
CHARS = ("清远市城区新英德连州佛冈阳山连山连南华恒达建筑工程有限公司贸易商行食品药品环保科技物流运输安全生产消防"
         "扬尘污染超标排放未取得许可证经营销售过期罚款警告没收违法所得责令停产停业吊销拒不履行生效法律文书")


def _queries(n: int, seed: int) -> list[str]:
    """Words of the corpus's characters, words of any common Chinese characters (a new vocabulary with every
    query), and code-like strings, in turn."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kind = i % 4
        if kind == 3:
            out.append("9144" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(14)))
        elif kind == 2:
            out.append("".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(rng.randint(2, 12))))
        else:
            out.append("".join(rng.choice(CHARS) for _ in range(rng.randint(2, 8 if kind else 14))))
    return out


def _rss_mib(pid: int) -> tuple[float, float]:
    """The process's private resident memory (RssAnon: its heap, what a leak grows) and its resident pages of
    mapped files (RssFile: the store's memory map, shared with other processes and given back under pressure),
    in MiB."""
    kib = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("RssAnon:", "RssFile:")):
            kib[line.split(":")[0]] = int(line.split()[1])
    return kib.get("RssAnon", 0) / 1024, kib.get("RssFile", 0) / 1024


def _index(code: Path, files: list[Path], data: Path) -> None:
    shutil.rmtree(data, ignore_errors=True)
    subprocess.run(checkout_command(code, "index", *map(str, files), "--data-dir", str(data), "--no-embed"), cwd=code,
                   env=checkout_env(code), capture_output=True, check=False)


def measure(code: Path, data: Path, queries: list[str], port: int, clients: int) -> list[tuple[float, float]]:
    """Private and file-mapped resident MiB of a server of ``code`` at start-up and after every 1,000 queries."""
    command = checkout_command(code, "serve", "--port", str(port), "--data-dir", str(data))
    with served(command, port, checkout_env(code), cwd=code) as (base, server):
        samples = [_rss_mib(server.pid)]
        with httpx.Client(base_url=base, timeout=30) as client, ThreadPoolExecutor(clients) as pool:
            for start in range(0, len(queries), 1000):
                # Several clients at once, as a public site has: the server answers on several threads.
                list(pool.map(lambda q: client.get("/v1/search", params={"q": q}), queries[start:start + 1000]))
                samples.append(_rss_mib(server.pid))
        return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=10000)
    parser.add_argument("--clients", type=int, default=4, help="clients searching at once")
    parser.add_argument("--baseline", default="", help="git revision to measure first, for comparison")
    args = parser.parse_args()
    files = generated_corpus(args.records, 1)
    queries = _queries(args.queries, 7)
    runs: list[tuple[str, list[tuple[float, float]]]] = []
    for label, code in ([(f"baseline {args.baseline}", worktree(args.baseline))] if args.baseline else []) + \
            [("this code", ROOT)]:
        data = OUT / f"memory-{args.records}-{code.name}"
        _index(code, files, data)  # each version writes the store layout it reads
        runs.append((label, measure(code, data, queries, 8765, args.clients)))
    header = "| code | start | " + " | ".join(f"after {k:,}" for k in range(1000, args.queries + 1, 1000)) + \
        " | growth after the first 1,000 |"
    lines = [header, "|" + "---|" * (len(runs[0][1]) + 2)]
    for label, samples in runs:
        for kind, column in (("private", 0), ("mapped files", 1)):
            values = [s[column] for s in samples]
            lines.append(f"| {label}, {kind} | " + " | ".join(f"{v:,.0f}" for v in values) +
                         f" | {values[-1] - values[1]:+,.0f} MiB |")
    record(f"Server memory over {args.queries:,} distinct searches ({args.records:,} records)",
           f"python bench/search_memory.py --records {args.records} --queries {args.queries} "
           f"--clients {args.clients}" +
           (f" --baseline {args.baseline}" if args.baseline else ""),
           "Resident memory (MiB) of one `credit-search serve` process, private (RssAnon) and pages of mapped "
           "files (RssFile), public view, keyword search (encoder "
           "none), random words, names and codes so that no query repeats, "
           f"{args.clients} clients at once:\n\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
