"""course_utils.images: sample photos, loading, layout/dtype conversions, resizing, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from course_utils import images


def test_sample_images_are_rgb_uint8_and_resizable():
    for name in ("astronaut", "camera", "china"):  # colour, grayscale (stacked), scikit-learn
        img = images.sample_image(name)
        assert img.ndim == 3 and img.shape[-1] == 3 and img.dtype == np.uint8, name
    small = images.sample_image("coffee", size=64)
    assert max(small.shape[:2]) == 64 and small.shape[-1] == 3
    assert images.sample_image("coffee", size=(20, 30)).shape == (20, 30, 3)


def test_load_image_from_path_pil_array_and_tensor(tmp_path):
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (9, 7, 3), dtype=np.uint8)
    path = tmp_path / "x.png"
    Image.fromarray(arr).save(path)
    np.testing.assert_array_equal(images.load_image(path), arr)
    np.testing.assert_array_equal(images.load_image(str(path)), arr)
    np.testing.assert_array_equal(images.load_image(Image.fromarray(arr)), arr)
    np.testing.assert_array_equal(images.load_image(arr.astype(np.float32) / 255), arr)
    np.testing.assert_array_equal(images.load_image(torch.from_numpy(arr)), arr)


def test_to_rgb_grayscale_and_rgba():
    gray = np.arange(6, dtype=np.uint8).reshape(2, 3)
    rgb = images.to_rgb(gray)
    assert rgb.shape == (2, 3, 3) and (rgb[..., 0] == gray).all() and (rgb[..., 2] == gray).all()
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[..., 0] = 255
    rgba[0, 0, 3] = 255  # one opaque red pixel, the others transparent
    out = images.to_rgb(rgba)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out[0, 0], [255, 0, 0])
    np.testing.assert_array_equal(out[1, 1], [255, 255, 255])  # composited on white
    np.testing.assert_array_equal(images.to_rgb(rgba, background=0.0)[1, 1], [0, 0, 0])


def test_float_uint8_round_trip():
    arr = np.array([[[0, 128, 255]]], dtype=np.uint8)
    f = images.to_float(arr)
    assert f.dtype == np.float32 and f.max() == pytest.approx(1.0)
    np.testing.assert_array_equal(images.to_uint8(f), arr)


def test_tensor_round_trip_and_layout():
    rng = np.random.default_rng(1)
    arr = rng.random((5, 4, 3), dtype=np.float32)
    t = images.to_tensor(arr)
    assert tuple(t.shape) == (3, 5, 4) and t.dtype == torch.float32
    assert tuple(images.to_tensor(arr, batch=True).shape) == (1, 3, 5, 4)
    np.testing.assert_allclose(images.to_hwc(t), arr)
    np.testing.assert_allclose(images.to_hwc(t.unsqueeze(0)), arr)


def test_resize_keeps_aspect_and_dtype():
    img = np.zeros((100, 50, 3), dtype=np.uint8)
    out = images.resize(img, 40)
    assert out.shape == (40, 20, 3) and out.dtype == np.uint8
    f = images.resize(img.astype(np.float32), (10, 10))
    assert f.shape == (10, 10, 3) and f.dtype == np.float32


@pytest.mark.parametrize(
    "call, pattern",
    [
        (lambda: images.sample_image("lena"), r"name: expected one of .*got 'lena'"),
        (lambda: images.to_float(np.zeros((3, 32, 32), np.float32)), r"image: .*\(3, 32, 32\).*\(C, H, W\)"),
        (lambda: images.to_float(np.zeros((8, 8, 4), np.uint8)), r"image: .*RGBA.*\(8, 8, 4\)"),
        (lambda: images.to_uint8(np.full((2, 2, 3), 255.0)), r"image: .*\[0, 1\].*255.*divide"),
        (lambda: images.to_tensor(np.zeros((8, 8), np.uint8)), r"image: .*grayscale.*\(8, 8\)"),
        (lambda: images.to_rgb(np.zeros((3, 40, 50), np.uint8)), r"image: .*\(3, 40, 50\).*\(C, H, W\)"),
        (lambda: images.to_rgb(np.zeros((0, 3), np.uint8)), r"image: .*non-empty.*\(0, 3\)"),
        (lambda: images.to_hwc(np.zeros((8, 8, 3))), r"tensor: .*\(3, H, W\).*\(8, 8, 3\)"),
        (lambda: images.resize(np.zeros((8, 8, 3), np.uint8), 0), r"size: .*>= 1, got 0"),
        (lambda: images.resize(np.zeros((8, 8, 3), np.uint8), "big"), r"size: .*got 'big'"),
        (lambda: images.load_image("/nonexistent/x.png"), r"source: no image file"),
        (lambda: images.load_image(42), r"source: .*int 42"),
    ],
)
def test_bad_inputs_name_the_argument(call, pattern):
    with pytest.raises((ValueError, TypeError, FileNotFoundError), match=pattern):
        call()
