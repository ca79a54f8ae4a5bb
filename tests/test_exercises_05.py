"""Lesson 5's exercise checks reject the usual wrong answers and accept the right one (issue 18).

Each wrong answer is a function body a student might write; the exercise's check cell (taken from the
notebook, matched by the exercise id in cell metadata) must reject it with ``CheckFailed`` (a message in
words), the lesson's solution must pass, and the student version's stub must report "not yet implemented".
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from exercise_harness import wrong_answer_cases

from course_utils import assign, exercises, metrics

NB = json.loads((Path(__file__).resolve().parents[1] / "notebooks" / "05_unet.ipynb").read_text())


def _cell(ex_id: str, tag: str, nb=NB) -> str:
    def is_solution(c):
        return c["cell_type"] == "code" and "check" not in c["metadata"].get("tags", [])

    return next(
        "".join(c["source"])
        for c in nb["cells"]
        if c["metadata"].get("exercise", {}).get("id") == ex_id
        and (tag in c["metadata"].get("tags", []) or (tag == "solution" and is_solution(c)))
    )


def _namespace() -> dict:
    ns = {
        "np": np,
        "torch": torch,
        "nn": nn,
        "F": F,
        "metrics": metrics,
        "exercises": exercises,
        "unet": None,
        "predict": lambda model, x: torch.zeros(x.shape[0], *x.shape[2:], dtype=torch.int64),
        "n_params": lambda m: sum(p.numel() for p in m.parameters()),
    }
    src = next("".join(c["source"]) for c in NB["cells"] if "".join(c["source"]).startswith("class DoubleConv"))
    exec(src, ns)
    return ns


def _verdict(ex_id: str, solution_src: str):
    ns = _namespace()
    exec(solution_src, ns)
    exec(_cell(ex_id, "check"), ns)  # exercises.run prints or raises CheckFailed


WRONG = {
    "5.1": (
        "def double_conv_params(c_in, c_out):\n",
        {
            "forgets the batch norms": "return 9 * c_in * c_out + 9 * c_out * c_out",
            "counts conv biases too": "return 9 * c_in * c_out + 9 * c_out * c_out + 2 * c_out + 4 * c_out",
            "one BN parameter per channel": "return 9 * c_in * c_out + 9 * c_out * c_out + 2 * c_out",
            "second conv uses c_in": "return 9 * c_in * c_out * 2 + 4 * c_out",
            "returns a float": "return float(9 * c_in * c_out + 9 * c_out * c_out + 4 * c_out)",
        },
    ),
    "5.2": (
        "def class_iou(pred, target, k):\n",
        {
            "0 instead of nan for an absent class": """
            p, t = pred == k, target == k
            union = (p | t).sum().item()
            return 0.0 if union == 0 else (p & t).sum().item() / union""",
            "Dice instead of IoU": """
            p, t = pred == k, target == k
            s = p.sum().item() + t.sum().item()
            return float("nan") if s == 0 else 2 * (p & t).sum().item() / s""",
            "divides by the target area": """
            p, t = pred == k, target == k
            return float("nan") if not (p | t).any() else (p & t).sum().item() / max(t.sum().item(), 1)""",
            "returns a tensor": """
            p, t = pred == k, target == k
            return (p & t).sum() / (p | t).sum()""",
            "modifies the prediction in place": """
            pred[pred != k] = -1
            p, t = pred == k, target == k
            union = (p | t).sum().item()
            return float("nan") if union == 0 else (p & t).sum().item() / union""",
        },
    ),
    "5.3": (
        "def pad_to_multiple(x, multiple):\n",
        {
            "always pads a full multiple": """
            h, w = x.shape[-2:]
            return F.pad(x, (0, multiple - w % multiple, 0, multiple - h % multiple), mode="reflect")""",
            "pads with zeros": """
            h, w = x.shape[-2:]
            return F.pad(x, (0, (-w) % multiple, 0, (-h) % multiple))""",
            "pads on both sides": """
            h, w = x.shape[-2:]
            ph, pw = (-h) % multiple, (-w) % multiple
            return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2), mode="reflect")""",
            "swaps height and width": """
            h, w = x.shape[-2:]
            return F.pad(x, (0, (-h) % multiple, 0, (-w) % multiple), mode="reflect")""",
            "always pads to 8": """
            h, w = x.shape[-2:]
            return F.pad(x, (0, (-w) % 8, 0, (-h) % 8), mode="reflect")""",
        },
    ),
}
CASES = wrong_answer_cases(WRONG)


@pytest.mark.parametrize("ex_id,name,src", CASES, ids=[f"{e}-{n}" for e, n, _ in CASES])
def test_wrong_answer_fails(ex_id, name, src):
    with pytest.raises(exercises.CheckFailed):
        _verdict(ex_id, src)


@pytest.mark.parametrize("ex_id", sorted(WRONG))
def test_solution_passes(ex_id, capsys):
    _verdict(ex_id, _cell(ex_id, "solution"))
    assert "PASSED" in capsys.readouterr().out


@pytest.mark.parametrize("ex_id", sorted(WRONG))
def test_student_stub_is_not_implemented(ex_id, capsys):
    student = assign.student_version(NB)
    _verdict(ex_id, _cell(ex_id, "solution", nb=student))
    assert "not yet implemented" in capsys.readouterr().out
