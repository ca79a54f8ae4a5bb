"""Tests of course_utils.losses: the discriminative loss against an independent loop, gradients,
edge cases (zero distances, one instance, ignored pixels, odd labels, autocast) and bad inputs."""

from __future__ import annotations

import math

import pytest
import torch

from course_utils.losses import discriminative_loss, discriminative_loss_reference, safe_norm

KW = dict(delta_v=0.5, delta_d=1.5, alpha=1.0, beta=1.0, gamma=0.001)


def loop_loss(emb, inst, delta_v=0.5, delta_d=1.5, alpha=1.0, beta=1.0, gamma=0.001, ignore_index=None):
    """Deliberately simple transcription of the paper, pixel by pixel, pair by pair (float64).

    Independent of course_utils: plain Python lists of floats for the means, torch only for the
    pixel values. Images whose pixels are all ignored are left out of the batch mean.
    """
    emb = emb.detach().double()
    B, D, H, W = emb.shape
    var_l, dist_l, reg_l = [], [], []
    for b in range(B):
        groups: dict[int, list[list[float]]] = {}
        for i in range(H):
            for j in range(W):
                lab = int(inst[b, i, j])
                if ignore_index is not None and lab == ignore_index:
                    continue
                groups.setdefault(lab, []).append([float(v) for v in emb[b, :, i, j]])
        if not groups:
            continue
        means = []
        pulls = []
        for lab in sorted(groups):
            pts = groups[lab]
            mu = [sum(p[k] for p in pts) / len(pts) for k in range(D)]
            means.append(mu)
            s = 0.0
            for p in pts:
                d = math.sqrt(sum((mu[k] - p[k]) ** 2 for k in range(D)))
                s += max(d - delta_v, 0.0) ** 2
            pulls.append(s / len(pts))
        C = len(means)
        var_l.append(sum(pulls) / C)
        reg_l.append(sum(math.sqrt(sum(m * m for m in mu)) for mu in means) / C)
        if C < 2:
            dist_l.append(0.0)
        else:
            s = 0.0
            for a in range(C):
                for c in range(C):
                    if a != c:
                        d = math.sqrt(sum((means[a][k] - means[c][k]) ** 2 for k in range(D)))
                        s += max(2 * delta_d - d, 0.0) ** 2
            dist_l.append(s / (C * (C - 1)))
    if not var_l:
        return 0.0, 0.0, 0.0, 0.0
    var = sum(var_l) / len(var_l)
    dist = sum(dist_l) / len(dist_l)
    reg = sum(reg_l) / len(reg_l)
    return alpha * var + beta * dist + gamma * reg, var, dist, reg


def random_case(seed):
    g = torch.Generator().manual_seed(seed)
    B = int(torch.randint(1, 5, (1,), generator=g))
    D = int(torch.randint(1, 7, (1,), generator=g))
    H = int(torch.randint(1, 11, (1,), generator=g))
    W = int(torch.randint(1, 11, (1,), generator=g))
    n_inst = int(torch.randint(1, 9, (1,), generator=g))
    # non-consecutive label values drawn from a wide range
    values = torch.randperm(2000, generator=g)[:n_inst]
    inst = values[torch.randint(0, n_inst, (B, H, W), generator=g)]
    scale = float(torch.rand(1, generator=g)) * 3 + 0.1
    emb = torch.randn(B, D, H, W, generator=g) * scale
    ignore = None
    if seed % 3 == 0:
        ignore = 255 if seed % 2 else -1
        mask = torch.rand(B, H, W, generator=g) < 0.3
        inst = torch.where(mask, torch.full_like(inst, ignore), inst)
        if seed % 9 == 0:
            inst[0] = ignore  # one image fully ignored
    kw = dict(
        delta_v=float(torch.rand(1, generator=g)) * 1.0,
        delta_d=float(torch.rand(1, generator=g)) * 2.0 + 0.1,
        alpha=float(torch.rand(1, generator=g)) * 2,
        beta=float(torch.rand(1, generator=g)) * 2,
        gamma=float(torch.rand(1, generator=g)) * 0.1,
    )
    return emb, inst, kw, ignore


