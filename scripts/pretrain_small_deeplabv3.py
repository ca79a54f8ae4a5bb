"""Pretrain the small DeepLabV3 that lesson 6 fine-tunes offline, and write it into course_utils/weights.

Offline there are no pretrained torchvision weights, so the course ships its own: a
:func:`course_utils.finetune.small_deeplabv3` trained from random weights on the course's shapes
(six classes: background and five shapes, 64x64 scenes, train split of seed 0). Lesson 6 then
fine-tunes it for a *different* task -- new images (seed 1, larger, more clutter) and a new label set
(background / round / cornered) -- the way torchvision's COCO weights are fine-tuned for a new dataset.

Deterministic on the CPU (seeded data, batches and initialisation)::

    python scripts/pretrain_small_deeplabv3.py            # ~10 minutes on 2 cores (592 s measured)

The file name ends in the first 8 hex digits of its sha256, as torchvision's do; the script prints
the name to put into ``course_utils.finetune.COURSE_WEIGHTS``.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

import torch

from course_utils import data, finetune
from course_utils.metrics import confusion_matrix, iou_per_class, mean_iou

SOURCE = {"size": 64, "max_shapes": 3, "n_clutter": 5, "radius": (0.14, 0.26)}
ARCH = {"width": 16, "rates": (2, 4, 6), "head_channels": 32}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=10000)
    p.add_argument("--n-train", type=int, default=2048)
    p.add_argument("--out-dir", type=Path, default=Path(finetune.COURSE_WEIGHTS).parent)
    args = p.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    t0 = time.perf_counter()
    x, y = data.ShapesDataset(args.n_train, split="train", seed=0, **SOURCE).tensors()
    xv, yv = data.ShapesDataset(256, split="val", seed=0, **SOURCE).tensors()
    mean, std = x.mean((0, 2, 3)), x.std((0, 2, 3))
    norm = lambda t: (t - mean[:, None, None]) / std[:, None, None]  # noqa: E731
    print(f"data: {time.perf_counter() - t0:.1f} s")
    k = len(data.SHAPE_CLASSES)
    model = finetune.small_deeplabv3(k, **ARCH)
    freq = torch.bincount(y.ravel(), minlength=k).float()
    weights = (freq.sum() / freq) ** 0.5
    hist = finetune.train_segmenter(
        model, norm(x), y, steps=args.steps, lr=3e-3, optimizer="adamw", class_weights=weights / weights.mean()
    )
    cm = confusion_matrix(finetune.predict(model, norm(xv)), yv, k)
    print(
        f"trained {args.steps} steps in {hist.seconds:.0f} s; val mIoU {mean_iou(cm):.3f}, IoU {iou_per_class(cm).round(2)}"
    )
    meta = {
        "classes": list(data.SHAPE_CLASSES),
        "arch": {**ARCH, "rates": list(ARCH["rates"])},
        "source": {**SOURCE, "radius": list(SOURCE["radius"]), "split": "train", "seed": 0, "n_items": args.n_train},
        "mean": mean.tolist(),
        "std": std.tolist(),
        "steps": args.steps,
        "batch_size": 16,
        "optimizer": "adamw, lr 3e-3, poly, class weights 1/sqrt(frequency), aux 0.5, flips, scale 0.75-1.25",
        "seconds": round(hist.seconds, 1),
        "machine": "2 CPU cores",
        "val_miou": round(mean_iou(cm), 4),
    }
    state = {k2: v.half() if v.is_floating_point() else v for k2, v in model.state_dict().items()}
    args.out_dir.mkdir(parents=True, exist_ok=True)
    tmp = args.out_dir / "small_deeplabv3_shapes.tmp"
    torch.save({"state_dict": state, "meta": meta}, tmp)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    final = args.out_dir / f"small_deeplabv3_shapes-{digest[:8]}.pth"
    tmp.replace(final)
    print(f"wrote {final} ({final.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
