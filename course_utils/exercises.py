"""Exercise checks that explain, in words, what is wrong with an answer.

Usage in a lesson (a cell tagged ``check``)::

    checks.run("Exercise 1.1", lambda: checks.close(my_centres, ref_centres, "centres", atol=1e-4))

* a correct answer prints ``PASSED``;
* an answer whose code still raises ``NotImplementedError`` (the student stub) prints
  ``not yet implemented`` and the notebook goes on;
* a wrong answer raises :class:`CheckFailed` (an ``AssertionError``) whose message says what was
  expected and what was given (shape, dtype, values off by how much).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

__all__ = ["CheckFailed", "run", "shape", "dtype", "close", "equal", "is_implemented"]


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
        "bool": dt == bool,
    }.get(kind)
    if ok is None:
        raise ValueError(f"kind: expected 'int', 'float' or 'bool', got {kind!r}")
    if not ok:
        raise CheckFailed(f"{what}: wrong dtype, expected {kind}, got {dt}")


def close(got: Any, expected: Any, what: str = "result", *, atol: float = 1e-6, rtol: float = 1e-5) -> None:
    """Fail unless ``got`` matches ``expected`` in shape and values within ``atol + rtol*|expected|``."""
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
