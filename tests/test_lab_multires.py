"""course_utils.lab.multires: lesson 7's multi-resolution network, its input checks and its loss."""

import pytest
import torch

from course_utils.lab.multires import (
    LEVEL_CHANNELS,
    LEVEL_WEIGHTS,
    MultiResEmbedder,
    check_images,
    conv_block,
    multires_loss,
)
from course_utils.lab.train import EmbeddingNet
from course_utils.labels import downsample_labels
from course_utils.losses import discriminative_loss


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return MultiResEmbedder(width=8).eval()


def test_three_levels_in_the_unit_box(net):
    with torch.no_grad():
        outs = net(torch.rand(2, 3, 16, 24))
    assert [tuple(o.shape) for o in outs] == [(2, 3, 16, 24), (2, 12, 8, 12), (2, 48, 4, 6)]
    assert [o.shape[1] for o in outs] == list(LEVEL_CHANNELS)
    assert all(float(o.min()) >= 0 and float(o.max()) <= 1 for o in outs)
    assert all(o.shape[1] * o.shape[2] * o.shape[3] == 3 * 16 * 24 for o in outs), "same values per level"


@pytest.mark.parametrize(
    "x, error, words",
    [
        (torch.zeros(1, 3, 16, 16, dtype=torch.uint8), TypeError, "x.float() / 255"),
        (torch.zeros(1, 3, 16, 16, dtype=torch.int32), TypeError, "float tensor"),
        (torch.zeros(1, 1, 16, 16), ValueError, "grayscale"),
        (torch.zeros(1, 16, 16, 3), ValueError, "channels last"),
        (torch.zeros(3, 16, 16), ValueError, "x[None]"),
        (torch.zeros(1, 3, 18, 16), ValueError, "multiples of 4"),
        ([[0.0]], TypeError, "got list"),
    ],
)
def test_bad_images_are_named(net, x, error, words):
    with pytest.raises(error, match="x: expected") as info:
        net(x)
    assert words in str(info.value)
    with pytest.raises(error):  # the paper's network checks the same way
        EmbeddingNet(dim=8, width=8)(x)


def test_check_images_names_the_argument():
    with pytest.raises(ValueError, match="images: expected shape"):
        check_images(torch.zeros(2, 4, 8, 8), "images")
    check_images(torch.zeros(2, 3, 8, 8))  # a good batch passes


def test_bad_constructor_arguments():
    for width in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="width"):
            MultiResEmbedder(width=width)
    with pytest.raises(ValueError, match="norm"):
        conv_block(3, 8, norm="layer")
    assert isinstance(MultiResEmbedder(width=8, norm="group").enc1[0][1], torch.nn.GroupNorm)


def test_loss_is_the_weighted_sum_of_the_levels(net):
    g = torch.Generator().manual_seed(1)
    labels = torch.randint(-1, 3, (2, 16, 16), generator=g)
    labels[:, :8, :8] = 1  # a block that survives downsampling at every level
    with torch.no_grad():
        outs = net(torch.rand(2, 3, 16, 16, generator=g))
    total, terms = multires_loss(outs, labels, delta_v=0.1, delta_d=0.3)
    expected = 0.0
    for k, (emb, w) in enumerate(zip(outs, LEVEL_WEIGHTS)):
        lab = downsample_labels(labels, 2**k, ignore_index=-1)
        t, var, dist, reg = discriminative_loss(emb, lab, delta_v=0.1, delta_d=0.3, ignore_index=-1)
        expected += w * float(t)
        assert terms[k] == pytest.approx((float(var), float(dist), float(reg)))
    assert float(total) == pytest.approx(expected, rel=1e-6)


def test_ignored_pixels_do_not_change_the_loss(net):
    labels = torch.zeros(1, 16, 16, dtype=torch.int64)
    labels[:, :, 8:] = 1
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        outs = net(x)
    only_sticks = torch.where(labels == 0, -1, labels)  # background ignored, as lesson 7 trains
    a, _ = multires_loss(outs, only_sticks, delta_v=0.1, delta_d=0.3)
    noisy = [o.clone() for o in outs]
    noisy[0][:, :, :, :8] = torch.rand_like(noisy[0][:, :, :, :8])  # change only ignored pixels
    b, _ = multires_loss(noisy, only_sticks, delta_v=0.1, delta_d=0.3)
    assert float(a) == pytest.approx(float(b))


def test_loss_rejects_mismatched_levels(net):
    with torch.no_grad():
        outs = net(torch.rand(1, 3, 16, 16))
    labels = torch.zeros(1, 16, 16, dtype=torch.int64)
    with pytest.raises(ValueError, match="outs: expected 3 levels"):
        multires_loss(outs[:2], labels, delta_v=0.1, delta_d=0.3)
    with pytest.raises(ValueError, match=r"outs\[1\]: expected spatial size"):
        multires_loss([outs[0], outs[2], outs[2]], labels, delta_v=0.1, delta_d=0.3)
