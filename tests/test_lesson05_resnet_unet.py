"""Lesson 5's ResNet18-encoder U-Net, the cell its offline fast run skips, with stand-in ImageNet weights.

The fast run without ImageNet weights does not train this network (it would compare two architectures,
not pretraining); with weights it does. Here the lesson's own class, taken from the notebook, is built on
a ResNet18 that ``pretrained.load`` reads from a weights file in ``COURSE_WEIGHTS_DIR`` (the online path
with a local stand-in), and a few training steps must run and change the encoder, as the lesson's
``fit`` would.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
import torchvision
from exercise_harness import load, setup_cells
from torch import nn

from course_utils import pretrained

MARKERS = ["class DoubleConv", "class Down(", "def matched_mid", "class ResNetUNet"]


def _lesson_classes() -> dict:
    ns: dict = {"torch": torch, "nn": nn, "F": F}
    for src in setup_cells(load("05_unet"), MARKERS):
        exec(src, ns)
    return ns


def test_resnet_unet_trains_on_weights_from_the_weights_folder(monkeypatch, tmp_path):
    torch.manual_seed(123)
    torch.save(torchvision.models.resnet18().state_dict(), tmp_path / pretrained.weights_filename("resnet18"))
    monkeypatch.setenv(pretrained.ENV_WEIGHTS_DIR, str(tmp_path))
    resnet = pretrained.load("resnet18", verbose=False)
    assert resnet.pretrained, "the stand-in weights file was not used"
    stem_before = resnet.conv1.weight.detach().clone()

    ns = _lesson_classes()
    torch.manual_seed(0)
    model = ns["ResNetUNet"](4, resnet)
    x, y = torch.rand(4, 3, 32, 32), torch.randint(0, 4, (4, 32, 32))
    assert model(x).shape == (4, 4, 32, 32), "(N, 3, H, W) -> (N, K, H, W) at full resolution"

    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)  # as the lesson's fit
    losses = []
    for _ in range(5):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0], f"five steps on one batch should lower the loss, got {losses}"
    assert not torch.equal(model.stem[0].weight, stem_before), "the encoder is fine-tuned, not frozen"
