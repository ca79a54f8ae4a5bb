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
from sklearn.metrics import adjusted_rand_score

from course_utils import clustering, exercises

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
        "adjusted_rand_score": adjusted_rand_score,
        "clustering": clustering,
        "layout": np.zeros((256, 256), np.int64),  # the lesson's mosaic layout: an answer must not read it
        "MOSAIC_SIZE": 256,
    }
    for name in ("conv_out", "resnet18_grid", "patches_of", "cluster_map", "upsample_labels"):
        exec(function_source(SOURCE, name), ns)
    return ns


def _verdict(ex_id: str, answer: str | None) -> str:
    return run_in(_namespace(), graded_cells(SOURCE, ex_id, answer))


WRONG = {
    "3.1": (
        "def interior_ari(labels, layout, margin):\n",
        {
            "crops only the top and left": """
            return float(adjusted_rand_score(layout[margin:, margin:].ravel(), labels[margin:, margin:].ravel()))""",
            "crops the rows only": """
            return float(adjusted_rand_score(layout[margin:-margin or None].ravel(), labels[margin:-margin or None].ravel()))""",
            "one pixel too many (margin + 1)": """
            m = margin + 1
            return float(adjusted_rand_score(layout[m:-m].T[m:-m].ravel(), labels[m:-m].T[m:-m].ravel()))""",
            "negative slice breaks margin 0": """
            return float(adjusted_rand_score(layout[margin:-margin, margin:-margin].ravel(),
                                             labels[margin:-margin, margin:-margin].ravel()))""",
            "pixel accuracy instead of the ARI": """
            inner = (slice(margin, labels.shape[0] - margin), slice(margin, labels.shape[1] - margin))
            return float((labels[inner] == layout[inner]).mean())""",
            "scores the whole image": "return float(adjusted_rand_score(layout.ravel(), labels.ravel()))",
            "marks the border in place": """
            labels[:margin], layout[:margin] = -1, -1
            return float(adjusted_rand_score(layout[margin:].ravel(), labels[margin:].ravel()))""",
            "reads the lesson's layout": """
            inner = (slice(margin, labels.shape[0] - margin), slice(margin, labels.shape[1] - margin))
            return float(adjusted_rand_score(globals()["layout"][inner].ravel(), labels[inner].ravel()))""",
            "returns the pair of cropped maps": """
            inner = (slice(margin, labels.shape[0] - margin), slice(margin, labels.shape[1] - margin))
            return labels[inner], layout[inner]""",
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
        "def best_layer(fmaps, layout, k):\n",
        {
            "the worst layer (min)": """
            s = {n: adjusted_rand_score(layout.ravel(), upsample_labels(cluster_map(f, k), layout.shape).ravel())
                 for n, f in fmaps.items()}
            n = min(s, key=s.get)
            return n, float(s[n])""",
            "returns the name only": """
            s = {n: adjusted_rand_score(layout.ravel(), upsample_labels(cluster_map(f, k), layout.shape).ravel())
                 for n, f in fmaps.items()}
            return max(s, key=s.get)""",
            "the last layer, not the best": """
            n = list(fmaps)[-1]
            return n, float(adjusted_rand_score(layout.ravel(), upsample_labels(cluster_map(fmaps[n], k), layout.shape).ravel()))""",
            "the finest grid, unscored": """
            n = max(fmaps, key=lambda n: fmaps[n].shape[-1] * fmaps[n].shape[-2])
            return n, 1.0""",
            "scores at grid size (no upsampling)": """
            s = {n: adjusted_rand_score(layout[::4, ::4].ravel(), cluster_map(f, k).ravel()) for n, f in fmaps.items()}
            n = max(s, key=s.get)
            return n, float(s[n])""",
            "reads the lesson's layout": """
            lay = globals()["layout"]
            s = {n: adjusted_rand_score(lay.ravel(), upsample_labels(cluster_map(f, k), lay.shape).ravel())
                 for n, f in fmaps.items()}
            n = max(s, key=s.get)
            return n, float(s[n])""",
            "returns a list, not a pair": """
            s = {n: adjusted_rand_score(layout.ravel(), upsample_labels(cluster_map(f, k), layout.shape).ravel())
                 for n, f in fmaps.items()}
            n = max(s, key=s.get)
            return [n, float(s[n])]""",
        },
    ),
    "3.4": (
        "def pixels_ratio(side, patch, stride, net_side=224):\n",
        {
            "forgets the resize to net_side": "return ((side - patch) // stride + 1) ** 2 * patch**2 / side**2",
            "the crop count only": "return ((side - patch) // stride + 1) ** 2",
            "the inverse ratio": "return side**2 / (((side - patch) // stride + 1) ** 2 * net_side**2)",
            "ignores the stride": "return (side // patch) ** 2 * net_side**2 / side**2",
            "one crop too few per axis": "return ((side - patch) // stride) ** 2 * net_side**2 / side**2",
            "hard-codes 224": "return ((side - patch) // stride + 1) ** 2 * 224**2 / side**2",
            "integer division truncates": "return ((side - patch) // stride + 1) ** 2 * net_side**2 // side**2",
            "counts crops in one direction only": "return ((side - patch) // stride + 1) * net_side**2 / side**2",
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


def test_unchanged_compares_a_dict_of_maps_key_by_key():
    """3.3 passes a dict of feature maps: ``unchanged`` checks every map and the keys."""
    fmaps = {"a": torch.zeros(1, 2, 3, 3), "b": torch.ones(1, 1, 2, 2)}
    before = exercises.snapshot(fmaps)
    exercises.unchanged(before, fmaps, "fmaps")
    fmaps["b"].mul_(3)
    with pytest.raises(exercises.CheckFailed, match=r"^fmaps\['b'\] was modified in place \(4 of 4 entries"):
        exercises.unchanged(before, fmaps, "fmaps")
    del fmaps["a"]
    with pytest.raises(exercises.CheckFailed, match=r"its keys were \['a', 'b'\], now \['b'\]"):
        exercises.unchanged(before, fmaps, "fmaps")
