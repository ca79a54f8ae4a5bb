"""Lesson 1's exercise checks reject the usual wrong answers and accept the right one (issue 18).

Each wrong answer below is a complete solution cell a student might write; it must make a public or hidden
check raise ``CheckFailed`` (a message in words, never a raw error). The lesson's own solution must pass
every check, and the untouched student stub must only report "not yet implemented".
"""

from __future__ import annotations

import textwrap

import pytest
from exercise_harness import load, run, setup_cells, submission

from course_utils.exercises import CheckFailed

STEM = "01_pixels_as_points"
SOURCE = load(STEM)
SETUP = setup_cells(SOURCE, ["FLAGS = runtime.flags()", "N_INIT = 2 if FLAGS.fast"])


def _solution(ex_id: str) -> str:
    cell = next(
        c
        for c in SOURCE["cells"]
        if "solution" in c["metadata"].get("tags", []) and c["metadata"].get("exercise", {}).get("id") == ex_id
    )
    return "".join(cell["source"])


KMEANS_HEAD = "def kmeans_torch(X, centres, n_iter=10):\n"
KMEANS_WRONG = {
    "modifies the centres in place": """
        C = centres
        for _ in range(n_iter):
            nearest = torch.cdist(X, C).argmin(dim=1)
            for j in range(C.shape[0]):
                if (nearest == j).any():
                    C[j] = X[nearest == j].mean(0)
        return C
    """,
    "reads the lesson's X_ex instead of X": """
        C = centres.clone()
        for _ in range(n_iter):
            nearest = torch.cdist(X_ex.to(C.dtype), C).argmin(dim=1)
            for j in range(C.shape[0]):
                if (nearest == j).any():
                    C[j] = X_ex.to(C.dtype)[nearest == j].mean(0)
        return C
    """,
    "sums instead of averaging": """
        C = centres.clone()
        for _ in range(n_iter):
            nearest = torch.cdist(X, C).argmin(dim=1)
            C = torch.zeros_like(C).index_add_(0, nearest, X)
        return C
    """,
    "divides by zero for an empty cluster": """
        C = centres.clone()
        k = C.shape[0]
        for _ in range(n_iter):
            nearest = torch.cdist(X, C).argmin(dim=1)
            counts = torch.bincount(nearest, minlength=k).to(X.dtype)[:, None]
            C = torch.zeros_like(C).index_add_(0, nearest, X) / counts
        return C
    """,
    "moves an empty cluster's centre to zero": """
        C = centres.clone()
        k = C.shape[0]
        for _ in range(n_iter):
            nearest = torch.cdist(X, C).argmin(dim=1)
            counts = torch.bincount(nearest, minlength=k).to(X.dtype)[:, None]
            C = torch.zeros_like(C).index_add_(0, nearest, X) / counts.clamp(min=1)
        return C
    """,
    "runs one iteration too few": """
        C = centres.clone()
        for _ in range(n_iter - 1):
            nearest = torch.cdist(X, C).argmin(dim=1)
            for j in range(C.shape[0]):
                if (nearest == j).any():
                    C[j] = X[nearest == j].mean(0)
        return C
    """,
    "uses the L1 distance": """
        C = centres.clone()
        for _ in range(n_iter):
            nearest = torch.cdist(X, C, p=1).argmin(dim=1)
            for j in range(C.shape[0]):
                if (nearest == j).any():
                    C[j] = X[nearest == j].mean(0)
        return C
    """,
    "returns a NumPy array": """
        C = centres.clone()
        for _ in range(n_iter):
            nearest = torch.cdist(X, C).argmin(dim=1)
            for j in range(C.shape[0]):
                if (nearest == j).any():
                    C[j] = X[nearest == j].mean(0)
        return C.numpy()
    """,
    "returns the labels": """
        C = centres.clone()
        for _ in range(n_iter):
            nearest = torch.cdist(X, C).argmin(dim=1)
            for j in range(C.shape[0]):
                if (nearest == j).any():
                    C[j] = X[nearest == j].mean(0)
        return nearest
    """,
    "returns float64 for float32 input": """
        C = centres.clone().double()
        Xd = X.double()
        for _ in range(n_iter):
            nearest = torch.cdist(Xd, C).argmin(dim=1)
            for j in range(C.shape[0]):
                if (nearest == j).any():
                    C[j] = Xd[nearest == j].mean(0)
        return C
    """,
}

