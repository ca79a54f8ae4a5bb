"""Time the vectorised discriminative loss against the per-instance loop, forward + backward.

Usage (from the repository root)::

    python benchmarks/bench_discriminative_loss.py                      # B=8, 256x256, D=8, 30 instances
    python benchmarks/bench_discriminative_loss.py --device cpu --out benchmarks/results/discriminative_loss_cpu.json
    python benchmarks/bench_discriminative_loss.py --quick              # a small version (a few seconds)

Both implementations live in ``course_utils.losses``: ``discriminative_loss`` (vectorised over the
batch and the instances) and ``discriminative_loss_reference`` (a Python loop over images and
instances, with a per-image pairwise matrix for the push term). Instance maps are Voronoi
partitions with exactly ``--instances`` cells per image. Each timing is the median over
``--repeats`` runs of one forward and one backward pass, after ``--warmup`` untimed runs; CUDA
runs are synchronised. The two implementations' losses and gradients are compared on the same
input, and the result is written as JSON (``--out``) and Markdown (same path, ``.md``).

The GPU row is measured only when ``torch.cuda.is_available()``; otherwise it is skipped with a
message. Timings on a shared machine are inflated: the 1-minute load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without install
from course_utils.losses import discriminative_loss, discriminative_loss_reference  # noqa: E402

IMPLEMENTATIONS = {"vectorised": discriminative_loss, "loop": discriminative_loss_reference}
TARGET_SPEEDUP = {"cpu": 10.0, "cuda": 30.0}  # the course's targets (issue 5), reported as met / not met


def voronoi_instances(batch: int, size: int, n_instances: int, seed: int = 0) -> torch.Tensor:
    """(batch, size, size) int64 labels 0..n_instances-1: nearest of n_instances random seeds."""
    g = torch.Generator().manual_seed(seed)
    out = torch.empty(batch, size, size, dtype=torch.long)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    pix = torch.stack([yy.flatten(), xx.flatten()], 1).float()
    for b in range(batch):
        for _ in range(100):  # redraw until every seed owns at least one pixel
            seeds = torch.rand(n_instances, 2, generator=g) * size
            lab = torch.cdist(pix, seeds).argmin(1)
            if lab.unique().numel() == n_instances:
                break
        out[b] = lab.reshape(size, size)
    return out


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_fwd_bwd(fn, emb: torch.Tensor, inst: torch.Tensor, repeats: int, warmup: int) -> list[float]:
    """Seconds per forward+backward for each of ``repeats`` timed runs."""
    times = []
    for r in range(warmup + repeats):
        e = emb.detach().requires_grad_(True)
        _sync(emb.device)
        t0 = time.perf_counter()
        total = fn(e, inst)[0]
        total.backward()
        _sync(emb.device)
        if r >= warmup:
            times.append(time.perf_counter() - t0)
    return times


def bench_device(device: torch.device, args) -> dict:
    torch.manual_seed(args.seed)
    inst = voronoi_instances(args.batch, args.size, args.instances, args.seed).to(device)
    emb = torch.randn(args.batch, args.dim, args.size, args.size).to(device)
    # correctness on the benchmark input: same losses and gradients
    outs, grads = {}, {}
    for name, fn in IMPLEMENTATIONS.items():
        e = emb.detach().requires_grad_(True)
        total = fn(e, inst)[0]
        total.backward()
        outs[name], grads[name] = total.item(), e.grad
    row = {
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else (platform.processor() or platform.machine()),
        "threads": torch.get_num_threads(),
        "loss_vectorised": outs["vectorised"],
        "loss_loop": outs["loop"],
        "max_abs_grad_diff": float((grads["vectorised"] - grads["loop"]).abs().max()),
    }
    # Interleaved rounds (a few vectorised runs, then one loop run) so that both implementations
    # see the same background load on a shared machine.
    times = {"vectorised": [], "loop": []}
    per_round = -(-args.repeats // args.loop_repeats)
    for _ in range(args.warmup):
        for fn in IMPLEMENTATIONS.values():
            time_fwd_bwd(fn, emb, inst, 1, 0)
    for _ in range(args.loop_repeats):
        times["vectorised"] += time_fwd_bwd(discriminative_loss, emb, inst, per_round, 0)
        times["loop"] += time_fwd_bwd(discriminative_loss_reference, emb, inst, 1, 0)
    for name, t in times.items():
        row[f"{name}_s"] = statistics.median(t)
        row[f"{name}_all_s"] = t
    row["speedup"] = row["loop_s"] / row["vectorised_s"]
    row["target_speedup"] = TARGET_SPEEDUP[device.type]
    row["target_met"] = row["speedup"] >= row["target_speedup"]
    return row


def to_markdown(result: dict) -> str:
    c = result["config"]
    lines = [
        f"Discriminative loss, forward + backward: B={c['batch']}, {c['size']}x{c['size']}, D={c['dim']}, "
        f"{c['instances']} instances per image (median of {len(result['rows'][0]['vectorised_all_s']) if result['rows'] else c['repeats']} "
        f"vectorised / {c['loop_repeats']} loop runs, interleaved)",
        "",
        "| device | threads | per-instance loop (ms) | vectorised (ms) | speed-up | target | max abs grad diff |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['device']} ({r['device_name']}) | {r['threads']} | {1000 * r['loop_s']:.1f} | "
            f"{1000 * r['vectorised_s']:.1f} | {r['speedup']:.1f}x | >= {r['target_speedup']:.0f}x: "
            f"{'met' if r['target_met'] else 'not met'} | {r['max_abs_grad_diff']:.1e} |"
        )
    for s in result["skipped"]:
        lines.append(f"| {s['device']} | - | skipped | skipped | - | - | {s['reason']} |")
    m = result["machine"]
    lines += [
        "",
        f"torch {m['torch']}, Python {m['python']}, {m['platform']}, 1-min load average {m['load_average_1min']}, "
        f"{m['cpu_count']} CPUs, measured {m['date']}.",
    ]
    return "\n".join(lines) + "\n"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--device",
        choices=["all", "cpu", "cuda"],
        default="all",
        help="'all' = CPU, plus the GPU when one is present (default)",
    )
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--dim", type=int, default=8)
    p.add_argument("--instances", type=int, default=30)
    p.add_argument("--repeats", type=int, default=10, help="timed runs of the vectorised loss")
    p.add_argument("--loop-repeats", type=int, default=3, help="timed runs of the (slow) loop")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=None,
        help="CPU thread counts to time, e.g. --threads 1 2 (default: torch's current setting)",
    )
    p.add_argument("--quick", action="store_true", help="small setting: B=2, 64x64, D=8, 10 instances")
    p.add_argument("--out", type=Path, default=None, help="JSON output path; a .md table is written next to it")
    args = p.parse_args(argv)
    if args.quick:
        args.batch, args.size, args.instances, args.repeats, args.loop_repeats = 2, 64, 10, 5, 2
    for name in ("batch", "size", "dim", "instances", "repeats", "loop_repeats"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.warmup < 0:
        p.error(f"--warmup must be >= 0, got {args.warmup}")
    for t in args.threads or []:
        if t < 1:
            p.error(f"--threads must be >= 1, got {t}")
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    devices, skipped = [], []
    if args.device in ("all", "cpu"):
        devices.append(torch.device("cpu"))
    if args.device in ("all", "cuda"):
        if torch.cuda.is_available():
            devices.append(torch.device("cuda"))
        else:
            msg = "no CUDA GPU on this machine (torch.cuda.is_available() is False)"
            print(f"GPU benchmark skipped: {msg}")
            skipped.append({"device": "cuda", "reason": msg})
    rows = []
    default_threads = torch.get_num_threads()
    for dev in devices:
        for n_threads in (args.threads or [default_threads]) if dev.type == "cpu" else [default_threads]:
            torch.set_num_threads(n_threads)
            print(f"timing on {dev} with {n_threads} CPU thread(s) ...", flush=True)
            rows.append(bench_device(dev, args))
    torch.set_num_threads(default_threads)
    result = {
        "config": {
            k: getattr(args, k)
            for k in ("batch", "size", "dim", "instances", "repeats", "loop_repeats", "warmup", "seed", "threads")
        },
        "rows": rows,
        "skipped": skipped,
        "machine": {
            "torch": torch.__version__,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        },
    }
    md = to_markdown(result)
    result["markdown"] = md
    print(md)
    for r in rows:
        print(
            f"{r['device']} ({r['threads']} thread(s)): vectorised is {r['speedup']:.1f}x faster than the per-instance loop"
        )
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        args.out.with_suffix(".md").write_text(md)
        print(f"wrote {args.out} and {args.out.with_suffix('.md')}")
    return result


if __name__ == "__main__":
    main()
