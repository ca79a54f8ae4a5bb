"""Helpers for learned pixel embeddings (lesson 7): label pyramids, clustering, pictures.

* :func:`downsample_labels` -- instance labels at 1/f resolution, blocks that mix labels ignored;
* :func:`seeded_mean_shift` -- the clustering of De Brabandere et al. (2017) for embeddings;
* :func:`as_rgb` -- show a (3 * 4**k, H, W) sigmoid map as a full-resolution colour image.
"""
from __future__ import annotations

import numpy as np
import torch

from .validation import check_array, check_float, check_int, describe_value

__all__ = ["downsample_labels", "seeded_mean_shift", "as_rgb"]


def downsample_labels(labels: torch.Tensor, factor: int, ignore_index: int = -1) -> torch.Tensor:
    """Instance labels at 1/``factor`` resolution: a block keeps its label only if it is pure.

    Args:
        labels: (B, H, W) or (H, W) integer tensor; H and W divisible by ``factor``.
        factor: block side (1 returns a copy).
        ignore_index: label given to blocks that mix several labels (or contain ``ignore_index``);
            it must not be a label in use.
    Returns:
        int64 tensor of shape (B, H/factor, W/factor) (or (H/factor, W/factor)).
    """
    if not isinstance(labels, torch.Tensor):
        raise TypeError(f"labels: expected a torch tensor, got {describe_value(labels)}")
    if labels.dtype.is_floating_point or labels.dtype == torch.bool or labels.is_complex():
        raise TypeError(f"labels: expected an integer tensor, got dtype {labels.dtype}")
    if labels.dim() not in (2, 3):
        raise ValueError(f"labels: expected shape (B, H, W) or (H, W), got {tuple(labels.shape)}")
    factor = check_int(factor, "factor", min_value=1)
    ignore_index = check_int(ignore_index, "ignore_index")
    h, w = labels.shape[-2:]
    if h % factor or w % factor:
        raise ValueError(f"labels: expected H and W divisible by factor={factor}, got H={h}, W={w}")
    lab = labels.long()
    squeeze = lab.dim() == 2
    if squeeze:
        lab = lab[None]
    b = lab.shape[0]
    blocks = lab.reshape(b, h // factor, factor, w // factor, factor)
    lo = blocks.amin(dim=(2, 4))
    hi = blocks.amax(dim=(2, 4))
    out = torch.where(lo == hi, lo, torch.full_like(lo, ignore_index))
    return out[0] if squeeze else out


def seeded_mean_shift(embedding, radius: float, *, mask=None, max_iter: int = 30, min_size: int = 1,
                      seed: int = 0, tol: float = 1e-4) -> np.ndarray:
    """Cluster pixel embeddings with the paper's seeded mean-shift.

    Repeat until every pixel has a label: pick a random unlabelled pixel as seed; take the
    unlabelled pixels within ``radius`` of the current centre, move the centre to their mean and
    repeat until it stops moving (``tol``) or ``max_iter``; give those pixels a new label.
    Clusters smaller than ``min_size`` pixels are then given to the nearest larger cluster
    centre (if there is one).

    Args:
        embedding: (D, H, W) or (N, D) float array or tensor.
        radius: ball radius in embedding units (the paper uses the pull margin delta_v).
        mask: optional boolean (H, W) or (N,) array; pixels outside it get label 0 and clusters
            are numbered from 1 (without a mask, from 0).
        seed: seed of the random choice of seed pixels (same seed, same result).
    Returns:
        int64 labels of shape (H, W) or (N,).
    """
    x = embedding.detach().float().cpu().numpy() if isinstance(embedding, torch.Tensor) else embedding
    x = check_array(x, "embedding").astype(np.float64)
    if x.ndim == 3:
        d, h, w = x.shape
        pts, out_shape = x.reshape(d, -1).T, (h, w)
    elif x.ndim == 2:
        pts, out_shape = x, (x.shape[0],)
    else:
        raise ValueError(f"embedding: expected shape (D, H, W) or (N, D), got {x.shape}")
    radius = check_float(radius, "radius", min_value=0.0)
    if radius == 0:
        raise ValueError("radius: expected a positive number, got 0")
    max_iter = check_int(max_iter, "max_iter", min_value=1)
    min_size = check_int(min_size, "min_size", min_value=1)
    seed = check_int(seed, "seed", min_value=0)
    n = pts.shape[0]
    if mask is None:
        valid, offset = np.ones(n, bool), 0
    else:
        m = mask.detach().cpu().numpy() if isinstance(mask, torch.Tensor) else np.asarray(mask)
        if m.dtype != bool or m.shape != out_shape:
            raise ValueError(f"mask: expected a boolean array of shape {out_shape}, got {describe_value(m)}")
        valid, offset = m.ravel().copy(), 1
    labels = np.full(n, -1, np.int64)
    rng = np.random.default_rng(seed)
    r2 = radius * radius
    centres = []
    k = 0
    while True:
        free = np.flatnonzero(valid & (labels < 0))
        if len(free) == 0:
            break
        c = pts[rng.choice(free)]
        for _ in range(max_iter):
            inside = free[((pts[free] - c) ** 2).sum(1) <= r2]
            if len(inside) == 0:
                break
            new_c = pts[inside].mean(0)
            moved = np.sqrt(((new_c - c) ** 2).sum())
            c = new_c
            if moved < tol:
                break
        inside = free[((pts[free] - c) ** 2).sum(1) <= r2]
        if len(inside) == 0:  # the centre drifted off every free pixel: take the nearest one
            inside = free[[int(((pts[free] - c) ** 2).sum(1).argmin())]]
        labels[inside] = k
        centres.append(pts[inside].mean(0))
        k += 1
    if min_size > 1 and k > 1:
        sizes = np.bincount(labels[valid], minlength=k)
        big = np.flatnonzero(sizes >= min_size)
        if len(big):
            small_px = np.flatnonzero(valid & np.isin(labels, np.flatnonzero(sizes < min_size)))
            cent = np.stack(centres)[big]
            nearest = ((pts[small_px, None, :] - cent[None]) ** 2).sum(-1).argmin(1)
            labels[small_px] = big[nearest]
            remap = np.full(k, -1, np.int64)
            remap[big] = np.arange(len(big))
            labels[valid] = remap[labels[valid]]
    labels[valid] += offset
    labels[~valid] = 0
    return labels.reshape(out_shape)


def as_rgb(embedding: torch.Tensor) -> np.ndarray:
    """(3 * 4**k, h, w) map in [0, 1] -> (h * 2**k, w * 2**k, 3) float image via pixel shuffle.

    A 3-channel map is shown directly as a colour image; 12 channels at 1/2 or 48 at 1/4
    resolution are rearranged (``torch.nn.functional.pixel_shuffle``) into 3 channels at full
    resolution -- the same number of values, so nothing is averaged away.
    """
    if not isinstance(embedding, torch.Tensor):
        raise TypeError(f"embedding: expected a torch tensor, got {describe_value(embedding)}")
    if embedding.dim() != 3:
        raise ValueError(f"embedding: expected shape (C, h, w), got {tuple(embedding.shape)}")
    c = embedding.shape[0]
    k = 0
    while 3 * 4**k < c:
        k += 1
    if 3 * 4**k != c:
        raise ValueError(f"embedding: expected 3 * 4**k channels (3, 12, 48, ...), got {c}")
    x = embedding.detach().float().cpu()
    if x.numel() and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"embedding: expected values in [0, 1], got range [{x.min():.3g}, {x.max():.3g}]")
    rgb = torch.nn.functional.pixel_shuffle(x[None], 2**k)[0] if k else x
    return rgb.permute(1, 2, 0).numpy().copy()
