"""Segmentation metrics: :mod:`~course_utils.metrics.semantic` (classes) and :mod:`~course_utils.metrics.instance` (objects)."""

from .instance import abs_diff_count, best_dice, count_instances, symmetric_best_dice
from .semantic import (
    BoundaryScore,
    boundary_f1,
    boundary_mask,
    confusion_matrix,
    iou_per_class,
    mean_iou,
    pixel_accuracy,
    semantic_scores,
)

__all__ = [
    "BoundaryScore",
    "abs_diff_count",
    "best_dice",
    "boundary_f1",
    "boundary_mask",
    "confusion_matrix",
    "count_instances",
    "iou_per_class",
    "mean_iou",
    "pixel_accuracy",
    "semantic_scores",
    "symmetric_best_dice",
]
