"""Instance segmentation metrics (lesson 7): symmetric best Dice and |DiC| as defined for the CVPPP benchmark.

Label maps hold instance ids; ``background`` (0 by default, ``None`` for none) is left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # annotations only: the metrics need no torch
    import torch

    ArrayOrTensor = np.ndarray | torch.Tensor

from .._validate import check_labels, describe_value

__all__ = ["best_dice", "symmetric_best_dice", "count_instances", "abs_diff_count"]


def _instance_pair(pred, gt, background):
    """Validate two label maps of one shape; return them as int64 numpy arrays and the background."""
    p = check_labels(pred, "pred")
    g = check_labels(gt, "gt")
    if p.ndim < 1 or p.size == 0:
        raise ValueError(f"pred: expected a non-empty label map, got shape {p.shape}")
    if p.shape != g.shape:
        raise ValueError(f"pred and gt: expected the same shape, got {p.shape} and {g.shape}")
    if background is not None and (isinstance(background, bool) or not isinstance(background, (int, np.integer))):
        raise TypeError(f"background: expected an int label or None, got {describe_value(background)}")
    return p.astype(np.int64, copy=False), g.astype(np.int64, copy=False), background


def _overlaps(a: np.ndarray, b: np.ndarray, background):
    """Foreground instance ids of a and b, their sizes and the (Na, Nb) intersection counts."""
    a, b = a.ravel(), b.ravel()
    ida, inv_a = np.unique(a, return_inverse=True)
    idb, inv_b = np.unique(b, return_inverse=True)
    inter = np.zeros((len(ida), len(idb)), np.int64)
    np.add.at(inter, (inv_a, inv_b), 1)
    keep_a = ida != background if background is not None else np.ones(len(ida), bool)
    keep_b = idb != background if background is not None else np.ones(len(idb), bool)
    size_a = inter.sum(1)[keep_a]
    size_b = inter.sum(0)[keep_b]
    return size_a, size_b, inter[np.ix_(keep_a, keep_b)]


def best_dice(a: ArrayOrTensor, b: ArrayOrTensor, background: int | None = 0) -> float:
    """CVPPP "best Dice" of label map ``a`` against ``b`` (not symmetric).

    BD(a, b) = 1/M sum_{i=1..M} max_j 2 |a_i ∩ b_j| / (|a_i| + |b_j|) over the M foreground
    instances a_i of ``a`` (every label except ``background``) and the foreground instances b_j
    of ``b``. Conventions for empty maps: if ``a`` has no foreground instance the score is 1.0
    when ``b`` has none either (nothing to find, nothing found) and 0.0 otherwise; if only ``b``
    is empty every a_i scores 0, so BD = 0.0.

    Args:
        a: integer label map whose instances are scored (numpy or torch), e.g. (H, W).
        b: integer label map of the same shape they are matched against.
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


def symmetric_best_dice(pred: ArrayOrTensor, gt: ArrayOrTensor, background: int | None = 0) -> float:
    """Symmetric best Dice (SBD) of the CVPPP leaf-segmentation benchmark.

    SBD = min(BD(pred, gt), BD(gt, pred)) with :func:`best_dice`; 1.0 means every instance has a
    perfect partner in both directions. Both maps empty gives 1.0, exactly one empty gives 0.0.

    Args:
        pred: predicted integer label map (numpy or torch), e.g. (H, W); the ids themselves do not
            matter (swapping ids leaves SBD unchanged).
        gt: true integer label map of the same shape.
        background: label that is not an instance (default 0; ``None``: every label counts).

    Returns:
        float in [0, 1].
    """
    return min(best_dice(pred, gt, background), best_dice(gt, pred, background))


def count_instances(labels: ArrayOrTensor, background: int | None = 0) -> int:
    """Number of distinct labels in ``labels`` other than ``background``."""
    lab = check_labels(labels, "labels")
    ids = np.unique(lab)
    return int(len(ids) - (background is not None and bool((ids == background).any())))


def abs_diff_count(pred: ArrayOrTensor, gt: ArrayOrTensor, background: int | None = 0) -> int:
    """|DiC| of the CVPPP benchmark: |number of predicted instances - number of true instances|.

    Instances are the distinct labels other than ``background``; an empty prediction against
    ``gt`` with K instances gives K.
    """
    p, g, background = _instance_pair(pred, gt, background)
    return abs(count_instances(p, background) - count_instances(g, background))
