"""Input checks shared by the public functions of ``course_utils``.

Every check raises ``ValueError`` (or ``TypeError`` for a wrong type) whose message names the
argument, says what was expected and what was given, e.g.::

    image: expected an RGB image of shape (H, W, 3), got shape (4, 300, 400) -- this looks
    like a (C, H, W) tensor layout; use images.to_hwc(...) or .permute(1, 2, 0)
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "shape_hw",
    "describe_value",
    "check_image",
    "check_int",
    "check_float",
    "check_array",
    "check_labels",
]


def describe_value(x: Any) -> str:
    """Short description of ``x`` for an error message: type, shape and dtype when it has them."""
    shape = getattr(x, "shape", None)
    dtype = getattr(x, "dtype", None)
    if shape is not None:
        return f"{type(x).__name__} of shape {tuple(shape)} and dtype {dtype}"
    if isinstance(x, (list, tuple)):
        return f"{type(x).__name__} of length {len(x)}"
    return f"{type(x).__name__} {x!r}"[:120]


def _to_numpy(x: Any, name: str) -> np.ndarray:
    try:
        import torch

        if isinstance(x, torch.Tensor):
            return x.detach().cpu().numpy()
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    if isinstance(x, np.ndarray):
        return x
    raise TypeError(f"{name}: expected a numpy array or torch tensor, got {describe_value(x)}")


def check_image(image: Any, name: str = "image", *, allow_float: bool = True) -> np.ndarray:
    """Check an RGB image in (H, W, 3) layout: uint8 in [0, 255] or float in [0, 1].

    Returns it as a numpy array (no copy when possible). Grayscale, RGBA and (C, H, W) inputs are
    rejected with a message that says how to convert them.
    """
    arr = _to_numpy(image, name)
    if arr.size == 0:
        raise ValueError(f"{name}: expected a non-empty image, got an empty array of shape {arr.shape}")
    if arr.ndim == 2:
        raise ValueError(
            f"{name}: expected an RGB image of shape (H, W, 3), got a grayscale image of shape "
            f"{arr.shape}; convert it with images.to_rgb(...)"
        )
    if arr.ndim != 3:
        raise ValueError(f"{name}: expected an RGB image of shape (H, W, 3), got shape {arr.shape}")
    if arr.shape[-1] != 3:
        if arr.shape[0] in (1, 3, 4) and arr.shape[-1] > 4:
            raise ValueError(
                f"{name}: expected an RGB image of shape (H, W, 3), got shape {arr.shape} -- this "
                f"looks like a (C, H, W) layout; use images.to_hwc(...) or .permute(1, 2, 0)"
            )
        if arr.shape[-1] == 4:
            raise ValueError(
                f"{name}: expected an RGB image of shape (H, W, 3), got an RGBA image of shape "
                f"{arr.shape}; drop or composite the alpha channel with images.to_rgb(...)"
            )
        raise ValueError(f"{name}: expected an RGB image of shape (H, W, 3), got shape {arr.shape}")
    if arr.dtype == np.uint8:
        return arr
    if np.issubdtype(arr.dtype, np.floating):
        if not allow_float:
            raise ValueError(f"{name}: expected dtype uint8, got {arr.dtype}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name}: expected finite values, got NaN or inf")
        lo, hi = float(arr.min()), float(arr.max())
        if lo < 0.0 or hi > 1.0:
            raise ValueError(
                f"{name}: expected float values in [0, 1], got range [{lo:.3g}, {hi:.3g}]"
                + ("; divide a 0-255 image by 255 or use images.to_float(...)" if hi > 1.0 else "")
            )
        return arr
    raise ValueError(f"{name}: expected dtype uint8 or float, got {arr.dtype}")


def check_int(value: Any, name: str, *, min_value: int | None = None, max_value: int | None = None) -> int:
    """Check that ``value`` is an integer in ``[min_value, max_value]``; return it as ``int``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected an int, got {describe_value(value)}")
    value = int(value)
    if min_value is not None and value < min_value:
        raise ValueError(f"{name}: expected an int >= {min_value}, got {value}")
    if max_value is not None and value > max_value:
        raise ValueError(f"{name}: expected an int <= {max_value}, got {value}")
    return value


def check_float(value: Any, name: str, *, min_value: float | None = None, max_value: float | None = None) -> float:
    """Check that ``value`` is a finite real number in ``[min_value, max_value]``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a number, got {describe_value(value)}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value}")
    if min_value is not None and value < min_value:
        raise ValueError(f"{name}: expected a number >= {min_value}, got {value}")
    if max_value is not None and value > max_value:
        raise ValueError(f"{name}: expected a number <= {max_value}, got {value}")
    return value


def check_array(x: Any, name: str, *, ndim: int | None = None, finite: bool = True) -> np.ndarray:
    """Check a non-empty numeric array (numpy or torch) with ``ndim`` dimensions and no NaN/inf."""
    arr = _to_numpy(x, name)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name}: expected a non-empty array, got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name}: expected a numeric array, got dtype {arr.dtype}")
    if finite and np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        n_bad = int((~np.isfinite(arr)).sum())
        raise ValueError(f"{name}: expected finite values, got {n_bad} NaN/inf entries")
    return arr


def check_labels(x: Any, name: str, *, ndim: int | None = None) -> np.ndarray:
    """Check an integer label array (numpy or torch) with ``ndim`` dimensions."""
    arr = _to_numpy(x, name)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name}: expected an integer label array with {ndim} dimensions, got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool):
        raise TypeError(f"{name}: expected integer labels, got dtype {arr.dtype}")
    return arr


def shape_hw(shape_or_image: Any, name: str = "shape_or_image") -> tuple[int, int]:
    """(H, W) from an (H, W) / (H, W, C) shape tuple or from an image array (numpy or torch)."""
    if isinstance(shape_or_image, (tuple, list)):
        if len(shape_or_image) not in (2, 3):
            raise ValueError(
                f"{name}: expected a shape (H, W) or (H, W, C), got a {len(shape_or_image)}-element "
                f"shape {tuple(shape_or_image)!r}"
            )
        h = check_int(shape_or_image[0], f"{name}[0] (H)", min_value=1)
        w = check_int(shape_or_image[1], f"{name}[1] (W)", min_value=1)
        return h, w
    shape = getattr(shape_or_image, "shape", None)
    if shape is None:
        raise TypeError(f"{name}: expected an (H, W) shape or an image array, got {describe_value(shape_or_image)}")
    if len(shape) == 3 and shape[-1] == 3:
        check_image(shape_or_image, name)  # also rejects NaN, values outside [0, 1], ...
        return int(shape[0]), int(shape[1])
    if len(shape) == 2:
        if 0 in tuple(shape):
            raise ValueError(f"{name}: expected a non-empty array, got shape {tuple(shape)}")
        return int(shape[0]), int(shape[1])
    check_image(shape_or_image, name)  # raises the informative message (CHW, RGBA, ...)
    raise AssertionError("unreachable")  # pragma: no cover
