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
