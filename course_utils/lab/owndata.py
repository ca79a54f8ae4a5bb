"""Train the lab's embedding network on your own images and instance masks.

A few lines take a reader from their own data (a microscopy image and its nuclei mask, say) to
instances::

    from course_utils.lab import owndata

    pairs = owndata.InstancePairs([(image, mask), ...])   # any size; gray or RGB; uint8, uint16 or float
    result = owndata.fit(pairs, tile=64, steps=400)        # random tiles, discriminative loss + foreground
    radius = owndata.choose_radius(result.model, pairs)    # on training images, in [delta_v, 2 delta_d - delta_v)
    labels = owndata.segment(result.model, new_image, radius=radius)   # whole image in one pass
    print(owndata.evaluate(result.model, held_out_pairs, radius=radius)["sbd_mean"])

The network is :class:`course_utils.lab.train.EmbeddingNet` (the paper's unbounded embedding) with
one extra output channel: a foreground logit, trained with binary cross-entropy, so that only
object pixels are clustered (the paper's semantic mask). Its coordinate channels are in units of
the training tile (:func:`course_utils.lab.train.pixel_coordinates`) and every tile is given its
place in the image, so a network trained on tiles runs on a whole image of any size, or on tiles
again (``tile=``), with the same inputs per pixel.

Shapes: images (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) (alpha dropped), or (C, H, W) tensors;
instance masks (H, W) of non-negative integers, 0 = background, every other value one instance.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._validate import check_float, check_int, describe_value
from ..data.pairs import IGNORE, InstancePairs, as_image, as_instance_labels
from ..losses import discriminative_loss
from ..runtime import amp_dtype_for
from .train import EmbeddingNet

__all__ = [
    "IGNORE",
    "InstanceNet",
    "InstancePairs",
    "FitResult",
    "as_image",
    "as_instance_labels",
    "fit",
    "embed",
    "segment",
    "evaluate",
    "choose_radius",
]


class InstanceNet(nn.Module):
    """:class:`~course_utils.lab.train.EmbeddingNet` with one more channel, a foreground logit.

    Args:
        dim: embedding dimension D (the paper uses 8).
        width: channels of the first stage.
        coord_length: unit length of the coordinate channels in pixels (the training tile size).

    It normalises with BatchNorm, so that in eval mode a pixel's output depends only on the pixels
    around it, not on the size of the input (GroupNorm would normalise by statistics of the whole
    input, and a tile would see other statistics than the whole image).
    ``forward(x, origin=None)`` returns ``(embedding (B, D, H, W), foreground logits (B, H, W))``.
    """

    def __init__(self, dim: int = 8, width: int = 32, coord_length: float = 64.0):
        super().__init__()
        self.dim = check_int(dim, "dim", min_value=1)
        self.net = EmbeddingNet(dim=dim + 1, width=width, coord_length=coord_length, norm="batch")

    def forward(self, x: torch.Tensor, origin: torch.Tensor | tuple[int, int] | None = None):
        """Embed (B, 3, H, W) images placed at ``origin``: (embedding (B, D, H, W), logits (B, H, W))."""
        out = self.net(x, origin)
        return out[:, : self.dim], out[:, self.dim]


@dataclass
class FitResult:
    """What :func:`fit` returns: the trained model (eval mode), its settings and its loss history."""

    model: InstanceNet
    settings: dict
    seconds: float
    history: list[dict] = field(default_factory=list)


def _instance_loss(emb, fg_logit, labels, delta_v, delta_d):
    valid = labels != IGNORE
    inst = torch.where(labels > 0, labels, torch.full_like(labels, IGNORE))  # background: not an instance
    total, var, dist, reg = discriminative_loss(emb, inst, delta_v=delta_v, delta_d=delta_d, ignore_index=IGNORE)
    bce = F.binary_cross_entropy_with_logits(fg_logit.float()[valid], (labels[valid] > 0).float())
    return total + bce, dict(var=var.item(), dist=dist.item(), reg=reg.item(), fg=bce.item())


def fit(
    pairs: InstancePairs,
    *,
    tile: int = 64,
    steps: int = 400,
    batch_size: int = 8,
    lr: float = 2e-3,
    dim: int = 8,
    width: int = 32,
    delta_v: float = 0.5,
    delta_d: float = 1.5,
    device: str | torch.device | None = None,
    seed: int = 0,
    progress: bool = True,
) -> FitResult:
    """Train an :class:`InstanceNet` on random tiles of ``pairs``.

    Loss: the discriminative loss over the instances (background pixels take no part, as in the
    paper) plus binary cross-entropy of the foreground logit. Adam with a cosine schedule; on
    CUDA, mixed precision by capability (bfloat16 where native, else float16 with a gradient
    scaler: :func:`course_utils.runtime.amp_dtype_for`).

    Args:
        pairs: the training data (:class:`InstancePairs`).
        tile: side of the training tiles in pixels, a multiple of 4; also the coordinates' unit.
        steps: optimiser steps.
        batch_size: tiles per step.
        lr: peak learning rate.
        dim: embedding dimension.
        width: network width.
        delta_v: pull margin of the discriminative loss.
        delta_d: push margin.
        device: where to train (default: CUDA if there is one, else the CPU).
        seed: seeds the weights and the tiles.
        progress: show a tqdm bar.

    Returns:
        A :class:`FitResult`; ``result.model`` is in eval mode.
    """
    from tqdm.auto import tqdm

    if not isinstance(pairs, InstancePairs):
        raise TypeError(
            f"pairs: expected an InstancePairs (wrap your list: InstancePairs(pairs)), got {describe_value(pairs)}"
        )
    tile = check_int(tile, "tile", min_value=16)
    if tile % 4:
        raise ValueError(f"tile: expected a multiple of 4 (the network pools twice), got {tile}")
    steps = check_int(steps, "steps", min_value=1)
    batch_size = check_int(batch_size, "batch_size", min_value=1)
    lr = check_float(lr, "lr", min_value=0.0)
    delta_v = check_float(delta_v, "delta_v", min_value=0.0)
    delta_d = check_float(delta_d, "delta_d", min_value=0.0)
    if not 2 * delta_d > delta_v:
        raise ValueError(f"delta_d: expected 2 * delta_d > delta_v, got delta_v={delta_v}, delta_d={delta_d}")
    device = torch.device(device if device is not None else ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = InstanceNet(dim=dim, width=width, coord_length=tile).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    amp_dtype = amp_dtype_for(device)
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)
    history, t0 = [], time.perf_counter()
    model.train()
    for step in tqdm(range(1, steps + 1), desc="train", disable=not progress):
        images, labels, origins = pairs.random_tiles(batch_size, tile, gen)
        images, labels, origins = images.to(device), labels.to(device), origins.to(device)
        with torch.autocast(device_type=device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            emb, fg = model(images, origins)
        loss, terms = _instance_loss(emb.float(), fg, labels, delta_v, delta_d)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        sched.step()
        history.append(dict(step=step, total=loss.item(), **terms))
    settings = dict(tile=tile, steps=steps, batch_size=batch_size, lr=lr, dim=dim, width=width,
                    delta_v=delta_v, delta_d=delta_d, seed=seed)  # fmt: skip
    return FitResult(model.eval(), settings, time.perf_counter() - t0, history)


@torch.no_grad()
def embed(
    model: InstanceNet, image: Any, *, tile: int | None = None, margin: int = 16, normalize: str = "auto"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Embeddings and foreground probabilities of one image, in one pass or tile by tile.

    Args:
        model: a trained :class:`InstanceNet`.
        image: one image (see :func:`as_image`), any size.
        tile: ``None``: the whole image in one pass; else the side of the tiles (a multiple of 4),
            each run with ``margin`` pixels of context on every side and placed by its origin.
        margin: context around each tile, in pixels (rounded up to a multiple of 4).
        normalize: passed to :func:`as_image`.

    Returns:
        ``(embedding (D, H, W), foreground probability (H, W))`` on the CPU.
    """
    if not isinstance(model, InstanceNet):
        raise TypeError(f"model: expected an InstanceNet (fit(...).model), got {describe_value(model)}")
    x = as_image(image, normalize=normalize)
    h, w = x.shape[1:]
    device = next(model.parameters()).device
    model.eval()

    def run(y0: int, x0: int, y1: int, x1: int) -> tuple[torch.Tensor, torch.Tensor]:
        crop = x[:, y0:y1, x0:x1]
        ph, pw = (-crop.shape[1]) % 4, (-crop.shape[2]) % 4
        crop = F.pad(crop[None], (0, pw, 0, ph), mode="replicate") if ph or pw else crop[None]
        emb, fg = model(crop.to(device), (y0, x0))
        return emb[0, :, : y1 - y0, : x1 - x0].float().cpu(), torch.sigmoid(fg[0, : y1 - y0, : x1 - x0].float()).cpu()

    if tile is None:
        return run(0, 0, h, w)
    tile = check_int(tile, "tile", min_value=4)
    if tile % 4:
        raise ValueError(f"tile: expected a multiple of 4, got {tile}")
    m = 4 * math.ceil(check_int(margin, "margin", min_value=0) / 4)
    emb_out, fg_out = torch.zeros(model.dim, h, w), torch.zeros(h, w)
    for ty in range(0, h, tile):
        for tx in range(0, w, tile):
            y0, x0 = max(ty - m, 0), max(tx - m, 0)
            y1, x1 = min(ty + tile + m, h), min(tx + tile + m, w)
            e, f = run(y0, x0, y1, x1)
            cy, cx = ty - y0, tx - x0
            th, tw = min(tile, h - ty), min(tile, w - tx)
            emb_out[:, ty : ty + th, tx : tx + tw] = e[:, cy : cy + th, cx : cx + tw]
            fg_out[ty : ty + th, tx : tx + tw] = f[cy : cy + th, cx : cx + tw]
    return emb_out, fg_out


