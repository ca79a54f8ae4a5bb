"""Lesson 7's own-data path (course_utils.lab.owndata): any image, checked inputs, tiles vs whole image."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils.data import fluorescent_nuclei
from course_utils.lab import owndata
from course_utils.lab.train import EmbeddingNet, pixel_coordinates


def nuclei_image(seed: int, h: int, w: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A 12-bit, uint16 fluorescence-like image of ``n`` nuclei (some touching) and its uint16 mask."""
    return fluorescent_nuclei(seed, h, w, n)


def test_fluorescent_nuclei_is_a_deterministic_uint16_image_with_its_mask():
    image, labels = fluorescent_nuclei(3, 40, 52, 6)
    again, _ = fluorescent_nuclei(3, 40, 52, 6)
    assert image.shape == labels.shape == (40, 52) and image.dtype == labels.dtype == np.uint16
    assert np.array_equal(image, again) and image.max() <= 4095
    nuclei = labels > 0
    assert 2 <= len(np.unique(labels[nuclei])) <= 6
    assert image[nuclei].mean() > image[~nuclei].mean() + 1000  # nuclei are bright
    with pytest.raises(ValueError, match="height: expected an int >= 16, got 8"):
        fluorescent_nuclei(0, 8, 32, 3)


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "image",
    [
        np.full((10, 12), 40000, np.uint16),
        np.full((10, 12, 1), 200, np.uint8),
        np.full((10, 12, 3), 0.5, np.float32),
        np.full((10, 12, 4), 255, np.uint8),
        torch.full((3, 10, 12), 0.25),
        np.full((10, 12), 1.0e4, np.float64),  # z-scored or raw floats: stretched
        np.ones((10, 12), bool),
    ],
    ids=["gray-uint16", "hw1-uint8", "rgb-float", "rgba-uint8", "chw-tensor", "float-out-of-range", "bool"],
)
def test_as_image_accepts_the_common_layouts_and_dtypes(image):
    x = owndata.as_image(image)
    assert x.shape == (3, 10, 12) and x.dtype == torch.float32
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0


def test_as_image_scales_by_dtype_or_by_percentile():
    ramp = np.arange(16 * 16, dtype=np.uint16).reshape(16, 16) * 16  # a 12-bit ramp, 0..4080
    stretched = owndata.as_image(ramp)  # auto: uint16 is stretched per image
    by_dtype = owndata.as_image(ramp, normalize="dtype")
    assert float(stretched.max()) == pytest.approx(1.0) and float(stretched.min()) == 0.0
    assert float(by_dtype.max()) == pytest.approx(4080 / 65535)
    u8 = np.array([[0, 255]], np.uint8)
    assert owndata.as_image(u8)[0].tolist() == [[0.0, 1.0]]


@pytest.mark.parametrize(
    ("image", "kwargs", "error", "words"),
    [
        ([[1, 2]], {}, TypeError, "image: expected a numpy array or torch tensor, got list"),
        (np.zeros((4, 4, 5)), {}, ValueError, "image: expected (H, W), (H, W, 1), (H, W, 3), (H, W, 4)"),
        (np.zeros((2, 4, 4, 3)), {}, ValueError, "got shape (2, 4, 4, 3)"),
        (np.zeros((0, 4)), {}, ValueError, "expected a non-empty image"),
        (np.array([[np.nan, 1.0]]), {}, ValueError, "1 NaN/inf entries"),
        (np.array([["a"]]), {}, TypeError, "expected a numeric image"),
        (np.full((4, 4), 3.0), {"normalize": "dtype"}, ValueError, "use normalize='percentile'"),
        (np.zeros((4, 4)), {"normalize": "max"}, ValueError, "normalize: expected one of"),
    ],
)
def test_as_image_names_the_problem(image, kwargs, error, words):
    with pytest.raises(error) as info:
        owndata.as_image(image, **kwargs)
    assert words in str(info.value)


