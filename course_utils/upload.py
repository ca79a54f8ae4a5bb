""""Bring your own image": read photos from an ipywidgets ``FileUpload`` (Jupyter and Colab).

ipywidgets changed the format of ``FileUpload.value`` between versions:

* ipywidgets 8 (Jupyter today): a tuple of dicts ``{"name", "type", "size", "content": memoryview, ...}``;
* ipywidgets 7 (Colab's runtime): a dict ``{filename: {"metadata": {...}, "content": bytes}}``.

:func:`images_from_upload` accepts both and returns decoded RGB arrays; :func:`upload_box` builds
the widget with an output area and calls a function of yours on every uploaded photo.
"""
from __future__ import annotations

import io
from typing import Any, Callable

import numpy as np

from .validation import describe_value

__all__ = ["images_from_upload", "decode_image", "upload_box"]


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