@pytest.mark.parametrize("seed", range(40))
def test_matches_independent_loop_on_random_cases(seed):
    emb, inst, kw, ignore = random_case(seed)
    got = discriminative_loss(emb, inst, ignore_index=ignore, **kw)
    ref = loop_loss(emb, inst, ignore_index=ignore, **kw)
    for name, g, r in zip(("total", "var", "dist", "reg"), got, ref):
        assert g.dtype == torch.float32 and g.ndim == 0
        assert abs(float(g) - r) <= 1e-5 * max(1.0, abs(r)), (name, float(g), r)
    # the library's own slow loop agrees too
    slow = discriminative_loss_reference(emb, inst, ignore_index=ignore, **kw)
    for g, s in zip(got, slow):
        assert abs(float(g) - float(s)) <= 1e-5 * max(1.0, abs(float(s)))


def test_batch_of_the_size_the_benchmark_uses_matches_reference():
    torch.manual_seed(1)
    emb = torch.randn(3, 8, 64, 64)
    inst = torch.randint(0, 30, (3, 64, 64)) * 7 + 3
    got = discriminative_loss(emb, inst)
    ref = discriminative_loss_reference(emb, inst)
    for g, r in zip(got, ref):
        assert torch.allclose(g, r, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("channels_per_block", [1, 2, 3])
def test_blocks_of_channels_give_the_same_values_and_gradients(monkeypatch, channels_per_block):
    # Large images are processed a few channels at a time (losses._BLOCK values per block); small
    # test images fit in one block. A smaller _BLOCK makes the blocked path run here, with D = 5
    # not a multiple of the block (the last block is shorter).
    from course_utils import losses

    torch.manual_seed(11)
    B, D, H, W = 2, 5, 6, 9
    monkeypatch.setattr(losses, "_BLOCK", channels_per_block * B * H * W)
    emb = torch.randn(B, D, H, W, dtype=torch.float64)
    inst = (torch.arange(H)[:, None] // 2 * 3 + torch.arange(W)[None, :] // 3).expand(B, H, W).clone()
    inst[1, :2] = -1
    e1, e2 = emb.clone().requires_grad_(True), emb.clone().requires_grad_(True)
    got = discriminative_loss(e1, inst, ignore_index=-1, **KW)
    ref = discriminative_loss_reference(e2, inst, ignore_index=-1, **KW)
    (g1,) = torch.autograd.grad(got[0], e1, retain_graph=True)
    (g1_again,) = torch.autograd.grad(got[0], e1)  # recomputes what the first pass consumed
    (g2,) = torch.autograd.grad(ref[0], e2)
    for a, b in zip(got, ref):
        assert torch.allclose(a, b, rtol=1e-12, atol=1e-14)
    assert torch.allclose(g1, g2, rtol=1e-9, atol=1e-12)
    assert torch.equal(g1, g1_again)


@pytest.mark.parametrize("seed", range(6))
def test_gradients_match_the_loop_implementation(seed):
    emb, inst, kw, ignore = random_case(seed + 100)
    e1 = emb.clone().double().requires_grad_(True)
    e2 = emb.clone().double().requires_grad_(True)
    discriminative_loss(e1, inst, ignore_index=ignore, **kw)[0].backward()
    discriminative_loss_reference(e2, inst, ignore_index=ignore, **kw)[0].backward()
    assert torch.allclose(e1.grad, e2.grad, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("term", ["total", "var", "dist", "reg"])
def test_blocky_labels_odd_size_each_term_and_repeated_backward(term):
    # Real label maps are blocky (neighbouring pixels share an instance, which the fused function's
    # interleaved partial sums are for), and H*W = 91 is not a multiple of its 8 accumulators.
    # Each term alone sends gradient through a different path (the hinge sums or the means); a
    # second backward through a retained graph must give the same gradient.
    torch.manual_seed(3)
    inst = (torch.arange(7)[:, None] // 3 * 4 + torch.arange(13)[None, :] // 4).expand(2, 7, 13).clone()
    inst[1] = inst[1].flip(1) + 2
    emb = torch.randn(2, 3, 7, 13, dtype=torch.float64)
    k = ["total", "var", "dist", "reg"].index(term)
    e1, e2 = emb.clone().requires_grad_(True), emb.clone().requires_grad_(True)
    out1 = discriminative_loss(e1, inst, **KW)[k]
    out2 = discriminative_loss_reference(e2, inst, **KW)[k]
    (g1,) = torch.autograd.grad(out1, e1, retain_graph=True)
    (g1_again,) = torch.autograd.grad(out1, e1)
    (g2,) = torch.autograd.grad(out2, e2)
    assert float(out2.detach()) > 0
    assert torch.allclose(out1, out2, rtol=1e-12, atol=1e-14)
    assert torch.allclose(g1, g2, rtol=1e-9, atol=1e-12)
    assert torch.equal(g1, g1_again)


def test_values_without_autograd_equal_values_with_it():
    # Validation losses run under no_grad / inference_mode: the fused function then keeps nothing
    # for a backward pass, and the values must not change.
    torch.manual_seed(5)
    emb = torch.randn(2, 4, 9, 11)
    inst = torch.randint(0, 5, (2, 9, 11))
    with_grad = discriminative_loss(emb.clone().requires_grad_(True), inst, **KW)
    with torch.no_grad():
        no_grad = discriminative_loss(emb, inst, **KW)
    with torch.inference_mode():
        inference = discriminative_loss(emb, inst, **KW)
    for a, b, c in zip(with_grad, no_grad, inference):
        assert torch.equal(a.detach(), b) and torch.equal(b, c)


def test_hand_computed_values_pull_is_per_instance_not_pixel_weighted():
    # D = 1, one image of 1 x 4 pixels: instance 0 = {0, 0, 3}, instance 1 = {10}
    emb = torch.tensor([0.0, 0.0, 3.0, 10.0]).reshape(1, 1, 1, 4)
    inst = torch.tensor([0, 0, 0, 1]).reshape(1, 1, 4)
    total, var, dist, reg = discriminative_loss(emb, inst, delta_v=0.5, delta_d=5.0, gamma=0.1)
    # mu_0 = 1: distances 1, 1, 2 -> hinges 0.25, 0.25, 2.25 -> mean 11/12; instance 1: 0
    assert var.item() == pytest.approx((11 / 12 + 0.0) / 2, abs=1e-6)
    # a pixel-weighted mean would give 2.75 / 4 = 0.6875
    assert var.item() != pytest.approx(0.6875, abs=1e-3)
    # |mu_0 - mu_1| = 9 < 2 delta_d = 10: (10 - 9)^2 for each ordered pair, / C(C-1) = 2
    assert dist.item() == pytest.approx(1.0, abs=1e-6)
    assert reg.item() == pytest.approx((1 + 10) / 2, abs=1e-6)
    assert total.item() == pytest.approx(var.item() + dist.item() + 0.1 * reg.item(), abs=1e-6)
    # margin is 2 delta_d: with delta_d = 4.5 the means are exactly 2 delta_d apart -> no push
    assert discriminative_loss(emb, inst, delta_d=4.5)[2].item() == pytest.approx(0.0, abs=1e-7)


def test_gradcheck_float64_small_inputs():
    torch.manual_seed(0)
    emb = torch.randn(2, 3, 4, 5, dtype=torch.float64, requires_grad=True)
    inst = torch.randint(0, 4, (2, 4, 5)) * 5 + 2
    inst[1, 0, :] = -1

    def f(e):
        return discriminative_loss(e, inst, delta_v=0.3, delta_d=1.0, gamma=0.1, ignore_index=-1)

    assert torch.autograd.gradcheck(f, (emb,), eps=1e-6, atol=1e-5)
    assert discriminative_loss(emb, inst, ignore_index=-1)[0].dtype == torch.float64


def _assert_finite(emb, *terms):
    for t in terms:
        assert torch.isfinite(t).all()
    terms[0].backward()
    assert emb.grad is not None and torch.isfinite(emb.grad).all()


def test_zero_distances_give_finite_values_and_gradients():
    # every pixel equal: pixel-to-mean distances are 0 and all instance means coincide
    emb = torch.zeros(2, 4, 6, 6, requires_grad=True)
    inst = torch.randint(0, 3, (2, 6, 6))
    inst[:, 0, :3] = torch.tensor([0, 1, 2])  # all three instances present in each image
    total, var, dist, reg = discriminative_loss(emb, inst, delta_v=0.0)
    # safe_norm returns sqrt(finfo.tiny) ~ 1e-19 for a zero vector: zero to within 1e-18
    assert 0.0 <= var.item() < 1e-30 and 0.0 <= reg.item() < 1e-18
    assert dist.item() == pytest.approx((2 * 1.5) ** 2, rel=1e-6)  # identical means: full hinge
    _assert_finite(emb, total, var, dist, reg)
    # also with safe_norm directly
    v = torch.zeros(3, 2, requires_grad=True)
    safe_norm(v).sum().backward()
    assert torch.equal(v.grad, torch.zeros(3, 2))


def test_single_instance_has_zero_push_and_finite_gradients():
    torch.manual_seed(0)
    emb = torch.randn(1, 3, 5, 5, requires_grad=True)
    inst = torch.full((1, 5, 5), 42)
    total, var, dist, reg = discriminative_loss(emb, inst)
    assert dist.item() == 0.0
    assert total.item() == pytest.approx(loop_loss(emb, inst)[0], abs=1e-5)
    _assert_finite(emb, total, var, dist, reg)


def test_fully_ignored_image_is_left_out_of_the_batch_mean():
    torch.manual_seed(0)
    emb = torch.randn(2, 3, 6, 6, requires_grad=True)
    inst = torch.randint(0, 4, (2, 6, 6))
    inst[1] = 255
    both = discriminative_loss(emb, inst, ignore_index=255)
    first = discriminative_loss(emb[:1], inst[:1], ignore_index=255)
    for a, b in zip(both, first):
        assert torch.allclose(a, b)
    _assert_finite(emb, *both)
    assert torch.equal(emb.grad[1], torch.zeros_like(emb.grad[1]))


def test_fully_ignored_batch_returns_zeros_with_gradient():
    emb = torch.randn(2, 3, 4, 4, requires_grad=True)
    inst = torch.full((2, 4, 4), -1)
    for fn in (discriminative_loss, discriminative_loss_reference):
        emb.grad = None
        terms = fn(emb, inst, ignore_index=-1)
        assert all(t.item() == 0.0 for t in terms)
        assert terms[0].requires_grad
        terms[0].backward()
        assert torch.equal(emb.grad, torch.zeros_like(emb))


def test_non_consecutive_and_huge_labels_equal_relabelled_ones():
    torch.manual_seed(0)
    emb = torch.randn(2, 4, 8, 8)
    small = torch.randint(0, 3, (2, 8, 8))
    ref = discriminative_loss(emb, small)
    # [3, 17, 100]: label values used as slots, most of them empty; the others are renumbered first
    for values in ([3, 17, 100], [3, 17, 1000], [5, 2**40, 2**62]):
        lut = torch.tensor(values)
        got = discriminative_loss(emb, lut[small])
        for a, b in zip(got, ref):
            assert torch.allclose(a, b, atol=1e-6), values
    # the same with ignored pixels (label 255 is ignored, so it is not a slot)
    ignored = torch.rand(2, 8, 8, generator=torch.Generator().manual_seed(1)) < 0.3
    ref = discriminative_loss(emb, torch.where(ignored, 255, small), ignore_index=255)
    for values in ([3, 17, 100], [3, 17, 1000]):
        got = discriminative_loss(emb, torch.where(ignored, 255, torch.tensor(values)[small]), ignore_index=255)
        for a, b in zip(got, ref):
            assert torch.allclose(a, b, atol=1e-6), values


def test_label_dtypes_uint8_int32_bool():
    torch.manual_seed(0)
    emb = torch.randn(1, 2, 5, 5)
    lab = torch.randint(0, 2, (1, 5, 5))
    ref = discriminative_loss(emb, lab)
    for dt in (torch.uint8, torch.int32, torch.bool):
        got = discriminative_loss(emb, lab.to(dt))
        assert torch.allclose(got[0], ref[0])


def test_low_precision_and_autocast_are_computed_in_float32():
    torch.manual_seed(0)
    emb = torch.randn(2, 4, 8, 8)
    inst = torch.randint(0, 5, (2, 8, 8))
    for dt in (torch.float16, torch.bfloat16):
        low = emb.to(dt)
        out = discriminative_loss(low, inst)
        assert all(t.dtype == torch.float32 for t in out)
        exact = discriminative_loss(low.float(), inst)  # same rounded input, float32 maths
        assert torch.allclose(out[0], exact[0], rtol=1e-6)
    conv = torch.nn.Conv2d(4, 4, 1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = conv(emb)
        assert y.dtype == torch.bfloat16
        out = discriminative_loss(y, inst)
    assert all(t.dtype == torch.float32 for t in out)
    assert torch.allclose(out[0], discriminative_loss(y.float(), inst)[0], rtol=1e-6)
    out[0].backward()
    assert torch.isfinite(conv.weight.grad).all()


@pytest.mark.parametrize(
    "emb_shape, inst, exc, words",
    [
        ((2, 3, 4, 4), torch.zeros(2, 4, 5, dtype=torch.long), ValueError, "spatial size"),
        ((2, 3, 4, 4), torch.zeros(3, 4, 4, dtype=torch.long), ValueError, "batch size B = 2"),
        ((2, 3, 4, 4), torch.zeros(2, 4, 4), TypeError, "integer instance labels"),
        ((2, 0, 4, 4), torch.zeros(2, 4, 4, dtype=torch.long), ValueError, "D >= 1"),
        ((3, 4, 4), torch.zeros(3, 4, 4, dtype=torch.long), ValueError, "(B, D, H, W)"),
        ((2, 3, 4, 4), torch.zeros(2, 1, 4, 4, dtype=torch.long), ValueError, "drop the channel axis"),
        ((2, 3, 4, 4), torch.full((2, 4, 4), -1), ValueError, "non-negative labels"),
    ],
)
def test_bad_inputs_are_rejected_clearly(emb_shape, inst, exc, words):
    with pytest.raises(exc) as info:
        discriminative_loss(torch.zeros(emb_shape), inst)
    assert words in str(info.value)
    with pytest.raises(exc):
        discriminative_loss_reference(torch.zeros(emb_shape), inst)


def test_bad_arguments_are_rejected_clearly():
    emb, inst = torch.zeros(1, 2, 3, 3), torch.zeros(1, 3, 3, dtype=torch.long)
    with pytest.raises(TypeError, match="embedding: expected a torch.Tensor"):
        discriminative_loss(emb.numpy(), inst)
    with pytest.raises(TypeError, match="instances: expected a torch.Tensor"):
        discriminative_loss(emb, inst.numpy())
    with pytest.raises(TypeError, match="embedding: expected a floating-point"):
        discriminative_loss(inst[:, None], inst)
    with pytest.raises(ValueError, match="delta_v"):
        discriminative_loss(emb, inst, delta_v=-0.1)
    with pytest.raises(ValueError, match="delta_d"):
        discriminative_loss(emb, inst, delta_d=float("nan"))
    with pytest.raises(TypeError, match="ignore_index"):
        discriminative_loss(emb, inst, ignore_index=1.5)
    with pytest.raises(TypeError):
        discriminative_loss(emb, inst, 0.5)  # margins are keyword-only
    # a negative label that is not the ignore label is named in the message
    bad = inst.clone()
    bad[0, 0, 0] = -2
    with pytest.raises(ValueError, match=r"other than ignore_index=-1, got label -2"):
        discriminative_loss(emb, bad, ignore_index=-1)


def test_benchmark_script_runs_and_writes_its_table(tmp_path):
    """benchmarks/bench_discriminative_loss.py on a tiny setting: both implementations agree and
    the JSON/Markdown outputs hold the timings (the numbers themselves are not asserted)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_discriminative_loss.py"
    spec = importlib.util.spec_from_file_location("bench_discriminative_loss", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "res.json"
    res = bench.main(
        [
            "--device",
            "cpu",
            "--batch",
            "2",
            "--size",
            "16",
            "--instances",
            "4",
            "--repeats",
            "2",
            "--loop-repeats",
            "1",
            "--threads",
            "1",
            "--out",
            str(out),
        ]
    )
    (row,) = res["rows"]
    assert row["loss_vectorised"] == pytest.approx(row["loss_loop"], rel=1e-5)
    assert row["max_abs_grad_diff"] < 1e-6
    assert row["vectorised_s"] > 0 and row["loop_s"] > 0 and row["threads"] == 1
    assert row["speedup"] == pytest.approx(row["loop_s"] / row["vectorised_s"])
    saved = __import__("json").loads(out.read_text())
    assert saved["rows"][0]["speedup"] == row["speedup"]
    assert "| cpu" in out.with_suffix(".md").read_text()
    labels = bench.voronoi_instances(2, 16, 4)
    assert all(labels[b].unique().numel() == 4 for b in range(2))
    with pytest.raises(SystemExit):
        bench.parse_args(["--batch", "0"])


def _git_head_has_losses() -> bool:
    import subprocess
    from pathlib import Path

    try:
        return (
            subprocess.run(
                ["git", "cat-file", "-e", "HEAD:course_utils/losses.py"],
                cwd=Path(__file__).resolve().parents[1],
                capture_output=True,
            ).returncode
            == 0
        )
    except OSError:
        return False


@pytest.mark.skipif(not _git_head_has_losses(), reason="needs a git checkout of the course")
def test_revision_comparison_script_times_both_versions(capsys):
    """benchmarks/compare_revisions.py loads losses.py from a git revision next to the working
    tree's, checks they agree and times both; an unknown revision is reported by name."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "compare_revisions.py"
    spec = importlib.util.spec_from_file_location("compare_revisions", path)
    compare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compare)
    res = compare.main(["HEAD", "--batch", "2", "--size", "16", "--instances", "4", "--rounds", "2", "--threads", "1"])
    assert res["HEAD"]["median_s"] > 0 and res["working tree"]["min_s"] > 0
    assert res["speedup"] == pytest.approx(res["HEAD"]["median_s"] / res["working tree"]["median_s"])
    assert "working tree is" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="no-such-revision"):
        compare.main(["no-such-revision", "--quick"])
    with pytest.raises(SystemExit):
        compare.parse_args(["HEAD", "--rounds", "0"])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_blocks_of_channels_match_cpu(monkeypatch):
    # the blocked path (strided gather outputs) on the GPU, as for the benchmark's image size
    from course_utils import losses

    torch.manual_seed(12)
    emb = torch.randn(2, 5, 16, 20)
    inst = torch.randint(0, 6, (2, 16, 20))
    monkeypatch.setattr(losses, "_BLOCK", 2 * 2 * 16 * 20)
    grads = []
    for device in ("cpu", "cuda"):
        e = emb.detach().to(device).requires_grad_(True)
        discriminative_loss(e, inst.to(device), **KW)[0].backward()
        grads.append(e.grad.cpu())
    assert torch.allclose(grads[0], grads[1], rtol=1e-4, atol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu_including_autocast():
    emb, inst, kw, ignore = random_case(3)
    cpu = discriminative_loss(emb, inst, ignore_index=ignore, **kw)
    e = emb.cuda().requires_grad_(True)
    gpu = discriminative_loss(e, inst.cuda(), ignore_index=ignore, **kw)
    for a, b in zip(cpu, gpu):
        assert torch.allclose(a, b.cpu(), rtol=1e-5, atol=1e-6)
    gpu[0].backward()
    e_cpu = emb.clone().requires_grad_(True)
    discriminative_loss(e_cpu, inst, ignore_index=ignore, **kw)[0].backward()
    assert torch.allclose(e.grad.cpu(), e_cpu.grad, rtol=1e-4, atol=1e-6)
    with torch.autocast("cuda", dtype=torch.float16):
        half = discriminative_loss(e.half(), inst.cuda(), ignore_index=ignore, **kw)
    assert half[0].dtype == torch.float32
