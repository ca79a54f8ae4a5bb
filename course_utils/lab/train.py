"""Train a pixel-embedding network with the discriminative loss -- on one device or many.

Standalone (one process, GPU if there is one)::

    python -m course_utils.lab.train --steps 500 --batch-size 8 --image-size 128 --out checkpoints/lab.pt

Data-parallel over N processes (one per GPU with NCCL; on a CPU-only machine, N processes with
gloo)::

    torchrun --standalone --nproc_per_node=N -m course_utils.lab.train --steps 500 --out checkpoints/lab.pt

What is distributed and how:

* ``torchrun`` starts N processes and sets ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE``; this script
  then joins the process group (``nccl`` when it uses CUDA, ``gloo`` on the CPU).
* Every rank builds the model from the same seed; ``DistributedDataParallel`` also broadcasts rank
  0's weights at start-up and averages the gradients over the ranks at every step, so all ranks
  apply the same update and keep identical weights.
* A ``DistributedSampler`` hands each rank a disjoint shard of each epoch (reshuffled per epoch
  with ``set_epoch``); ``--batch-size`` is per process, the global batch is N times larger.
* Only rank 0 shows the progress bar, logs and writes the checkpoint. ``--rank-state-dir`` makes
  *every* rank save its final weights, so a test can check that they agree.

The model normalises with GroupNorm (no running statistics that could drift apart between
ranks). On CUDA the forward pass runs under ``torch.autocast``: bfloat16 where the GPU has it
natively, else float16 with a gradient scaler (:func:`course_utils.runtime.amp_dtype_for`);
the loss itself is always computed in float32 (see :func:`course_utils.losses.discriminative_loss`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, DistributedSampler

from ..losses import discriminative_loss
from ..runtime import amp_dtype_for
from .embedding import EmbeddingNet, pixel_coordinates

__all__ = [
    "EmbeddingNet",
    "pixel_coordinates",
    "build_dataset",
    "parse_args",
    "main",
    "evaluate",
    "state_hash",
    "load_checkpoint",
]


# The model, EmbeddingNet, lives in course_utils.lab.embedding (re-exported here).


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------
def build_dataset(name: str, n: int, size: int, n_instances: int, split: str, seed: int):
    """The lesson-7 instance datasets of :mod:`course_utils.data`, cached in memory.

    ``sticks``: :class:`~course_utils.data.ScatteredSticks` with ``n_instances`` sticks;
    ``blobs``: :class:`~course_utils.data.TouchingBlobs` with ``n_instances`` Voronoi cells.
    Items are (image (3, H, W) float32, labels (H, W) int64); every label, background included,
    is an instance for the loss.
    """
    from .. import data

    if name == "sticks":
        ds = data.ScatteredSticks(n_items=n, size=size, n_sticks=n_instances, split=split, seed=seed)
    elif name == "blobs":
        ds = data.TouchingBlobs(n_items=n, size=size, n_cells=n_instances, split=split, seed=seed)
    else:
        raise ValueError(f"dataset: expected 'sticks' or 'blobs', got {name!r}")
    return _Cached(ds)


class _Cached(torch.utils.data.Dataset):
    """Generate each item once (the generators are deterministic but not free)."""

    def __init__(self, ds):
        self.ds, self.cache = ds, {}

    def __len__(self):
        return len(self.ds)

    def __getitem__(self, i):
        if i not in self.cache:
            self.cache[i] = self.ds[i]
        return self.cache[i]


# ---------------------------------------------------------------------------------------------
# Distributed set-up
# ---------------------------------------------------------------------------------------------
def _setup(device_arg: str):
    """Join the process group when launched by torchrun; return (rank, world, device)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = device_arg == "cuda" or (device_arg == "auto" and torch.cuda.is_available())
    if use_cuda and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was requested but torch.cuda.is_available() is False")
    if use_cuda:
        if world > torch.cuda.device_count():
            raise RuntimeError(
                f"{world} processes but only {torch.cuda.device_count()} GPUs; use --device cpu or fewer processes"
            )
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if world > 1:
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return rank, world, device


