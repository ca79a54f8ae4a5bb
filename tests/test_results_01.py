"""Lesson 1's targets and budget, read from the values its nbval run glued (issue 16)."""

from __future__ import annotations

import pytest

lesson_results = pytest.importorskip("lesson_results", reason="tests/lesson_results.py (results of the nbval run)")

STEM = "01_pixels_as_points"


def test_the_knee_picks_a_lambda_that_follows_the_picture():
    g = lesson_results.glued(STEM)
    # the old "at most 5 pieces per cluster" rule picks position-only tiles; the knee must not
    assert 0 < float(g["lambda_chosen"]) < float(g["lambda_old_rule"])
    assert float(g["chosen_colour_ratio"]) < 2.5 <= float(g["old_rule_colour_ratio"])
    assert float(g["chosen_gain"]) > float(g["chosen_cost"])


def test_kmeans_is_taught_with_measured_numbers():
    g = lesson_results.glued(STEM)
    assert float(g["km_J_end"]) < 0.5 * float(g["km_J_start"])
    assert float(g["km_worst_over_best"]) > 0.01  # several starts matter: local minima were found
    assert int(g["k_silhouette"]) in range(2, 11)


def test_fast_mode_budget():
    assert lesson_results.lesson_seconds(STEM, "fast") <= 60
