"""Lesson 7's exercise checks reject the usual wrong answers and accept the right one (issue 18).

Each wrong answer is a function body a student might write; the exercise's check cell (taken from the
notebook, matched by the exercise id in cell metadata) must reject it with ``CheckFailed`` (a message in
words), the lesson's solution must pass, and the student version's stub must report "not yet implemented".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from exercise_harness import wrong_answer_cases

from course_utils import assign, exercises, losses
from course_utils.data import ScatteredSticks
from course_utils.labels import downsample_labels

NB = json.loads((Path(__file__).resolve().parents[1] / "notebooks" / "07_discriminative_lab.ipynb").read_text())


def _cell(ex_id: str, tag: str, nb=NB) -> str:
    def wanted(c):
        tags = c["metadata"].get("tags", [])
        return tag in tags if tag == "check" else "check" not in tags  # the student version drops "solution"

    return next(
        "".join(c["source"])
        for c in nb["cells"]
        if c["cell_type"] == "code" and c["metadata"].get("exercise", {}).get("id") == ex_id and wanted(c)
    )


def _namespace() -> dict:
    _, labels = ScatteredSticks(n_items=4, size=32, n_sticks=4, split="train", seed=0).tensors()
    return {
        "torch": torch,
        "losses": losses,
        "exercises": exercises,
        "downsample_labels": downsample_labels,
        "Y_train": labels,  # the lesson's training labels: sticks, with mixed blocks at every scale
        "IGNORE": -1,
    }


def _verdict(ex_id: str, solution_src: str):
    ns = _namespace()
    exec(solution_src, ns)
    exec(_cell(ex_id, "check"), ns)  # exercises.run prints or raises CheckFailed


WRONG = {
    "7.1": (
        "def pull_term(x, labels, delta_v):\n",
        {
            "pixel-weighted: one mean over all pixels": """
            ids, seg = torch.unique(labels, return_inverse=True)
            mu = torch.stack([x[:, labels == c].mean(dim=1) for c in ids])
            d = torch.linalg.vector_norm(x - mu[seg].T, dim=0)
            return ((d - delta_v).clamp(min=0) ** 2).mean()""",
            "no hinge": """
            return torch.stack([(torch.linalg.vector_norm(x[:, labels == c] - x[:, labels == c].mean(1, keepdim=True),
                                                          dim=0) ** 2).mean() for c in torch.unique(labels)]).mean()""",
            "hinge not squared": """
            return torch.stack([(torch.linalg.vector_norm(x[:, labels == c] - x[:, labels == c].mean(1, keepdim=True),
                                                          dim=0) - delta_v).clamp(min=0).mean()
                                for c in torch.unique(labels)]).mean()""",
            "sum over instances instead of mean": """
            return torch.stack([((torch.linalg.vector_norm(x[:, labels == c] - x[:, labels == c].mean(1, keepdim=True),
                                                           dim=0) - delta_v).clamp(min=0) ** 2).mean()
                                for c in torch.unique(labels)]).sum()""",
            "max instead of mean over pixels": """
            return torch.stack([((torch.linalg.vector_norm(x[:, labels == c] - x[:, labels == c].mean(1, keepdim=True),
                                                           dim=0) - delta_v).clamp(min=0) ** 2).max()
                                for c in torch.unique(labels)]).mean()""",
        },
    ),
    "7.2": (
        "def downsample(labels, f, ignore_index):\n",
        {
            "top-left pixel of each block": "return labels[:, ::f, ::f]",
            "smallest label of each block": """
            b, h, w = labels.shape
            return labels.reshape(b, h // f, f, w // f, f).amin(dim=(2, 4))""",
            "mixed blocks get 0 (background) instead of ignore_index": """
            b, h, w = labels.shape
            blocks = labels.reshape(b, h // f, f, w // f, f)
            lo, hi = blocks.amin(dim=(2, 4)), blocks.amax(dim=(2, 4))
            return torch.where(lo == hi, lo, torch.zeros_like(lo))""",
            "compares rows only": """
            b, h, w = labels.shape
            blocks = labels.reshape(b, h // f, f, w // f, f)
            lo, hi = blocks.amin(dim=2)[..., 0], blocks.amax(dim=2)[..., 0]
            return torch.where(lo == hi, lo, torch.full_like(lo, ignore_index))""",
        },
    ),
    "7.3": (
        "def push_term(mu, delta_d):\n",
        {
            "margin delta_d instead of 2 delta_d": """
            C = mu.shape[0]
            if C < 2:
                return mu.new_zeros(())
            d = torch.cdist(mu, mu)[~torch.eye(C, dtype=torch.bool)]
            return ((delta_d - d).clamp(min=0) ** 2).sum() / (C * (C - 1))""",
            "keeps the diagonal": """
            C = mu.shape[0]
            if C < 2:
                return mu.new_zeros(())
            return ((2 * delta_d - torch.cdist(mu, mu)).clamp(min=0) ** 2).sum() / (C * (C - 1))""",
            "divides by unordered pairs": """
            C = mu.shape[0]
            if C < 2:
                return mu.new_zeros(())
            d = torch.cdist(mu, mu)[~torch.eye(C, dtype=torch.bool)]
            return ((2 * delta_d - d).clamp(min=0) ** 2).sum() / (C * (C - 1) / 2)""",
            "hinge not squared": """
            C = mu.shape[0]
            if C < 2:
                return mu.new_zeros(())
            d = torch.cdist(mu, mu)[~torch.eye(C, dtype=torch.bool)]
            return (2 * delta_d - d).clamp(min=0).sum() / (C * (C - 1))""",
            "crashes for a single instance": """
            C = mu.shape[0]
            d = torch.cdist(mu, mu)[~torch.eye(C, dtype=torch.bool)]
            return ((2 * delta_d - d).clamp(min=0) ** 2).sum() / (C * (C - 1))""",
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
