"""Exercise checks that explain, in words, what is wrong with an answer.

Usage in a lesson (a cell tagged ``check``)::

    exercises.run("Exercise 1.1", lambda: exercises.close(my_centres, ref_centres, "centres", atol=1e-4))

* a correct answer prints ``PASSED``;
* an answer whose code still raises ``NotImplementedError`` (the student stub) prints
  ``not yet implemented`` and the notebook goes on;
* a wrong answer raises :class:`CheckFailed` (an ``AssertionError``) whose message says what was
  expected and what was given (shape, dtype, values off by how much).

Helpers that make a check strong enough to grade: :func:`returns` (a wrong return type, in words),
:func:`unchanged` with :func:`snapshot` (an input modified in place), :func:`call` (an error raised
by the student's function, reported in words instead of a traceback inside the check) and
:func:`called_fresh` (the student's function called on fresh arguments of other shapes and values,
compared with a reference computed on copies *before* the call, inputs checked unmodified after it).

The grader (``course_utils.grading``) sets :data:`GRADING`: :func:`run` then lets
``NotImplementedError`` propagate so that a stub is recorded as "not attempted".
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "CheckFailed",
    "run",
    "shape",
    "dtype",
    "close",
    "equal",
    "is_implemented",
    "returns",
    "snapshot",
    "unchanged",
    "call",
    "called_fresh",
    "GRADING",
]

GRADING = False  # set by the grader: run() re-raises NotImplementedError instead of printing it


class CheckFailed(AssertionError):
    """Raised by a check when the answer is wrong; the message is meant for the student."""


def _np(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def run(name: str, check: Callable[[], Any]) -> bool:
    """Run ``check()``; print the verdict. Returns True if it passed, False if not implemented."""
    try:
        check()
    except NotImplementedError as exc:
        if GRADING:
            raise
        print(f"[{name}] not yet implemented: {exc or 'fill in the cell above and run it again'}")
        return False
    except CheckFailed as exc:
        raise CheckFailed(f"[{name}] {exc}") from None
    print(f"[{name}] PASSED")
    return True


def is_implemented(fn: Callable[[], Any]) -> bool:
    """True if calling ``fn()`` does not raise ``NotImplementedError`` (other errors propagate)."""
    try:
        fn()
    except NotImplementedError:
        return False
    return True


def shape(got: Any, expected: tuple, what: str = "result") -> None:
    """Fail unless ``got`` has shape ``expected`` (``None`` entries match any size)."""
    if got is None or got is Ellipsis:
        raise CheckFailed(f"{what}: got {got!r}; did you forget to return a value?")
    s = tuple(getattr(got, "shape", np.shape(got)))
    ok = len(s) == len(expected) and all(e is None or e == g for e, g in zip(expected, s))
    if not ok:
        raise CheckFailed(f"{what}: wrong shape, expected {tuple(expected)}, got {s}")


def dtype(got: Any, kind: str, what: str = "result") -> None:
    """Fail unless ``got``'s dtype is of ``kind``: 'int', 'float' or 'bool'."""
    dt = _np(got).dtype
    ok = {
        "int": np.issubdtype(dt, np.integer),
        "float": np.issubdtype(dt, np.floating),
        "bool": dt == np.bool_,
    }.get(kind)
    if ok is None:
        raise ValueError(f"kind: expected 'int', 'float' or 'bool', got {kind!r}")
    if not ok:
        raise CheckFailed(f"{what}: wrong dtype, expected {kind}, got {dt}")


def close(got: Any, expected: Any, what: str = "result", *, atol: float = 1e-6, rtol: float = 1e-5) -> None:
    """Fail unless ``got`` matches ``expected`` in shape and values within ``atol + rtol*|expected|``."""
    if isinstance(got, (str, bytes, dict, set)):
        raise CheckFailed(f"{what}: expected numbers (an array or a number), got {_type_name(type(got))}")
    exp = _np(expected)
    shape(got, exp.shape, what)
    g = _np(got).astype(np.float64)
    e = exp.astype(np.float64)
    if not np.all(np.isfinite(g)):
        raise CheckFailed(f"{what}: contains {int((~np.isfinite(g)).sum())} NaN/inf values")
    err = np.abs(g - e)
    bad = err > atol + rtol * np.abs(e)
    if bad.any():
        i = np.unravel_index(int(np.argmax(err)), err.shape)
        raise CheckFailed(
            f"{what}: values differ in {int(bad.sum())} of {bad.size} entries; largest difference "
            f"{float(err[i]):.4g} at index {tuple(int(j) for j in i)} (expected {float(e[i]):.6g}, "
            f"got {float(g[i]):.6g}; tolerance atol={atol}, rtol={rtol})"
        )


