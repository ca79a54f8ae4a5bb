"""The multi-resolution embedding network of lesson 7 and its per-level discriminative loss.

The network predicts sigmoid maps in ``[0, 1]`` at three resolutions: 3 channels at full
resolution, 12 at 1/2 and 48 at 1/4 (``3 * 4**k`` channels at ``1 / 2**k``, so every level holds
the same number of values and ``F.pixel_shuffle`` turns each into a full-resolution picture).
Lesson 7 writes the same network out in the open and checks that it matches this one.

Shapes: images (B, 3, H, W) float in [0, 1] with H and W multiples of 4; instance labels
(B, H, W) int64 where every value (background included) is an instance.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..labels import downsample_labels
from ..losses import discriminative_loss

__all__ = ["LEVEL_CHANNELS", "LEVEL_WEIGHTS", "check_images", "conv_block", "MultiResEmbedder", "multires_loss"]

#: Channels of the three output levels, full resolution first.
LEVEL_CHANNELS: tuple[int, int, int] = (3, 12, 48)

#: Loss weight of each level (1, 2, 4 normalised to sum to 1): a map at half the resolution counts twice.
LEVEL_WEIGHTS: tuple[float, float, float] = (1 / 7, 2 / 7, 4 / 7)

_NORMS = ("batch", "group")


def conv_block(c_in: int, c_out: int, dilation: int = 1, norm: str = "batch") -> nn.Sequential:
    """3x3 convolution (dilated on request) + normalisation + ReLU; keeps the spatial size.

    Args:
        c_in: input channels.
        c_out: output channels.
        dilation: dilation (and padding) of the convolution.
        norm: ``"batch"`` (BatchNorm2d, the lesson) or ``"group"`` (GroupNorm with 8 groups where
            ``c_out`` allows it: no running statistics that could differ between DDP ranks).

    Returns:
        The block as an ``nn.Sequential`` of three modules.
    """
    if norm not in _NORMS:
        raise ValueError(f"norm: expected one of {_NORMS}, got {norm!r}")
    layer = nn.BatchNorm2d(c_out) if norm == "batch" else nn.GroupNorm(8 if c_out % 8 == 0 else 1, c_out)
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=dilation, dilation=dilation, bias=False), layer, nn.ReLU(inplace=True)
    )


class MultiResEmbedder(nn.Module):
    """Image (B, 3, H, W) -> [(B, 3, H, W), (B, 12, H/2, W/2), (B, 48, H/4, W/4)] in [0, 1].

    A small encoder-decoder (lesson 5's U-Net, shrunk) with one 1x1 sigmoid head per level. Two
    pixel-coordinate channels in [-1, 1] are appended to the input (CoordConv), because sticks of
    one colour differ only by where they are. The 1/4 stage uses dilations 1, 2, 4, 8 for a wide
    receptive field; the decoder upsamples by nearest neighbour and concatenates the skips.

    Args:
        width: channels of the first stage (the 1/2 and 1/4 stages have 2x and 4x as many).
        norm: ``"batch"`` or ``"group"``, see :func:`conv_block`.
    """

    def __init__(self, width: int = 16, norm: str = "batch"):
        super().__init__()
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise ValueError(f"width: expected an int >= 1, got {width!r}")
        w = width
        self.enc1 = nn.Sequential(conv_block(3 + 2, w, norm=norm), conv_block(w, w, norm=norm))
        self.enc2 = nn.Sequential(nn.MaxPool2d(2), conv_block(w, 2 * w, norm=norm), conv_block(2 * w, 2 * w, norm=norm))
        self.enc3 = nn.Sequential(
            nn.MaxPool2d(2),
            conv_block(2 * w, 4 * w, norm=norm),
            conv_block(4 * w, 4 * w, 2, norm=norm),
            conv_block(4 * w, 4 * w, 4, norm=norm),
            conv_block(4 * w, 4 * w, 8, norm=norm),
        )
        self.dec2 = conv_block(4 * w + 2 * w, 2 * w, norm=norm)
        self.dec1 = conv_block(2 * w + w, w, norm=norm)
        c1, c2, c4 = LEVEL_CHANNELS
        self.head4, self.head2, self.head1 = nn.Conv2d(4 * w, c4, 1), nn.Conv2d(2 * w, c2, 1), nn.Conv2d(w, c1, 1)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Embed a batch of images.

        Args:
            x: (B, 3, H, W) float images, H and W multiples of 4.

        Returns:
            The three sigmoid maps, full resolution first (see the class docstring).
        """
        check_images(x)
        b, _, h, w = x.shape
        yy, xx = torch.meshgrid(
            torch.linspace(-1, 1, h, device=x.device, dtype=x.dtype),
            torch.linspace(-1, 1, w, device=x.device, dtype=x.dtype),
            indexing="ij",
        )
        x = torch.cat([x, xx.expand(b, 1, h, w), yy.expand(b, 1, h, w)], dim=1)
        e1 = self.enc1(x)  # full resolution
        e2 = self.enc2(e1)  # 1/2
        e3 = self.enc3(e2)  # 1/4
        d2 = self.dec2(torch.cat([F.interpolate(e3, scale_factor=2.0), e2], dim=1))
        d1 = self.dec1(torch.cat([F.interpolate(d2, scale_factor=2.0), e1], dim=1))
        return [torch.sigmoid(self.head1(d1)), torch.sigmoid(self.head2(d2)), torch.sigmoid(self.head4(e3))]


def multires_loss(
    outs: Sequence[torch.Tensor],
    labels: torch.Tensor,
    *,
    delta_v: float,
    delta_d: float,
    ignore_index: int = -1,
    level_weights: Sequence[float] = LEVEL_WEIGHTS,
) -> tuple[torch.Tensor, list[tuple[float, float, float]]]:
    """Weighted sum over levels of the discriminative loss, labels downsampled per level.

    A block of ``2**k x 2**k`` pixels that mixes instances gets ``ignore_index`` at level ``k``
    (:func:`course_utils.labels.downsample_labels`) and takes no part in that level's loss.

    Args:
        outs: the network's maps, level ``k`` of shape (B, D_k, H / 2**k, W / 2**k).
        labels: (B, H, W) integer instance labels at full resolution.
        delta_v: pull margin of :func:`course_utils.losses.discriminative_loss`.
        delta_d: push margin.
        ignore_index: label of ignored pixels (must not be a real instance label).
        level_weights: one weight per level.

    Returns:
        ``(total, terms)``: the weighted 0-d loss, and per level the floats ``(var, dist, reg)``.
    """
    if len(outs) != len(level_weights):
        raise ValueError(f"outs: expected {len(level_weights)} levels (one per weight), got {len(outs)}")
    total, terms = 0.0, []
    for k, (emb, w) in enumerate(zip(outs, level_weights)):
        lab_k = downsample_labels(labels, 2**k, ignore_index=ignore_index)
        if emb.shape[-2:] != lab_k.shape[-2:]:
            raise ValueError(
                f"outs[{k}]: expected spatial size {tuple(lab_k.shape[-2:])} (labels / {2**k}), "
                f"got shape {tuple(emb.shape)}"
            )
        t, var, dist, reg = discriminative_loss(emb, lab_k, delta_v=delta_v, delta_d=delta_d, ignore_index=ignore_index)
        total = total + float(w) * t
        terms.append((var.item(), dist.item(), reg.item()))
    return total, terms


def check_images(x: object, name: str = "x") -> None:
    """Check a batch of images for the lab's networks: a float tensor (B, 3, H, W), H and W multiples of 4.

    Raises:
        TypeError: ``x`` is not a float tensor (e.g. uint8 or uint16 images: divide by their maximum).
        ValueError: wrong number of axes or channels, or H, W not positive multiples of 4.
    """
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        hint = " (integer images: convert with x.float() / 255 or / 65535)" if isinstance(x, torch.Tensor) else ""
        raise TypeError(f"{name}: expected a float tensor of shape (B, 3, H, W), got {_describe(x)}{hint}")
    if x.ndim != 4 or x.shape[1] != 3:
        hint = " (add a batch axis: x[None])" if x.ndim == 3 else ""
        if x.ndim == 4 and x.shape[1] == 1:
            hint = " (grayscale: repeat the channel, x.expand(-1, 3, -1, -1))"
        elif x.ndim == 4 and x.shape[-1] == 3:
            hint = " (channels last: use x.permute(0, 3, 1, 2))"
        raise ValueError(f"{name}: expected shape (B, 3, H, W), got {tuple(x.shape)}{hint}")
    h, w = x.shape[-2:]
    if h % 4 or w % 4 or h == 0 or w == 0:
        raise ValueError(f"{name}: expected H and W positive multiples of 4, got shape {tuple(x.shape)}")


def _describe(x: object) -> str:
    return f"{type(x).__name__} of dtype {x.dtype}" if isinstance(x, torch.Tensor) else type(x).__name__
