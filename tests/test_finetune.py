"""course_utils.finetune: the small DeepLabV3, swapping its heads, the training recipe and the shipped weights."""

from __future__ import annotations

import shutil

import pytest
import torch
import torch.nn as nn

from course_utils import data, finetune, metrics


@pytest.fixture(scope="module")
def course_model():
    return finetune.load_course_weights()


def test_small_deeplabv3_gives_logits_of_the_input_size_from_a_grid_at_stride_8():
    model = finetune.small_deeplabv3(5).eval()
    x = torch.rand(2, 3, 64, 48)
    with torch.no_grad():
        out = model(x)
        feats = model.backbone(x)
    assert out["out"].shape == out["aux"].shape == (2, 5, 64, 48)
    assert feats["out"].shape[-2:] == feats["aux"].shape[-2:] == (8, 6)


def test_the_heads_have_torchvisions_layout():
    from torchvision.models.segmentation.deeplabv3 import ASPP, DeepLabV3

    model = finetune.small_deeplabv3(4, rates=(1, 2))
    assert isinstance(model, DeepLabV3) and isinstance(model.classifier[0], ASPP)
    assert model.classifier[4].out_channels == model.aux_classifier[4].out_channels == 4


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"num_classes": 1}, "num_classes"),
        ({"num_classes": 3, "rates": ()}, "rates"),
        ({"num_classes": 3, "width": 2}, "width"),
    ],
)
def test_small_deeplabv3_rejects_bad_sizes(kwargs, word):
    with pytest.raises(ValueError, match=word):
        finetune.small_deeplabv3(**kwargs)


def test_replace_heads_changes_only_the_two_class_layers():
    model = finetune.small_deeplabv3(6)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    finetune.replace_heads(model, 3)
    after = model.state_dict()
    changed = {
        k for k in before if k not in after or before[k].shape != after[k].shape or not torch.equal(before[k], after[k])
    }
    assert changed == {"classifier.4.weight", "classifier.4.bias", "aux_classifier.4.weight", "aux_classifier.4.bias"}
    assert model.classifier[4].out_channels == model.aux_classifier[4].out_channels == 3
    with torch.no_grad():
        assert model.eval()(torch.rand(1, 3, 32, 32))["out"].shape == (1, 3, 32, 32)


def test_replace_heads_works_on_torchvisions_deeplabv3():
    from torchvision.models.segmentation import deeplabv3_mobilenet_v3_large

    model = deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=21, aux_loss=True)
    finetune.replace_heads(model, 2)
    assert model.classifier[4].out_channels == model.aux_classifier[4].out_channels == 2


def test_replace_heads_rejects_a_model_without_the_layout():
    with pytest.raises(TypeError, match="model"):
        finetune.replace_heads(nn.Conv2d(3, 3, 1), 2)
    bad = finetune.small_deeplabv3(3)
    bad.classifier = nn.Sequential(nn.Conv2d(8, 3, 1))
    with pytest.raises(TypeError, match=r"model.classifier.*item 4"):
        finetune.replace_heads(bad, 2)


def test_poly_lr_falls_from_one_to_zero():
    values = [finetune.poly_lr(s, 10) for s in range(11)]
    assert values[0] == 1.0 and values[-1] == 0.0
    assert all(a > b for a, b in zip(values, values[1:]))
    assert finetune.poly_lr(5, 10) == pytest.approx(0.5**0.9)


