"""Helpers shared by the benchmark scripts: timing, peak memory, appending to RESULTS.md."""

from __future__ import annotations

import platform
import resource
import subprocess
from datetime import datetime
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()
    return f"{cores} cores ({cpu}), Python {platform.python_version()}"


def peak_rss_mib(children: bool = False) -> float:
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024


def record(section: str, command: str, body: str) -> None:
    """Append a dated section to bench/RESULTS.md and print it."""
    text = (f"\n## {section}\n\n{datetime.now():%Y-%m-%d %H:%M} · `{command}` · {machine()}\n\n{body.strip()}\n")
    print(text)
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(text)
