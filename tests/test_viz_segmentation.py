"""course_utils.voc: VOC class names, the palette's colour-blind properties, pixel shares, figures, bad inputs."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from skimage.color import rgb2lab

from course_utils import viz
from course_utils.data import voc as vocdata

C = vocdata.VOC_CLASSES


def test_class_names_match_torchvision_metadata_of_every_voc_weight():
    from torchvision.models.segmentation import (
        DeepLabV3_MobileNet_V3_Large_Weights,
        DeepLabV3_ResNet50_Weights,
        FCN_ResNet50_Weights,
    )

    for w in (DeepLabV3_MobileNet_V3_Large_Weights, DeepLabV3_ResNet50_Weights, FCN_ResNet50_Weights):
        assert list(C) == w.COCO_WITH_VOC_LABELS_V1.meta["categories"], w
    assert len(C) == 21 and C[0] == "__background__" and C[15] == "person"


def test_palette_shape_range_and_read_only():
    assert vocdata.VOC_COLORS.shape == (21, 3) and vocdata.VOC_COLORS.dtype == np.float32
    assert vocdata.VOC_COLORS.min() >= 0 and vocdata.VOC_COLORS.max() <= 1
    assert (vocdata.VOC_COLORS[0] == 0).all()  # background is black in a mask
    with pytest.raises(ValueError):
        vocdata.VOC_COLORS[1, 0] = 0.5


# Machado, Oliveira & Fernandes (2009) simulation matrices, severity 1.0, in linear RGB.
_DEUT = np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]])
_PROT = np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]])


def _lab(rgb):
    return rgb2lab(np.asarray(rgb, dtype=np.float64)[None])[0]


def _simulate(rgb, m):
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    out = np.clip(lin @ m.T, 0, 1)
    return np.where(out <= 0.0031308, 12.92 * out, 1.055 * out ** (1 / 2.4) - 0.055)


def test_all_21_colours_are_far_apart_in_cielab():
    lab = _lab(vocdata.VOC_COLORS)
    d = np.linalg.norm(lab[:, None] - lab[None], axis=-1) + np.eye(21) * 1e9
    assert d.min() >= 24.0, f"two classes are only {d.min():.1f} dE apart"


CO_OCCURRING = [("person", c) for c in C[1:] if c != "person"] + [
    ("chair", "sofa"),
    ("chair", "diningtable"),
    ("sofa", "diningtable"),
    ("cat", "sofa"),
    ("dog", "sofa"),
    ("cat", "dog"),
    ("bottle", "diningtable"),
    ("tvmonitor", "sofa"),
    ("car", "bus"),
    ("car", "motorbike"),
    ("car", "train"),
    ("bus", "train"),
    ("bicycle", "car"),
    ("cow", "sheep"),
    ("horse", "cow"),
    ("pottedplant", "chair"),
    ("boat", "bird"),
    ("__background__", "car"),
    ("__background__", "sofa"),
]


@pytest.mark.parametrize("matrix", [_DEUT, _PROT], ids=["deuteranopia", "protanopia"])
def test_classes_that_share_photos_stay_apart_for_colour_blind_viewers(matrix):
    lab = _lab(_simulate(vocdata.VOC_COLORS.astype(np.float64), matrix))
    worst = min((np.linalg.norm(lab[C.index(a)] - lab[C.index(b)]), a, b) for a, b in CO_OCCURRING)
    assert worst[0] >= 15.0, f"{worst[1]} and {worst[2]} are only {worst[0]:.1f} dE apart"


def test_class_shares_counts_sorts_and_filters():
    mask = np.zeros((10, 10), dtype=np.int64)
    mask[:5, :4] = 15  # person: 20 px
    mask[9, :3] = 8  # cat: 3 px
    shares = viz.class_shares(mask)
    assert [s.name for s in shares] == ["__background__", "person", "cat"]
    assert [s.index for s in shares] == [0, 15, 8]
    np.testing.assert_allclose([s.share for s in shares], [0.77, 0.20, 0.03])
    assert abs(sum(s.share for s in shares) - 1) < 1e-12
    assert [s.name for s in viz.class_shares(mask, min_share=0.05)] == ["__background__", "person"]
    # torch input, uint8 dtype and a (1, H, W) batch of one give the same answer
    assert viz.class_shares(torch.from_numpy(mask).to(torch.uint8)[None]) == shares
    assert viz.legend_labels(shares) == ["__background__  77.0 %", "person  20.0 %", "cat  3.0 %"]


def test_class_shares_ties_are_broken_by_index():
    mask = np.array([[3, 3, 1, 1]])
    assert [s.index for s in viz.class_shares(mask)] == [1, 3]


def test_colorize_uses_the_palette():
    mask = np.array([[0, 15], [20, 1]])
    rgb = viz.colorize(mask, palette=vocdata.VOC_COLORS)
    assert rgb.shape == (2, 2, 3)
    np.testing.assert_array_equal(rgb[0, 1], vocdata.VOC_COLORS[15])
    np.testing.assert_array_equal(rgb[1, 0], vocdata.VOC_COLORS[20])


def test_figures_legend_names_and_shares():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    mask = np.zeros((40, 60), dtype=np.int64)
    mask[10:30, 5:25] = 15
    mask[0:10, 40:60] = 12
    fig, axes, shares = viz.show_segmentation(image, mask, title="test")
    try:
        legend = axes[2].get_legend()
        assert [t.get_text() for t in legend.get_texts()] == viz.legend_labels(shares)
        written = sorted(t.get_text() for t in axes[1].texts)
        assert written == ["dog", "person"]  # background is not written on the mask
        # the name sits inside its region
        person = [t for t in axes[1].texts if t.get_text() == "person"][0]
        x, y = person.get_position()
        assert mask[int(round(y)), int(round(x))] == 15
        assert fig._suptitle.get_text() == "test"
    finally:
        plt.close(fig)


@pytest.mark.parametrize(
    "bad, err, words",
    [
        (np.array([[0, 21]]), ValueError, "[0, 20]"),
        (np.array([[0, 255]]), ValueError, "ignore"),
        (np.array([[-1, 0]]), ValueError, "[0, 20]"),
        (np.zeros((2, 2), dtype=np.float32), TypeError, "integer"),
        (torch.zeros(1, 21, 4, 4), TypeError, "argmax"),
        (np.zeros((2, 3, 4), dtype=np.int64), ValueError, "2 dimensions"),
        (np.zeros((0, 3), dtype=np.int64), ValueError, "non-empty"),
        ([[0, 1]], TypeError, "numpy array or torch tensor"),
    ],
)
def test_bad_masks_are_rejected_with_a_clear_message(bad, err, words):
    with pytest.raises(err, match="mask") as info:
        viz.class_shares(bad)
    assert words in str(info.value)


def test_bad_names_colors_and_options():
    mask = np.zeros((2, 2), dtype=np.int64)
    with pytest.raises(TypeError, match="names"):
        viz.class_shares(mask, names="person")
    with pytest.raises(TypeError, match="names"):
        viz.class_shares(mask, names=[1, 2])
    with pytest.raises(ValueError, match="min_share"):
        viz.class_shares(mask, min_share=1.5)
    with pytest.raises(ValueError, match="palette"):
        viz.colorize(mask, palette=np.zeros((3, 4)))
    with pytest.raises(ValueError, match="palette"):
        viz.colorize(mask, palette=np.full((21, 3), 2.0))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        viz.colorize(np.array([[0, 2]]), palette=np.zeros((2, 3)))
    with pytest.raises(TypeError, match="shares"):
        viz.legend_labels([("person", 0.5)])
    img = np.zeros((4, 4, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="match the image"):
        viz.show_segmentation(img, np.zeros((4, 5), dtype=np.int64))
    with pytest.raises(ValueError, match="image"):
        viz.show_segmentation(np.zeros((3, 4, 4), dtype=np.uint8), np.zeros((4, 4), dtype=np.int64))
