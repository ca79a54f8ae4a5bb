"""Lesson 3's exercise checks reject the usual wrong answers and accept the right one (issue 18).

Each wrong answer is a function body a student might write; the exercise's check cells (taken from the
notebook, matched by the exercise id in cell metadata) must reject it with ``CheckFailed`` (a message in
words), the lesson's solution must pass, and the student version's stub must report "not yet implemented".
The checks run in a namespace of stand-ins for the lesson's globals (its own helpers ``resnet18_grid`` and
``patches_of`` included), not in the whole lesson.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from exercise_harness import function_source, graded_cells, load, n_checks, run_in, solution_source, wrong_answer_cases

from course_utils import exercises

SOURCE = load("03_dense_features")


def _namespace() -> dict:
    ns = {
        "__name__": "__main__",
        "np": np,
        "torch": torch,
        "nn": nn,
        "F": F,
        "exercises": exercises,
        "PATCH": 56,  # the lesson's patch size
        "taps": {"layer4": torch.zeros(1, 512, 10, 15)},  # the lesson's feature maps of the photo
    }
    for name in ("conv_out", "resnet18_grid", "patches_of"):
        exec(function_source(SOURCE, name), ns)
    return ns


def _verdict(ex_id: str, answer: str | None) -> str:
    return run_in(_namespace(), graded_cells(SOURCE, ex_id, answer))


WRONG = {
    "3.1": (
        "def fmap_to_rows(fmap):\n",
        {
            "reshape without permute": """
            _, C, h, w = fmap.shape
            return fmap.reshape(h * w, C)""",
            "column-major order (permute(2, 1, 0))": """
            _, C, h, w = fmap.shape
            return fmap[0].permute(2, 1, 0).reshape(h * w, C)""",
            "forgets to transpose: (C, h*w)": """
            _, C, h, w = fmap.shape
            return fmap[0].reshape(C, h * w)""",
            "hard-codes the check's shape": "return fmap[0].permute(1, 2, 0).reshape(15, 6)",
            "reads the channel count of the lesson's layer4 map": """
            return fmap[0].permute(1, 2, 0).reshape(-1, taps["layer4"].shape[1])""",
            "squeezes the batch axis in place": """
            fmap.squeeze_(0)
            C, h, w = fmap.shape
            return fmap.permute(1, 2, 0).reshape(h * w, C)""",
            "returns a NumPy array": """
            _, C, h, w = fmap.shape
            return fmap[0].permute(1, 2, 0).reshape(h * w, C).numpy()""",
            "returns a list of rows": """
            _, C, h, w = fmap.shape
            return fmap[0].permute(1, 2, 0).reshape(h * w, C).tolist()""",
        },
    ),
    "3.2": (
        "def smallest_input(g):\n",
        {
            "32 * g (not the smallest)": "return 32 * g",
            "off by one: 32 * (g - 1)": "return 32 * (g - 1)",
            "32 * g - 1 (not the smallest)": "return 32 * g - 1",
            "returns a float": "return 32.0 * (g - 1) + 1",
            "returns a tensor": "return torch.tensor(32 * (g - 1) + 1)",
            "a search capped at 1000 px": "return next(n for n in range(1, 1000) if resnet18_grid(n) == g)",
        },
    ),
    "3.3": (
        "def hypercolumn(maps, size):\n",
        {
            "align_corners=True": """
            return torch.cat([F.interpolate(m, size=size, mode="bilinear", align_corners=True) for m in maps], dim=1)""",
            "nearest instead of bilinear": """
            return torch.cat([F.interpolate(m, size=size, mode="nearest") for m in maps], dim=1)""",
            "concatenates along the batch axis": """
            return torch.cat([F.interpolate(m, size=size, mode="bilinear", align_corners=False) for m in maps], dim=0)""",
            "upsamples to the first map's size instead of size": """
            size = maps[0].shape[-2:]
            return torch.cat([F.interpolate(m, size=size, mode="bilinear", align_corners=False) for m in maps], dim=1)""",
            "swaps height and width of size": """
            hw = (size[1], size[0])
            return torch.cat([F.interpolate(m, size=hw, mode="bilinear", align_corners=False) for m in maps], dim=1)""",
            "integer scale factor": """
            return torch.cat([F.interpolate(m, scale_factor=size[0] // m.shape[-2], mode="bilinear",
                                            align_corners=False) for m in maps], dim=1)""",
            "replaces the maps of the list in place": """
            for i, m in enumerate(maps):
                maps[i] = F.interpolate(m, size=size, mode="bilinear", align_corners=False)
            return torch.cat(maps, dim=1)""",
            "returns the list of upsampled maps": """
            return [F.interpolate(m, size=size, mode="bilinear", align_corners=False) for m in maps]""",
        },
    ),
    "3.4": (
        "def patch_count(side, patch, stride):\n",
        {
            "ignores the patch size": "return (side // stride) ** 2",
            "one too few per axis": "return ((side - patch) // stride) ** 2",
            "counts one axis only": "return (side - patch) // stride + 1",
            "true division, then int": "return int(((side - patch) / stride + 1) ** 2)",
            "rounds up": "return (-(-(side - patch) // stride) + 1) ** 2",
            "reads the lesson's PATCH": "return ((side - PATCH) // stride + 1) ** 2",
            "returns a float": "return float(((side - patch) // stride + 1) ** 2)",
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


def test_the_helpers_of_these_checks_report_in_words():
    """``exercises.call`` (an error of the student's function) and ``unchanged`` on a list of maps (3.3)."""
    with pytest.raises(exercises.CheckFailed, match=r"^f\(\[\]\): your function raised IndexError: list index out"):
        exercises.call(lambda xs: xs[0], [], what="f([])")
    with pytest.raises(exercises.CheckFailed, match=r"raised StopIteration \(called with 3\)$"):
        exercises.call(lambda n: next(iter(())), 3)
    with pytest.raises(exercises.CheckFailed, match=r"^f: expected a function, got an int$"):
        exercises.call(3, what="f")
    maps = [torch.zeros(1, 2, 4, 4), torch.ones(1, 1, 2, 2)]
    before = exercises.snapshot(maps)
    exercises.unchanged(before, maps, "maps")
    maps[1] = maps[1] * 2
    with pytest.raises(exercises.CheckFailed, match=r"^item 1 of maps was modified in place \(4 of 4 entries"):
        exercises.unchanged(before, maps, "maps")
    maps.pop()
    with pytest.raises(exercises.CheckFailed, match=r"^maps was modified in place \(it had 2 items, now 1\)"):
        exercises.unchanged(before, maps, "maps")
