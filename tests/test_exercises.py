"""course_utils.exercises: the verdicts a student sees (pass, not implemented, wrong shape/values)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils import exercises


def test_run_pass(capsys):
    assert exercises.run("Exercise 1.1", lambda: exercises.close(np.ones(3), np.ones(3))) is True
    assert capsys.readouterr().out.strip() == "[Exercise 1.1] PASSED"


def test_run_not_implemented_goes_on(capsys):
    def stub():
        raise NotImplementedError("write kmeans_torch")

    assert exercises.run("Exercise 1.1", stub) is False
    assert "[Exercise 1.1] not yet implemented: write kmeans_torch" in capsys.readouterr().out


def test_run_wrong_shape_names_exercise_and_shapes():
    with pytest.raises(exercises.CheckFailed, match=r"^\[Ex 2\] centres: wrong shape, expected \(3, 5\), got \(5, 3\)"):
        exercises.run("Ex 2", lambda: exercises.close(np.zeros((5, 3)), np.zeros((3, 5)), "centres"))


def test_run_wrong_values_says_where_and_by_how_much():
    exp = np.zeros((2, 3))
    got = exp.copy()
    got[1, 2] = 0.5
    with pytest.raises(exercises.CheckFailed) as info:
        exercises.run("Ex 3", lambda: exercises.close(got, exp, "centres", atol=1e-4))
    msg = str(info.value)
    assert "values differ in 1 of 6 entries" in msg and "largest difference 0.5 at index (1, 2)" in msg
    assert "tolerance atol=0.0001" in msg


def test_close_accepts_torch_and_reports_nan():
    exercises.close(torch.ones(2, dtype=torch.float64), np.ones(2))
    with pytest.raises(exercises.CheckFailed, match=r"result: contains 1 NaN/inf values"):
        exercises.close(np.array([1.0, np.nan]), np.ones(2))


def test_missing_return_value():
    with pytest.raises(exercises.CheckFailed, match=r"did you forget to return a value"):
        exercises.shape(None, (3,))


def test_shape_wildcards_dtype_equal():
    exercises.shape(np.zeros((7, 3)), (None, 3))
    exercises.dtype(np.zeros(3, np.int32), "int")
    with pytest.raises(exercises.CheckFailed, match=r"labels: wrong dtype, expected int, got float64"):
        exercises.dtype(np.zeros(3), "int", "labels")
    with pytest.raises(ValueError, match=r"kind: expected 'int', 'float' or 'bool', got 'complex'"):
        exercises.dtype(np.zeros(3), "complex")
    exercises.equal((2, 3), (2, 3))
    with pytest.raises(exercises.CheckFailed, match=r"k: expected 4, got 3"):
        exercises.equal(3, 4, "k")
    with pytest.raises(exercises.CheckFailed, match=r"labels: 2 of 4 entries differ"):
        exercises.equal(np.array([0, 1, 1, 0]), np.array([0, 0, 1, 1]), "labels")


def test_other_errors_are_not_swallowed():
    with pytest.raises(ZeroDivisionError):
        exercises.run("Ex", lambda: 1 / 0)
    assert exercises.is_implemented(lambda: 1) is True
    assert exercises.is_implemented(lambda: (_ for _ in ()).throw(NotImplementedError())) is False
