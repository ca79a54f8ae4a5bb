"""Lesson 6's exercise checks reject the usual wrong answers and accept the right one (issues 17 and 18).

Each wrong answer is a function body a student might write; the exercise's public and hidden check cells
(taken from the notebook, matched by the exercise id in cell metadata) must reject it with ``CheckFailed``
(a message in words), the lesson's solution must pass, and the student version's stub must report "not yet
implemented". The checks run in a namespace of stand-ins for the lesson's globals: torchvision's models
without weights (the strides do not depend on them), a small mask, the lesson's own helpers. Exercises 6.4-6.6
(the inference pitfalls: normalisation, resizing the logits, ``align_corners``) get the astronaut photo, the
weights' preprocessing (offline: it ships with torchvision) and random coarse logits in place of the head's.
"""

from __future__ import annotations

import functools
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from exercise_harness import function_source, graded_cells, load, n_checks, run_in, solution_source, wrong_answer_cases
from torchvision.models import segmentation

from course_utils import exercises, images, viz

SOURCE = load("06_deeplabv3")


@functools.lru_cache(maxsize=1)
def _models() -> tuple[dict, nn.Module]:
    compare = {
        "deeplabv3_mobilenet_v3_large": segmentation.deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None),
        "deeplabv3_resnet50": segmentation.deeplabv3_resnet50(weights=None, weights_backbone=None),
        "fcn_resnet50": segmentation.fcn_resnet50(weights=None, weights_backbone=None),
    }
    return {k: m.eval() for k, m in compare.items()}, torchvision.models.mobilenet_v3_large(
        weights=None
    ).features.eval()


@functools.lru_cache(maxsize=1)
def _photo_once() -> np.ndarray:
    return images.sample_image("astronaut")


def _photo() -> np.ndarray:
    return _photo_once().copy()  # a wrong answer may write into it


def _namespace() -> dict:
    compare_models, classifier_features = _models()
    rng = np.random.default_rng(0)
    mask = torch.from_numpy(rng.choice([0, 8, 15], size=(24, 32), p=[0.6, 0.3, 0.1]))  # background, cat, person
    weights = segmentation.DeepLabV3_MobileNet_V3_Large_Weights.COCO_WITH_VOC_LABELS_V1
    ns = {
        "__name__": "__main__",
        "np": np,
        "torch": torch,
        "nn": nn,
        "F": F,
        "OrderedDict": OrderedDict,
        "exercises": exercises,
        "viz": viz,
        "NUM_CLASSES": 21,
        "mask": mask,
        "FEAT_SIDE": 33,  # a 520 px input at output stride 16
        "compare_models": compare_models,
        "classifier_features": classifier_features,
        "os_mb": 16,
        "os_resnet": 8,
        "os_fcn": 8,
        "os_classifier": 32,
        "photo": _photo(),
        "weights": weights,
        "preprocess": weights.transforms(),
        "x": torch.zeros(1, 3, 520, 520),  # the model's input: only its size is used
        "coarse": torch.from_numpy(rng.normal(size=(1, 21, 33, 33)).astype(np.float32)),  # the head's scores
    }
    for name in ("valid_tap_fraction", "output_stride_of", "segment"):
        exec(function_source(SOURCE, name), ns)
    return ns


def _verdict(ex_id: str, answer: str | None) -> str:
    return run_in(_namespace(), graded_cells(SOURCE, ex_id, answer))


