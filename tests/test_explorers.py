"""course_utils.explorers: frames drawn once per combination, embedded HTML, and bad inputs."""

from __future__ import annotations

import base64
import io
import json
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from course_utils.explorers import FrameExplorer, encode_image, figure_pixels, frame_explorer  # noqa: E402


def _draw(k, name):
    img = np.zeros((4, 6, 3), np.uint8)
    img[:, :k] = 255 if name == "white" else 80
    return img, f"k={k} {name}"


def _decode(src: str) -> np.ndarray:
    header, data = src.split(",", 1)
    assert header in ("data:image/png;base64", "data:image/jpeg;base64")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))))


def test_one_frame_per_combination_each_drawn_from_its_values():
    calls = []

    def draw(k, name):
        calls.append((k, name))
        return _draw(k, name)

    ex = frame_explorer(draw, k=[1, 2, 3], name=["grey", "white"], alt="{k} bars, {name}")
    assert isinstance(ex, FrameExplorer)
    assert len(ex.frames) == 6 and sorted(calls) == sorted((k, n) for k in (1, 2, 3) for n in ("grey", "white"))
    assert len({f.src for f in ex.frames.values()}) == 6, "different values must give different frames"
    frame = ex.frame(k=2, name="white")
    np.testing.assert_array_equal(_decode(frame.src), _draw(2, "white")[0])
    assert frame.alt == "2 bars, white" and frame.caption == "k=2 white"


def test_html_shows_the_default_frame_and_embeds_all_frames():
    ex = frame_explorer(_draw, k=[1, 2, 3], name=["grey", "white"], alt="{k} {name}", default={"k": 3})
    page = ex._repr_html_()
    assert 'class="cu-explorer"' in page and 'data-frames="6"' in page
    shown = re.search(r'<img src="([^"]+)"', page).group(1)
    assert shown == ex.frame(k=3, name="grey").src
    frames = json.loads(re.search(r'class="cu-explorer-frames">(.*?)</script>', page, re.S).group(1))
    assert len(frames) == 6 and frames["1,1"][0] == ex.frame(k=2, name="white").src
    # a numeric control is a slider starting at the default, a text control a drop-down
    assert re.search(r'type="range"[^>]*max="2"[^>]*value="2"', page)
    assert "<select" in page and page.count("<option") == 2
    assert page.count("<label for=") == 2 and "oninput=" in page
    assert "FrameExplorer(6 frames" in repr(ex)


def test_labels_and_zoom_reach_the_page():
    ex = frame_explorer(_draw, k=[1, 2], name=["grey"], alt="{k}", labels={"k": "bars"}, zoom=3)
    page = ex._repr_html_()
    assert "<b>bars</b>" in page and "width:18px" in page


def test_frames_from_matplotlib_figures_and_float_images():
    def draw(c):
        fig, ax = plt.subplots(figsize=(1, 1), dpi=20)
        ax.plot([0, 1], [0, c])
        return fig

    ex = frame_explorer(draw, c=[0.0, 1.0], alt="line to {c}")
    assert _decode(ex.frame(c=1.0).src).shape == (20, 20, 3)
    assert plt.get_fignums() == [], "figures must be closed after rendering"
    assert encode_image(np.full((2, 2), 0.5), "png").startswith("data:image/png")
    assert encode_image(np.zeros((8, 8, 3), np.uint8), "jpeg").startswith("data:image/jpeg")
    assert figure_pixels("not a figure") == "not a figure"


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({}, ValueError, "at least one"),
        ({"k": "123"}, TypeError, "k: expected a list"),
        ({"k": []}, ValueError, "k: expected at least one value"),
        ({"k": [1, 1]}, ValueError, "distinct"),
        ({"k": list(range(20)), "j": list(range(10))}, ValueError, "max_frames"),
    ],
)
def test_bad_controls_are_refused_with_the_argument_named(kwargs, error, words):
    with pytest.raises(error, match=words):
        frame_explorer(lambda **v: np.zeros((2, 2, 3), np.uint8), alt="x", **kwargs)


def test_bad_options_are_refused_before_drawing():
    def draw(k):
        raise AssertionError("must not draw")

    with pytest.raises(ValueError, match="alt: the template names 'lam'"):
        frame_explorer(draw, k=[1], alt="k={k} lam={lam}")
    with pytest.raises(TypeError, match="alt: expected a format string"):
        frame_explorer(draw, k=[1], alt=3)
    with pytest.raises(ValueError, match="default: k=5 is not among"):
        frame_explorer(draw, k=[1, 2], alt="{k}", default={"k": 5})
    with pytest.raises(ValueError, match="default: names controls that do not exist"):
        frame_explorer(draw, k=[1, 2], alt="{k}", default={"j": 1})
    with pytest.raises(ValueError, match="labels: names controls"):
        frame_explorer(draw, k=[1, 2], alt="{k}", labels={"j": "J"})
    with pytest.raises(ValueError, match="zoom"):
        frame_explorer(draw, k=[1, 2], alt="{k}", zoom=0)
    with pytest.raises(TypeError, match="draw: expected a function"):
        frame_explorer("draw", k=[1], alt="{k}")


@pytest.mark.parametrize(
    "returned, error, words",
    [
        ("an image", TypeError, "numpy array or a matplotlib Figure, got str"),
        ((np.zeros((2, 2, 3), np.uint8), 5), TypeError, r"\(image, caption: str\)"),
        (np.zeros((2, 2, 4), np.uint8), ValueError, r"shape \(H, W, 3\) or \(H, W\), got shape \(2, 2, 4\)"),
        (np.full((2, 2, 3), 2.0), ValueError, r"must lie in \[0, 1\]"),
        (np.zeros((2, 2, 3), np.int64), ValueError, "dtype int64"),
    ],
)
def test_a_draw_returning_a_wrong_frame_names_the_values(returned, error, words):
    with pytest.raises(error, match=words) as info:
        frame_explorer(lambda k: returned, k=[7], alt="{k}")
    assert "draw({'k': 7})" in str(info.value)


def test_frame_lookup_refuses_unknown_values():
    ex = frame_explorer(_draw, k=[1, 2], name=["grey"], alt="{k}")
    with pytest.raises(ValueError, match="k: expected one of"):
        ex.frame(k=9, name="grey")
    with pytest.raises(ValueError, match="missing"):
        ex.frame(k=1)
