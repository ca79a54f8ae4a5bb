"""PASCAL VOC labels for the pretrained torchvision segmentation models (lesson 6).

torchvision's ``*_COCO_WITH_VOC_LABELS_V1`` weights predict 21 classes: index 0 is background,
1..20 are the PASCAL VOC object classes, in the order of :data:`VOC_CLASSES` (the same list as
``weights.meta["categories"]``).

* :data:`VOC_COLORS` -- one colour per class, (21, 3) float32 in [0, 1]. Twenty object colours
  cannot all stay distinct for every colour-blind reader, so the colours come from Paul Tol's
  colour-blind-safe schemes, chosen so that classes that often share a photo (person with
  anything, chair/sofa/dining table, cat/dog, vehicles) stay apart under simulated deuteranopia
  and protanopia, and every figure here also writes the class *names* on the mask: colour is
  never the only cue.

The figures of class masks (legends with pixel shares, names written on regions, photo / mask /
overlay panels) are in :mod:`course_utils.viz`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["VOC_CLASSES", "VOC_COLORS"]

#: The 21 labels of torchvision's VOC-label segmentation weights (same spelling and order as
#: ``weights.meta["categories"]``).
VOC_CLASSES: tuple[str, ...] = (
    "__background__",
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
)

# Twenty object colours picked among Paul Tol's colour-blind-safe schemes (muted, bright, vibrant,
# light, dark; https://personal.sron.nl/~pault/) by a small search that maximised (1) the smallest
# CIELAB distance between any two of the 21 colours (>= 24 dE) and (2) the smallest distance, under
# simulated deuteranopia and protanopia, between classes that often share a photo (person with any
# class, chair/sofa/diningtable, cat/dog, car/bus/train/motorbike/bicycle...; >= 19 dE).
# tests/test_voc.py re-checks both properties.
_HEX = (
    "000000",  # __background__ (black in the mask; left uncoloured in overlays)
    "228833",  # aeroplane
    "EEDD88",  # bicycle
    "CC6677",  # bird
    "882255",  # boat
    "009988",  # bottle
    "332288",  # bus
    "222255",  # car
    "AA4499",  # cat
    "666633",  # chair
    "EE3377",  # cow
    "DDDDDD",  # diningtable
    "EE8866",  # dog
    "0077BB",  # horse
    "FFAABB",  # motorbike
    "99DDFF",  # person
    "BBCC33",  # pottedplant
    "663333",  # sheep
    "555555",  # sofa
    "CC3311",  # train
    "999933",  # tvmonitor
)

#: (21, 3) float32 RGB colours in [0, 1], one per entry of :data:`VOC_CLASSES`.
VOC_COLORS: np.ndarray = np.array([[int(h[i : i + 2], 16) for i in (0, 2, 4)] for h in _HEX], dtype=np.float32) / 255.0
VOC_COLORS.setflags(write=False)