@pytest.mark.parametrize(
    ("labels", "error", "words"),
    [
        (np.zeros((4, 5), np.int32), ValueError, "expected shape (4, 4) (its image's H, W), got (4, 5)"),
        (np.full((4, 4), 0.5), TypeError, "a probability map must be thresholded"),
        (np.full((4, 4), -1), ValueError, "non-negative instance ids (0 = background), got minimum -1"),
        ([[0]], TypeError, "labels: expected a numpy array or torch tensor"),
    ],
)
def test_as_instance_labels_names_the_problem(labels, error, words):
    with pytest.raises(error) as info:
        owndata.as_instance_labels(labels, (4, 4))
    assert words in str(info.value)


def test_instance_pairs_checks_every_pair_and_names_it():
    good = (np.zeros((8, 8), np.uint16), np.zeros((8, 8), np.uint16))
    pairs = owndata.InstancePairs([good])
    image, labels = pairs[0]
    assert image.shape == (3, 8, 8) and labels.dtype == torch.int64
    with pytest.raises(ValueError, match=r"pairs\[1\] labels: expected shape \(8, 8\)"):
        owndata.InstancePairs([good, (np.zeros((8, 8)), np.zeros((8, 9), np.int64))])
    with pytest.raises(TypeError, match=r"pairs\[0\]: expected an \(image, labels\) pair"):
        owndata.InstancePairs([np.zeros((8, 8))])
    with pytest.raises(ValueError, match="at least one"):
        owndata.InstancePairs([])


def test_random_tiles_pad_small_images_with_the_ignore_label_and_report_origins():
    big = (np.zeros((40, 48), np.uint8), np.ones((40, 48), np.int64))
    small = (np.zeros((10, 12), np.uint8), np.ones((10, 12), np.int64))
    pairs = owndata.InstancePairs([big, small])
    images, labels, origins = pairs.random_tiles(16, 32, torch.Generator().manual_seed(0))
    assert images.shape == (16, 3, 32, 32) and labels.shape == (16, 32, 32) and origins.shape == (16, 2)
    padded = (labels == owndata.IGNORE).any(dim=(1, 2))
    assert padded.any() and (~padded).any()  # both images were drawn
    assert int(origins[:, 0].max()) <= 40 - 32 and int(origins[:, 1].max()) <= 48 - 32


# ---------------------------------------------------------------------------------------------
# Coordinates: a tile keeps its pixels' coordinates
# ---------------------------------------------------------------------------------------------
def test_pixel_coordinates_of_a_tile_are_those_of_the_whole_image():
    whole = pixel_coordinates(1, 96, 128, length=64)
    tile = pixel_coordinates(1, 32, 48, length=64, origin=(40, 24))
    assert torch.equal(tile, whole[:, :, 40:72, 24:72])
    per_item = pixel_coordinates(2, 32, 48, length=64, origin=torch.tensor([[0, 0], [40, 24]]))
    assert torch.equal(per_item[1], tile[0]) and torch.equal(per_item[0], whole[0, :, :32, :48])
    # one unit length spans -1..1, as linspace(-1, 1) did for an image of that size
    first = pixel_coordinates(1, 64, 64, length=64)[0, 0, :, 0]
    assert float(first[0]) == pytest.approx(-1 + 1 / 64) and float(first[-1]) == pytest.approx(1 - 1 / 64)


def test_pixel_coordinates_reject_bad_arguments():
    with pytest.raises(ValueError, match="length: expected a positive number of pixels, got 0"):
        pixel_coordinates(1, 4, 4, length=0)
    with pytest.raises(ValueError, match=r"origin: expected a \(row, column\) pair or a \(2, 2\) tensor"):
        pixel_coordinates(2, 4, 4, length=8, origin=torch.zeros(3, 2))


