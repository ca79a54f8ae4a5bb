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


# ---- helpers that make checks strong enough to grade -------------------------------------------


def test_run_reraises_not_implemented_while_grading(monkeypatch):
    def stub():
        raise NotImplementedError("Exercise 1.1: replace this line with your code")

    monkeypatch.setattr(exercises, "GRADING", True)
    with pytest.raises(NotImplementedError, match="replace this line"):
        exercises.run("Exercise 1.1", stub)


def test_returns_reports_the_type_in_words():
    exercises.returns(torch.zeros(2), torch.Tensor, "centres")
    exercises.returns(3, (int, float))
    with pytest.raises(exercises.CheckFailed, match=r"^centres: expected a torch tensor, got a NumPy array$"):
        exercises.returns(np.zeros(2), torch.Tensor, "centres")
    with pytest.raises(exercises.CheckFailed, match=r"^k: expected an int, got a bool$"):
        exercises.returns(True, int, "k")
    exercises.returns(True, (int, bool))
    with pytest.raises(exercises.CheckFailed, match=r"^λ: expected a float or None, got a string$"):
        exercises.returns("0.5", (float, type(None)), "λ")
    with pytest.raises(exercises.CheckFailed, match=r"expected a tuple, got None; did you forget to return a value\?"):
        exercises.returns(None, tuple)
    with pytest.raises(exercises.CheckFailed, match=r"expected a NumPy array, got a list"):
        exercises.returns([1, 2], np.ndarray)


@pytest.mark.parametrize("bad", ["int", (int, "float"), (), None])
def test_returns_rejects_invalid_types_argument(bad):
    with pytest.raises(TypeError, match=r"^types: expected a type or a tuple of types, got"):
        exercises.returns(1, bad)


def test_unchanged_detects_in_place_modification():
    x = torch.arange(6.0)
    before = exercises.snapshot(x)
    exercises.unchanged(before, x, "X")
    x[2] = -1.0
    with pytest.raises(exercises.CheckFailed, match=r"^X was modified in place \(1 of 6 entries changed\); work on a"):
        exercises.unchanged(before, x, "X")
    a = np.array([np.nan, 1.0])
    exercises.unchanged(exercises.snapshot(a), a)  # NaN equals NaN here
    with pytest.raises(exercises.CheckFailed, match=r"shape changed from \(2,\) to \(1,\)"):
        exercises.unchanged(a, a[:1], "a")
    items = [1, 2]
    before = exercises.snapshot(items)
    items.append(3)
    with pytest.raises(exercises.CheckFailed, match=r"^the input was modified in place \(it was \[1, 2\], now"):
        exercises.unchanged(before, items)


def _mean_rows(x):
    return x.mean(axis=0)


def _make(rng):
    return (rng.normal(size=(int(rng.integers(3, 9)), int(rng.integers(2, 5)))),)


def test_called_fresh_passes_a_correct_function_and_catches_usual_mistakes():
    exercises.called_fresh(_mean_rows, _make, _mean_rows, "means")
    lesson_global = np.ones((4, 7))
    with pytest.raises(
        exercises.CheckFailed,
        match=r"means: wrong shape, expected \(\d,\), got \(7,\) "
        r"\(when called with fresh arguments \(shape \(\d, \d\)\)\)",
    ):
        exercises.called_fresh(lambda x: lesson_global.mean(axis=0), _make, _mean_rows, "means")

    def in_place(x):
        x -= x.mean(axis=0)
        return x.mean(axis=0) * 0 + _mean_rows(x + 0)

    with pytest.raises(exercises.CheckFailed, match=r"^argument 1 was modified in place"):
        exercises.called_fresh(in_place, _make, _mean_rows)
    with pytest.raises(exercises.CheckFailed, match=r"values differ"):
        exercises.called_fresh(lambda x: x.max(axis=0), _make, _mean_rows)  # a wrong reduction
    with pytest.raises(
        exercises.CheckFailed,
        match=r"^result: your function raised ZeroDivisionError: division by "
        r"zero when called with fresh arguments",
    ):
        exercises.called_fresh(lambda x: 1 / 0, _make, _mean_rows)
    with pytest.raises(exercises.CheckFailed, match=r"^result: expected numbers \(an array or a number\), got a str"):
        exercises.called_fresh(lambda x: "mean", _make, _mean_rows)
    with pytest.raises(exercises.CheckFailed, match=r"^result: a list cannot be compared with the expected"):
        exercises.called_fresh(lambda x: [object()] * x.shape[1], _make, _mean_rows)


def test_called_fresh_lets_the_stub_through_and_compares_on_copies():
    def stub(x):
        raise NotImplementedError("write it")

    with pytest.raises(NotImplementedError):
        exercises.called_fresh(stub, _make, _mean_rows)

    def reference_that_modifies(x):  # the reference runs on a copy: the student's argument stays intact
        x[:] = 0
        return x.sum(axis=0)

    exercises.called_fresh(lambda x: np.zeros(x.shape[1]), _make, reference_that_modifies)
    exercises.called_fresh(
        lambda k: k * 2, lambda rng: int(rng.integers(1, 9)), lambda k: k * 2, compare=exercises.equal
    )


@pytest.mark.parametrize(
    "kwargs, exc, message",
    [
        ({"fn": 3}, TypeError, r"^fn: expected a callable, got int$"),
        ({"make_args": None}, TypeError, r"^make_args: expected a callable, got NoneType$"),
        ({"n": 0}, ValueError, r"^n: expected an int >= 1, got 0$"),
        ({"n": True}, ValueError, r"^n: expected an int >= 1, got True$"),
    ],
)
def test_called_fresh_rejects_invalid_arguments(kwargs, exc, message):
    args = {"fn": _mean_rows, "make_args": _make, "reference": _mean_rows, **kwargs}
    with pytest.raises(exc, match=message):
        exercises.called_fresh(**args)
