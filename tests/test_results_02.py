"""Lesson 2's targets and budget, read from the values its nbval run glued (issue 16)."""

from __future__ import annotations

import pytest

lesson_results = pytest.importorskip("lesson_results", reason="tests/lesson_results.py (results of the nbval run)")

STEM = "02_feature_maps"


def test_the_convolution_equation_matches_nn_conv2d():
    g = lesson_results.glued(STEM)
    assert float(g["conv_sum_err"]) < 1e-5
    assert int(g["n_conv_settings"]) > 250


def test_feature_map_statistics_are_recorded():
    g = lesson_results.glued(STEM)
    for key in ("maps_pair_l1", "maps_bright_l1", "maps_edge_l1", "maps_pair_l4"):
        assert -1.0 <= float(g[key]) <= 1.0, key


def test_fast_mode_budget():
    assert lesson_results.lesson_seconds(STEM, "fast") <= 60
