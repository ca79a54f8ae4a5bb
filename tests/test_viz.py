"""course_utils.viz: palette, label colouring, overlays, grids and legends (headless)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils import viz  # noqa: E402
from course_utils import widgets as course_widgets  # noqa: E402


def test_label_colors_distinct_and_in_range():
    assert viz.label_colors(0).shape == (0, 3)
    for n in (5, 16, 40):
        cols = viz.label_colors(n)
        assert cols.shape == (n, 3) and cols.min() >= 0 and cols.max() <= 1
        assert len(np.unique(np.round(cols, 3), axis=0)) == n
    np.testing.assert_array_equal(viz.label_colors(3), viz.PALETTE[:3])


def test_colorize_uses_palette_and_ignore_index():
    lab = np.array([[0, 1], [2, 255]])
    out = viz.colorize(lab, ignore_index=255)
    assert out.shape == (2, 2, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out[0, 1], viz.PALETTE[1])
    np.testing.assert_array_equal(out[1, 1], 0.0)


def test_overlay_blends_and_keeps_ignored_pixels():
    img = np.full((2, 2, 3), 255, np.uint8)
    lab = np.array([[0, 0], [1, 255]])
    out = viz.overlay(img, lab, alpha=0.5, ignore_index=255)
    np.testing.assert_allclose(out[0, 0], 0.5 + 0.5 * viz.PALETTE[0], atol=1e-6)
    np.testing.assert_allclose(out[1, 1], 1.0)
    np.testing.assert_allclose(viz.overlay(img, lab[:1].repeat(2, 0), alpha=0.0), 1.0)


def test_image_grid_and_show_labels_draw_titles_and_legend():
    fig, axes = viz.image_grid([np.zeros((4, 4, 3)), np.zeros((4, 4))], titles=["a", "b"], ncols=3, suptitle="S")
    assert axes.shape == (1, 2) and [ax.get_title() for ax in axes.flat] == ["a", "b"]
    plt.close(fig)
    fig, ax = plt.subplots()
    viz.show_labels(ax, np.array([[0, 2], [2, 2]]), title="t", names=["sky", "tree", "road"])
    legend = ax.get_legend()
    assert ax.get_title() == "t" and [t.get_text() for t in legend.get_texts()] == ["sky", "road"]
    plt.close(fig)


@pytest.mark.parametrize(
    "call, pattern",
    [
        (lambda: viz.label_colors(-1), r"^n: expected an int >= 0, got -1"),
        (lambda: viz.colorize(np.zeros((2, 2), np.float32)), r"^labels: expected integer labels, got dtype float32"),
        (lambda: viz.colorize(np.array([[0, -1]])), r"^labels: expected non-negative labels, got minimum -1"),
        (
            lambda: viz.colorize(np.array([[0, 3]]), palette=np.zeros((2, 3))),
            r"^palette: expected .*\(>=4, 3\).*\(2, 3\)",
        ),
        (
            lambda: viz.overlay(np.zeros((4, 4, 3)), np.zeros((3, 4), np.int64)),
            r"^labels: expected shape \(4, 4\).*got \(3, 4\)",
        ),
        (lambda: viz.overlay(np.zeros((3, 4, 4)), np.zeros((4, 4), np.int64)), r"^image: .*\(3, 4, 4\)"),
        (
            lambda: viz.overlay(np.zeros((4, 4, 3)), np.zeros((4, 4), np.int64), alpha=2),
            r"^alpha: expected a number <= 1.0, got 2.0",
        ),
        (lambda: viz.image_grid([]), r"^images: expected at least one image, got an empty sequence"),
        (lambda: viz.image_grid([np.zeros((2, 2))], titles=["a", "b"]), r"^titles: expected 1 titles, got 2"),
        (lambda: viz.add_legend(None, ["a"], []), r"^names and colors: expected equal lengths, got 1 and 0"),
    ],
)
def test_bad_inputs_name_the_argument(call, pattern):
    with pytest.raises((ValueError, TypeError), match=pattern):
        call()


def _draw(k=2, label="a"):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot(range(k))
    ax.set_title(label)
    print(f"k={k}")
    return fig


def test_explorer_draws_a_png_and_redraws_when_a_control_changes():
    widgets = pytest.importorskip("ipywidgets")
    k = widgets.IntSlider(value=2, min=1, max=5)
    box = course_widgets.explorer(_draw, k=k, label=widgets.Dropdown(options=["a", "b"], value="a"))
    controls, image, text = box.children
    assert isinstance(image, widgets.Image)
    assert not any(isinstance(w, widgets.Output) for w in (box, controls, image, text))
    first = bytes(image.value)
    assert first.startswith(b"\x89PNG"), "the figure is a PNG"
    assert "k=2" in text.value, "printed text is shown under the figure"
    assert k.continuous_update is False and k.description == "k"
    k.value = 4
    assert bytes(image.value) != first and "k=4" in text.value
    assert plt.get_fignums() == [], "rendered figures are closed, not left for the notebook to show"


def test_explorer_shows_the_error_of_a_draw_function_that_does_not_return_a_figure():
    widgets = pytest.importorskip("ipywidgets")
    box = course_widgets.explorer(lambda k: None, k=widgets.IntSlider(value=1))
    assert "must `return fig`" in box.children[2].value


def test_explorer_closes_the_figure_of_a_draw_function_that_fails():
    widgets = pytest.importorskip("ipywidgets")

    def draw(k):
        plt.subplots()
        raise ValueError(f"bad k={k}")

    box = course_widgets.explorer(draw, k=widgets.IntSlider(value=1))
    assert "ValueError: bad k=1" in box.children[2].value
    assert plt.get_fignums() == []


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (dict(draw="not a function"), r"draw: expected a function"),
        (dict(draw=_draw), r"controls: expected at least one"),
        (dict(draw=_draw, k=3), r"k: expected an ipywidgets control .* got int"),
    ],
)
def test_explorer_rejects_bad_arguments(kwargs, pattern):
    pytest.importorskip("ipywidgets")
    draw = kwargs.pop("draw")
    with pytest.raises((TypeError, ValueError), match=pattern):
        course_widgets.explorer(draw, **kwargs)
    plt.close("all")


def test_figure_png_rejects_a_non_figure():
    with pytest.raises(TypeError, match=r"fig: expected a matplotlib Figure, got NoneType.*return fig"):
        course_widgets.figure_png(None)


def test_the_first_21_colours_are_far_apart_in_ciede2000():
    from skimage.color import deltaE_ciede2000, rgb2lab

    lab = rgb2lab(viz.label_colors(21)[None].astype(np.float64))[0]
    d = deltaE_ciede2000(lab[:, None], lab[None])
    np.fill_diagonal(d, np.inf)
    i, j = np.unravel_index(d.argmin(), d.shape)
    assert d.min() >= 10, f"colours {i} and {j} are only {d.min():.1f} apart (CIEDE2000)"