def test_flip_and_rescale_keeps_the_size_and_pads_with_the_ignore_label():
    x = torch.rand(4, 3, 32, 32)
    y = torch.randint(0, 3, (4, 32, 32))
    for seed in range(20):
        xb, yb = finetune.flip_and_rescale(x, y, torch.Generator().manual_seed(seed), scale=(0.5, 0.6))
        assert xb.shape == x.shape and yb.shape == y.shape
        assert (yb == 255).any() and set(yb.unique().tolist()) <= {0, 1, 2, 255}
    a = finetune.flip_and_rescale(x, y, torch.Generator().manual_seed(3))
    b = finetune.flip_and_rescale(x, y, torch.Generator().manual_seed(3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def _bright_squares(n=16, size=32):
    gen = torch.Generator().manual_seed(0)
    x = 0.2 * torch.rand(n, 3, size, size, generator=gen)
    y = torch.zeros(n, size, size, dtype=torch.int64)
    for i in range(n):
        r, c = torch.randint(0, size - 12, (2,), generator=gen).tolist()
        x[i, :, r : r + 12, c : c + 12] += 0.7
        y[i, r : r + 12, c : c + 12] = 1
    return x, y


def test_train_segmenter_learns_an_easy_task_and_follows_the_poly_schedule():
    torch.manual_seed(0)
    x, y = _bright_squares()
    model = finetune.small_deeplabv3(2, width=8, head_channels=16)
    hist = finetune.train_segmenter(model, x, y, steps=60, batch_size=8, lr=0.02, progress=False)
    assert len(hist.losses) == len(hist.lrs) == 60 and hist.seconds > 0
    assert hist.lrs[0] == pytest.approx(0.02) and hist.lrs[-1] < 0.02 * 0.1
    assert sum(hist.losses[-10:]) / 10 < 0.5 * sum(hist.losses[:5]) / 5
    cm = metrics.confusion_matrix(finetune.predict(model, x), y, 2)
    assert metrics.mean_iou(cm) > 0.6
    assert not model.training


@pytest.mark.parametrize(
    "change, word",
    [
        (lambda x, y: (x.permute(0, 2, 3, 1), y), "images"),
        (lambda x, y: ((x * 255).to(torch.uint8), y), "images"),
        (lambda x, y: (x, y.int()), "masks"),
        (lambda x, y: (x, y[:, :16]), "masks"),
        (lambda x, y: (x, y + 5), r"masks: expected class labels in \[0, 2\)"),
    ],
)
def test_train_segmenter_rejects_bad_inputs_with_the_argument_named(change, word):
    x, y = _bright_squares(4)
    x, y = change(x, y)
    with pytest.raises(ValueError, match=word):
        finetune.train_segmenter(finetune.small_deeplabv3(2, width=4), x, y, steps=1, progress=False)


def test_train_segmenter_rejects_an_unknown_optimizer():
    x, y = _bright_squares(4)
    with pytest.raises(ValueError, match="optimizer"):
        finetune.train_segmenter(finetune.small_deeplabv3(2, width=4), x, y, steps=1, optimizer="adam", progress=False)


def test_predict_gives_int64_labels_and_rejects_hwc():
    model = finetune.small_deeplabv3(3, width=4)
    pred = finetune.predict(model, torch.rand(5, 3, 32, 32), batch_size=2)
    assert pred.shape == (5, 32, 32) and pred.dtype == torch.int64
    with pytest.raises(ValueError, match="images"):
        finetune.predict(model, torch.rand(5, 32, 32, 3))


def test_the_shipped_weights_do_what_their_metadata_says(course_model):
    model, meta = course_model
    assert meta["classes"] == list(data.SHAPE_CLASSES)
    source = {k: tuple(v) if isinstance(v, list) else v for k, v in meta["source"].items()}
    x, y = data.ShapesDataset(
        64,
        source["size"],
        "val",
        0,
        max_shapes=source["max_shapes"],
        n_clutter=source["n_clutter"],
        radius=source["radius"],
    ).tensors()
    mean, std = torch.tensor(meta["mean"])[:, None, None], torch.tensor(meta["std"])[:, None, None]
    cm = metrics.confusion_matrix(finetune.predict(model, (x - mean) / std), y, len(meta["classes"]))
    assert metrics.mean_iou(cm) == pytest.approx(meta["val_miou"], abs=0.06)
    assert meta["val_miou"] > 0.6


def test_load_course_weights_checks_the_hash_and_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="path"):
        finetune.load_course_weights(tmp_path / "nothing-12345678.pth")
    copy = tmp_path / finetune.COURSE_WEIGHTS.name
    shutil.copy(finetune.COURSE_WEIGHTS, copy)
    with copy.open("ab") as f:
        f.write(b"x")
    with pytest.raises(ValueError, match="sha256"):
        finetune.load_course_weights(copy)


@pytest.mark.parametrize(
    "args, word", [((0, 0), "steps"), ((-1, 10), "step"), ((1, 10, -0.5), "power"), ((1.5, 10), "step")]
)
def test_poly_lr_rejects_bad_arguments(args, word):
    with pytest.raises((ValueError, TypeError), match=word):
        finetune.poly_lr(*args)


@pytest.mark.parametrize(
    "change, word",
    [
        (lambda x, y: (x[0], y, (0.75, 1.25)), "images"),
        (lambda x, y: (x, y.float(), (0.75, 1.25)), "masks"),
        (lambda x, y: (x, y, (1.25, 0.75)), "scale"),
        (lambda x, y: (x, y, (0.0, 1.0)), "scale"),
    ],
)
def test_flip_and_rescale_rejects_bad_inputs_with_the_argument_named(change, word):
    x, y = _bright_squares(2)
    x, y, scale = change(x, y)
    with pytest.raises(ValueError, match=word):
        finetune.flip_and_rescale(x, y, torch.Generator().manual_seed(0), scale=scale)


def test_predict_rejects_uint8_images():
    with pytest.raises(ValueError, match=r"images: expected a float tensor"):
        finetune.predict(finetune.small_deeplabv3(3, width=4), torch.zeros(1, 3, 32, 32, dtype=torch.uint8))
