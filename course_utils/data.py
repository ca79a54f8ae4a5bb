"""Procedurally generated datasets that can be trained on anywhere (deterministic by seed).

Two sections, each owned by one lesson:
* semantic segmentation (lesson 5): shapes on cluttered, textured backgrounds;
* instance segmentation (lesson 7): scattered sticks and touching same-colour blobs.
"""
from __future__ import annotations

# ---------------------------------------------------------------------------------------------
# Semantic segmentation (lesson 5)
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Instance segmentation (lesson 7)
# ---------------------------------------------------------------------------------------------
