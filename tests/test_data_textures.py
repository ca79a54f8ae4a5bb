"""Tests of course_utils.data.textures: the texture mosaic whose regions colour cannot separate."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from course_utils import clustering
from course_utils.data import textures as dense


@pytest.mark.parametrize("size", [64, 200])
def test_mosaic_shapes_layout_and_names(size):
    img, lay, names = dense.texture_mosaic(size, seed=0)
    assert img.shape == (size, size, 3) and img.dtype == np.uint8
    assert lay.shape == (size, size) and lay.dtype == np.int64
    assert names == list(dense.TEXTURES)
    assert set(np.unique(lay)) == {0, 1, 2}
    # every region is a real share of the image, none a plain rectangle thanks to the disk
    shares = np.bincount(lay.ravel()) / lay.size
    assert shares.min() > 0.15


def test_regions_share_one_colour_distribution():
    img, lay, _ = dense.texture_mosaic(128, seed=3)
    quantiles = [np.percentile(img[lay == r][:, 0], [5, 25, 50, 75, 95]) for r in range(3)]
    for q in quantiles[1:]:
        assert np.abs(q - quantiles[0]).max() <= 1.0  # same histogram up to rounding
    means = np.array([img[lay == r].mean(0) for r in range(3)])
    assert np.ptp(means, axis=0).max() < 0.5


def test_rgb_kmeans_cannot_separate_but_the_textures_differ():
    img, lay, _ = dense.texture_mosaic(96, seed=0)
    lab = clustering.kmeans(img.reshape(-1, 3) / 255.0, 3, n_init=1)
    assert adjusted_rand_score(lay.ravel(), lab) < 0.05
    # the textures are not identical: their local gradient energy differs between regions
    g = img[..., 0].astype(float)
    energy = np.abs(np.diff(g, axis=1))[:-1, :] + np.abs(np.diff(g, axis=0))[:, :-1]
    lay_c = lay[:-1, :-1]
    region_energy = [energy[lay_c == r].mean() for r in range(3)]
    assert np.ptp(region_energy) > 1.0


def test_seed_changes_crops_and_is_deterministic():
    a = dense.texture_mosaic(64, seed=1)[0]
    b = dense.texture_mosaic(64, seed=1)[0]
    c = dense.texture_mosaic(64, seed=2)[0]
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_two_textures_and_tint():
    img, lay, names = dense.texture_mosaic(64, textures=("grass", "brick"), tint=(1.0, 0.0, 0.0))
    assert names == ["grass", "brick"] and set(np.unique(lay)) == {0, 1}
    assert img[..., 1].max() == 0 and img[..., 2].max() == 0 and img[..., 0].max() > 0


def test_layout_alone():
    lay = dense.mosaic_layout(100)
    assert lay.shape == (100, 100) and lay[0, -1] == 1 and lay[-1, -1] == 2 and lay[50, 27] == 2


@pytest.mark.parametrize(
    "kwargs, exc, text",
    [
        ({"size": 8}, ValueError, "size"),
        ({"size": 1000}, ValueError, "size"),
        ({"size": 64.0}, TypeError, "size"),
        ({"textures": "brick"}, TypeError, "textures"),
        ({"textures": ("brick", "brick")}, ValueError, "textures"),
        ({"textures": ("brick", "camera")}, ValueError, "textures"),
        ({"textures": ("brick",)}, ValueError, "textures"),
        ({"tint": (1.0, 0.5)}, ValueError, "tint"),
        ({"tint": (1.0, 0.5, 2.0)}, ValueError, "tint"),
        ({"seed": -1}, ValueError, "seed"),
        ({"rows": "middle"}, ValueError, "rows"),
        ({"rows": "top", "size": 300}, ValueError, "size"),
    ],
)
def test_bad_arguments(kwargs, exc, text):
    with pytest.raises(exc, match=text):
        dense.texture_mosaic(**{"size": 64, **kwargs})


def test_layout_bad_arguments():
    with pytest.raises(ValueError, match="n_regions"):
        dense.mosaic_layout(64, n_regions=4)
    with pytest.raises(ValueError, match="size"):
        dense.mosaic_layout(4)


def test_halves_come_from_disjoint_rows(monkeypatch):
    import skimage.data

    # stand-in textures whose top half is black and bottom half bright noise: any pixel taken
    # from the wrong half would show as a dark value
    rng = np.random.default_rng(0)
    for name in dense.TEXTURES:
        tex = np.zeros((512, 512), np.uint8)
        tex[256:] = rng.integers(100, 256, (256, 512))
        monkeypatch.setattr(skimage.data, name, lambda tex=tex: tex)
    bottom, _, _ = dense.texture_mosaic(128, seed=0, rows="bottom")
    top, _, _ = dense.texture_mosaic(128, seed=0, rows="top")
    assert bottom[..., 0].min() >= 90 and top.max() == 0
    assert dense.matched_textures(rows="bottom").min() >= 60
    assert dense.matched_textures(rows="top").max() == 0
    assert dense.matched_textures(rows="top").shape == (3, 256, 512, 3)


def test_matched_textures_share_one_histogram_and_keep_their_texture():
    tex = dense.matched_textures(rows="bottom")
    reds = [np.sort(t[..., 0].ravel()) for t in tex]
    for r in reds[1:]:
        assert np.abs(r.astype(int) - reds[0].astype(int)).max() <= 1  # same histogram up to rounding
    # but not the same image: the textures differ in how neighbouring pixels relate
    roughness = [np.abs(np.diff(t[..., 0].astype(float), axis=1)).mean() for t in tex]
    assert max(roughness) - min(roughness) > 2.0
    two = dense.matched_textures(("brick", "grass"), rows="all", tint=(1.0, 1.0, 1.0))
    assert two.shape == (2, 512, 512, 3)
    np.testing.assert_array_equal(two[..., 0], two[..., 2])  # a neutral tint keeps them gray


@pytest.mark.parametrize(
    "kwargs, exc, text",
    [
        ({"rows": "left"}, ValueError, "rows"),
        ({"textures": "grass"}, TypeError, "textures"),
        ({"textures": ("grass", "moon")}, ValueError, "textures"),
        ({"tint": (0.5,)}, ValueError, "tint"),
    ],
)
def test_matched_textures_bad_arguments(kwargs, exc, text):
    with pytest.raises(exc, match=text):
        dense.matched_textures(**kwargs)
