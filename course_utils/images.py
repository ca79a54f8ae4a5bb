"""Loading, converting and resizing images.

Layouts and dtypes used throughout the course:

* ``uint8 HWC``  -- (H, W, 3) ``np.uint8`` in [0, 255]: what files and ``skimage.data`` give.
* ``float HWC``  -- (H, W, 3) ``np.float32`` in [0, 1]: what the clustering lessons use.
* ``CHW tensor`` -- (3, H, W) ``torch.float32`` in [0, 1]: what torchvision models take
  (after normalisation), batched as (N, 3, H, W).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._validate import check_image, check_int, describe_value

if TYPE_CHECKING:  # torch is imported lazily, where it is needed
    import torch

__all__ = [
    "SAMPLE_IMAGES",
    "sample_image",
    "load_image",
    "to_rgb",
    "to_float",
    "to_uint8",
    "to_tensor",
    "to_hwc",
    "resize",
]

# name -> (package, loader description). Every one of these ships inside an installed package.
SAMPLE_IMAGES: dict[str, str] = {
    "astronaut": "skimage.data.astronaut",
    "coffee": "skimage.data.coffee",
    "chelsea": "skimage.data.chelsea",
    "rocket": "skimage.data.rocket",
    "retina": "skimage.data.retina",
    "immunohistochemistry": "skimage.data.immunohistochemistry",
    "hubble_deep_field": "skimage.data.hubble_deep_field",
    "brick": "skimage.data.brick",
    "grass": "skimage.data.grass",
    "gravel": "skimage.data.gravel",
    "coins": "skimage.data.coins",
    "camera": "skimage.data.camera",
    "china": "sklearn.datasets.load_sample_image('china.jpg')",
    "flower": "sklearn.datasets.load_sample_image('flower.jpg')",
}

ImageLike = str | Path | np.ndarray | Any


def sample_image(name: str, size: int | tuple[int, int] | None = None) -> np.ndarray:
    """Return a real photo that ships with scikit-image or scikit-learn (works offline).

    Args:
        name: one of :data:`SAMPLE_IMAGES` (``"astronaut"``, ``"coffee"``, ``"china"``, ...).
        size: optional output size: an int for the longer side, or ``(H, W)``.

    Returns:
        (H, W, 3) uint8 RGB array (grayscale samples such as ``"camera"`` are stacked to RGB).
    """
    if not isinstance(name, str) or name not in SAMPLE_IMAGES:
        raise ValueError(f"name: expected one of {sorted(SAMPLE_IMAGES)}, got {name!r}")
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        img = load_sample_image(f"{name}.jpg")
    else:
        import skimage.data

        img = getattr(skimage.data, name)()
    img = to_rgb(np.asarray(img))
    return resize(img, size) if size is not None else img


def load_image(source: ImageLike) -> np.ndarray:
    """Load an image from a path, a ``PIL.Image`` or an array, as (H, W, 3) uint8 RGB.

    RGBA is composited on white, grayscale is stacked to three channels, float [0, 1] is scaled
    to [0, 255]. A (C, H, W) array or tensor is rejected with a hint.
    """
    from PIL import Image

    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"source: no image file at {str(path)!r}")
        with Image.open(path) as im:
            im.load()
            return to_rgb(np.asarray(im))
    if isinstance(source, Image.Image):
        return to_rgb(np.asarray(source))
    if hasattr(source, "detach"):  # torch tensor
        source = source.detach().cpu().numpy()
    if isinstance(source, np.ndarray):
        return to_uint8(to_rgb(source))
    raise TypeError(f"source: expected a path, a PIL image or an array, got {describe_value(source)}")


def to_rgb(image: np.ndarray, background: float = 1.0) -> np.ndarray:
    """Make an (H, W, 3) image from grayscale (H, W) / (H, W, 1) or RGBA (H, W, 4).

    RGBA is alpha-composited on a plain background (``1.0`` = white, ``0.0`` = black).
    The dtype (uint8 or float) is kept. RGB input is returned unchanged.
    """
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image: expected a numpy array, got {describe_value(image)}")
    if image.size == 0:
        raise ValueError(f"image: expected a non-empty image, got shape {image.shape}")
    if image.ndim == 3 and image.shape[0] in (1, 3, 4) and image.shape[-1] not in (1, 3, 4):
        raise ValueError(
            f"image: expected (H, W), (H, W, 3) or (H, W, 4), got shape {image.shape} -- this looks "
            f"like a (C, H, W) layout; use to_hwc(...) first"
        )
    if image.ndim == 2:
        return np.stack([image] * 3, axis=-1)
    if image.ndim == 3 and image.shape[-1] == 1:
        return np.repeat(image, 3, axis=-1)
    if image.ndim == 3 and image.shape[-1] == 3:
        return image
    if image.ndim == 3 and image.shape[-1] == 4:
        scale = 255.0 if image.dtype == np.uint8 else 1.0
        rgb = image[..., :3].astype(np.float32) / scale
        alpha = image[..., 3:].astype(np.float32) / scale
        out = rgb * alpha + background * (1.0 - alpha)
        return (np.round(out * 255).astype(np.uint8)) if image.dtype == np.uint8 else out.astype(image.dtype)
    raise ValueError(f"image: expected (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got shape {image.shape}")


def to_float(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 [0, 255] or float [0, 1] -> (H, W, 3) float32 in [0, 1]."""
    arr = check_image(image)
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    return arr.astype(np.float32, copy=False)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) float [0, 1] or uint8 -> (H, W, 3) uint8 in [0, 255] (rounded)."""
    arr = check_image(image)
    if arr.dtype == np.uint8:
        return arr
    return np.round(arr * 255.0).astype(np.uint8)


def to_tensor(image: np.ndarray, batch: bool = False):
    """(H, W, 3) image (uint8 or float) -> (3, H, W) float32 tensor in [0, 1]; (1, 3, H, W) if ``batch``."""
    import torch

    arr = to_float(image)
    t = torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))
    return t.unsqueeze(0) if batch else t


def to_hwc(tensor: torch.Tensor | np.ndarray) -> np.ndarray:
    """(3, H, W) or (1, 3, H, W) tensor/array in [0, 1] -> (H, W, 3) float32 numpy array."""
    arr = tensor.detach().cpu().numpy() if hasattr(tensor, "detach") else np.asarray(tensor)
    if arr.ndim == 4 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 3 or arr.shape[0] != 3:
        raise ValueError(f"tensor: expected shape (3, H, W) or (1, 3, H, W), got {arr.shape}")
    return np.ascontiguousarray(arr.transpose(1, 2, 0)).astype(np.float32, copy=False)


def resize(image: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Resize an (H, W, 3) image with antialiasing, keeping its dtype.

    ``size`` is an int (the longer side, aspect ratio kept) or ``(H, W)``.
    """
    from skimage.transform import resize as sk_resize

    arr = check_image(image)
    h, w = arr.shape[:2]
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        side = check_int(size, "size", min_value=1)
        scale = side / max(h, w)
        out_hw = (max(1, round(h * scale)), max(1, round(w * scale)))
    elif isinstance(size, (tuple, list)) and len(size) == 2:
        out_hw = (check_int(size[0], "size[0]", min_value=1), check_int(size[1], "size[1]", min_value=1))
    else:
        raise ValueError(f"size: expected an int or an (H, W) pair of positive ints, got {size!r}")
    if out_hw == (h, w):
        return arr.copy()
    out = sk_resize(arr, out_hw, order=1, anti_aliasing=True, preserve_range=True)
    if arr.dtype == np.uint8:
        return np.clip(np.round(out), 0, 255).astype(np.uint8)
    return np.clip(out, 0.0, 1.0).astype(arr.dtype)
