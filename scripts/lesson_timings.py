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
    rows = ["| lesson | fast mode, CPU (s) | full mode |", "|---|---|---|"]
    for name, seconds in data["notebooks"].items():
        rows.append(f"| `{name}` | {seconds:.0f} | not measured here (no GPU in the build environment) |")
    total = sum(data["notebooks"].values())
    rows.append(f"| **all lessons** | **{total:.0f}** | |")
    note = (f"\n\nMeasured on {datetime.date.today().isoformat()} on {data['machine']} "
            f"(mode: {data['mode']}; one notebook at a time with torch on all cores, kernel start-up included; "
            "on a fresh clone lessons 5 and 7 really train). Regenerate with `scripts/lesson_timings.py` after `make test`.\n")
    (ROOT / "book" / "_lesson_timings.md").write_text("\n".join(rows) + note)
    print((ROOT / "book" / "_lesson_timings.md").read_text())


if __name__ == "__main__":
    main(*sys.argv[1:])
