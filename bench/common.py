"""Helpers shared by the benchmark scripts: timing, peak memory, appending to RESULTS.md."""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import httpx

RESULTS = Path(__file__).with_name("RESULTS.md")
OUT = Path(__file__).resolve().parent / "out"
SCRIPT = Path(sys.executable).parent / "credit-search"
ROOT = Path(__file__).resolve().parent.parent


def worktree(ref: str) -> Path:
    """A checkout of git revision ``ref`` under bench/out (made once), to measure a baseline beside this code."""
    path = OUT / f"worktree-{ref}"
    if not path.exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), ref], check=True,
                       capture_output=True)
    return path


def checkout_command(code: Path, *args: str) -> list[str]:
    """``credit-search ARGS`` run from the checkout ``code`` (with :func:`checkout_env`)."""
    return [sys.executable, "-c", "from search_api.cli import main; main()", *args]


def checkout_env(code: Path, **extra: str) -> dict[str, str]:
    """The environment that runs ``code``'s modules, semantic search off unless ``extra`` says otherwise."""
    return {**os.environ, "PYTHONPATH": str(code), "CREDIT_SEARCH_ENCODER": "none", **extra}


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


def generated_corpus(records: int, seed: int, name: str | None = None) -> list[Path]:
    """The data files of a corpus that ``credit-search generate`` writes under bench/out (on first use)."""
    corpus = OUT / (name or f"corpus-{records}-s{seed}")
    if not (corpus / "manifest.json").exists():
        subprocess.run([str(SCRIPT), "generate", "--records", str(records), "--seed", str(seed), "--out", str(corpus)],
                       check=True)
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    return [corpus / name for name in manifest["files"]]


def index_without_vectors(files: list[Path], data: Path) -> None:
    """Index the files into a fresh embedded store with ``credit-search index --no-embed``."""
    shutil.rmtree(data, ignore_errors=True)
    subprocess.run([str(SCRIPT), "index", *map(str, files), "--data-dir", str(data), "--no-embed"], check=False,
                   capture_output=True)


@contextmanager
def served(command: list[str], port: int, env: dict[str, str], cwd: Path | None = None, workers: int = 1,
           wait_seconds: float = 900) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A server started with ``command`` (listening on ``port``), yielded with its base URL once /readyz has
    answered ready ``2 * workers`` times in a row (each worker builds its own name index), stopped after."""
    server = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + wait_seconds
        ready = 0
        while ready < 2 * workers and time.monotonic() < deadline:
            try:
                ready = ready + 1 if httpx.get(f"{base}/readyz", timeout=60).status_code == 200 else 0
            except httpx.TransportError:
                ready = 0
            time.sleep(0.1)
        yield base, server
    finally:
        server.terminate()
        server.wait(timeout=60)
