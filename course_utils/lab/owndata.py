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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._validate import check_float, check_int, describe_value
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

#: Label of pixels that take no part in the loss (padding of images smaller than a tile).
IGNORE = -1

_NORMALIZE = ("auto", "dtype", "percentile")


def as_image(image: Any, name: str = "image", normalize: str = "auto") -> torch.Tensor:
    """Any common image array -> a (3, H, W) float32 tensor in [0, 1].

    Args:
        image: numpy array or tensor: (H, W) grayscale, (H, W, 1), (H, W, 3), (H, W, 4) (the alpha
            channel is dropped) or a (1 or 3, H, W) channels-first array; bool, any integer dtype
            (uint8, uint16, ...) or float.
        name: the argument's name in error messages.
        normalize: ``"dtype"``: integers divided by their dtype's maximum (uint8 by 255, uint16 by
            65535), floats must already lie in [0, 1]; ``"percentile"``: stretched per image from
            its 0.5th to its 99.5th percentile (12-bit data stored as uint16, z-scored floats);
            ``"auto"``: ``"dtype"`` for bool, uint8 and floats in [0, 1], else ``"percentile"``.

    Returns:
        (3, H, W) float32 tensor (grayscale repeated over the three channels).

    Raises:
        TypeError: not an array, or a non-numeric dtype.
        ValueError: an unknown layout, an empty image, NaN/inf values, or floats outside [0, 1]
            with ``normalize="dtype"``.
    """
    if normalize not in _NORMALIZE:
        raise ValueError(f"normalize: expected one of {_NORMALIZE}, got {normalize!r}")
    if isinstance(image, torch.Tensor):
        arr = image.detach().cpu().numpy()
    elif isinstance(image, np.ndarray):
        arr = image
    else:
        raise TypeError(f"{name}: expected a numpy array or a torch tensor, got {describe_value(image)}")
    if arr.dtype != bool and not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name}: expected a numeric image (bool, integer or float), got dtype {arr.dtype}")
    if arr.size == 0:
        raise ValueError(f"{name}: expected a non-empty image, got shape {arr.shape}")
    if arr.ndim == 2:
        arr = arr[..., None]
    elif arr.ndim == 3 and arr.shape[-1] not in (1, 3, 4) and arr.shape[0] in (1, 3):
        arr = np.moveaxis(arr, 0, -1)  # (C, H, W) -> (H, W, C)
    if arr.ndim != 3 or arr.shape[-1] not in (1, 3, 4):
        raise ValueError(
            f"{name}: expected (H, W), (H, W, 1), (H, W, 3), (H, W, 4) or (1 or 3, H, W), got shape {arr.shape}"
        )
    arr = arr[..., :3]  # RGBA -> RGB
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: expected finite values, got {int((~np.isfinite(arr)).sum())} NaN/inf entries")
    in_unit = np.issubdtype(arr.dtype, np.floating) and float(arr.min()) >= 0.0 and float(arr.max()) <= 1.0
    mode = normalize
    if mode == "auto":
        mode = "dtype" if arr.dtype in (np.bool_, np.uint8) or in_unit else "percentile"
    if mode == "dtype":
        if arr.dtype == bool:
            out = arr.astype(np.float32)
        elif np.issubdtype(arr.dtype, np.integer):
            info = np.iinfo(arr.dtype)
            if info.min < 0 and arr.min() < 0:
                raise ValueError(
                    f"{name}: expected non-negative integers with normalize='dtype', got minimum {arr.min()}"
                )
            out = arr.astype(np.float32) / float(info.max)
        elif in_unit:
            out = arr.astype(np.float32)
        else:
            raise ValueError(
                f"{name}: expected float values in [0, 1] with normalize='dtype', got range "
                f"[{float(arr.min()):.3g}, {float(arr.max()):.3g}]; use normalize='percentile'"
            )
    else:
        vals = arr.astype(np.float64)
        lo, hi = np.percentile(vals, [0.5, 99.5])
        if hi <= lo:  # (nearly) constant image: fall back to its full range
            lo, hi = float(vals.min()), float(vals.max())
        out = np.zeros(arr.shape, np.float32) if hi <= lo else np.clip((vals - lo) / (hi - lo), 0, 1).astype(np.float32)
    if out.shape[-1] == 1:
        out = np.repeat(out, 3, axis=-1)
    return torch.from_numpy(np.ascontiguousarray(out.transpose(2, 0, 1)))


