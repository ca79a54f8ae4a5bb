"""Lesson 4's timing statements, checked on the values its nbval run glued (issue 14: budgets in tests)."""

from lesson_results import glued

STEM = "04_dense_prediction"


def test_the_dense_fcn_is_faster_than_the_sliding_window_as_the_text_says():
    g = glued(STEM)
    # the text: "the dense FCN was X× faster than the sliding window for Y× less work"
    assert g["time_ratio"] > 1, f"the dense FCN was not faster than the sliding window ({g['time_ratio']:.2f}x)"
    assert g["work_ratio"] > 1
    assert 0 < g["copy_share"] < 1
