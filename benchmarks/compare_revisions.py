"""A/B timing of the discriminative loss: the working tree against an earlier git revision.

Usage (from the repository root)::

    python benchmarks/compare_revisions.py HEAD~3                 # B=8, 256x256, D=8, 30 instances
    python benchmarks/compare_revisions.py HEAD --threads 1 --rounds 30
    python benchmarks/compare_revisions.py HEAD --quick           # a small version (a few seconds)

On a shared or virtual machine, the speed of the same code drifts by tens of percent from one
minute to the next, so two separate benchmark runs cannot tell a 10 % improvement from noise.
This script loads ``course_utils/losses.py`` as it was at ``REV`` next to the current one, in the
same process, and alternates between them run by run (the order flips every round). It checks
that both give the same losses and gradients, then prints the median and the minimum time per
forward + backward of each. Used to decide the optimisations of the fused pull function (see the
issue notes of lesson 7).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_discriminative_loss import voronoi_instances  # noqa: E402

from course_utils import losses  # noqa: E402


def losses_at(rev: str) -> types.ModuleType:
    """``course_utils.losses`` as it was at git revision ``rev`` (its relative imports resolve
    against the current ``course_utils``)."""
    try:
        source = subprocess.run(
            ["git", "show", f"{rev}:course_utils/losses.py"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout
    except (OSError, subprocess.CalledProcessError) as err:
        detail = getattr(err, "stderr", "") or err
        raise SystemExit(f"REV: cannot read course_utils/losses.py at revision {rev!r}: {str(detail).strip()}") from err
    module = types.ModuleType(f"course_utils._losses_at_{rev}")
    module.__package__ = "course_utils"
    exec(compile(source, f"losses.py@{rev}", "exec"), module.__dict__)
    return module


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("rev", help="git revision to compare with, e.g. HEAD or HEAD~3")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--dim", type=int, default=8)
    p.add_argument("--instances", type=int, default=30)
    p.add_argument("--rounds", type=int, default=20, help="timed runs of each version")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's setting)")
    p.add_argument("--quick", action="store_true", help="small setting: B=2, 64x64, 10 instances, 5 rounds")
    args = p.parse_args(argv)
    if args.quick:
        args.batch, args.size, args.instances, args.rounds = 2, 64, 10, 5
    for name in ("batch", "size", "dim", "instances", "rounds"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be >= 1, got {getattr(args, name)}")
    if args.threads is not None and args.threads < 1:
        p.error(f"--threads must be >= 1, got {args.threads}")
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    versions = {args.rev: losses_at(args.rev).discriminative_loss, "working tree": losses.discriminative_loss}
    torch.manual_seed(0)
    inst = voronoi_instances(args.batch, args.size, args.instances)
    emb = torch.randn(args.batch, args.dim, args.size, args.size)

    def run(fn):
        e = emb.detach().requires_grad_(True)
        total = fn(e, inst)[0]
        total.backward()
        return total.detach(), e.grad

    (t_a, g_a), (t_b, g_b) = (run(fn) for fn in versions.values())
    grad_diff = float((g_a - g_b).abs().max())
    if not torch.allclose(t_a, t_b, rtol=1e-5) or grad_diff > 1e-6 * float(g_a.abs().max()) + 1e-12:
        raise SystemExit(f"the two versions disagree: loss {float(t_a)} vs {float(t_b)}, max grad diff {grad_diff:.2e}")
    times = {name: [] for name in versions}
    names = list(versions)
    for r in range(args.rounds):
        for name in names if r % 2 else names[::-1]:
            t0 = time.perf_counter()
            run(versions[name])
            times[name].append(time.perf_counter() - t0)
    print(
        f"B={args.batch}, {args.size}x{args.size}, D={args.dim}, {args.instances} instances, "
        f"{torch.get_num_threads()} thread(s), {args.rounds} interleaved runs each; max grad diff {grad_diff:.1e}"
    )
    result = {}
    for name, t in times.items():
        result[name] = {"median_s": statistics.median(t), "min_s": min(t)}
        print(f"  {name:>14}: median {1000 * statistics.median(t):7.1f} ms   min {1000 * min(t):7.1f} ms")
    ratio = result[args.rev]["median_s"] / result["working tree"]["median_s"]
    print(f"working tree is {ratio:.2f}x the speed of {args.rev} (ratio of medians)")
    result["speedup"] = ratio
    return result


if __name__ == "__main__":
    main()