def equal(got: Any, expected: Any, what: str = "result") -> None:
    """Fail unless ``got == expected`` exactly (scalars, tuples or arrays)."""
    if isinstance(expected, (np.ndarray,)) or hasattr(expected, "detach"):
        exp = _np(expected)
        shape(got, exp.shape, what)
        g = _np(got)
        if not np.array_equal(g, exp):
            raise CheckFailed(f"{what}: {int((g != exp).sum())} of {exp.size} entries differ from the expected values")
        return
    if got != expected:
        raise CheckFailed(f"{what}: expected {expected!r}, got {got!r}")


_TYPE_NAMES = {
    np.ndarray: "a NumPy array",
    int: "an int",
    float: "a float",
    bool: "a bool",
    str: "a string",
    tuple: "a tuple",
    list: "a list",
    dict: "a dict",
    type(None): "None",
    np.integer: "a NumPy integer",
    np.floating: "a NumPy float",
}


def _type_name(t: type) -> str:
    if t in _TYPE_NAMES:
        return _TYPE_NAMES[t]
    if t.__module__ == "torch" and t.__name__ == "Tensor":
        return "a torch tensor"
    mod = "" if t.__module__ == "builtins" else f"{t.__module__}."
    return f"a {mod}{t.__qualname__}"


def returns(got: Any, types: type | tuple[type, ...], what: str = "result") -> None:
    """Fail unless ``got`` is an instance of ``types``, saying in words what was returned instead.

    A ``bool`` is not accepted where an ``int`` is expected (unless ``bool`` is among ``types``).

    Args:
        got: the value the student's function returned.
        types: a type or a tuple of types, e.g. ``torch.Tensor`` or ``(int, float)``.
        what: how the message names the value.

    Raises:
        CheckFailed: ``got`` has another type (or is ``None``: a forgotten ``return``).
        TypeError: ``types`` is not a type or a tuple of types (a mistake in the check itself).
    """
    ts = types if isinstance(types, tuple) else (types,)
    if not ts or not all(isinstance(t, type) for t in ts):
        raise TypeError(f"types: expected a type or a tuple of types, got {types!r}")
    ok = isinstance(got, ts) and not (isinstance(got, bool) and bool not in ts and int in ts)
    if ok:
        return
    want = " or ".join(_type_name(t) for t in ts)
    if got is None and type(None) not in ts:
        raise CheckFailed(f"{what}: expected {want}, got None; did you forget to return a value?")
    raise CheckFailed(f"{what}: expected {want}, got {_type_name(type(got))}")


def snapshot(x: Any) -> Any:
    """An independent copy of ``x`` to compare with :func:`unchanged` later (tensors are cloned)."""
    if hasattr(x, "detach") and hasattr(x, "clone"):
        return x.detach().clone()
    return copy.deepcopy(x)


def unchanged(before: Any, after: Any, what: str = "the input") -> None:
    """Fail if ``after`` differs from ``before``, a copy taken (with :func:`snapshot`) before the call.

    Args:
        before: the copy made before calling the student's function (a list or tuple of arrays, such
            as a list of feature maps, is compared item by item; a dict of arrays key by key).
        after: the same argument after the call.
        what: how the message names the argument.

    Raises:
        CheckFailed: the argument was modified in place (array entries, shape or value changed, or
            items of a list of arrays replaced, added or removed).
    """
    advice = "work on a copy (x.clone() or x.copy()) or build a new result instead of modifying the argument"
    if isinstance(before, (list, tuple)) and any(_is_array(b) for b in before):  # e.g. a list of feature maps
        if not isinstance(after, (list, tuple)) or len(after) != len(before):
            n = len(after) if isinstance(after, (list, tuple)) else _type_name(type(after))
            raise CheckFailed(f"{what} was modified in place (it had {len(before)} items, now {n}); {advice}")
        for i, (b, a) in enumerate(zip(before, after)):
            if _is_array(b) and not _is_array(a):
                raise CheckFailed(f"item {i} of {what} was replaced by {_type_name(type(a))}; {advice}")
            unchanged(b, a, f"item {i} of {what}")
        return
    if _is_array(before):
        b, a = _np(before), _np(after)
        if b.shape != a.shape:
            raise CheckFailed(f"{what} was modified: its shape changed from {b.shape} to {a.shape}; {advice}")
        same = (b == a) | (np.isnan(b) & np.isnan(a)) if b.dtype.kind in "fc" else b == a
        if not np.all(same):
            n = int((~np.asarray(same)).sum())
            raise CheckFailed(f"{what} was modified in place ({n} of {b.size} entries changed); {advice}")
        return
    if isinstance(before, dict) and any(_is_array(b) for b in before.values()):  # e.g. name -> feature map
        if not isinstance(after, dict) or list(after) != list(before):
            keys = list(after) if isinstance(after, dict) else _type_name(type(after))
            raise CheckFailed(f"{what} was modified in place (its keys were {list(before)}, now {keys}); {advice}")
        for key in before:
            unchanged(before[key], after[key], f"{what}[{key!r}]")
        return
    if before != after:
        raise CheckFailed(f"{what} was modified in place (it was {before!r}, now {after!r}); {advice}")


