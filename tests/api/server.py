"""Start ``credit-search serve`` as a real uvicorn process on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.e2e.cli import SCRIPT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """``credit-search serve`` over ``data_dir``, yielded with its base URL once it answers /healthz."""
    port = free_port()
    with running([str(SCRIPT), "serve", "--port", str(port), "--data-dir", str(data_dir)], port,
                 data_dir / f"server-{port}.log", env) as (base, _):
        yield base


@contextmanager
def running(command: list[str], port: int, log_path: Path, env: dict[str, str] | None = None,
            ready: str = "/healthz", seconds: float = 60) -> Iterator[tuple[str, str]]:
    """A command that serves on ``port``, yielded with its base URL and what it printed once ``ready`` answers
    200. Its output goes to a file: a pipe nobody reads would fill up and block the server."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("w")
    process = subprocess.Popen(command, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + seconds
        while True:
            try:
                if httpx.get(f"{base}{ready}", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.1)
        log.flush()
        yield base, log_path.read_text()
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
