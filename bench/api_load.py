"""HTTP latency and throughput of the search API over an indexed corpus, each as a ratio to /healthz on
the same server in the same run. The load generator is wrk (Debian package ``wrk``: a C program, so the
Python server keeps the CPU): one connection for unloaded latency, 16 for requests/s at saturation.

Run after bench/index_load.py:  python bench/api_load.py --records 1000000   (appends to bench/RESULTS.md)
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analyzers.names import analyze_name
from bench.common import OUT, ROOT, checkout_command, checkout_env, record, served, worktree
from stores.embedded import EmbeddedStore

TEXT_QUERIES = ["施工工地扬尘", "销售过期食品", "超限运输", "消防设施未保持完好有效", "未明码标价", "超标排放水污染物",
                "未取得施工许可证擅自施工", "违法分包", "安全生产教育培训", "渣土运输车辆未密闭", "拒不履行生效法律文书",
                "违反限制消费令", "容缺受理 补齐材料", "食品经营许可", "道路普通货物运输", "排污许可 废水",
                "未取得食品经营许可", "堵塞消防通道", "哄抬价格 口罩", "健康证明 食品从业人员"]
COLUMNS_SECONDS = 30  # the record columns of a million records take about 15 s to build
LUA = """
local paths = {%s}
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def queries(data: Path, count: int) -> dict[str, list[str]]:
    rng = random.Random(7)
    store = EmbeddedStore(data, create=False)
    subjects = [s for s in store.iter_subjects() if len(s.code) == 18 and s.category != "person"]
    store.close()
    sample = rng.sample(subjects, min(count, len(subjects)))
    names = []
    for s in sample:
        parts = analyze_name(s.name)
        names.append(rng.choice([s.name, s.name.replace("有限公司", "有限责任公司"), parts.core + parts.industry,
                                 parts.region_short + parts.core + parts.industry]))
    return {
        "healthz": ["/healthz"],
        "code lookup": [f"/v1/search?q={s.code}" for s in sample],
        "name search": [f"/v1/search?q={quote(n)}" for n in names],
        "text search": [f"/v1/search?q={quote(q)}" for q in TEXT_QUERIES],
    }


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(base: str, paths: list[str], connections: int, seconds: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(LUA % ", ".join(f'"{p}"' for p in paths))
    out = subprocess.run(["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency",
                          "--timeout", "10s", "-s", fh.name, base], capture_output=True, text=True, check=True).stdout
    os.unlink(fh.name)
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"p50": _ms(percentiles["50"]), "p99": _ms(percentiles["99"]),
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
            "errors": float(non_2xx.group(1)) if non_2xx else 0.0}


def measure(code: Path, data: Path, sets: dict[str, list[str]], seconds: int, port: int) -> dict[str, tuple[
        dict[str, float], dict[str, float]]]:
    """wrk's figures per query set (one connection, then 16) for a server of the checkout ``code``."""
    command = checkout_command(code, "serve", "--port", str(port), "--data-dir", str(data))
    with served(command, port, checkout_env(code, CREDIT_SEARCH_TODAY="2026-11-01"), cwd=code) as (base, _):
        for paths in sets.values():  # warm the page cache and jieba once
            for path in paths[:50]:
                httpx.get(base + path, timeout=60)
        # A large store counts text matches from record columns built in the background after the first
        # text query; until they are built it counts in SQL. Measure the steady state.
        time.sleep(COLUMNS_SECONDS)
        for path in sets["text search"]:
            httpx.get(base + path, timeout=60)
        return {label: (wrk(base, paths, 1, seconds), wrk(base, paths, 16, seconds)) for label, paths in sets.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1000000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--data", type=Path, help="an indexed data directory (default bench/out/data-RECORDS)")
    parser.add_argument("--baseline", default="", help="git revision to measure first, on the same store")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    data = (args.data or OUT / f"data-{args.records}").resolve()
    if not (data / "credit.sqlite3").exists():
        sys.exit(f"no index at {data}: run python bench/index_load.py --records {args.records} first")
    sets = queries(data, 500)
    runs = [(f"baseline {args.baseline}", worktree(args.baseline))] if args.baseline else []
    runs.append(("this code", ROOT))
    measured = [(label, measure(code, data, sets, args.seconds, 8799)) for label, code in runs]
    lines = ["| code | request | median | p99 | median ÷ healthz | p99 ÷ healthz | requests/s at 16 connections | "
             "non-2xx |", "|---|---|---|---|---|---|---|---|"]
    for code_label, rows in measured:
        health = rows["healthz"][0]
        for label, (single, loaded) in rows.items():
            lines.append(f"| {code_label} | {label} ({len(sets[label])} distinct) | {single['p50']:.2f} ms | "
                         f"{single['p99']:.2f} ms | {single['p50'] / health['p50']:.1f}× | "
                         f"{single['p99'] / health['p99']:.1f}× | {loaded['rps']:,.0f} | "
                         f"{int(single['errors'] + loaded['errors'])} |")
    body = "\n".join(lines) + f"""

One uvicorn process (`credit-search serve`, built-in encoder off) over the embedded store of {args.records:,} records
({data.name}); latency from wrk with one connection for {args.seconds} s per row, throughput with 16 connections for
{args.seconds} s. Targets: code lookup median ≤ 2× healthz; name search median ≤ 5× healthz and p99 ≤ 100 ms; text
search median ≤ 30 ms and p99 ≤ 150 ms.
"""
    record(f"Search API over {args.records:,} records",
           f"python bench/api_load.py --records {args.records}" + (f" --data {args.data}" if args.data else "") +
           (f" --baseline {args.baseline}" if args.baseline else ""), body)


if __name__ == "__main__":
    main()
