"""Semantic segmentation metrics (lessons 4-6): confusion matrix, per-class IoU, mIoU, pixel accuracy, boundaries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:  # annotations only: the metrics need no torch
    import torch

    ArrayOrTensor = np.ndarray | torch.Tensor

from .._validate import check_float, check_int, check_labels, describe_value

__all__ = [
    "confusion_matrix",
    "iou_per_class",
    "mean_iou",
    "pixel_accuracy",
    "boundary_mask",
    "BoundaryScore",
    "boundary_f1",
    "semantic_scores",
]


def _sem_labels(x: Any, name: str) -> np.ndarray:
    """An integer label array; floats are refused with a hint about logits."""
    arr = _sem_labels_or_hint(x, name)
    if arr.size == 0:
        raise ValueError(f"{name}: expected a non-empty label array, got shape {arr.shape}")
    return arr.astype(np.int64, copy=False)


def _sem_labels_or_hint(x: Any, name: str) -> np.ndarray:
    try:
        return check_labels(x, name)
    except TypeError:
        dt = getattr(x, "dtype", None)
        if dt is not None and ("float" in str(dt) or "half" in str(dt)):
            raise TypeError(
                f"{name}: expected integer class labels, got dtype {dt}; for a model's output take "
                f"the class with the largest score first, e.g. logits.argmax(dim=1)"
            ) from None
        raise


def _sem_ignore_index(ignore_index: Any, num_classes: int) -> int | None:
    if ignore_index is None:
        return None
    ignore_index = check_int(ignore_index, "ignore_index")
    if 0 <= ignore_index < num_classes:
        raise ValueError(
            f"ignore_index: expected a value outside the class range [0, {num_classes}) (e.g. 255 "
            f"or -1) or None, got {ignore_index}, which is a class label"
        )
    return ignore_index


def _sem_check_range(values: np.ndarray, name: str, num_classes: int, ignore_index: int | None) -> None:
    bad = (values < 0) | (values >= num_classes)
    if bad.any():
        wrong = np.unique(values[bad])
        shown = ", ".join(str(int(v)) for v in wrong[:5]) + (", ..." if len(wrong) > 5 else "")
        extra = f" (or ignore_index={ignore_index})" if ignore_index is not None and name == "target" else ""
        raise ValueError(
            f"{name}: expected labels in [0, {num_classes - 1}]{extra} for num_classes={num_classes}, "
            f"got {int(bad.sum())} pixels with label(s) {shown}"
        )


def confusion_matrix(
    pred: ArrayOrTensor, target: ArrayOrTensor, num_classes: int, ignore_index: int | None = None
) -> np.ndarray:
    """Count (true class, predicted class) pairs over all pixels.

    Args:
        pred: integer predicted labels, any shape, e.g. (H, W) or (N, H, W) (numpy or torch).
        target: integer true labels of the same shape.
        num_classes: K; valid labels are 0..K-1.
        ignore_index: a target value outside 0..K-1 (e.g. 255) whose pixels are not counted
            (their prediction is not looked at either). ``None``: every pixel counts.

    Returns:
        (K, K) int64 array ``cm`` with ``cm[i, j]`` = number of pixels of true class i predicted
        as class j (rows: ground truth, columns: prediction, as in scikit-learn).
    """
    num_classes = check_int(num_classes, "num_classes", min_value=1)
    ignore_index = _sem_ignore_index(ignore_index, num_classes)
    p = _sem_labels(pred, "pred")
    t = _sem_labels(target, "target")
    if p.shape != t.shape:
        hint = ""
        if p.ndim == t.ndim + 1:
            hint = "; pred has one more dimension -- are these per-class scores? take .argmax(dim=1)"
        raise ValueError(f"pred and target: expected the same shape, got {p.shape} and {t.shape}{hint}")
    p, t = p.ravel(), t.ravel()
    if ignore_index is not None:
        keep = t != ignore_index
        p, t = p[keep], t[keep]
    _sem_check_range(t, "target", num_classes, ignore_index)
    _sem_check_range(p, "pred", num_classes, ignore_index)
    return np.bincount(t * num_classes + p, minlength=num_classes**2).reshape(num_classes, num_classes)


def _sem_cm(cm: Any) -> np.ndarray:
    arr = np.asarray(cm.detach().cpu().numpy() if hasattr(cm, "detach") else cm)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise ValueError(f"cm: expected a square (K, K) confusion matrix, got {describe_value(arr)}")
    if not np.issubdtype(arr.dtype, np.number) or (arr < 0).any():
        raise ValueError("cm: expected non-negative counts (use confusion_matrix(...))")
    return arr.astype(np.float64)


def iou_per_class(cm: np.ndarray) -> np.ndarray:
    """Intersection over union of every class from a (K, K) confusion matrix.

    IoU_k = TP_k / (TP_k + FP_k + FN_k) = cm[k, k] / (row_k + column_k - cm[k, k]).
    A class absent from both the ground truth and the prediction has an empty union; its IoU is
    undefined and returned as NaN (not 0, not 1). A class absent from the ground truth but
    predicted somewhere gets IoU 0.

    Returns:
        (K,) float64 array in [0, 1] (NaN for classes with an empty union).
    """
    c = _sem_cm(cm)
    tp = np.diag(c)
    union = c.sum(0) + c.sum(1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, tp / np.where(union > 0, union, 1.0), np.nan)


def mean_iou(cm: np.ndarray) -> float:
    """Mean IoU over the classes that occur in the ground truth or the prediction.

    Classes with an empty union (NaN in :func:`iou_per_class`) are left out of the mean, so a
    test set without, say, triangles is not rewarded or punished for them; a class that is
    predicted but absent from the ground truth counts with IoU 0.
    """
    iou = iou_per_class(cm)
    if np.isnan(iou).all():
        raise ValueError("cm: expected at least one counted pixel, got an all-zero confusion matrix")
    return float(np.nanmean(iou))


def pixel_accuracy(cm: np.ndarray) -> float:
    """Fraction of counted pixels whose predicted class is right: trace(cm) / sum(cm)."""
    c = _sem_cm(cm)
    total = c.sum()
    if total == 0:
        raise ValueError("cm: expected at least one counted pixel, got an all-zero confusion matrix")
    return float(np.trace(c) / total)


def boundary_mask(labels: ArrayOrTensor, valid: ArrayOrTensor | None = None) -> np.ndarray:
    """Boolean map of boundary pixels of an (H, W) or (N, H, W) label map.

    A pixel is on a boundary when one of its 4 neighbours (up, down, left, right; inside the
    image) has a different label, so a boundary between two regions is 2 pixels thick: one on
    each side (diagonal neighbours do not count). The image border itself is not a boundary.
    ``valid`` (bool, same shape): only pairs of neighbours that are both valid are compared.
    """
    lab = _sem_labels(labels, "labels")
    if lab.ndim not in (2, 3):
        raise ValueError(f"labels: expected an (H, W) or (N, H, W) label map, got shape {lab.shape}")
    out = np.zeros(lab.shape, dtype=bool)
    dy = lab[..., 1:, :] != lab[..., :-1, :]
    dx = lab[..., :, 1:] != lab[..., :, :-1]
    if valid is not None:
        ok = np.asarray(valid, dtype=bool)
        if ok.shape != lab.shape:
            raise ValueError(f"valid: expected a boolean mask of shape {lab.shape}, got {describe_value(valid)}")
        dy &= ok[..., 1:, :] & ok[..., :-1, :]
        dx &= ok[..., :, 1:] & ok[..., :, :-1]
    out[..., 1:, :] |= dy
    out[..., :-1, :] |= dy
    out[..., :, 1:] |= dx
    out[..., :, :-1] |= dx
    return out


class BoundaryScore(NamedTuple):
    """Boundary precision, recall and F-score (all in [0, 1])."""

    precision: float
    recall: float
    f1: float


def boundary_f1(
    pred: ArrayOrTensor, target: ArrayOrTensor, tolerance: float = 2.0, ignore_index: int | None = None
) -> BoundaryScore:
    """Boundary F-score: how well the predicted region boundaries follow the true ones.

    Boundaries are the pixels of :func:`boundary_mask` (class-agnostic). A predicted boundary
    pixel is *matched* when a true boundary pixel lies within ``tolerance`` pixels (Euclidean
    distance), and vice versa. precision = matched predicted / all predicted boundary pixels,
    recall = matched true / all true boundary pixels, F = 2PR / (P + R). Counts are summed over
    all images of a batch before dividing. When both maps have no boundary at all the score is
    (1, 1, 1); when only one of them has none it is (0, 0, 0).

    Args:
        pred: predicted integer label map, (H, W) or (N, H, W).
        target: true integer label map of the same shape.
        tolerance: matching distance in pixels (>= 0); 0 demands the exact pixel.
        ignore_index: target value whose pixels are left out: only neighbours that are both
            outside the ignored region can form a boundary, in ``pred`` and in ``target``.
    """
    from scipy.ndimage import distance_transform_edt

    tolerance = check_float(tolerance, "tolerance", min_value=0.0)
    p = _sem_labels(pred, "pred")
    t = _sem_labels(target, "target")
    if p.shape != t.shape:
        raise ValueError(f"pred and target: expected the same shape, got {p.shape} and {t.shape}")
    if p.ndim not in (2, 3):
        raise ValueError(f"pred: expected an (H, W) or (N, H, W) label map, got shape {p.shape}")
    if ignore_index is not None:
        ignore_index = check_int(ignore_index, "ignore_index")
    valid = t != ignore_index if ignore_index is not None else None
    bp, bt = boundary_mask(p, valid), boundary_mask(t, valid)
    if p.ndim == 2:
        bp, bt = bp[None], bt[None]
    matched_p = matched_t = n_p = n_t = 0
    for a, b in zip(bp, bt):
        n_p, n_t = n_p + int(a.sum()), n_t + int(b.sum())
        if a.any() and b.any():
            matched_p += int((distance_transform_edt(~b)[a] <= tolerance).sum())
            matched_t += int((distance_transform_edt(~a)[b] <= tolerance).sum())
    if n_p == 0 and n_t == 0:
        return BoundaryScore(1.0, 1.0, 1.0)
    precision = matched_p / n_p if n_p else 0.0
    recall = matched_t / n_t if n_t else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return BoundaryScore(float(precision), float(recall), float(f1))


def semantic_scores(
    pred: ArrayOrTensor,
    target: ArrayOrTensor,
    num_classes: int,
    ignore_index: int | None = None,
    tolerance: float = 2.0,
) -> dict:
    """All the semantic scores at once: ``{"pixel_accuracy", "miou", "iou", "boundary_f1"}``.

    ``iou`` is the (K,) per-class array of :func:`iou_per_class`; ``boundary_f1`` the F value of
    :func:`boundary_f1` with ``tolerance``.
    """
    cm = confusion_matrix(pred, target, num_classes, ignore_index)
    return {
        "pixel_accuracy": pixel_accuracy(cm),
        "miou": mean_iou(cm),
        "iou": iou_per_class(cm),
        "boundary_f1": boundary_f1(pred, target, tolerance, ignore_index).f1,
    }
