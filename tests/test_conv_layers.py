"""course_utils.conv_arithmetic, summary and receptive_field: size formulas against real layers, tables, receptive fields, bad inputs."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn as nn

from course_utils import conv_arithmetic, receptive_field, summary

# ---------------------------------------------------------------- output-size formulas
# One test per layer type looping over a grid (a failure names the setting): ~1,000 real layers.


def test_conv_output_size_matches_conv2d_over_a_grid():
    n_checked = 0
    for size, k, s, p, d in itertools.product([5, 8, 13, 32], [1, 2, 3, 5], [1, 2, 3], [0, 1, 2], [1, 2]):
        if d * (k - 1) + 1 > size + 2 * p:
            with pytest.raises(ValueError, match="kernel_size"):
                conv_arithmetic.conv_output_size(size, k, s, p, d)
            continue
        conv = nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d, bias=False)
        out = conv(torch.zeros(1, 1, size, size)).shape[-1]
        assert conv_arithmetic.conv_output_size(size, k, s, p, d) == out, dict(size=size, k=k, s=s, p=p, d=d)
        n_checked += 1
    assert n_checked > 250


def test_pool_output_size_matches_maxpool2d_and_avgpool2d_over_a_grid():
    n_checked = 0
    for size, k, s, p, ceil_mode in itertools.product([5, 7, 8, 13], [2, 3, 5], [1, 2, 3], [0, 1, 2], [False, True]):
        if p > k // 2 or k > size + 2 * p:  # torch rejects padding above half the kernel
            continue
        x = torch.zeros(1, 1, size, size)
        out = nn.MaxPool2d(k, stride=s, padding=p, ceil_mode=ceil_mode)(x).shape[-1]
        setting = dict(size=size, k=k, s=s, p=p, ceil_mode=ceil_mode)
        assert conv_arithmetic.conv_output_size(size, k, s, p, 1, ceil_mode=ceil_mode) == out, setting
        assert nn.AvgPool2d(k, stride=s, padding=p, ceil_mode=ceil_mode)(x).shape[-1] == out, setting
        n_checked += 1
    assert n_checked > 100


def test_maxpool_ceil_mode_drops_window_starting_in_padding():
    # size 6, k 3, s 2, p 1, ceil: (6 + 2 - 3) / 2 = 2.5 -> 3 + 1 = 4 windows
    assert (
        conv_arithmetic.conv_output_size(6, 3, 2, 1, ceil_mode=True)
        == 4
        == nn.MaxPool2d(3, 2, 1, ceil_mode=True)(torch.zeros(1, 1, 6, 6)).shape[-1]
    )
    # size 5, k 2, s 2, p 1, ceil: the 4th window would start in the right padding and is dropped
    assert (
        conv_arithmetic.conv_output_size(5, 2, 2, 1, ceil_mode=True)
        == 3
        == nn.MaxPool2d(2, 2, 1, ceil_mode=True)(torch.zeros(1, 1, 5, 5)).shape[-1]
    )


def test_conv_transpose_output_size_matches_convtranspose2d_over_a_grid():
    n_checked = 0
    for size, k, s, p, op, d in itertools.product([1, 4, 7], [1, 2, 3, 4], [1, 2, 3], [0, 1, 2], [0, 1, 2], [1, 2]):
        setting = dict(size=size, k=k, s=s, p=p, op=op, d=d)
        if op >= max(s, d):
            with pytest.raises(ValueError, match="output_padding"):
                conv_arithmetic.conv_transpose_output_size(size, k, s, p, op, d)
            continue
        if (size - 1) * s - 2 * p + d * (k - 1) + op + 1 < 1:
            with pytest.raises(ValueError, match="padding"):
                conv_arithmetic.conv_transpose_output_size(size, k, s, p, op, d)
            continue
        tconv = nn.ConvTranspose2d(1, 1, k, stride=s, padding=p, output_padding=op, dilation=d, bias=False)
        out = tconv(torch.zeros(1, 1, size, size)).shape[-1]
        assert conv_arithmetic.conv_transpose_output_size(size, k, s, p, op, d) == out, setting
        n_checked += 1
    assert n_checked > 250


def test_transposed_conv_inverts_strided_conv_size():
    # every input size a stride-2 conv maps to n is recovered with output_padding 0 or 1
    for n_in in range(4, 30):
        n = conv_arithmetic.conv_output_size(n_in, 3, 2, 1)
        back = {conv_arithmetic.conv_transpose_output_size(n, 3, 2, 1, op) for op in (0, 1)}
        assert n_in in back


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(size=0, kernel_size=3), "size"),
        (dict(size=8, kernel_size=0), "kernel_size"),
        (dict(size=8, kernel_size=3, stride=0), "stride"),
        (dict(size=8, kernel_size=3, padding=-1), "padding"),
        (dict(size=8, kernel_size=3, dilation=0), "dilation"),
        (dict(size=3, kernel_size=5), "dilated kernel spans"),
    ],
)
def test_conv_output_size_rejects_bad_inputs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        conv_arithmetic.conv_output_size(**kwargs)


def test_size_formulas_reject_non_integers():
    with pytest.raises(TypeError, match="size: expected an int"):
        conv_arithmetic.conv_output_size(8.0, 3)
    with pytest.raises(TypeError, match="stride: expected an int"):
        conv_arithmetic.conv_transpose_output_size(8, 3, stride=True)


# ---------------------------------------------------------------- summary table
def test_resnet18_summary_totals():
    from torchvision.models import resnet18

    model = resnet18()
    s = summary.summarize(model, (1, 3, 224, 224))
    assert s.total_params == 11_689_512
    assert s.row_params == s.total_params  # every parameter sits in a leaf module
    assert s.rows[-1].output_shape == (1, 1000)
    # 1.82 GMACs is the published figure for ResNet18 at 224x224
    assert abs(s.total_macs / 1e9 - 1.82) < 0.01
    stages = summary.summarize(model, (1, 3, 224, 224), depth=1)
    assert [r.name for r in stages][-6:] == ["layer1", "layer2", "layer3", "layer4", "avgpool", "fc"]
    assert stages.total_macs == s.total_macs
    assert stages.row("layer4").output_shape == (1, 512, 7, 7)
    assert model.training  # mode restored


def test_summary_rows_by_hand():
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 4 * 4, 10)
    )
    s = summary.summarize(net, (2, 3, 8, 8))
    conv, relu, pool, flat, fc = s.rows
    assert conv.output_shape == (2, 8, 8, 8) and conv.params == 8 * 3 * 9 + 8
    assert conv.macs == 2 * 8 * 8 * 8 * 3 * 9 and conv.flops == 2 * conv.macs
    assert conv.activation_bytes == 2 * 8 * 8 * 8 * 4
    assert relu.macs == 0 and pool.output_shape == (2, 8, 4, 4)
    assert fc.macs == 2 * 10 * 128 and fc.params == 128 * 10 + 10
    text = summary.format_summary(s)
    assert "Conv2d" in text and f"{s.total_params:,} parameters" in text


def test_summary_counts_reused_module_once_and_grouped_conv():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 3, padding=1, groups=2)

        def forward(self, x):
            return self.conv(self.conv(x))

    s = summary.summarize(Twice(), (1, 4, 5, 5))
    assert len(s) == 2 and s.row_params == s.total_params == 4 * 2 * 9 + 4
    assert s.rows[0].macs == 4 * 25 * 2 * 9


def test_summary_transposed_conv_macs():
    s = summary.summarize(nn.ConvTranspose2d(4, 2, 3, stride=2), (1, 4, 5, 5))
    assert s.rows[0].macs == 4 * 25 * 2 * 9
    assert s.rows[0].output_shape == (1, 2, 11, 11)


def test_summarize_rejects_bad_inputs():
    with pytest.raises(TypeError, match="model: expected a torch.nn.Module"):
        summary.summarize("resnet", (1, 3, 8, 8))
    with pytest.raises(ValueError, match="give exactly one"):
        summary.summarize(nn.ReLU())
    with pytest.raises(ValueError, match="input_size"):
        summary.summarize(nn.ReLU(), 8)
    with pytest.raises(ValueError, match=r"input_size\[2\]"):
        summary.summarize(nn.ReLU(), (1, 3, 0, 8))
    with pytest.raises(TypeError, match="x: expected a torch.Tensor"):
        summary.summarize(nn.ReLU(), x=[1, 2])
    with pytest.raises(ValueError, match="depth"):
        summary.summarize(nn.ReLU(), (1, 3, 8, 8), depth=-1)
    with pytest.raises(TypeError, match="summary"):
        summary.format_summary([1, 2])


# ---------------------------------------------------------------- receptive fields
def toy_net():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(4, 4, 3, padding=0),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 4, 5, stride=2, padding=2),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Conv2d(4, 4, 3, padding=2, dilation=2),
        nn.ReLU(),
        nn.AvgPool2d(3, stride=1, padding=1),
        nn.Conv2d(4, 2, 1),
    )


def test_receptive_field_recurrence_by_hand():
    rows = receptive_field.receptive_field(toy_net())
    assert [r.size for r in rows] == [3, 5, 6, 14, 30, 38, 38]
    assert [r.jump for r in rows] == [1, 1, 2, 4, 4, 4, 4]
    assert [r.start for r in rows] == [0.0, 1.0, 1.5, 1.5, 1.5, 1.5, 1.5]


@pytest.mark.parametrize("position", [(5, 5), (5, 9), (9, 6)])
def test_analytic_equals_empirical_receptive_field(position):
    net = toy_net()
    last = receptive_field.receptive_field(net)[-1]
    emp = receptive_field.empirical_receptive_field(net, (1, 64, 64), position=position)
    assert not emp.clipped
    lo_r, hi_r = receptive_field.rf_bounds(last, position[0])
    lo_c, hi_c = receptive_field.rf_bounds(last, position[1])
    # an even-sized field is centred between pixels; the pixels it covers are the ceil/floor
    assert emp.rows == (int(-(-lo_r // 1)), int(hi_r // 1))
    assert emp.cols == (int(-(-lo_c // 1)), int(hi_c // 1))
    assert emp.size == (last.size, last.size)


def test_empirical_rf_near_the_border_is_flagged_clipped():
    net = toy_net()
    emp = receptive_field.empirical_receptive_field(net, (1, 64, 64), position=(0, 0))
    assert emp.clipped and emp.rows[0] == 0 and emp.size[0] < receptive_field.receptive_field(net)[-1].size


def test_empirical_rf_of_odd_stack_is_exact():
    net = nn.Sequential(
        *[nn.Conv2d(1, 1, 3, padding=1) for _ in range(4)],
        nn.MaxPool2d(3, 2, 1),
        nn.Conv2d(1, 1, 3, padding=2, dilation=2),
    )
    last = receptive_field.receptive_field(net)[-1]
    emp = receptive_field.empirical_receptive_field(net, (1, 64, 64))
    assert emp.size == (last.size, last.size) == (19, 19)
    assert emp.centre == (last.start + emp.position[0] * last.jump,) * 2


def test_empirical_does_not_modify_model_and_effective_mode_runs():
    net = toy_net()
    before = [p.detach().clone() for p in net.parameters()]
    emp = receptive_field.empirical_receptive_field(net, (1, 1, 48, 48), all_paths=False)
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))
    assert isinstance(net[4], nn.MaxPool2d)
    assert emp.gradient.shape == (48, 48)


def test_dilated_stack_gradient_is_a_grid():
    net = nn.Sequential(*[nn.Conv2d(1, 1, 3, padding=2, dilation=2) for _ in range(3)])
    emp = receptive_field.empirical_receptive_field(net, (1, 31, 31))
    g = emp.gradient
    assert emp.size == (13, 13) == (receptive_field.receptive_field(net)[-1].size,) * 2
    c = emp.position[0]  # same-padding: output (c, c) sits over input (c, c)
    odd = (c + 1) % 2
    assert (g[odd::2, :] == 0).all() and (g[:, odd::2] == 0).all()  # odd offsets never reached
    assert (g[c - 6 : c + 7 : 2, c - 6 : c + 7 : 2] > 0).all()  # even offsets all reached


def test_resnet18_receptive_field():
    from torchvision.models import resnet18

    rows = receptive_field.receptive_field(resnet18())
    assert rows[-1].size == 435 and rows[-1].jump == 32 and rows[-1].start == 0.0
    assert rows[0].name == "conv1" and rows[-1].name == "layer4.1.conv2"
    assert not any("downsample" in r.name for r in rows)
    assert "layer4.1.conv2" in receptive_field.format_receptive_field(rows)


def test_resnet18_empirical_receptive_field():
    from torchvision.models import resnet18

    body = nn.Sequential(*list(resnet18().children())[:-2])
    last = receptive_field.receptive_field(body)[-1]
    emp = receptive_field.empirical_receptive_field(body, (3, 480, 480))
    assert not emp.clipped
    assert emp.size == (435, 435)
    assert emp.centre[0] == last.start + emp.position[0] * last.jump


def test_receptive_field_rejects_bad_inputs():
    with pytest.raises(ValueError, match="whole image"):
        receptive_field.receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.AdaptiveAvgPool2d(1)))
    with pytest.raises(ValueError, match="upsamples"):
        receptive_field.receptive_field(nn.Sequential(nn.ConvTranspose2d(1, 1, 2, 2)))
    with pytest.raises(TypeError, match="forward order"):
        receptive_field.receptive_field(nn.Sequential(nn.TransformerEncoderLayer(8, 2)))
    with pytest.raises(ValueError, match="no Conv2d"):
        receptive_field.receptive_field(nn.Sequential(nn.ReLU()))
    with pytest.raises(TypeError, match="model"):
        receptive_field.receptive_field("resnet18")
    with pytest.raises(ValueError, match="axis"):
        receptive_field.receptive_field(nn.Conv2d(1, 1, 3), axis=2)
    with pytest.raises(TypeError, match="row"):
        receptive_field.rf_bounds((3, 1, 0), 0)


def test_empirical_rejects_bad_inputs():
    net = nn.Conv2d(1, 1, 3)
    with pytest.raises(ValueError, match="input_shape"):
        receptive_field.empirical_receptive_field(net, (8, 8))
    with pytest.raises(ValueError, match="input_shape"):
        receptive_field.empirical_receptive_field(net, (2, 1, 8, 8))
    with pytest.raises(ValueError, match=r"position\[0\]"):
        receptive_field.empirical_receptive_field(net, (1, 8, 8), position=(6, 0))
    with pytest.raises(ValueError, match="output"):
        receptive_field.empirical_receptive_field(nn.Sequential(nn.Flatten()), (1, 8, 8))
    with pytest.raises(TypeError, match="model"):
        receptive_field.empirical_receptive_field(None, (1, 8, 8))


def test_rf_with_non_square_kernel_uses_axis():
    net = nn.Conv2d(1, 1, (3, 5), stride=(1, 2), padding=(1, 0))
    h, w = receptive_field.receptive_field(net, axis=0)[0], receptive_field.receptive_field(net, axis=1)[0]
    assert (h.size, h.jump, h.start) == (3, 1, 0.0)
    assert (w.size, w.jump, w.start) == (5, 2, 2.0)


def test_dilated_max_pool_rf_analytic_equals_empirical():
    # an "a trous" network: stride-1 pools and dilated layers after them (dense output)
    net = nn.Sequential(
        nn.Conv2d(1, 2, 3),
        nn.ReLU(),
        nn.MaxPool2d(2, stride=1),
        nn.Conv2d(2, 2, 3, dilation=2),
        nn.MaxPool2d(2, stride=1, dilation=2),
        nn.Conv2d(2, 1, 3, dilation=4),
    )
    last = receptive_field.receptive_field(net)[-1]
    assert (last.size, last.jump) == (1 + 2 + 1 + 4 + 2 + 8, 1)
    emp = receptive_field.empirical_receptive_field(net, (1, 40, 40), position=(5, 7))
    assert emp.size == (last.size, last.size)
    assert emp.rows[0] == 5 and emp.cols[0] == 7  # valid convs: unit i starts at input i


def test_empirical_rf_works_under_no_grad():
    with torch.no_grad():
        emp = receptive_field.empirical_receptive_field(nn.Conv2d(1, 1, 5, padding=2), (1, 21, 21))
    assert emp.size == (5, 5)


def test_receptive_field_handles_string_padding():
    same = receptive_field.receptive_field(nn.Sequential(nn.Conv2d(1, 1, 5, padding="same", dilation=2)))[0]
    valid = receptive_field.receptive_field(nn.Sequential(nn.Conv2d(1, 1, 5, padding="valid")))[0]
    assert (same.size, same.padding, same.start) == (9, 4, 0.0)
    assert (valid.size, valid.padding, valid.start) == (5, 0, 2.0)
    emp = receptive_field.empirical_receptive_field(
        nn.Conv2d(1, 1, 5, padding="same", dilation=2), (1, 21, 21), position=(10, 10)
    )
    assert emp.size == (9, 9) and emp.centre == (10.0, 10.0)
