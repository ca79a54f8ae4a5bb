"""Lesson 7's own-data path on microscopy-like nuclei: learned instances against Otsu + connected components.

    python benchmarks/owndata_nuclei.py --steps 160 --width 16          # the unit test's run (2 CPU cores)
    python benchmarks/owndata_nuclei.py --steps 3000 --width 32         # a real budget (GPU)

Trains :func:`course_utils.lab.owndata.fit` on random tiles of three 96x128 12-bit images of
:func:`course_utils.data.fluorescent_nuclei`, picks the clustering radius on those training
images, and scores two held-out images of another size (84x110) whole and tile by tile, next to
the strongest simple baseline: an Otsu threshold and connected components.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from skimage.filters import threshold_otsu
from skimage.measure import label as connected_components

from course_utils import metrics
from course_utils.data import fluorescent_nuclei
from course_utils.lab import owndata


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=160)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--tile", type=int, default=48)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = p.parse_args(argv)

    train = owndata.InstancePairs([fluorescent_nuclei(s, 96, 128, 28) for s in range(3)])
    test = owndata.InstancePairs([fluorescent_nuclei(10 + s, 84, 110, 24) for s in range(2)])
    otsu = []
    for image, labels in test:
        gray = image[0].numpy()
        pred = connected_components(gray > threshold_otsu(gray), connectivity=1)
        otsu.append(metrics.symmetric_best_dice(pred, labels.numpy()))

    t0 = time.perf_counter()
    result = owndata.fit(train, tile=args.tile, steps=args.steps, batch_size=args.batch_size, width=args.width,
                         lr=args.lr, seed=args.seed, progress=False)  # fmt: skip
    radius = owndata.choose_radius(result.model, train)
    whole = owndata.evaluate(result.model, test, radius=radius)
    tiled = owndata.evaluate(result.model, test, radius=radius, tile=args.tile)
    device = str(next(result.model.parameters()).device)
    out = {
        "settings": result.settings,
        "device": torch.cuda.get_device_name(0)
        if device.startswith("cuda")
        else f"cpu ({torch.get_num_threads()} threads)",
        "train_seconds": round(result.seconds, 1),
        "total_seconds": round(time.perf_counter() - t0, 1),
        "radius": radius,
        "sbd_whole": round(whole["sbd_mean"], 3),
        "sbd_tiled": round(tiled["sbd_mean"], 3),
        "sbd_otsu_cc": round(float(np.mean(otsu)), 3),
        "abs_dic_whole": whole["abs_dic_mean"],
    }
    print(json.dumps(out, indent=1))
    if args.out:
        args.out.write_text(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
