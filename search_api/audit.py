"""The append-only audit log of screenings: use of credit information must be traceable (who, when, how
many rows, which input). One JSON line per screening; lines are only ever appended."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_lock = threading.Lock()


def append_entry(path: Path, entry: dict[str, Any]) -> dict[str, Any]:
    """Append ``entry`` with the current UTC time, synced to disk before returning it."""
    line = {"time": datetime.now(UTC).isoformat(timespec="seconds"), **entry}
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n").encode()
    with _lock:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    return line
