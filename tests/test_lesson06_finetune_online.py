"""Lesson 6's fine-tuning section on its online path, with local stand-ins (issue 17).

The offline test run fine-tunes the course's shapes checkpoint; with torchvision's real weights and
the Pet photos the same cells fine-tune ``deeplabv3_mobilenet_v3_large`` on Oxford-IIIT Pet and score
the pretrained model on the Pet masks (cat or dog = pet). Here that path runs on stand-ins: a weights
file in ``COURSE_WEIGHTS_DIR`` (random values under torchvision's file name) and a tiny folder in
Pet's layout, with the lesson's own cells and the step counts cut to a few.
"""

from __future__ import annotations

import copy
import os
from types import SimpleNamespace

import torch
import torch.nn as nn
from exercise_harness import load, setup_cells
from IPython.display import Markdown
from test_data_pet import write_tiny_pet
from torchvision.models.segmentation import deeplabv3_mobilenet_v3_large

from course_utils import data, finetune, pretrained
from course_utils.metrics import confusion_matrix, iou_per_class, mean_iou

MODEL_NAME = "deeplabv3_mobilenet_v3_large"
MARKERS = [
    "FT = dict(",
    "FT_ON_PETS = False",
    "ft_model = copy.deepcopy(start)",
    "recipe = dict(",
    "def colour_bins(x):",
    "# Results for the text below",
    "if FT_ON_PETS:  # the pretrained VOC",
]


def _namespace(model, glued: dict) -> dict:
    return {
        "torch": torch,
        "nn": nn,
        "copy": copy,
        "os": os,
        "data": data,
        "finetune": finetune,
        "Markdown": Markdown,
        "confusion_matrix": confusion_matrix,
        "iou_per_class": iou_per_class,
        "mean_iou": mean_iou,
        "glue": lambda name, value, display=True: glued.__setitem__(name, value),
        "model": model,
        "weights": model.weights,
        "MODEL_NAME": MODEL_NAME,
        "NUM_CLASSES": 21,
        "FLAGS": SimpleNamespace(fast=True, offline=False),
        "DEVICE": torch.device("cpu"),
    }


def test_the_online_path_fine_tunes_the_pretrained_model_on_pets_and_scores_it(monkeypatch, tmp_path):
    torch.manual_seed(0)
    weights_dir = tmp_path / "weights"
    weights_dir.mkdir()
    stand_in = deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=21, aux_loss=True)
    torch.save(stand_in.state_dict(), weights_dir / pretrained.weights_filename(MODEL_NAME))
    monkeypatch.setenv(pretrained.ENV_WEIGHTS_DIR, str(weights_dir))
    monkeypatch.setenv("COURSE_OFFLINE", "0")
    monkeypatch.setenv("COURSE_DATA_DIR", str(write_tiny_pet(tmp_path / "pets", n_trainval=6, n_test=4)))
    model = pretrained.load(MODEL_NAME, verbose=False)
    assert model.pretrained, "the stand-in weights file was not used"
    glued: dict = {}
    ns = _namespace(model, glued)
    cells = setup_cells(load("06_deeplabv3"), MARKERS)
    exec(cells[0], ns)
    ns["FT"].update(pet_side=64, pet_steps=2, batch=2)  # a few steps on tiny photos: the path, not the score
    for src in cells[1:]:
        exec(src, ns)
    assert ns["FT_ON_PETS"] and ns["FT_CLASSES"] == data.PET_CLASSES
    assert ns["X_ft"].shape == (6, 3, 64, 64) and ns["X_ft_test"].shape == (4, 3, 64, 64)
    assert ns["ft_model"].classifier[4].out_channels == ns["ft_model"].aux_classifier[4].out_channels == 2
    assert not torch.equal(ns["ft_model"].backbone["0"][0].weight, model.backbone["0"][0].weight), (
        "fine-tuned, not frozen"
    )
    assert len(ns["hist_ft"].losses) == 2
    assert glued["ft_on_pets"] is True and 0 <= glued["miou_pretrained_pet"] <= 1
    assert set(glued) >= {"miou_deeplab_finetuned", "miou_deeplab_scratch", "miou_ft_colour", "ft_verdict"}
    assert model.classifier[4].out_channels == 21, "the lesson's pretrained model itself is left untouched"


def test_without_real_weights_the_section_fine_tunes_the_course_checkpoint(monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    model = pretrained.load(MODEL_NAME, verbose=False)
    assert not model.pretrained
    glued: dict = {}
    ns = _namespace(model, glued)
    cells = setup_cells(load("06_deeplabv3"), MARKERS[:3])
    exec(cells[0], ns)
    ns["FT"].update(n_train=4, n_test=2)
    for src in cells[1:]:
        exec(src, ns)
    assert not ns["FT_ON_PETS"] and ns["FT_CLASSES"] == ("background", "round", "cornered")
    assert set(ns["Y_ft"].unique().tolist()) <= {0, 1, 2}
    assert ns["ft_model"].classifier[4].out_channels == 3 and ns["start"].classifier[4].out_channels == 6
