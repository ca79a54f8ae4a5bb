"""Datasets of the course, generated anywhere or downloaded with checksums.

* :mod:`~course_utils.data.shapes` -- shapes on cluttered backgrounds (semantic, lessons 4-6);
* :mod:`~course_utils.data.instances` -- scattered sticks and touching blobs (instances, lesson 7);
* :mod:`~course_utils.data.textures` -- texture mosaics that colour cannot separate (lesson 3);
* :mod:`~course_utils.data.pairs` -- your own (image, instance mask) pairs, checked (lesson 7);
* :mod:`~course_utils.data.pet` -- Oxford-IIIT Pet photos (online only);
* :mod:`~course_utils.data.voc` -- PASCAL VOC class names and colours (lesson 6).

The generated ones share :class:`~course_utils.data._base.SyntheticDataset`: item ``index`` of
``(seed, split)`` is always the same, and items are ``(image (3, H, W) float32, labels (H, W) int64)``.
"""

from .instances import ScatteredSticks, TouchingBlobs, fluorescent_nuclei
from .pairs import InstancePairs, as_image, as_instance_labels
from .pet import PET_CLASSES, PET_IGNORE_INDEX, oxford_pet_segmentation, pet_tensors, trimap_to_labels
from .shapes import SHAPE_CLASSES, SHAPE_SPLITS, ShapesDataset, render_shapes_scene
from .textures import TEXTURES, TextureMosaics, matched_textures, mosaic_layout, texture_mosaic
from .voc import VOC_CLASSES, VOC_COLORS

__all__ = [
    "PET_CLASSES",
    "PET_IGNORE_INDEX",
    "SHAPE_CLASSES",
    "SHAPE_SPLITS",
    "TEXTURES",
    "VOC_CLASSES",
    "VOC_COLORS",
    "ScatteredSticks",
    "ShapesDataset",
    "TextureMosaics",
    "TouchingBlobs",
    "InstancePairs",
    "as_image",
    "as_instance_labels",
    "fluorescent_nuclei",
    "mosaic_layout",
    "oxford_pet_segmentation",
    "pet_tensors",
    "render_shapes_scene",
    "texture_mosaic",
    "matched_textures",
    "trimap_to_labels",
]
