"""How a lesson reports what it computed: values glued into the text, checked claims.

``glue`` writes the same display message as ``myst_nb.glue`` (a mime bundle whose metadata names
the value), so the book's ``{glue:text}`name``` roles read it, without needing myst-nb installed
(Colab has no myst-nb).
"""

from __future__ import annotations

from typing import Any

__all__ = ["GLUE_PREFIX", "glue", "claim"]

#: Mime-type prefix myst-nb uses for glued values that are not displayed.
GLUE_PREFIX = "application/papermill.record/"


def glue(name: str, value: Any, display: bool = True) -> None:
    """Record ``value`` under ``name`` for the book's ``{glue:text}`` roles (myst-nb compatible).

    Args:
        name: the key the Markdown refers to, e.g. ``"sbd_learned"``.
        value: any object; its display representations are stored. NumPy scalars and 0-d arrays
            or tensors are stored as the Python number they hold, so ``{glue:text}`name:.2f``` can
            format them (NumPy 2 writes ``np.float64(0.38)`` as their text).
        display: also show the value in the cell output (Jupyter, Colab).

    Raises:
        TypeError: if ``name`` is not a non-empty string.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name: expected a non-empty str, got {name!r}")
    from IPython.core.formatters import format_display_data
    from IPython.display import display as ipy_display

    value = _plain(value)
    bundle, metadata = format_display_data(value)
    prefix = "" if display else GLUE_PREFIX
    metadata["scrapbook"] = {"name": name, "mime_prefix": prefix}
    ipy_display({prefix + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)


def _plain(value: Any) -> Any:
    """A NumPy scalar, 0-d array or 0-d tensor as the Python number it holds; anything else as is."""
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        return value.item()
    if type(value).__module__.startswith("torch") and getattr(value, "ndim", None) == 0:
        return value.item()
    return value


def claim(condition: Any, statement: str) -> None:
    """Check a statement the lesson's text makes; raise with that statement if it is false.

    Args:
        condition: truthy when the statement holds.
        statement: the sentence of the text being checked, e.g. ``"k-means on RGB scores ARI < 0.1"``.

    Raises:
        AssertionError: ``"The text says: <statement>, but this run disagrees"``.
    """
    if not bool(condition):
        raise AssertionError(f"The text says: {statement}, but this run disagrees")
