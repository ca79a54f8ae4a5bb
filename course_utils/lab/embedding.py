"""The paper's network for the lab: an unbounded D-dimensional pixel embedding with CoordConv inputs.

:class:`EmbeddingNet` is the configuration of De Brabandere et al. (2017) that lesson 7 trains as
its second learned row, that :mod:`course_utils.lab.train` trains from the command line (also with
DDP) and that :mod:`course_utils.lab.owndata` trains on a reader's own images.
:func:`pixel_coordinates` makes its coordinate channels in units of a fixed length, so that a
tile and the whole image give a pixel the same coordinates.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .multires import check_images

__all__ = ["EmbeddingNet", "pixel_coordinates"]


def _block(c_in: int, c_out: int, dilation: int = 1, norm: str = "group") -> nn.Sequential:
    layer = nn.GroupNorm(8 if c_out % 8 == 0 else 1, c_out) if norm == "group" else nn.BatchNorm2d(c_out)
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=dilation, dilation=dilation, bias=False),
        layer,
        nn.ReLU(inplace=True),
    )


def pixel_coordinates(
    batch: int,
    height: int,
    width: int,
    *,
    length: float,
    origin: torch.Tensor | tuple[int, int] | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """CoordConv channels in units of a fixed length, so a pixel keeps its coordinate in any crop.

    The coordinate of row ``i`` is ``2 (origin_y + i + 0.5) / length - 1`` (columns alike): -1 to 1
    across the first ``length`` pixels of the full image, and beyond that further on. Unlike
    ``torch.linspace(-1, 1, H)``, which stretches -1..1 over whatever size the input has, a tile cut
    from a larger image at ``origin`` gets exactly the coordinates its pixels have in the whole
    image, so a network trained on tiles sees the same inputs when it runs on the whole image.

    Args:
        batch: B.
        height: H of the input (a tile or the whole image).
        width: W of the input.
        length: the fixed length in pixels (> 0), e.g. the training tile size.
        origin: (row, column) of the input's top-left pixel in the full image: a pair for the whole
            batch or a (B, 2) integer tensor, one per item; ``None`` means (0, 0).
        device: device of the result.
        dtype: floating dtype of the result.

    Returns:
        (B, 2, H, W): row coordinates in channel 0, column coordinates in channel 1.
    """
    if not (isinstance(length, (int, float)) and not isinstance(length, bool) and math.isfinite(length) and length > 0):
        raise ValueError(f"length: expected a positive number of pixels, got {length!r}")
    if origin is None:
        origin = torch.zeros(batch, 2)
    origin = torch.as_tensor(origin, dtype=torch.float64)
    if origin.shape == (2,):
        origin = origin.expand(batch, 2)
    if origin.shape != (batch, 2):
        raise ValueError(
            f"origin: expected a (row, column) pair or a ({batch}, 2) tensor, got shape {tuple(origin.shape)}"
        )
    origin = origin.to(device=device, dtype=dtype)
    scale = 2.0 / float(length)
    rows = (torch.arange(height, device=device, dtype=dtype) + 0.5)[None, :] + origin[:, :1]  # (B, H)
    cols = (torch.arange(width, device=device, dtype=dtype) + 0.5)[None, :] + origin[:, 1:]  # (B, W)
    yy = (rows * scale - 1)[:, :, None].expand(batch, height, width)
    xx = (cols * scale - 1)[:, None, :].expand(batch, height, width)
    return torch.stack([yy, xx], dim=1)


class EmbeddingNet(nn.Module):
    """Small encoder-decoder: (B, 3, H, W) image -> (B, D, H, W) pixel embeddings.

    Two pixel-coordinate channels are appended to the input (CoordConv), because sticks of one
    colour differ only by *where* they are. They are measured in units of ``coord_length`` pixels
    (:func:`pixel_coordinates`), not stretched over the input's size, so a network trained on tiles
    gets the same coordinates when it runs on a whole image of another size (pass each tile's
    ``origin``). Encoder at 1, 1/2 and 1/4 resolution (dilated convolutions at 1/4 for a wide
    receptive field), decoder with skip connections, and a 1x1 head with no activation (the
    paper's unbounded embedding). H and W must be multiples of 4.

    Args:
        dim: output channels D.
        width: channels of the first stage (the 1/2 and 1/4 stages have 2x and 4x as many).
        coord_length: the coordinates' unit length in pixels (the training image or tile size).
        norm: ``"group"`` (GroupNorm: no running statistics that could differ between DDP ranks)
            or ``"batch"`` (BatchNorm: in eval mode a pixel's output does not depend on how large
            the input around it is, so tiles and whole images agree).
    """

    def __init__(self, dim: int = 8, width: int = 32, coord_length: float = 64.0, norm: str = "group"):
        super().__init__()
        for name, v in (("dim", dim), ("width", width)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name}: expected an int >= 1, got {v!r}")
        if norm not in ("group", "batch"):
            raise ValueError(f"norm: expected 'group' or 'batch', got {norm!r}")
        pixel_coordinates(1, 1, 1, length=coord_length)  # validates coord_length
        self.coord_length = float(coord_length)
        w, n = width, norm
        self.enc1 = nn.Sequential(_block(5, w, norm=n), _block(w, w, norm=n))
        self.enc2 = nn.Sequential(nn.MaxPool2d(2), _block(w, 2 * w, norm=n), _block(2 * w, 2 * w, norm=n))
        self.enc3 = nn.Sequential(
            nn.MaxPool2d(2),
            _block(2 * w, 4 * w, norm=n),
            _block(4 * w, 4 * w, 2, n),
            _block(4 * w, 4 * w, 4, n),
            _block(4 * w, 4 * w, 8, n),
        )
        self.up3 = nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2)
        self.dec2 = nn.Sequential(_block(4 * w, 2 * w, norm=n), _block(2 * w, 2 * w, norm=n))
        self.up2 = nn.ConvTranspose2d(2 * w, w, 2, stride=2)
        self.dec1 = nn.Sequential(_block(2 * w, w, norm=n), _block(w, w, norm=n))
        self.head = nn.Conv2d(w, dim, 1)

    def forward(self, x: torch.Tensor, origin: torch.Tensor | tuple[int, int] | None = None) -> torch.Tensor:
        """Embed a batch of images (or tiles).

        Args:
            x: (B, 3, H, W) float images, H and W multiples of 4.
            origin: where each input's top-left pixel lies in its full image (see
                :func:`pixel_coordinates`); ``None`` for whole images.

        Returns:
            (B, D, H, W) embeddings.
        """
        check_images(x)
        b, _, h, w = x.shape
        coords = pixel_coordinates(b, h, w, length=self.coord_length, origin=origin, device=x.device, dtype=x.dtype)
        e1 = self.enc1(torch.cat([x, coords], 1))
        e2 = self.enc2(e1)
        e3 = self.enc3(e2)
        d2 = self.dec2(torch.cat([self.up3(e3), e2], 1))
        d1 = self.dec1(torch.cat([self.up2(d2), e1], 1))
        return self.head(d1)
