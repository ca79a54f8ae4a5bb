"""Run a lesson notebook's code cells top to bottom as one Python program, without Jupyter.

Usage (from the repository root)::

    COURSE_FAST=0 python scripts/run_notebook.py notebooks/07_discriminative_lab.ipynb
    python scripts/run_notebook.py notebooks/05_unet.ipynb --log lesson05.json

For machines that have PyTorch and a GPU but no Jupyter kernel (the lent GPU machines of
``scripts/gpu_checks.sh``): the code cells are executed in order, in one namespace, in the
notebook's folder (as the kernel would), with matplotlib's non-interactive Agg backend. Printed
output goes to the terminal; figures are closed after each cell; rich outputs (``display``)
appear as their plain-text form. Each cell's wall-clock time is printed and, with ``--log``,
written as JSON together with the run's flags and device. The first failing cell stops the run
with its index, its first line and the traceback (exit status 1).

The lessons use no IPython magics; a cell that does (a line starting with ``%`` or ``!``) is
refused with a clear message rather than mis-run. IPython itself must be importable (the
lessons import ``IPython.display``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path


def code_cells(path: Path) -> list[str]:
    """The sources of the notebook's code cells, in order (a notebook is JSON: no nbformat needed)."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise SystemExit(f"notebook: cannot read {path} as a Jupyter notebook ({err})") from None
    cells = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        for line in src.splitlines():
            if line.lstrip().startswith(("%", "!")):
                raise SystemExit(
                    f"notebook: code cell {len(cells) + 1} uses IPython syntax this runner cannot execute: {line.strip()!r}"
                )
        cells.append(src)
    return cells


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("notebook", type=Path)
    p.add_argument("--log", type=Path, default=None, help="write per-cell timings as JSON here")
    args = p.parse_args(argv)

    nb_path = args.notebook.resolve()
    log_path = args.log.resolve() if args.log else None
    cells = code_cells(nb_path)
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib.pyplot as plt

    os.chdir(nb_path.parent)  # relative paths resolve as in Jupyter
    sys.path.insert(0, str(nb_path.parent))
    namespace: dict = {"__name__": "__main__"}
    timings, status, start = [], "ok", time.perf_counter()
    for k, src in enumerate(cells):
        first = next((line for line in src.splitlines() if line.strip()), "")[:70]
        print(f"\n===== cell {k + 1}/{len(cells)}: {first}", flush=True)
        t0 = time.perf_counter()
        try:
            exec(compile(src, f"<{nb_path.name} cell {k + 1}>", "exec"), namespace)
        except BaseException:  # noqa: BLE001 - report any failure with its cell, then stop
            traceback.print_exc()
            status = f"failed in code cell {k + 1}: {first}"
            timings.append({"cell": k + 1, "first_line": first, "seconds": round(time.perf_counter() - t0, 2)})
            break
        finally:
            plt.close("all")
        timings.append({"cell": k + 1, "first_line": first, "seconds": round(time.perf_counter() - t0, 2)})
        print(f"----- cell {k + 1} took {timings[-1]['seconds']:.2f} s", flush=True)
    total = time.perf_counter() - start
    print(f"\n{nb_path.name}: {status}; {len(timings)} of {len(cells)} code cells in {total:.1f} s")
    slowest = sorted(timings, key=lambda t: -t["seconds"])[:5]
    print("slowest cells: " + "; ".join(f"{t['cell']} ({t['seconds']:.1f} s): {t['first_line']}" for t in slowest))
    if log_path:
        import torch

        device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
        flags = {k: os.environ.get(k) for k in ("COURSE_FAST", "COURSE_OFFLINE")}
        log_path.write_text(
            json.dumps(
                {
                    "notebook": nb_path.name,
                    "status": status,
                    "seconds": round(total, 1),
                    "flags": flags,
                    "device": device,
                    "torch": torch.__version__,
                    "cells": timings,
                },
                indent=1,
            )
        )
    return 0 if status == "ok" else 1


if __name__ == "__main__":
    raise SystemExit(main())
