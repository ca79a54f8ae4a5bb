"""Lesson 4's exercise checks reject the usual wrong answers and accept the right one (issue 18).

Each wrong answer is a function body a student might write; the exercise's public and hidden check cells
(taken from the notebook, matched by the exercise id in cell metadata) must reject it with ``CheckFailed``
(a message in words), the lesson's solution must pass, and the student version's stub must report "not yet
implemented". The checks run in a namespace of stand-ins for the lesson's globals, not in the whole lesson.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from exercise_harness import function_source, graded_cells, load, n_checks, run_in, solution_source, wrong_answer_cases

from course_utils import exercises, receptive_field

SOURCE = load("04_dense_prediction")
P, SIDE = 32, 64  # the lesson's window size and (fast) image side


def _namespace() -> dict:
    n_fcn = (SIDE + P - 1 - P) // 4 + 1  # the FCN's output side: one score per window, step 4
    ns = {
        "__name__": "__main__",
        "np": np,
        "torch": torch,
        "nn": nn,
        "F": F,
        "exercises": exercises,
        "receptive_field": receptive_field,
        "P": P,
        "x_pad": torch.zeros(1, 3, SIDE + P - 1, SIDE + P - 1),
        "scores_fcn": torch.zeros(1, 5, n_fcn, n_fcn),
    }
    exec(function_source(SOURCE, "tconv_out_size"), ns)
    return ns


def _verdict(ex_id: str, answer: str | None) -> str:
    return run_in(_namespace(), graded_cells(SOURCE, ex_id, answer))


WRONG = {
    "4.1": (
        "def rf_size(kernels, strides, dilations):\n",
        {
            "ignores the dilation": """
            r, j = 1, 1
            for k, s in zip(kernels, strides):
                r += (k - 1) * j
                j *= s
            return r""",
            "updates the jump before adding the layer": """
            r, j = 1, 1
            for k, s, d in zip(kernels, strides, dilations):
                j *= s
                r += d * (k - 1) * j
            return r""",
            "ignores the strides (no jump)": """
            return 1 + sum(d * (k - 1) for k, d in zip(kernels, dilations))""",
            "starts from 0 (off by one)": """
            r, j = 0, 1
            for k, s, d in zip(kernels, strides, dilations):
                r += d * (k - 1) * j
                j *= s
            return r""",
            "consumes the lists with pop": """
            r, j = 1, 1
            while kernels:
                k, s, d = kernels.pop(0), strides.pop(0), dilations.pop(0)
                r += d * (k - 1) * j
                j *= s
            return r""",
            "returns a float": """
            r, j = 1.0, 1.0
            for k, s, d in zip(kernels, strides, dilations):
                r += d * (k - 1) * j
                j *= s
            return r""",
            "starts from the first layer (crashes without layers)": """
            r, j = dilations[0] * (kernels[0] - 1) + 1, strides[0]
            for k, s, d in zip(kernels[1:], strides[1:], dilations[1:]):
                r += d * (k - 1) * j
                j *= s
            return r""",
        },
    ),
    "4.2": (
        "def doubling_padding(k):\n",
        {
            "output_padding always 0": "return (k - 2) // 2, 0",
            "the 'same' padding k // 2": "return k // 2, k % 2",
            "sign error on output_padding (2p + o = k - 2)": "return (k - 2) // 2, (k - 2) % 2",
            "true division (a float padding)": "return (k - 2 + k % 2) / 2, k % 2",
            "returns only the padding": "return (k - 2 + k % 2) // 2",
            "output_padding as large as the stride": "return k // 2, 2 * (k // 2) - k + 2",
            "a table of the four kernel sizes": "return {2: (0, 0), 3: (1, 1), 4: (1, 0), 5: (2, 1)}[k]",
            "output_padding always 1": "return (k - 1) // 2, 1",
            "negative padding and output_padding": "p = (k - 3) // 2\nreturn p, 2 * p - k + 2",
        },
    ),
    "4.3": (
        "def n_windows(H, W, P, step):\n",
        {
            "assumes a square image (H twice)": "return ((H - P) // step + 1) ** 2",
            "forgets the + 1": "return ((H - P) // step) * ((W - P) // step)",
            "ignores the window size": "return (H // step) * (W // step)",
            "hard-codes the FCN's step 4": "return ((H - P) // 4 + 1) * ((W - P) // 4 + 1)",
            "true division": "return ((H - P) / step + 1) * ((W - P) / step + 1)",
            "rounds up": "return (-(-(H - P) // step) + 1) * (-(-(W - P) // step) + 1)",
            "returns a float": "return float(((H - P) // step + 1) * ((W - P) // step + 1))",
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