@pytest.mark.parametrize(
    ("x", "error", "words"),
    [
        (torch.zeros(1, 1, 16, 16), ValueError, "grayscale: repeat the channel"),
        (torch.zeros(1, 3, 16, 16, dtype=torch.uint16), TypeError, "integer images: convert"),
        (torch.zeros(1, 16, 16, 3), ValueError, "channels last"),
        (torch.zeros(3, 16, 16), ValueError, "add a batch axis"),
        (torch.zeros(1, 3, 18, 16), ValueError, "multiples of 4"),
    ],
)
def test_embedding_net_names_the_input_problem(x, error, words):
    with pytest.raises(error) as info:
        EmbeddingNet(dim=4, width=8)(x)
    assert words in str(info.value)


# ---------------------------------------------------------------------------------------------
# Training on your own data: tiles in training, whole image or tiles at inference
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained():
    torch.set_num_threads(2)
    train = owndata.InstancePairs([nuclei_image(s, 96, 128, 28) for s in range(3)])
    test = owndata.InstancePairs([nuclei_image(10 + s, 84, 110, 24) for s in range(2)])  # another size, not /4
    result = owndata.fit(train, tile=48, steps=160, batch_size=8, width=16, lr=3e-3, progress=False)
    radius = owndata.choose_radius(result.model, train, n=4)
    return result, train, test, radius


def test_fit_learns_instances_that_beat_an_untrained_network(trained):
    result, train, test, radius = trained
    assert result.history[-1]["total"] < result.history[0]["total"]
    learned = owndata.evaluate(result.model, test, radius=radius)
    untrained = owndata.InstanceNet(dim=8, width=16, coord_length=48).eval()
    before = owndata.evaluate(untrained, test, radius=radius)
    # 160 steps on 2 CPU cores is a short run: ~0.5-0.6 here, under Otsu + connected components (~0.63)
    assert learned["sbd_mean"] > 0.45, learned
    assert learned["sbd_mean"] > before["sbd_mean"] + 0.2, (learned, before)


def test_whole_image_inference_matches_tiled_inference(trained):
    result, _, test, radius = trained
    whole = owndata.evaluate(result.model, test, radius=radius)
    tiled = owndata.evaluate(result.model, test, radius=radius, tile=48)
    assert whole["sbd_mean"] >= tiled["sbd_mean"] - 0.05, (whole, tiled)
    e_whole, fg_whole = owndata.embed(result.model, test[0][0])
    e_tiled, fg_tiled = owndata.embed(result.model, test[0][0], tile=48, margin=48)
    fg_agree = ((fg_whole > 0.5) == (fg_tiled > 0.5)).float().mean()
    assert float(fg_agree) > 0.97
    assert float((e_whole - e_tiled).norm(dim=0).median()) < 0.5 * result.settings["delta_v"]


def test_segment_returns_background_zero_and_instances(trained):
    result, _, test, radius = trained
    image, labels = test[0]
    pred = owndata.segment(result.model, image, radius=radius)
    assert pred.shape == tuple(labels.shape) and pred.dtype == np.int64
    assert pred.min() == 0 and 0.5 * labels.max() <= len(np.unique(pred)) - 1 <= 2 * len(np.unique(labels))


def test_fit_and_embed_reject_bad_arguments():
    pairs = owndata.InstancePairs([nuclei_image(0, 32, 32, 3)])
    with pytest.raises(TypeError, match="wrap your list"):
        owndata.fit([nuclei_image(0, 32, 32, 3)], steps=1)
    with pytest.raises(ValueError, match="tile: expected a multiple of 4"):
        owndata.fit(pairs, tile=30, steps=1)
    with pytest.raises(ValueError, match=r"2 \* delta_d > delta_v"):
        owndata.fit(pairs, steps=1, delta_v=2.0, delta_d=0.5)
    with pytest.raises(TypeError, match="model: expected an InstanceNet"):
        owndata.embed(EmbeddingNet(dim=4, width=8), np.zeros((16, 16)))
