"""Write book/_lesson_timings.md from the timings the test run recorded.

Usage: .venv/bin/python scripts/lesson_timings.py [_build/timings/notebooks.json]
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(path: str = "_build/timings/notebooks.json") -> None:
    data = json.loads((ROOT / path).read_text())
    fast, full = data.get("fast", {}), data.get("full", {})
    names = sorted(set(fast.get("notebooks", {})) | set(full.get("notebooks", {})))
    rows = ["| lesson | fast mode (s) | full mode (s) |", "|---|---|---|"]
    for name in names:
        cells = []
        for record in (fast, full):
            seconds = record.get("notebooks", {}).get(name)
            cells.append(f"{seconds:.0f}" if seconds is not None else "not measured")
        rows.append(f"| `{name}` | {cells[0]} | {cells[1]} |")
    for label, record in (("fast", fast), ("full", full)):
        if record:
            total = sum(record["notebooks"].values())
            rows.append(f"| all measured lessons, {label} mode | {total:.0f} s on {record['machine']} | |")
    note = (
        f"\n\nMeasured on {datetime.date.today().isoformat()} by the nbval run of the tests, one notebook "
        "at a time with torch on all cores, kernel start-up included; on a fresh clone lessons 5 and 7 "
        "really train. A lesson 'not measured' in full mode trains for a GPU budget in that mode and "
        "no GPU was available to the run. Regenerate with `scripts/lesson_timings.py` after `make test` (fast) or "
        "`COURSE_FAST=0 make test-notebooks` (full).\n"
    )
    (ROOT / "book" / "_lesson_timings.md").write_text("\n".join(rows) + note)
    print((ROOT / "book" / "_lesson_timings.md").read_text())


if __name__ == "__main__":
    main(*sys.argv[1:])