def as_instance_labels(labels: Any, shape: tuple[int, int], name: str = "labels") -> torch.Tensor:
    """An instance mask -> an (H, W) int64 tensor (0 = background, other values = instances).

    Args:
        labels: (H, W) numpy array or tensor of non-negative integers (any integer dtype, uint16
            included) or bool (one instance).
        shape: (H, W) the mask must have (its image's).
        name: the argument's name in error messages.

    Raises:
        TypeError: not an array, or float labels.
        ValueError: wrong shape or negative labels.
    """
    if isinstance(labels, torch.Tensor):
        arr = labels.detach().cpu().numpy()
    elif isinstance(labels, np.ndarray):
        arr = labels
    else:
        raise TypeError(f"{name}: expected a numpy array or a torch tensor, got {describe_value(labels)}")
    if arr.dtype != bool and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(
            f"{name}: expected integer instance ids (0 = background), got dtype {arr.dtype}"
            + (
                "; a probability map must be thresholded and split into instances first"
                if arr.dtype.kind == "f"
                else ""
            )
        )
    if arr.shape != tuple(shape):
        raise ValueError(f"{name}: expected shape {tuple(shape)} (its image's H, W), got {arr.shape}")
    if arr.dtype != bool and arr.size and arr.min() < 0:
        raise ValueError(f"{name}: expected non-negative instance ids (0 = background), got minimum {arr.min()}")
    return torch.from_numpy(arr.astype(np.int64))


class InstancePairs(torch.utils.data.Dataset):
    """(image, instance mask) pairs of any sizes, checked and converted once.

    Args:
        pairs: a sequence (list, tuple, or a Dataset with ``len`` and indexing) of ``(image, labels)``
            pairs; see :func:`as_image` and :func:`as_instance_labels` for what each may be.
        normalize: passed to :func:`as_image`.

    Items: ``(image (3, H, W) float32 in [0, 1], labels (H, W) int64)``.
    """

    def __init__(self, pairs: Sequence[tuple[Any, Any]], normalize: str = "auto"):
        if not hasattr(pairs, "__len__") or not hasattr(pairs, "__getitem__"):
            raise TypeError(f"pairs: expected a sequence of (image, labels) pairs, got {describe_value(pairs)}")
        if len(pairs) == 0:
            raise ValueError("pairs: expected at least one (image, labels) pair, got none")
        self.images: list[torch.Tensor] = []
        self.labels: list[torch.Tensor] = []
        for i in range(len(pairs)):
            item = pairs[i]
            if not isinstance(item, (tuple, list)) or len(item) != 2:
                raise TypeError(f"pairs[{i}]: expected an (image, labels) pair, got {describe_value(item)}")
            img = as_image(item[0], f"pairs[{i}] image", normalize)
            self.images.append(img)
            self.labels.append(as_instance_labels(item[1], tuple(img.shape[1:]), f"pairs[{i}] labels"))

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.images[index], self.labels[index]

    def random_tiles(
        self, batch_size: int, tile: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """A batch of random ``tile x tile`` crops, images drawn in proportion to their area.

        An image smaller than the tile is padded (image with 0, labels with :data:`IGNORE`).

        Returns:
            ``(images (B, 3, tile, tile), labels (B, tile, tile), origins (B, 2))``: origins are
            the crops' (row, column) in their images, for the coordinate channels.
        """
        areas = torch.tensor([float(im.shape[1] * im.shape[2]) for im in self.images])
        which = torch.multinomial(areas, batch_size, replacement=True, generator=generator)
        ims, labs, origins = [], [], []
        for i in which.tolist():
            im, lab = self.images[i], self.labels[i]
            h, w = im.shape[1:]
            y0 = int(torch.randint(0, max(h - tile, 0) + 1, (1,), generator=generator))
            x0 = int(torch.randint(0, max(w - tile, 0) + 1, (1,), generator=generator))
            im_t, lab_t = im[:, y0 : y0 + tile, x0 : x0 + tile], lab[y0 : y0 + tile, x0 : x0 + tile]
            ph, pw = tile - im_t.shape[1], tile - im_t.shape[2]
            if ph or pw:
                im_t = F.pad(im_t, (0, pw, 0, ph))
                lab_t = F.pad(lab_t, (0, pw, 0, ph), value=IGNORE)
            if bool(torch.rand((), generator=generator) < 0.5):  # horizontal flip (coordinates stay put)
                im_t, lab_t = im_t.flip(-1), lab_t.flip(-1)
            ims.append(im_t)
            labs.append(lab_t)
            origins.append((y0, x0))
        return torch.stack(ims), torch.stack(labs), torch.tensor(origins)


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
