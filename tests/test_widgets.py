"""course_utils.widgets: both ipywidgets FileUpload formats, the widget callback, bad uploads."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pytest
from PIL import Image

from course_utils import widgets as upload


def _png(arr: np.ndarray, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, fmt)
    return buf.getvalue()


RNG = np.random.default_rng(0)
ARR = RNG.integers(0, 256, (6, 9, 3), dtype=np.uint8)


def _v8(name: str, data: bytes):
    return (
        {
            "name": name,
            "type": "image/png",
            "size": len(data),
            "content": memoryview(data),
            "last_modified": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
        },
    )


def test_ipywidgets_8_format():
    [(name, img)] = upload.images_from_upload(_v8("a.png", _png(ARR)))
    assert name == "a.png"
    np.testing.assert_array_equal(img, ARR)


def test_ipywidgets_7_format_and_grayscale_and_palette_images():
    gray = ARR[..., 0]
    value = {
        "g.png": {"metadata": {"name": "g.png"}, "content": _png(gray)},
        "p.png": {"metadata": {"name": "p.png"}, "content": _png(ARR)},
    }
    out = dict(upload.images_from_upload(value))
    assert out["g.png"].shape == (6, 9, 3) and (out["g.png"][..., 2] == gray).all()
    np.testing.assert_array_equal(out["p.png"], ARR)
    pal = Image.fromarray(ARR).convert("P")
    buf = io.BytesIO()
    pal.save(buf, "PNG")
    img = upload.decode_image(buf.getvalue(), "pal.png")
    assert img.shape == (6, 9, 3) and img.dtype == np.uint8


def test_jpeg_decodes_approximately():
    smooth = np.tile(np.linspace(0, 255, 32, dtype=np.uint8)[None, :, None], (16, 1, 3))
    img = upload.decode_image(_png(smooth, "JPEG"))
    assert img.shape == smooth.shape and np.abs(img.astype(int) - smooth).mean() < 8


def test_empty_values_give_no_images():
    assert upload.images_from_upload(()) == []
    assert upload.images_from_upload({}) == []
    assert upload.images_from_upload(None) == []


def test_bad_uploads_name_the_problem():
    with pytest.raises(ValueError, match="notes.txt.*image file"):
        upload.images_from_upload(_v8("notes.txt", b"hello, not an image"))
    with pytest.raises(ValueError, match="empty"):
        upload.decode_image(b"", "e.png")
    with pytest.raises(TypeError, match="data"):
        upload.decode_image("a string", "x")
    with pytest.raises(TypeError, match="ipywidgets 8"):
        upload.images_from_upload(("not a dict",))
    with pytest.raises(TypeError, match="ipywidgets 7"):
        upload.images_from_upload({"a.png": b"raw bytes"})
    with pytest.raises(TypeError, match="FileUpload.value"):
        upload.images_from_upload(42)


def test_upload_box_calls_back_with_each_image_and_reports_errors(capsys):
    seen = []
    box = upload.upload_box(lambda name, img: seen.append((name, img.shape)))
    button = box.children[0]
    button.value = _v8("a.png", _png(ARR))
    assert seen == [("a.png", (6, 9, 3))]
    button.value = _v8("b.txt", b"nope")  # the error is reported, not raised into the widget machinery
    assert "b.txt" in capsys.readouterr().out
    assert len(seen) == 1
    with pytest.raises(TypeError, match="on_image"):
        upload.upload_box("not a function")
