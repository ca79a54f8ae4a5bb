"""Root pytest hooks: record how long each lesson notebook takes under nbval.

The totals (kernel start-up included) go to ``_build/timings/notebooks.json``;
``scripts/lesson_timings.py`` turns them into the table on the instructors' page.
"""
from __future__ import annotations

import json
import os
import platform
from collections import defaultdict
from pathlib import Path

_SECONDS: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _SECONDS[path] += report.duration


def pytest_sessionfinish(session, exitstatus):
    if not _SECONDS or hasattr(session.config, "workerinput"):  # xdist workers: the controller writes
        return
    out = Path(session.config.rootpath) / "_build" / "timings" / "notebooks.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(out.read_text()) if out.exists() else {}
    record = previous.get("notebooks", {})
    record.update({Path(k).name: round(v, 1) for k, v in _SECONDS.items()})
    out.write_text(json.dumps({
        "mode": "fast" if os.environ.get("COURSE_FAST", "") in ("1", "true") else "full",
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
        "notebooks": dict(sorted(record.items())),
    }, indent=2))
