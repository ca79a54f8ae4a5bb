"""Fine-tune a DeepLabV3 for a new label set (lesson 6): swap the heads, train with torchvision's recipe in small, predict.

The recipe is that of torchvision's ``references/segmentation/train.py``, scaled down: SGD with
momentum 0.9 and weight decay 1e-4, a "poly" learning rate ``lr * (1 - step / steps) ** 0.9``, the
auxiliary head's loss added with weight 0.5 (and its parameters at 10 times the learning rate),
random horizontal flips and a random rescaling of every batch. It works on any torchvision
segmentation model whose heads end in a 1x1 convolution at index 4 (``classifier[4]`` and
``aux_classifier[4]``: DeepLabV3 and FCN), and on :func:`small_deeplabv3`, a DeepLabV3 built from
torchvision's own ``DeepLabV3``, ``ASPP`` and ``FCNHead`` classes on a small dilated residual
backbone, which trains in seconds on a CPU::

    model = finetune.small_deeplabv3(num_classes=6)
    finetune.replace_heads(model, num_classes=3)      # a new label set: new last layers
    history = finetune.train_segmenter(model, images, masks, steps=200)
    masks = finetune.predict(model, test_images)      # (N, H, W) int64
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from ._validate import check_float, check_int, describe_value

__all__ = [
    "SmallDilatedResNet",
    "small_deeplabv3",
    "replace_heads",
    "poly_lr",
    "flip_and_rescale",
    "TrainHistory",
    "train_segmenter",
    "predict",
    "COURSE_WEIGHTS",
    "load_course_weights",
]

#: The shapes-pretrained :func:`small_deeplabv3` that ships with the package (file name ends in its
#: sha256 prefix, as torchvision's do); made by ``scripts/pretrain_small_deeplabv3.py``.
COURSE_WEIGHTS = Path(__file__).resolve().parent / "weights" / "small_deeplabv3_shapes-67d1de11.pth"


def _conv_bn_relu(c_in: int, c_out: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class _Block(nn.Module):
    """A residual block of two 3x3 convolutions (ResNet's BasicBlock), with stride or dilation."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1, dilation: int = 1):
        super().__init__()
        self.conv1 = _conv_bn_relu(c_in, c_out, stride, dilation)
        self.conv2 = nn.Sequential(
            nn.Conv2d(c_out, c_out, 3, padding=dilation, dilation=dilation, bias=False), nn.BatchNorm2d(c_out)
        )
        self.downsample = (
            nn.Identity()
            if c_in == c_out and stride == 1
            else nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv2(self.conv1(x)) + self.downsample(x))


class SmallDilatedResNet(nn.Module):
    """A five-stage residual backbone with output stride 8: three strided stages, two dilated ones.

    Stages and (channels, stride or dilation): ``stem`` (w, stride 2), ``layer1`` (2w, stride 2),
    ``layer2`` (4w, stride 2), ``layer3`` (4w, dilation 2), ``layer4`` (6w, dilation 4) -- DeepLab's
    trick of replacing the last strides by dilation, so a 64x64 image leaves an 8x8 grid.

    ``forward`` returns what torchvision's ``DeepLabV3`` expects from its backbone: an ordered dict
    with ``"out"`` (layer4, (N, 6w, H/8, W/8)) and ``"aux"`` (layer3, (N, 4w, H/8, W/8)).
    """

    def __init__(self, width: int = 16):
        super().__init__()
        w = check_int(width, "width", min_value=4)
        self.out_channels, self.aux_channels = 6 * w, 4 * w
        self.stem = _conv_bn_relu(3, w, stride=2)
        self.layer1 = _Block(w, 2 * w, stride=2)
        self.layer2 = _Block(2 * w, 4 * w, stride=2)
        self.layer3 = _Block(4 * w, 4 * w, dilation=2)
        self.layer4 = _Block(4 * w, 6 * w, dilation=4)

    def forward(self, x: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
        """(N, 3, H, W) -> {"out": layer4 features, "aux": layer3 features}, both at stride 8."""
        x = self.layer2(self.layer1(self.stem(x)))
        aux = self.layer3(x)
        return OrderedDict(out=self.layer4(aux), aux=aux)


def small_deeplabv3(
    num_classes: int, *, width: int = 16, rates: tuple[int, ...] = (2, 4, 6), head_channels: int = 32
) -> nn.Module:
    """A torchvision ``DeepLabV3`` on :class:`SmallDilatedResNet`, sized for 64-96 px images on a CPU.

    The heads have the layout of torchvision's: ``classifier`` = ASPP (rates ``rates`` plus image
    pooling, ``head_channels`` outputs), 3x3 conv, BN, ReLU, and the 1x1 class layer at index 4;
    ``aux_classifier`` = torchvision's ``FCNHead`` on layer3, its 1x1 class layer also at index 4.
    The ASPP rates are small because the grid is small: on an 8x8 grid a rate of 8 or more would
    only ever see padding off the centre tap.

    Returns:
        the model; ``model(x)`` with x (N, 3, H, W) gives ``{"out": (N, K, H, W), "aux": (N, K, H, W)}``.
    """
    from torchvision.models.segmentation.deeplabv3 import ASPP, DeepLabV3
    from torchvision.models.segmentation.fcn import FCNHead

    k = check_int(num_classes, "num_classes", min_value=2)
    c = check_int(head_channels, "head_channels", min_value=4)
    if not (isinstance(rates, (tuple, list)) and rates and all(isinstance(r, int) and r >= 1 for r in rates)):
        raise ValueError(f"rates: expected a non-empty tuple of positive ints, got {describe_value(rates)}")
    backbone = SmallDilatedResNet(width)
    classifier = nn.Sequential(
        ASPP(backbone.out_channels, list(rates), out_channels=c),
        nn.Conv2d(c, c, 3, padding=1, bias=False),
        nn.BatchNorm2d(c),
        nn.ReLU(),
        nn.Conv2d(c, k, 1),
    )
    return DeepLabV3(backbone, classifier, FCNHead(backbone.aux_channels, k))


def _class_layer(model: nn.Module, head: str) -> nn.Conv2d | None:
    seq = getattr(model, head, None)
    if seq is None:
        return None
    if not isinstance(seq, nn.Sequential) or len(seq) < 5 or not isinstance(seq[4], nn.Conv2d):
        raise TypeError(
            f"model.{head}: expected an nn.Sequential whose item 4 is the 1x1 class convolution (torchvision's "
            f"DeepLabV3/FCN layout), got {type(seq).__name__}"
        )
    return seq[4]


def replace_heads(model: nn.Module, num_classes: int, seed: int = 0) -> nn.Module:
    """Give a segmentation model a new label set: fresh ``classifier[4]`` and ``aux_classifier[4]``.

    Everything else keeps its (pretrained) weights; the two new 1x1 convolutions have
    ``num_classes`` outputs and are initialised from ``seed``. Works in place and returns ``model``.
    """
    k = check_int(num_classes, "num_classes", min_value=2)
    if _class_layer(model, "classifier") is None:
        raise TypeError(
            f"model: expected a torchvision segmentation model with .classifier, got {type(model).__name__}"
        )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for head in ("classifier", "aux_classifier"):
            old = _class_layer(model, head)
            if old is not None:
                getattr(model, head)[4] = nn.Conv2d(old.in_channels, k, 1).to(old.weight.device)
    return model


def _check_images(images: Any) -> None:
    if (
        not isinstance(images, torch.Tensor)
        or images.ndim != 4
        or images.shape[1] != 3
        or not images.is_floating_point()
    ):
        raise ValueError(f"images: expected a float tensor of shape (N, 3, H, W), got {describe_value(images)}")


def _check_masks(masks: Any, images: torch.Tensor, num_classes: int | None, ignore_index: int) -> None:
    expected = (images.shape[0], *images.shape[2:])
    if not isinstance(masks, torch.Tensor) or masks.dtype != torch.int64 or tuple(masks.shape) != expected:
        raise ValueError(
            f"masks: expected an int64 tensor of shape (N, H, W) = {expected}, got {describe_value(masks)}"
        )
    if num_classes is None:
        return
    bad = (masks != ignore_index) & ((masks < 0) | (masks >= num_classes))
    if bool(bad.any()):
        raise ValueError(
            f"masks: expected class labels in [0, {num_classes}) or {ignore_index} (ignored), "
            f"got values {sorted(set(masks[bad].unique().tolist()))[:5]}"
        )


def poly_lr(step: int, steps: int, power: float = 0.9) -> float:
    """The "poly" factor of the learning rate after ``step`` of ``steps`` updates: (1 - step/steps) ** power."""
    steps = check_int(steps, "steps", min_value=1)
    step = check_int(step, "step", min_value=0)
    power = check_float(power, "power", min_value=0.0)
    return (1.0 - min(step, steps) / steps) ** power


def flip_and_rescale(
    images: torch.Tensor,
    masks: torch.Tensor,
    generator: torch.Generator,
    scale: tuple[float, float] = (0.75, 1.25),
    ignore_index: int = 255,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random horizontal flip per image, then one random rescaling of the whole batch, back to its size.

    A factor above 1 enlarges (bilinear for images, nearest for masks) and crops a random window;
    below 1 shrinks and pads at a random offset, the padded mask pixels set to ``ignore_index`` so
    the loss skips them (torchvision's ``RandomResize`` + ``RandomCrop`` in one step).
    """
    _check_images(images)
    _check_masks(masks, images, None, ignore_index)
    if not (isinstance(scale, (tuple, list)) and len(scale) == 2 and 0 < scale[0] <= scale[1]):
        raise ValueError(f"scale: expected a pair (low, high) with 0 < low <= high, got {describe_value(scale)}")
    n, _, h, w = images.shape
    flip = torch.rand(n, generator=generator) < 0.5
    images = torch.where(flip[:, None, None, None], images.flip(-1), images)
    masks = torch.where(flip[:, None, None], masks.flip(-1), masks)
    s = scale[0] + (scale[1] - scale[0]) * float(torch.rand(1, generator=generator))
    hs, ws = max(1, round(h * s)), max(1, round(w * s))
    if (hs, ws) == (h, w):
        return images, masks
    images = F.interpolate(images, size=(hs, ws), mode="bilinear", align_corners=False)
    masks = F.interpolate(masks[:, None].float(), size=(hs, ws), mode="nearest")[:, 0].long()
    if s > 1:
        i = int(torch.randint(0, hs - h + 1, (1,), generator=generator))
        j = int(torch.randint(0, ws - w + 1, (1,), generator=generator))
        return images[..., i : i + h, j : j + w], masks[..., i : i + h, j : j + w]
    i = int(torch.randint(0, h - hs + 1, (1,), generator=generator))
    j = int(torch.randint(0, w - ws + 1, (1,), generator=generator))
    big_x = images.new_zeros((n, images.shape[1], h, w))
    big_y = masks.new_full((n, h, w), ignore_index)
    big_x[..., i : i + hs, j : j + ws] = images
    big_y[..., i : i + hs, j : j + ws] = masks
    return big_x, big_y


@dataclass
class TrainHistory:
    """What :func:`train_segmenter` did: the loss and learning rate of every step, and the time it took."""

    losses: list[float] = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)
    seconds: float = 0.0


def train_segmenter(
    model: nn.Module,
    images: torch.Tensor,
    masks: torch.Tensor,
    *,
    steps: int,
    batch_size: int = 16,
    lr: float = 0.02,
    optimizer: str = "sgd",
    aux_weight: float = 0.5,
    ignore_index: int = 255,
    scale: tuple[float, float] = (0.75, 1.25),
    class_weights: torch.Tensor | None = None,
    seed: int = 0,
    progress: bool = True,
    desc: str = "train",
) -> TrainHistory:
    """Train a segmentation model on (images, masks) with torchvision's recipe in small.

    Args:
        model: a model whose forward gives ``{"out": (N, K, H, W)}`` and, optionally, ``"aux"``.
        images: (N, 3, H, W) float, already normalised the way the model expects.
        masks: (N, H, W) int64 class labels in [0, K), ``ignore_index`` where unlabelled.
        steps: number of updates.
        batch_size: images per update, drawn with replacement.
        lr: base learning rate; the auxiliary head gets 10 times it, all follow :func:`poly_lr`.
        optimizer: ``"sgd"`` (momentum 0.9, weight decay 1e-4, the reference recipe for fine-tuning)
            or ``"adamw"`` (what training from random weights in few steps needs).
        aux_weight: weight of the auxiliary head's loss (0.5 in the reference).
        ignore_index: the mask label left out of the loss (padding of the rescaling uses it too).
        scale: range of the random rescaling factor (see :func:`flip_and_rescale`).
        class_weights: optional (K,) weights for the cross-entropy.
        seed: seeds the batches and the augmentation.
        progress: show a tqdm progress bar.
        desc: the progress bar's label.

    Returns:
        a :class:`TrainHistory`. The model is left in eval mode.
    """
    from tqdm.auto import tqdm

    steps = check_int(steps, "steps", min_value=1)
    batch_size = check_int(batch_size, "batch_size", min_value=1)
    lr = check_float(lr, "lr", min_value=0.0)
    aux_weight = check_float(aux_weight, "aux_weight", min_value=0.0)
    if optimizer not in ("sgd", "adamw"):
        raise ValueError(f"optimizer: expected 'sgd' or 'adamw', got {describe_value(optimizer)}")
    k = model.classifier[4].out_channels if hasattr(model, "classifier") else None
    _check_images(images)
    _check_masks(masks, images, k, ignore_index)
    aux = getattr(model, "aux_classifier", None)
    aux_params = list(aux.parameters()) if aux is not None else []
    aux_ids = {id(p) for p in aux_params}
    main_params = [p for p in model.parameters() if id(p) not in aux_ids and p.requires_grad]
    groups = [{"params": main_params, "lr": lr}] + ([{"params": aux_params, "lr": 10 * lr}] if aux_params else [])
    if optimizer == "sgd":
        opt = torch.optim.SGD(groups, lr=lr, momentum=0.9, weight_decay=1e-4)
    else:
        opt = torch.optim.AdamW(groups, lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: poly_lr(s, steps))
    gen = torch.Generator().manual_seed(seed)
    device = next(model.parameters()).device
    history = TrainHistory()
    model.train()
    t0 = time.perf_counter()
    for _ in tqdm(range(steps), desc=desc, disable=not progress):
        idx = torch.randint(0, len(images), (batch_size,), generator=gen)
        xb, yb = flip_and_rescale(images[idx], masks[idx], gen, scale, ignore_index)
        xb, yb = xb.to(device), yb.to(device)
        out = model(xb)
        loss = F.cross_entropy(out["out"], yb, weight=class_weights, ignore_index=ignore_index)
        if aux_weight and "aux" in out:
            loss = loss + aux_weight * F.cross_entropy(out["aux"], yb, weight=class_weights, ignore_index=ignore_index)
        if not math.isfinite(loss.item()):
            raise FloatingPointError(f"train_segmenter: the loss became {loss.item()} (lr={lr} may be too large)")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        history.losses.append(loss.item())
        history.lrs.append(opt.param_groups[0]["lr"])
        sched.step()
    history.seconds = time.perf_counter() - t0
    model.eval()
    return history


@torch.inference_mode()
def predict(model: nn.Module, images: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
    """(N, 3, H, W) normalised images -> (N, H, W) int64 predicted classes, in eval mode, batch by batch."""
    _check_images(images)
    model.eval()
    device = next(model.parameters()).device
    parts = [
        model(images[i : i + batch_size].to(device))["out"].argmax(1).cpu() for i in range(0, len(images), batch_size)
    ]
    return torch.cat(parts)


def load_course_weights(path: str | Path | None = None) -> tuple[nn.Module, dict]:
    """The shapes-pretrained :func:`small_deeplabv3` shipped with the package, checked against its hash.

    Returns:
        ``(model, meta)``: the model in eval mode, and what the file says about how it was trained
        (``"classes"``, ``"mean"``, ``"std"``, ``"steps"``, ``"seconds"``, ``"val_miou"``, ...).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file's sha256 does not start with the prefix in its name.
    """
    p = Path(path) if path is not None else COURSE_WEIGHTS
    if not p.is_file():
        raise FileNotFoundError(f"path: no weights file at {p} (make it with scripts/pretrain_small_deeplabv3.py)")
    digest = hashlib.sha256(p.read_bytes()).hexdigest()
    prefix = p.stem.rsplit("-", 1)[-1]
    if not digest.startswith(prefix):
        raise ValueError(f"path: {p.name} has sha256 {digest[:12]}..., not the {prefix!r} its name promises")
    blob = torch.load(p, map_location="cpu", weights_only=True)
    meta = dict(blob["meta"])
    model = small_deeplabv3(len(meta["classes"]), **meta["arch"])
    model.load_state_dict({k: v.float() for k, v in blob["state_dict"].items()})
    return model.eval(), meta