def _is_array(x: Any) -> bool:
    return isinstance(x, np.ndarray) or hasattr(x, "detach")


def call(fn: Callable[..., Any], *args: Any, what: str = "your function") -> Any:
    """Call the student's ``fn(*args)`` and return its result; an error it raises is reported in words.

    Use it for every call of the student's function inside a check, so that a crash (an index out of
    range, a tuple multiplied by a tuple, a ``KeyError`` of a hard-coded table) reads as a failed check
    naming the arguments, not as a traceback into the check's own code.

    Args:
        fn: the student's function.
        *args: the arguments to call it with.
        what: how the message names the call, e.g. ``"rf_size([3, 3], [1, 1], [1, 1])"``.

    Returns:
        Whatever ``fn(*args)`` returned.

    Raises:
        CheckFailed: ``fn`` is not callable, or it raised an exception (the message names it and the
            arguments).
        NotImplementedError: ``fn`` is still the stub (so that :func:`run` reports "not yet implemented").
    """
    if not callable(fn):
        raise CheckFailed(f"{what}: expected a function, got {_type_name(type(fn))}")
    try:
        return fn(*args)
    except (NotImplementedError, CheckFailed):
        raise
    except Exception as exc:  # the student's error, reported in words
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise CheckFailed(f"{what}: your function raised {error} (called with {_describe(args)})") from None


def _describe(args: Sequence[Any]) -> str:
    parts = []
    for a in args:
        s = getattr(a, "shape", None)
        if s is None and isinstance(a, (list, tuple)) and a and all(_is_array(b) for b in a):
            parts.append(f"a {type(a).__name__} of shapes {', '.join(str(tuple(b.shape)) for b in a)}")
            continue
        parts.append(f"shape {tuple(s)}" if s is not None else repr(a) if len(repr(a)) <= 30 else type(a).__name__)
    return ", ".join(parts)


def called_fresh(
    fn: Callable[..., Any],
    make_args: Callable[[np.random.Generator], Any],
    reference: Callable[..., Any],
    what: str = "result",
    *,
    compare: Callable[..., None] | None = None,
    n: int = 3,
    seed: int = 0,
) -> None:
    """Call ``fn`` on fresh arguments and compare with ``reference``.

    Answers that read the lesson's globals, modify their inputs or only work for one shape fail.

    For each of ``n`` trials: ``args = make_args(rng)``; the expected value is ``reference(*copies)``,
    computed on copies *before* ``fn`` is called; then ``fn(*args)`` is compared with it and every
    argument is checked unmodified.

    Args:
        fn: the student's function.
        make_args: ``rng -> tuple of arguments`` (a single non-tuple value is one argument); vary the
            shapes and values with ``rng`` (a ``np.random.Generator`` seeded ``seed + trial``).
        reference: the correct function, same arguments.
        what: how the message names the result.
        compare: ``(got, expected, what) -> None`` raising :class:`CheckFailed`; default :func:`close`.
        n: number of trials (>= 1).
        seed: seed of the first trial.

    Raises:
        CheckFailed: a wrong result, a modified argument, or ``fn`` raised (the message says which
            arguments were used).
        NotImplementedError: ``fn`` is still the stub.
        TypeError, ValueError: invalid arguments of the check itself.
    """
    for name, f in (("fn", fn), ("make_args", make_args), ("reference", reference)):
        if not callable(f):
            raise TypeError(f"{name}: expected a callable, got {type(f).__name__}")
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n: expected an int >= 1, got {n!r}")
    compare = close if compare is None else compare
    for trial in range(n):
        args = make_args(np.random.default_rng(seed + trial))
        args = args if isinstance(args, tuple) else (args,)
        expected = reference(*[snapshot(a) for a in args])
        before = [snapshot(a) for a in args]
        where = f"called with fresh arguments ({_describe(args)})"
        try:
            got = fn(*args)
        except (NotImplementedError, CheckFailed):
            raise
        except Exception as exc:  # the student's error, reported in words
            raise CheckFailed(f"{what}: your function raised {type(exc).__name__}: {exc} when {where}") from None
        for i, (b, a) in enumerate(zip(before, args)):
            unchanged(b, a, f"argument {i + 1}")
        try:
            compare(got, expected, what)
        except CheckFailed as exc:
            raise CheckFailed(f"{exc} (when {where})") from None
        except Exception as exc:  # e.g. a string where an array was expected
            raise CheckFailed(
                f"{what}: {_type_name(type(got))} cannot be compared with the expected result "
                f"({type(exc).__name__}: {exc}) when {where}"
            ) from None
