"""Lesson 3's timing statements, checked on the values its nbval run glued (issue 14: budgets in tests)."""

from lesson_results import glued

STEM = "03_dense_features"


def test_the_dense_pass_beats_both_patch_versions_as_the_text_says():
    g = glued(STEM)
    # the text: "the dense pass was X× faster than the loop and Y× faster than the batch"
    assert g["speedup_loop"] > 1, f"the dense pass was not faster than the patch loop ({g['speedup_loop']:.2f}x)"
    assert g["speedup_batch"] > 1, f"the dense pass was not faster than the batch ({g['speedup_batch']:.2f}x)"
    assert g["n_dense"] > g["n_patches"]


def test_a_grid_cell_is_a_spacing_with_a_wider_effective_field():
    g = glued(STEM)
    assert g["rf_layer4"] == 435, "layer4's theoretical receptive field, as lesson 4 derives it"
    # measured 68 px with random weights on a 224 px input: well inside the 435 px field, wider than a 32 px cell
    assert 16 < g["erf_rms_px"] < 435 / 4, f"rms radius of the effective receptive field: {g['erf_rms_px']:.0f} px"
