"""Lesson 2's exercise checks reject the usual wrong answers and accept the right one (issue 18).

Each wrong answer below is a complete solution cell a student might write; it must make a public or hidden
check raise ``CheckFailed`` (a message in words, never a raw error). The lesson's own solution must pass
every check, and the untouched student stub must only report "not yet implemented".
"""

from __future__ import annotations

import textwrap

import pytest
from exercise_harness import load, run, setup_cells, submission

from course_utils.exercises import CheckFailed

STEM = "02_feature_maps"
SOURCE = load(STEM)
SETUP = setup_cells(SOURCE, ["FLAGS = runtime.flags()", "import itertools", "def out_size(n, k, s=1, p=0, d=1):"])
EX_IDS = ["2.1", "2.2", "2.3"]


def _solution(ex_id: str) -> str:
    cell = next(
        c
        for c in SOURCE["cells"]
        if "solution" in c["metadata"].get("tags", []) and c["metadata"].get("exercise", {}).get("id") == ex_id
    )
    return "".join(cell["source"])


HEADS = {
    "2.1": "def conv_params(c_in, c_out, k, bias=True, groups=1):\n",
    "2.2": "def resnet18_grid(n):\n",
    "2.3": "def dead_channels(f, threshold=0.99):\n",
}
GROUPS_CHECK = 'if c_in % groups or c_out % groups:\n    raise ValueError("groups must divide c_in and c_out")\n'
WRONG = {
    "2.1": {
        "ignores groups": GROUPS_CHECK + "return c_out * c_in * k * k + (c_out if bias else 0)",
        "divides with / (a float)": GROUPS_CHECK + "return c_out * (c_in / groups) * k * k + (c_out if bias else 0)",
        "always counts the bias": GROUPS_CHECK + "return c_out * (c_in // groups) * k * k + c_out",
        "forgets the kernel area": GROUPS_CHECK + "return c_out * (c_in // groups) * k + (c_out if bias else 0)",
        "divides both channel counts by groups": GROUPS_CHECK
        + "return (c_out // groups) * (c_in // groups) * k * k + (c_out if bias else 0)",
        "accepts groups that do not divide the channels": "return c_out * (c_in // groups) * k * k + (c_out if bias else 0)",
        "returns a tensor": "return torch.tensor(sum(p.numel() for p in nn.Conv2d(c_in, c_out, k, bias=bias, groups=groups).parameters()))",
    },
    "2.2": {
        "divides by the total stride": "return n // 32",
        "forgets the max-pool": "n = out_size(n, 7, 2, 3)\nfor _ in range(3):\n    n = out_size(n, 3, 2, 1)\nreturn n",
        "uses padding 0 everywhere": "n = out_size(n, 7, 2, 0)\nn = out_size(n, 3, 2, 0)\n"
        "for _ in range(3):\n    n = out_size(n, 3, 2, 0)\nreturn n",
        "returns a float": "return (n + 31) / 32",
        "returns the whole shape": "return (512, -(-n // 32), -(-n // 32))",
    },
    "2.3": {
        "counts values at the threshold as dead": "return (f == 0).float().mean(dim=(0, 2, 3)) >= threshold",
        "counts negative values as zeros": "return (f <= 0).float().mean(dim=(0, 2, 3)) > threshold",
        "decides per image (dead in any image)": "return ((f == 0).float().mean(dim=(2, 3)) > threshold).any(dim=0)",
        "returns the fraction": "return (f == 0).float().mean(dim=(0, 2, 3))",
        "modifies the feature map": "f[f != 0] = 1.0\nreturn (f == 0).float().mean(dim=(0, 2, 3)) > threshold",
        "returns per-image flags": "return (f == 0).float().mean(dim=(2, 3)) > threshold",
        "returns a list": "return ((f == 0).float().mean(dim=(0, 2, 3)) > threshold).tolist()",
        "reads the lesson's captured maps": "return (captured['layer1'] == 0).float().mean(dim=(0, 2, 3)) > threshold",
    },
}
CASES = [(ex, name, body) for ex in EX_IDS for name, body in WRONG[ex].items()]


@pytest.mark.parametrize("ex_id", EX_IDS)
def test_the_lesson_solution_passes_every_check(ex_id):
    out = run(SETUP, submission(SOURCE, ex_id, _solution(ex_id)))
    assert out.count("PASSED") == 2, out


@pytest.mark.parametrize("ex_id", EX_IDS)
def test_the_student_stub_is_reported_as_not_implemented(ex_id):
    out = run(SETUP, submission(SOURCE, ex_id, None))
    assert out.count("not yet implemented") == 2 and "PASSED" not in out, out


@pytest.mark.parametrize("ex_id, name, body", CASES, ids=[f"{c[0]}: {c[1]}" for c in CASES])
def test_a_wrong_answer_fails_with_a_message_in_words(ex_id, name, body):
    answer = HEADS[ex_id] + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n"
    with pytest.raises(CheckFailed, match=rf"\[Exercise {ex_id}( \(hidden\))?\] \w+"):
        run(SETUP, submission(SOURCE, ex_id, answer))
