"""Clustering of feature vectors: k-means (lessons 1, 3) and the seeded mean-shift of embeddings (lesson 7).

Labels come back in a stable order (:mod:`course_utils.labels`) so colours don't flip between runs.
"""

from __future__ import annotations

import numpy as np
import torch

from ._validate import check_array, check_float, check_int, describe_value
from .labels import relabel_by_first_appearance, relabel_by_size

__all__ = ["kmeans", "seeded_mean_shift"]


def kmeans(
    X: np.ndarray,
    k: int,
    *,
    seed: int = 0,
    n_init: int = 4,
    max_iter: int = 300,
    order: str = "size",
    return_centers: bool = False,
):
    """Cluster the rows of ``X`` (N, D) into ``k`` groups with scikit-learn's KMeans.

    Labels are renumbered so that runs agree: ``order="size"`` (largest cluster is 0) or
    ``order="appearance"`` (raster order of first appearance). Returns (N,) int64 labels, and the
    (k, D) centres in the same order when ``return_centers``.
    """
    from sklearn.cluster import KMeans

    X = check_array(X, "X", ndim=2).astype(np.float64, copy=False)
    k = check_int(k, "k", min_value=1)
    if k > X.shape[0]:
        raise ValueError(f"k: expected at most the number of points ({X.shape[0]}), got {k}")
    if order not in ("size", "appearance"):
        raise ValueError(f"order: expected 'size' or 'appearance', got {order!r}")
    check_int(n_init, "n_init", min_value=1)
    km = KMeans(n_clusters=k, n_init=n_init, max_iter=max_iter, random_state=seed).fit(X)
    raw = km.labels_.astype(np.int64)
    labels = relabel_by_size(raw) if order == "size" else relabel_by_first_appearance(raw)
    if not return_centers:
        return labels
    centers = np.zeros((k, X.shape[1]), dtype=np.float64)
    for new in range(k):
        members = labels == new
        centers[new] = X[members].mean(axis=0) if members.any() else km.cluster_centers_[new]
    return labels, centers


def seeded_mean_shift(
    embedding: np.ndarray | torch.Tensor,
    radius: float,
    *,
    mask: np.ndarray | torch.Tensor | None = None,
    max_iter: int = 30,
    min_size: int = 1,
    seed: int = 0,
    tol: float = 1e-4,
) -> np.ndarray:
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
        max_iter: most centre updates per cluster.
        min_size: clusters with fewer pixels are merged into the nearest larger cluster.
        seed: seed of the random choice of seed pixels (same seed, same result).
        tol: a centre that moves less than this has converged.

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