def state_hash(model: nn.Module) -> str:
    """SHA-256 of all parameters and buffers (bitwise), to compare replicas."""
    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m course_utils.lab.train",
        description="Train a pixel-embedding network with the discriminative loss (single process or torchrun/DDP).",
    )
    p.add_argument("--steps", type=int, default=500, help="optimiser steps (default 500)")
    p.add_argument("--batch-size", type=int, default=8, help="images per step *per process* (default 8)")
    p.add_argument("--image-size", type=int, default=128, help="square image side, a multiple of 4 (default 128)")
    p.add_argument("--dataset", choices=["sticks", "blobs"], default="sticks")
    p.add_argument("--n-train", type=int, default=256, help="training images (default 256)")
    p.add_argument("--n-instances", type=int, default=8, help="sticks (or blob cells) per image (default 8)")
    p.add_argument("--dim", type=int, default=8, help="embedding dimension D (default 8, as in the paper)")
    p.add_argument("--width", type=int, default=32, help="channels of the first layer (default 32)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--delta-v", type=float, default=0.5)
    p.add_argument("--delta-d", type=float, default=1.5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument(
        "--amp",
        choices=["auto", "on", "off"],
        default="auto",
        help="mixed precision on CUDA: bfloat16 where native, else float16 ('auto' = on for CUDA, off on CPU)",
    )
    p.add_argument("--num-workers", type=int, default=0, help="DataLoader workers per process")
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument(
        "--out",
        type=Path,
        default=Path("checkpoints/lab_embedding.pt"),
        help="checkpoint written by rank 0 (model weights, args, loss history)",
    )
    p.add_argument(
        "--rank-state-dir",
        type=Path,
        default=None,
        help="if given, every rank writes rank<R>.pt (its weights) and rank<R>.json (hash) there",
    )
    p.add_argument(
        "--eval",
        type=int,
        default=0,
        metavar="N",
        help="after training, rank 0 clusters the embeddings of N held-out test images "
        "(seeded mean-shift) and reports the mean symmetric best Dice (default 0: skip)",
    )
    p.add_argument(
        "--eval-radius",
        type=float,
        default=None,
        help="mean-shift ball radius for --eval (default: delta-d; the paper thresholds at delta-v)",
    )
    p.add_argument("--no-progress", action="store_true", help="no tqdm bar (logs only)")
    args = p.parse_args(argv)
    for name in ("steps", "batch_size", "n_train", "n_instances", "dim", "width", "log_every"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.image_size < 16 or args.image_size % 4:
        p.error(f"--image-size must be a multiple of 4 and >= 16, got {args.image_size}")
    if args.eval < 0:
        p.error(f"--eval must be >= 0, got {args.eval}")
    if args.eval_radius is not None and not (args.eval_radius > 0 and math.isfinite(args.eval_radius)):
        p.error(f"--eval-radius must be a positive number, got {args.eval_radius}")
    if args.num_workers < 0:
        p.error(f"--num-workers must be >= 0, got {args.num_workers}")
    if not (args.lr > 0 and math.isfinite(args.lr)):
        p.error(f"--lr must be a positive number, got {args.lr}")
    if args.delta_v < 0 or args.delta_d < 0:
        p.error(f"--delta-v and --delta-d must be >= 0, got {args.delta_v} and {args.delta_d}")
    return args


def _batches(loader: DataLoader, sampler):
    """Endless iterator over the loader, reshuffling each epoch (DistributedSampler.set_epoch)."""
    epoch = 0
    while True:
        if sampler is not None:
            sampler.set_epoch(epoch)
        yield from loader
        epoch += 1


def main(argv=None) -> dict:
    """Train; return a summary dict (rank, world size, final loss terms, weight hash, seconds)."""
    args = parse_args(argv)
    rank, world, device = _setup(args.device)
    try:
        return _train(args, rank, world, device)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def _train(args, rank: int, world: int, device: torch.device) -> dict:
    from tqdm.auto import tqdm

    torch.manual_seed(args.seed)  # same initial weights on every rank
    ds = build_dataset(args.dataset, args.n_train, args.image_size, args.n_instances, "train", args.seed)
    if len(ds) < args.batch_size * world:
        raise ValueError(
            f"--n-train {args.n_train} is smaller than one global batch ({args.batch_size} x {world} processes)"
        )
    sampler = (
        DistributedSampler(ds, num_replicas=world, rank=rank, shuffle=True, seed=args.seed, drop_last=True)
        if world > 1
        else None
    )
    gen = torch.Generator().manual_seed(args.seed)
    loader = DataLoader(
        ds,
        batch_size=args.batch_size,
        shuffle=sampler is None,
        sampler=sampler,
        drop_last=True,
        num_workers=args.num_workers,
        generator=gen,
        pin_memory=device.type == "cuda",
    )

    model = EmbeddingNet(dim=args.dim, width=args.width, coord_length=args.image_size).to(device)
    net = DDP(model, device_ids=[device.index] if device.type == "cuda" else None) if world > 1 else model
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.steps)
    amp_dtype = amp_dtype_for(device) if args.amp != "off" else None  # bf16 where native, else fp16
    use_amp = amp_dtype is not None
    if args.amp == "on" and device.type != "cuda":
        print("--amp on: mixed precision is only used on CUDA; training in float32 on the CPU", file=sys.stderr)
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)  # bf16 needs no scaler

    if rank == 0:
        print(
            f"training on {device} x {world} process(es) ({'nccl' if device.type == 'cuda' and world > 1 else 'gloo' if world > 1 else 'single process'}), "
            f"global batch {args.batch_size * world}, {args.steps} steps, {sum(p.numel() for p in model.parameters())} parameters, "
            f"mixed precision {str(amp_dtype).replace('torch.', '') if use_amp else 'off'}",
            flush=True,
        )
    history = []
    first_batch = None
    t0 = time.perf_counter()
    bar = tqdm(total=args.steps, desc="train", disable=rank != 0 or args.no_progress)
    batches = _batches(loader, sampler)
    for step in range(1, args.steps + 1):
        images, labels = next(batches)
        if first_batch is None:  # which data this rank saw first (ranks get different shards)
            first_batch = hashlib.sha256(labels.numpy().tobytes()).hexdigest()
        images = images.to(device, non_blocking=True)
        labels = labels.to(device, non_blocking=True)
        with torch.autocast(device_type=device.type, dtype=amp_dtype, enabled=use_amp):
            emb = net(images)
        total, var, dist_term, reg = discriminative_loss(emb, labels, delta_v=args.delta_v, delta_d=args.delta_d)
        opt.zero_grad(set_to_none=True)
        scaler.scale(total).backward()
        scaler.step(opt)
        scaler.update()
        sched.step()
        if step % args.log_every == 0 or step == args.steps:
            terms = torch.stack([total, var, dist_term, reg]).detach()
            if world > 1:  # mean over ranks, for the log only
                dist.all_reduce(terms)
                terms /= world
            rec = dict(zip(("step", "total", "var", "dist", "reg"), [step] + [float(v) for v in terms]))
            history.append(rec)
            bar.set_postfix(loss=f"{rec['total']:.3f}")
        bar.update(1)
    bar.close()
    seconds = time.perf_counter() - t0
    digest = state_hash(model)
    summary = {
        "rank": rank,
        "world_size": world,
        "device": str(device),
        "steps": args.steps,
        "seconds": seconds,
        "final": history[-1],
        "history": history,
        "state_sha256": digest,
        "first_batch_sha256": first_batch,
    }
    if args.rank_state_dir is not None:
        args.rank_state_dir.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), args.rank_state_dir / f"rank{rank}.pt")
        (args.rank_state_dir / f"rank{rank}.json").write_text(json.dumps(summary, indent=2))
    if rank == 0 and args.eval:
        summary["eval"] = evaluate(model, args, device)
        print(
            f"held-out SBD over {args.eval} test images (mean-shift radius {summary['eval']['radius']:g}): "
            f"{summary['eval']['sbd_mean']:.3f} "
            f"(|DiC| {summary['eval']['abs_dic_mean']:.2f})",
            flush=True,
        )
    if rank == 0:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        cfg = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
        torch.save(
            {
                "model": model.state_dict(),
                "args": cfg,
                "history": history,
                "world_size": world,
                "seconds": seconds,
                "state_sha256": digest,
                "eval": summary.get("eval"),
            },
            args.out,
        )
        f = history[-1]
        print(
            f"done in {seconds:.1f} s: loss {f['total']:.4f} (var {f['var']:.4f}, dist {f['dist']:.4f}, "
            f"reg {f['reg']:.4f}); weights sha256 {digest[:16]}; checkpoint {args.out}",
            flush=True,
        )
    return summary


