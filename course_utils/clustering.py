"""k-means on feature vectors, with labels in a stable order so colours don't flip between runs."""
from __future__ import annotations

import numpy as np

from .validation import check_array, check_int, check_labels

__all__ = ["kmeans", "relabel_by_size", "relabel_by_first_appearance"]


def relabel_by_size(labels: np.ndarray) -> np.ndarray:
    """Renumber labels 0..K-1 by decreasing cluster size (ties: smaller old label first)."""
    lab = check_labels(labels, "labels")
    values, counts = np.unique(lab, return_counts=True)
    order = values[np.lexsort((values, -counts))]
    lut = np.empty(len(values), dtype=np.int64)
    lut[np.searchsorted(values, order)] = np.arange(len(values))
    return lut[np.searchsorted(values, lab)]


def relabel_by_first_appearance(labels: np.ndarray) -> np.ndarray:
    """Renumber labels 0..K-1 in the order they first appear in ``labels.ravel()`` (raster order)."""
    lab = check_labels(labels, "labels")
    flat = lab.ravel()
    _, first = np.unique(flat, return_index=True)
    values = flat[np.sort(first)]
    remap = np.empty(int(flat.max()) + 1 if flat.size else 1, dtype=np.int64)
    remap[values] = np.arange(len(values))
    return remap[lab]


def kmeans(
    X,
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
