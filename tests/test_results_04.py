"""Lesson 4's glued results: its timing statements and the transposed-convolution checks (issues 14, 16)."""

from lesson_results import glued

STEM = "04_dense_prediction"


def test_the_dense_fcn_is_faster_than_the_sliding_window_as_the_text_says():
    g = glued(STEM)
    # the text: "the dense FCN was X× faster than the sliding window for Y× less work"
    assert g["time_ratio"] > 1, f"the dense FCN was not faster than the sliding window ({g['time_ratio']:.2f}x)"
    assert g["work_ratio"] > 1
    assert 0 < g["copy_share"] < 1


def test_transposed_convolution_from_first_principles():
    g = glued(STEM)
    # float32 rounding of sums of a few products: measured 2.4e-07 (stamping) and 2.4e-07 (matrix view)
    assert g["stamp_err"] < 1e-6, "the stamping loop differs from F.conv_transpose2d"
    assert g["conv_matrix_err"] < 1e-5, "C x, C^T dy and autograd's input gradient disagree"
    assert (g["c_zeros"], g["c_entries"]) == (28, 64), "a 3x3 kernel on a 4x4 input: 4 rows of 16, 9 weights each"


def test_the_fcn_head_segments_the_shapes():
    g = glued(STEM)
    # measured 0.387 (250 steps, seed 0, offline); everything-background 0.138
    assert g["miou_fcn_head"] >= 0.3, f"the trained FCN head scores held-out mIoU {g['miou_fcn_head']:.3f}"
    assert g["miou_fcn_head"] > g["miou_all_background"] + 0.1