@torch.no_grad()
def evaluate(model: nn.Module, args, device: torch.device) -> dict:
    """Cluster the embeddings of ``args.eval`` held-out test images and score them.

    Seeded mean-shift from :mod:`course_utils.clustering` with ball radius ``args.eval_radius``
    (clusters under 1/500 of the image merged away); the largest cluster is called background;
    symmetric best Dice and |DiC| (CVPPP definitions) from :mod:`course_utils.metrics` against the
    true instances (background 0). Radius: once the loss is at its floor every pixel lies within
    ``delta_v`` of its mean and means are at least ``2 delta_d`` apart, so any radius between
    ``delta_v`` (the paper's threshold) and ``2 delta_d - delta_v`` separates the instances. The
    default ``delta_d`` sits inside that range and tolerates a pull term that has not converged
    (short runs), where ``delta_v`` over-segments.
    """
    from ..clustering import seeded_mean_shift
    from ..labels import relabel_by_size
    from ..metrics import abs_diff_count, symmetric_best_dice

    radius = args.delta_d if getattr(args, "eval_radius", None) is None else args.eval_radius
    test = build_dataset(args.dataset, args.eval, args.image_size, args.n_instances, "test", args.seed)
    model.eval()
    sbd, dic = [], []
    for i in range(len(test)):
        image, labels = test[i]
        emb = model(image[None].to(device)).float()[0].cpu()
        pred = seeded_mean_shift(emb, radius, min_size=max(1, labels.numel() // 500), seed=args.seed)
        pred = relabel_by_size(pred)
        sbd.append(symmetric_best_dice(pred, labels.numpy()))
        dic.append(abs_diff_count(pred, labels.numpy()))
    model.train()
    return {
        "n": len(test),
        "radius": radius,
        "sbd": sbd,
        "abs_dic": dic,
        "sbd_mean": sum(sbd) / len(sbd),
        "abs_dic_mean": sum(dic) / len(dic),
    }


def load_checkpoint(path, device="cpu") -> tuple[EmbeddingNet, dict]:
    """Rebuild the model saved by :func:`main`; returns (model in eval mode, checkpoint dict)."""
    ckpt = torch.load(path, map_location=device, weights_only=False)
    cfg = ckpt["args"]
    model = EmbeddingNet(dim=cfg["dim"], width=cfg["width"], coord_length=cfg.get("image_size", 64)).to(device)
    model.load_state_dict(ckpt["model"])
    return model.eval(), ckpt


if __name__ == "__main__":
    main()