BUDGET_HEAD = "def budget_lambda(lambdas, spread, colour_err, budget=1.5):\n"
BUDGET_CHECK = """
        if budget < 1:
            raise ValueError(f"budget: expected >= 1, got {budget}")
"""
BUDGET_WRONG = {
    "assumes the sweep is sorted": BUDGET_CHECK
    + """
        lams, sp, err = (np.asarray(a, dtype=float) for a in (lambdas, spread, colour_err))
        ok = err <= budget * err[0]
        return float(min((s, l) for l, s, o in zip(lams, sp, ok) if o)[1])
    """,
    "minimises the colour error": BUDGET_CHECK
    + """
        return float(np.asarray(lambdas, dtype=float)[np.argmin(colour_err)])
    """,
    "returns the smallest accepted λ": BUDGET_CHECK
    + """
        lams, err = np.asarray(lambdas, dtype=float), np.asarray(colour_err, dtype=float)
        ref = err[np.argmin(lams)]
        return float(min(l for l, e in zip(lams, err) if e <= budget * ref))
    """,
    "rejects a colour error exactly at the budget": BUDGET_CHECK
    + """
        lams, sp, err = (np.asarray(a, dtype=float) for a in (lambdas, spread, colour_err))
        ref = err[np.argmin(lams)]
        return float(min((s, l) for l, s, e in zip(lams, sp, err) if e < budget * ref or e == ref)[1])
    """,
    "accepts a budget below 1": """
        lams, sp, err = (np.asarray(a, dtype=float) for a in (lambdas, spread, colour_err))
        ref = err[np.argmin(lams)]
        accepted = [(s, l) for l, s, e in zip(lams, sp, err) if e <= max(budget, 1) * ref]
        return float(min(accepted)[1])
    """,
    "returns the index": BUDGET_CHECK
    + """
        lams, sp, err = (np.asarray(a, dtype=float) for a in (lambdas, spread, colour_err))
        ref = err[np.argmin(lams)]
        accepted = [(s, l, i) for i, (l, s, e) in enumerate(zip(lams, sp, err)) if e <= budget * ref]
        return min(accepted)[2]
    """,
    "normalises the spread in place": BUDGET_CHECK
    + """
        sp = np.asarray(spread, dtype=float)
        sp /= sp.max()
        lams, err = np.asarray(lambdas, dtype=float), np.asarray(colour_err, dtype=float)
        ref = err[np.argmin(lams)]
        return float(min((s, l) for l, s, e in zip(lams, sp, err) if e <= budget * ref)[1])
    """,
    "breaks ties by input order": BUDGET_CHECK
    + """
        lams, sp, err = (np.asarray(a, dtype=float) for a in (lambdas, spread, colour_err))
        ref = err[np.argmin(lams)]
        accepted = [(s, l) for l, s, e in zip(lams, sp, err) if e <= budget * ref]
        return float(min(accepted, key=lambda t: t[0])[1])
    """,
    "reads the lesson's sweep": BUDGET_CHECK
    + """
        err, sp = sweep["colour_error"], sweep["spread"]
        ok = err <= budget * err[0]
        return float(LAMBDAS[int(np.argmin(np.where(ok, sp, np.inf)))])
    """,
    "returns a list": BUDGET_CHECK
    + """
        lams, sp, err = (np.asarray(a, dtype=float) for a in (lambdas, spread, colour_err))
        ref = err[np.argmin(lams)]
        return [l for l, e in zip(lams, err) if e <= budget * ref]
    """,
}

CASES = [("1.1", KMEANS_HEAD, name, body) for name, body in KMEANS_WRONG.items()] + [
    ("1.2", BUDGET_HEAD, name, body) for name, body in BUDGET_WRONG.items()
]


@pytest.mark.parametrize("ex_id", ["1.1", "1.2"])
def test_the_lesson_solution_passes_every_check(ex_id):
    out = run(SETUP, submission(SOURCE, ex_id, _solution(ex_id)))
    assert out.count("PASSED") == 2, out


@pytest.mark.parametrize("ex_id", ["1.1", "1.2"])
def test_the_student_stub_is_reported_as_not_implemented(ex_id):
    out = run(SETUP, submission(SOURCE, ex_id, None))
    assert out.count("not yet implemented") == 2 and "PASSED" not in out, out


@pytest.mark.parametrize("ex_id, head, name, body", CASES, ids=[f"{c[0]}: {c[2]}" for c in CASES])
def test_a_wrong_answer_fails_with_a_message_in_words(ex_id, head, name, body):
    answer = head + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n"
    with pytest.raises(CheckFailed, match=rf"\[Exercise {ex_id}( \(hidden\))?\] \w+"):
        run(SETUP, submission(SOURCE, ex_id, answer))