WRONG = {
    "6.1": (
        "def pixel_shares(mask, num_classes=21):\n",
        {
            "forgets minlength (absent classes at the end)": """
            counts = torch.bincount(mask.reshape(-1))
            return counts.float() / counts.sum()""",
            "divides by the number of classes": """
            counts = torch.bincount(mask.reshape(-1), minlength=num_classes)
            return counts.float() / num_classes""",
            "returns the pixel counts": "return torch.bincount(mask.reshape(-1), minlength=num_classes)",
            "divides by the largest count (max instead of sum)": """
            counts = torch.bincount(mask.reshape(-1), minlength=num_classes)
            return counts.float() / counts.max()""",
            "reads the lesson's NUM_CLASSES": """
            counts = torch.bincount(mask.reshape(-1), minlength=NUM_CLASSES)
            return counts.float() / counts.sum()""",
            "leaves out the background": """
            counts = torch.bincount(mask.reshape(-1), minlength=num_classes).float()
            counts[0] = 0
            return counts / counts.sum()""",
            "returns a NumPy array": """
            return np.bincount(np.asarray(mask).ravel(), minlength=num_classes) / np.asarray(mask).size""",
            "returns a list": """
            counts = torch.bincount(mask.reshape(-1), minlength=num_classes)
            return (counts.float() / counts.sum()).tolist()""",
            "flattens the mask in place": """
            mask.resize_(mask.numel())
            counts = torch.bincount(mask, minlength=num_classes)
            return counts.float() / counts.sum()""",
        },
    ),
    "6.2": (
        "def output_stride(backbone):\n",
        {
            "counts the downsample shortcuts too": """
            os_ = 1
            for name, m in backbone.named_modules():
                if isinstance(m, (nn.Conv2d, nn.MaxPool2d)):
                    os_ *= m.stride if isinstance(m.stride, int) else m.stride[0]
            return os_""",
            "forgets the max-pool": """
            os_ = 1
            for name, m in backbone.named_modules():
                if isinstance(m, nn.Conv2d) and "downsample" not in name:
                    os_ *= m.stride[0]
            return os_""",
            "multiplies the stride tuples": """
            os_ = 1
            for name, m in backbone.named_modules():
                if isinstance(m, (nn.Conv2d, nn.MaxPool2d)) and "downsample" not in name:
                    os_ *= m.stride
            return os_""",
            "assumes every max-pool has stride 2": """
            os_ = 1
            for name, m in backbone.named_modules():
                if isinstance(m, nn.MaxPool2d):
                    os_ *= 2
                elif isinstance(m, nn.Conv2d) and "downsample" not in name:
                    os_ *= m.stride[0]
            return os_""",
            "adds the strides": """
            return sum(m.stride if isinstance(m.stride, int) else m.stride[0] for name, m in backbone.named_modules()
                       if isinstance(m, (nn.Conv2d, nn.MaxPool2d)) and "downsample" not in name)""",
            "runs the backbone (output_stride_of)": "return output_stride_of(backbone)",
            "returns a float": """
            os_ = 1.0
            for name, m in backbone.named_modules():
                if isinstance(m, (nn.Conv2d, nn.MaxPool2d)) and "downsample" not in name:
                    os_ *= m.stride if isinstance(m.stride, int) else m.stride[0]
            return os_""",
        },
    ),
    "6.3": (
        "def tap_fraction(rate, size):\n",
        {
            "the 1-D fraction (not squared)": """
            pos = np.arange(size)
            inside = sum(((pos + o >= 0) & (pos + o < size)).astype(float) for o in (-rate, 0, rate))
            return float(inside.mean() / 3)""",
            "forgets to divide by 9": """
            pos = np.arange(size)
            inside = sum(((pos + o >= 0) & (pos + o < size)).astype(float) for o in (-rate, 0, rate))
            return float(inside.mean() ** 2)""",
            "off by one: a tap at position size counts": """
            pos = np.arange(size)
            inside = sum(((pos + o >= 0) & (pos + o <= size)).astype(float) for o in (-rate, 0, rate))
            return float(inside.mean() ** 2 / 9)""",
            "closed form without clamping (rate > size)": """
            return float((1 + 2 * (size - rate) / size) ** 2 / 9)""",
            "averages the squared counts (same position on both axes)": """
            pos = np.arange(size)
            inside = sum(((pos + o >= 0) & (pos + o < size)).astype(float) for o in (-rate, 0, rate))
            return float((inside ** 2).mean() / 9)""",
            "max instead of mean over positions": """
            pos = np.arange(size)
            inside = sum(((pos + o >= 0) & (pos + o < size)).astype(float) for o in (-rate, 0, rate))
            return float(inside.max() ** 2 / 9)""",
            "reads the lesson's FEAT_SIDE": """
            pos = np.arange(FEAT_SIDE)
            inside = sum(((pos + o >= 0) & (pos + o < FEAT_SIDE)).astype(float) for o in (-rate, 0, rate))
            return float(inside.mean() ** 2 / 9)""",
            "returns a tensor": """
            pos = torch.arange(size)
            inside = sum(((pos + o >= 0) & (pos + o < size)).float() for o in (-rate, 0, rate))
            return inside.mean() ** 2 / 9""",
        },
    ),
    "6.4": (
        "def prepare(image, mean, std):\n",
        {
            "no normalisation (only divides by 255)": """
            return (torch.tensor(image).permute(2, 0, 1).float() / 255).unsqueeze(0)""",
            "normalises the 0..255 values (no division by 255)": """
            x = torch.tensor(image).permute(2, 0, 1).float()
            return ((x - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)).unsqueeze(0)""",
            "mean and std swapped": """
            x = torch.tensor(image).permute(2, 0, 1).float() / 255
            return ((x - torch.tensor(std).view(3, 1, 1)) / torch.tensor(mean).view(3, 1, 1)).unsqueeze(0)""",
            "HWC not permuted (channels last)": """
            x = torch.tensor(image).float() / 255
            return ((x - torch.tensor(mean)) / torch.tensor(std)).unsqueeze(0)""",
            "reshapes HWC to CHW instead of permuting": """
            h, w, _ = image.shape
            x = torch.tensor(image).float().reshape(3, h, w) / 255
            return ((x - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)).unsqueeze(0)""",
            "permute(2, 1, 0): height and width swapped": """
            x = torch.tensor(image).permute(2, 1, 0).float() / 255
            return ((x - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)).unsqueeze(0)""",
            "channel order reversed (BGR)": """
            x = torch.tensor(image[..., ::-1].copy()).permute(2, 0, 1).float() / 255
            return ((x - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)).unsqueeze(0)""",
            "mean broadcast over the wrong axis (the width)": """
            x = torch.tensor(image).permute(2, 0, 1).float() / 255
            return ((x - torch.tensor(mean)) / torch.tensor(std)).unsqueeze(0)""",
            "standardises with the photo's own statistics": """
            x = torch.tensor(image).permute(2, 0, 1).float() / 255
            m, s = x.mean(dim=(1, 2), keepdim=True), x.std(dim=(1, 2), keepdim=True)
            return ((x - m) / s).unsqueeze(0)""",
            "hard-codes ImageNet's mean and std": """
            x = torch.tensor(image).permute(2, 0, 1).float() / 255
            m = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
            s = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
            return ((x - m) / s).unsqueeze(0)""",
            "returns a NumPy array": """
            x = image.transpose(2, 0, 1)[None] / 255.0
            return ((x - np.array(mean)[:, None, None]) / np.array(std)[:, None, None]).astype(np.float32)""",
            "returns float64": """
            x = torch.tensor(image).permute(2, 0, 1).double() / 255
            m, s = torch.tensor(mean, dtype=torch.float64), torch.tensor(std, dtype=torch.float64)
            return ((x - m.view(3, 1, 1)) / s.view(3, 1, 1)).unsqueeze(0)""",
            "no batch axis": """
            x = torch.tensor(image).permute(2, 0, 1).float() / 255
            return (x - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)""",
            "subtracts the mean in place, in the photo's own memory": """
            x = torch.from_numpy(image).permute(2, 0, 1)  # a view: shares the photo's memory
            x -= (255 * torch.tensor(mean)).round().to(torch.uint8).view(3, 1, 1)
            return (x.float() / 255 / torch.tensor(std).view(3, 1, 1)).unsqueeze(0)""",
        },
    ),
    "6.5": (
        "def mask_at(logits, size):\n",
        {
            "argmax first, then resizes the mask (nearest)": """
            labels = logits.argmax(dim=1, keepdim=True).float()
            return F.interpolate(labels, size=size, mode="nearest")[0, 0].long()""",
            "argmax first, then resizes the labels bilinearly (rounded)": """
            labels = logits.argmax(dim=1, keepdim=True).float()
            return F.interpolate(labels, size=size, mode="bilinear", align_corners=False)[0, 0].round().long()""",
            "argmax first, then resizes the labels bilinearly (truncated)": """
            labels = logits.argmax(dim=1, keepdim=True).float()
            return F.interpolate(labels, size=size, mode="bilinear", align_corners=False)[0, 0].long()""",
            "align_corners=True": """
            return F.interpolate(logits, size=size, mode="bilinear", align_corners=True).argmax(dim=1)[0]""",
            "nearest on the logits": """
            return F.interpolate(logits, size=size, mode="nearest").argmax(dim=1)[0]""",
            "bicubic on the logits": """
            return F.interpolate(logits, size=size, mode="bicubic", align_corners=False).argmax(dim=1)[0]""",
            "(W, H) swapped": """
            scores = F.interpolate(logits, size=(size[1], size[0]), mode="bilinear", align_corners=False)
            return scores.argmax(dim=1)[0]""",
            "keeps the batch axis (1, H, W)": """
            return F.interpolate(logits, size=size, mode="bilinear", align_corners=False).argmax(dim=1)""",
            "returns a float mask": """
            return F.interpolate(logits, size=size, mode="bilinear", align_corners=False).argmax(dim=1)[0].float()""",
            "argmax over the batch dimension": """
            return F.interpolate(logits, size=size, mode="bilinear", align_corners=False).argmax(dim=0)[0]""",
            "returns a NumPy array (like segment)": """
            scores = F.interpolate(logits, size=size, mode="bilinear", align_corners=False)
            return scores.argmax(dim=1)[0].numpy()""",
            "resizes by the output stride (scale_factor=8) instead of to size": """
            scores = F.interpolate(logits, scale_factor=8, mode="bilinear", align_corners=False)
            return scores.argmax(dim=1)[0]""",
            "reads the photo's size": """
            scores = F.interpolate(logits, size=photo.shape[:2], mode="bilinear", align_corners=False)
            return scores.argmax(dim=1)[0]""",
            "subtracts the max in place (for a softmax)": """
            logits -= logits.amax(dim=1, keepdim=True)
            return F.interpolate(logits, size=size, mode="bilinear", align_corners=False).argmax(dim=1)[0]""",
        },
    ),
    "6.6": (
        "def changed_pixels(logits, size):\n",
        {
            "compares align_corners=True with True": """
            a = F.interpolate(logits, size=size, mode="bilinear", align_corners=True).argmax(dim=1)
            b = F.interpolate(logits, size=size, mode="bilinear", align_corners=True).argmax(dim=1)
            return int((a != b).sum())""",
            "counts at the logits' size (no resize)": """
            a = F.interpolate(logits, size=logits.shape[-2:], mode="bilinear", align_corners=False).argmax(dim=1)
            b = F.interpolate(logits, size=logits.shape[-2:], mode="bilinear", align_corners=True).argmax(dim=1)
            return int((a != b).sum())""",
            "compares bilinear with nearest": """
            a = F.interpolate(logits, size=size, mode="bilinear", align_corners=False).argmax(dim=1)
            b = F.interpolate(logits, size=size, mode="nearest").argmax(dim=1)
            return int((a != b).sum())""",
            "counts the changed logits, not the changed classes": """
            a = F.interpolate(logits, size=size, mode="bilinear", align_corners=False)
            b = F.interpolate(logits, size=size, mode="bilinear", align_corners=True)
            return int((a != b).sum())""",
            "counts the unchanged pixels": """
            a = F.interpolate(logits, size=size, mode="bilinear", align_corners=False).argmax(dim=1)
            b = F.interpolate(logits, size=size, mode="bilinear", align_corners=True).argmax(dim=1)
            return int((a == b).sum())""",
            "returns the fraction": """
            a = F.interpolate(logits, size=size, mode="bilinear", align_corners=False).argmax(dim=1)
            b = F.interpolate(logits, size=size, mode="bilinear", align_corners=True).argmax(dim=1)
            return float((a != b).float().mean())""",
            "returns a tensor": """
            a = F.interpolate(logits, size=size, mode="bilinear", align_corners=False).argmax(dim=1)
            b = F.interpolate(logits, size=size, mode="bilinear", align_corners=True).argmax(dim=1)
            return (a != b).sum()""",
            "(W, H) swapped": """
            hw = (size[1], size[0])
            a = F.interpolate(logits, size=hw, mode="bilinear", align_corners=False).argmax(dim=1)
            b = F.interpolate(logits, size=hw, mode="bilinear", align_corners=True).argmax(dim=1)
            return int((a != b).sum())""",
            "resizes the masks, not the logits": """
            labels = logits.argmax(dim=1, keepdim=True).float()
            a = F.interpolate(labels, size=size, mode="bilinear", align_corners=False).round()
            b = F.interpolate(labels, size=size, mode="bilinear", align_corners=True).round()
            return int((a != b).sum())""",
            "counts only the first row": """
            a = F.interpolate(logits, size=size, mode="bilinear", align_corners=False).argmax(dim=1)
            b = F.interpolate(logits, size=size, mode="bilinear", align_corners=True).argmax(dim=1)
            return int((a[0, 0] != b[0, 0]).sum())""",
        },
    ),
}
CASES = wrong_answer_cases(WRONG)


@pytest.mark.parametrize("ex_id", sorted(WRONG))
def test_the_lesson_solution_passes_every_check(ex_id):
    out = _verdict(ex_id, solution_source(SOURCE, ex_id))
    assert out.count("PASSED") == n_checks(SOURCE, ex_id), out


@pytest.mark.parametrize("ex_id", sorted(WRONG))
def test_the_student_stub_is_reported_as_not_implemented(ex_id):
    out = _verdict(ex_id, None)
    assert out.count("not yet implemented") == n_checks(SOURCE, ex_id) and "PASSED" not in out, out


@pytest.mark.parametrize("ex_id,name,src", CASES, ids=[f"{e}: {n}" for e, n, _ in CASES])
def test_a_wrong_answer_fails_with_a_message_in_words(ex_id, name, src):
    with pytest.raises(exercises.CheckFailed, match=rf"\[Exercise {ex_id}( \(hidden\))?\] \w+"):
        _verdict(ex_id, src)
