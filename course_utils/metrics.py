"""Segmentation metrics.

* semantic (lesson 5): confusion matrix, per-class IoU, mIoU, pixel accuracy, boundary scores;
* instance (lesson 7): symmetric best Dice and |DiC| as defined for the CVPPP benchmark.
"""
from __future__ import annotations

# ---------------------------------------------------------------------------------------------
# Semantic segmentation metrics (lesson 5)
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Instance segmentation metrics (lesson 7)
# ---------------------------------------------------------------------------------------------
import numpy as _np_im


def _instance_pair(pred, gt, background):
    """Validate two label maps of one shape; return them as int64 numpy arrays and the background."""
    from .validation import check_labels, describe_value

    p = check_labels(pred, "pred")
    g = check_labels(gt, "gt")
    if p.ndim < 1 or p.size == 0:
        raise ValueError(f"pred: expected a non-empty label map, got shape {p.shape}")
    if p.shape != g.shape:
        raise ValueError(f"pred and gt: expected the same shape, got {p.shape} and {g.shape}")
    if background is not None and (isinstance(background, bool) or not isinstance(background, (int, _np_im.integer))):
        raise TypeError(f"background: expected an int label or None, got {describe_value(background)}")
    return p.astype(_np_im.int64, copy=False), g.astype(_np_im.int64, copy=False), background


def _overlaps(a: _np_im.ndarray, b: _np_im.ndarray, background):
    """Foreground instance ids of a and b, their sizes and the (Na, Nb) intersection counts."""
    a, b = a.ravel(), b.ravel()
    ida, inv_a = _np_im.unique(a, return_inverse=True)
    idb, inv_b = _np_im.unique(b, return_inverse=True)
    inter = _np_im.zeros((len(ida), len(idb)), _np_im.int64)
    _np_im.add.at(inter, (inv_a, inv_b), 1)
    keep_a = ida != background if background is not None else _np_im.ones(len(ida), bool)
    keep_b = idb != background if background is not None else _np_im.ones(len(idb), bool)
    size_a = inter.sum(1)[keep_a]
    size_b = inter.sum(0)[keep_b]
    return size_a, size_b, inter[_np_im.ix_(keep_a, keep_b)]


def best_dice(a, b, background: int | None = 0) -> float:
    """CVPPP "best Dice" of label map ``a`` against ``b`` (not symmetric).

    BD(a, b) = 1/M sum_{i=1..M} max_j 2 |a_i ∩ b_j| / (|a_i| + |b_j|) over the M foreground
    instances a_i of ``a`` (every label except ``background``) and the foreground instances b_j
    of ``b``. Conventions for empty maps: if ``a`` has no foreground instance the score is 1.0
    when ``b`` has none either (nothing to find, nothing found) and 0.0 otherwise; if only ``b``
    is empty every a_i scores 0, so BD = 0.0.

    Args:
        a, b: integer label maps of the same shape (numpy or torch), e.g. (H, W).
        background: label excluded from the instances (``None``: every label is an instance).
    Returns:
        float in [0, 1].
    """
    a, b, background = _instance_pair(a, b, background)
    size_a, size_b, inter = _overlaps(a, b, background)
    if len(size_a) == 0:
        return 1.0 if len(size_b) == 0 else 0.0
    if len(size_b) == 0:
        return 0.0
    dice = 2.0 * inter / (size_a[:, None] + size_b[None, :])
    return float(dice.max(axis=1).mean())


def symmetric_best_dice(pred, gt, background: int | None = 0) -> float:
    """Symmetric best Dice (SBD) of the CVPPP leaf-segmentation benchmark.

    SBD = min(BD(pred, gt), BD(gt, pred)) with :func:`best_dice`; 1.0 means every instance has a
    perfect partner in both directions. Both maps empty gives 1.0, exactly one empty gives 0.0.

    Args:
        pred, gt: integer label maps of the same shape (numpy or torch), e.g. (H, W); the ids
            themselves do not matter (swapping ids leaves SBD unchanged).
        background: label that is not an instance (default 0; ``None``: every label counts).
    Returns:
        float in [0, 1].
    """
    return min(best_dice(pred, gt, background), best_dice(gt, pred, background))


def count_instances(labels, background: int | None = 0) -> int:
    """Number of distinct labels in ``labels`` other than ``background``."""
    from .validation import check_labels

    lab = check_labels(labels, "labels")
    ids = _np_im.unique(lab)
    return int(len(ids) - (background is not None and bool((ids == background).any())))


def abs_diff_count(pred, gt, background: int | None = 0) -> int:
    """|DiC| of the CVPPP benchmark: |number of predicted instances - number of true instances|.

    Instances are the distinct labels other than ``background``; an empty prediction against
    ``gt`` with K instances gives K.
    """
    p, g, background = _instance_pair(pred, gt, background)
    return abs(count_instances(p, background) - count_instances(g, background))


def largest_as_background(labels):
    """Relabel a clustering so that its largest cluster is 0 (background) and the others 1..K by size.

    Clusterings of embeddings (and k-means on colours) have no notion of background; the course
    scores every method after this one rule: the biggest cluster is the background (ties: the
    smaller id). Returns an int64 numpy array of the same shape.
    """
    from .validation import check_labels

    lab = check_labels(labels, "labels").astype(_np_im.int64, copy=False)
    if lab.size == 0:
        raise ValueError(f"labels: expected a non-empty label map, got shape {lab.shape}")
    ids, inv, counts = _np_im.unique(lab.ravel(), return_inverse=True, return_counts=True)
    order = _np_im.lexsort((ids, -counts))  # biggest first, ties by smaller id
    rank = _np_im.empty(len(ids), _np_im.int64)
    rank[order] = _np_im.arange(len(ids))
    return rank[inv].reshape(lab.shape)
