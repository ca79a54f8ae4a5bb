"""Bring your own image: read photos from an ipywidgets ``FileUpload`` (Jupyter and Colab).

ipywidgets changed the format of ``FileUpload.value`` between versions:

* ipywidgets 8 (Jupyter today): a tuple of dicts ``{"name", "type", "size", "content": memoryview, ...}``;
* ipywidgets 7 (Colab's runtime): a dict ``{filename: {"metadata": {...}, "content": bytes}}``.

:func:`images_from_upload` accepts both and returns decoded RGB arrays; :func:`upload_box` builds
the widget with an output area and calls a function of yours on every uploaded photo.
"""

from __future__ import annotations

import contextlib
import html
import io
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from ._validate import check_int, describe_value

__all__ = ["figure_png", "explorer", "images_from_upload", "decode_image", "upload_box"]


def decode_image(data: bytes | bytearray | memoryview, name: str = "upload") -> np.ndarray:
    """Decode the bytes of an image file (PNG, JPEG, ...) to an (H, W, 3) uint8 RGB array.

    Raises ``ValueError`` naming the file when the bytes are not an image PIL can read.
    """
    from PIL import Image, UnidentifiedImageError

    from .images import load_image

    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data: expected the bytes of an image file, got {describe_value(data)}")
    raw = bytes(data)
    if len(raw) == 0:
        raise ValueError(f"{name}: the uploaded file is empty (0 bytes)")
    try:
        with Image.open(io.BytesIO(raw)) as im:
            im.load()
            return load_image(im.convert("RGBA") if im.mode in ("P", "LA", "PA") else im)
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(
            f"{name}: expected an image file (PNG, JPEG, ...), got {len(raw)} bytes PIL cannot read ({exc})"
        ) from None


def images_from_upload(value: Any) -> list[tuple[str, np.ndarray]]:
    """``FileUpload.value`` (ipywidgets 7 or 8 format) -> list of ``(file name, (H, W, 3) uint8 image)``.

    An empty value gives an empty list. Raises ``TypeError`` for a value in neither format and
    ``ValueError`` (naming the file) for a file that is not an image.
    """
    if value is None:
        return []
    items: list[tuple[str, Any]] = []
    if isinstance(value, dict):  # ipywidgets 7: {name: {"metadata": ..., "content": bytes}}
        for key, entry in value.items():
            if not isinstance(entry, dict) or "content" not in entry:
                raise TypeError(
                    f"value: expected ipywidgets 7 format {{name: {{'metadata': ..., 'content': bytes}}}}, "
                    f"got entry {key!r} = {describe_value(entry)}"
                )
            items.append((str(key), entry["content"]))
    elif isinstance(value, (tuple, list)):  # ipywidgets 8: ({"name": ..., "content": memoryview}, ...)
        for i, entry in enumerate(value):
            if not hasattr(entry, "get") or entry.get("content") is None:
                raise TypeError(
                    f"value: expected ipywidgets 8 format (a tuple of dicts with 'name' and 'content'), "
                    f"got item {i} = {describe_value(entry)}"
                )
            items.append((str(entry.get("name", f"upload_{i}")), entry["content"]))
    else:
        raise TypeError(f"value: expected FileUpload.value (a dict or a tuple of dicts), got {describe_value(value)}")
    return [(name, decode_image(content, name)) for name, content in items]


def upload_box(on_image: Callable[[str, np.ndarray], Any], description: str = "Upload a photo"):
    """A ``FileUpload`` button above an output area; ``on_image(name, image)`` runs for each upload.

    Whatever ``on_image`` prints or displays appears in the output area; an error (for example a
    file that is not an image) is printed there instead of disappearing into the browser console.
    Returns the ``ipywidgets.VBox`` to display (it needs a live kernel; the static website shows
    only the figures drawn without it).
    """
    import ipywidgets as widgets

    if not callable(on_image):
        raise TypeError(f"on_image: expected a function (name, image) -> None, got {describe_value(on_image)}")
    button = widgets.FileUpload(accept="image/*", multiple=False, description=description)
    out = widgets.Output()

    def _changed(change) -> None:
        with out:
            out.clear_output(wait=True)
            try:
                for name, image in images_from_upload(change["new"]):
                    on_image(name, image)
            except Exception as exc:  # shown to the reader, not swallowed
                print(f"Could not segment the upload: {type(exc).__name__}: {exc}")

    button.observe(_changed, names="value")
    return widgets.VBox([button, out])


def figure_png(fig, dpi: int = 96) -> bytes:
    """Render a matplotlib figure to PNG bytes and close it (so the notebook does not show it twice)."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise TypeError(
            f"fig: expected a matplotlib Figure, got {describe_value(fig)}"
            + (" (the draw function must `return fig`, not call plt.show())" if fig is None else "")
        )
    check_int(dpi, "dpi", min_value=10)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def explorer(draw: Callable, *, dpi: int = 80, **controls):
    """A live figure with controls: ``draw(**values)`` returns a matplotlib Figure, redrawn on change.

    ``controls`` maps each keyword of ``draw`` to an ipywidgets control (slider, dropdown...).
    The figure is shown as an ``ipywidgets.Image`` (PNG) and printed text in an ``HTML`` box: no
    ``Output`` widget, so the notebook executes the same way in Jupyter, Colab, nbval and the
    book build. Sliders redraw on release (``continuous_update=False``). Returns the ``VBox``.
    """
    import ipywidgets as widgets

    if not callable(draw):
        raise TypeError(f"draw: expected a function that returns a matplotlib Figure, got {describe_value(draw)}")
    if not controls:
        raise ValueError("controls: expected at least one keyword=widget pair, got none")
    for name, control in controls.items():
        if not isinstance(control, widgets.ValueWidget):
            raise TypeError(
                f"{name}: expected an ipywidgets control with a .value (e.g. widgets.IntSlider), "
                f"got {describe_value(control)}"
            )
        if hasattr(control, "continuous_update"):
            control.continuous_update = False
        if not control.description:
            control.description = name
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
    text = widgets.HTML()

    import matplotlib.pyplot as plt

    def redraw(_change=None):
        values = {name: control.value for name, control in controls.items()}
        out = io.StringIO()
        open_before = set(plt.get_fignums())
        try:
            with contextlib.redirect_stdout(out):
                image.value = figure_png(draw(**values), dpi=dpi)
        except Exception:  # shown in the widget: a callback's exception would otherwise vanish
            out.write(traceback.format_exc())
            for num in set(plt.get_fignums()) - open_before:  # a half-drawn figure is not left open
                plt.close(num)
        printed = out.getvalue()
        text.value = f"<pre>{html.escape(printed)}</pre>" if printed else ""

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox(
        [widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap")), image, text]
    )
