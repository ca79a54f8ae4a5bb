"""Lesson 6's exercise checks reject the usual wrong answers and accept the right one (issue 18).

Each wrong answer is a function body a student might write; the exercise's public and hidden check cells
(taken from the notebook, matched by the exercise id in cell metadata) must reject it with ``CheckFailed``
(a message in words), the lesson's solution must pass, and the student version's stub must report "not yet
implemented". The checks run in a namespace of stand-ins for the lesson's globals: torchvision's models
without weights (the strides do not depend on them), a small mask, the lesson's own helpers.
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

from course_utils import exercises, viz

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


def _namespace() -> dict:
    compare_models, classifier_features = _models()
    rng = np.random.default_rng(0)
    mask = torch.from_numpy(rng.choice([0, 8, 15], size=(24, 32), p=[0.6, 0.3, 0.1]))  # background, cat, person
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
    }
    for name in ("valid_tap_fraction", "output_stride_of"):
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