def segment(
    model: InstanceNet,
    image: Any,
    *,
    radius: float,
    threshold: float = 0.5,
    tile: int | None = None,
    min_size: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Instances of one image: foreground, then mean-shift on the foreground embeddings.

    Foreground where the probability exceeds ``threshold``; then the paper's seeded mean-shift
    with ball ``radius`` on the embeddings of those pixels only.

    Args:
        model: a trained :class:`InstanceNet`.
        image: one image (see :func:`as_image`).
        radius: clustering radius in embedding units; any value in [delta_v, 2 delta_d - delta_v)
            separates instances once the loss is at its floor (:func:`choose_radius` picks one).
        threshold: foreground probability threshold in (0, 1).
        tile: see :func:`embed`.
        min_size: smallest instance in pixels (default: 1/1000 of the image, at least 4).
        seed: seed of the mean-shift.

    Returns:
        (H, W) int64 labels: 0 background, 1..K instances.
    """
    from ..clustering import seeded_mean_shift

    threshold = check_float(threshold, "threshold", min_value=0.0, max_value=1.0)
    emb, fg = embed(model, image, tile=tile)
    mask = (fg > threshold).numpy()
    if not mask.any():
        return np.zeros(mask.shape, np.int64)
    if min_size is None:
        min_size = max(4, mask.size // 1000)
    return seeded_mean_shift(emb, radius, mask=mask, min_size=min_size, seed=seed)


def evaluate(
    model: InstanceNet, pairs: InstancePairs, *, radius: float, tile: int | None = None, threshold: float = 0.5
) -> dict:
    """Segment every image of ``pairs`` and score it: symmetric best Dice and |DiC| (CVPPP).

    Returns:
        ``{"sbd": [...], "abs_dic": [...], "sbd_mean": float, "abs_dic_mean": float, "radius": radius}``.
    """
    from ..metrics import abs_diff_count, symmetric_best_dice

    if not isinstance(pairs, InstancePairs):
        raise TypeError(f"pairs: expected an InstancePairs, got {describe_value(pairs)}")
    sbd, dic = [], []
    for image, labels in pairs:
        pred = segment(model, image, radius=radius, threshold=threshold, tile=tile)
        sbd.append(symmetric_best_dice(pred, labels.numpy()))
        dic.append(abs_diff_count(pred, labels.numpy()))
    return dict(sbd=sbd, abs_dic=dic, sbd_mean=float(np.mean(sbd)), abs_dic_mean=float(np.mean(dic)), radius=radius)


def choose_radius(
    model: InstanceNet, pairs: InstancePairs, *, delta_v: float = 0.5, delta_d: float = 1.5, n: int = 6
) -> float:
    """The clustering radius with the best mean SBD on ``pairs``.

    The candidates are ``n`` evenly spaced values of the safe interval [delta_v, 2 delta_d - delta_v).
    Use training images, never the test set.
    """
    n = check_int(n, "n", min_value=1)
    cands = np.linspace(delta_v, 2 * delta_d - delta_v, n + 1)[:-1]
    means = [evaluate(model, pairs, radius=float(r))["sbd_mean"] for r in cands]
    return float(cands[int(np.argmax(means))])
