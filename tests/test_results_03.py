"""Lesson 3's timing statements, checked on the values its nbval run glued (issue 14: budgets in tests)."""

from lesson_results import glued

STEM = "03_dense_features"


def test_the_dense_pass_beats_both_patch_versions_as_the_text_says():
    g = glued(STEM)
    # the text: "the dense pass was X× faster than the loop and Y× faster than the batch"
    assert g["speedup_loop"] > 1, f"the dense pass was not faster than the patch loop ({g['speedup_loop']:.2f}x)"
    assert g["speedup_batch"] > 1, f"the dense pass was not faster than the batch ({g['speedup_batch']:.2f}x)"
    assert g["n_dense"] > g["n_patches"]
