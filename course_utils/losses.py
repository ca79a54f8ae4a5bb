"""Losses for learning embeddings whose clusters are instances (lesson 7).

:func:`discriminative_loss` implements the loss of De Brabandere, Neven & Van Gool, *Semantic
Instance Segmentation with a Discriminative Loss Function* (2017), for one image and then averaged
over the batch. For an image with instances ``c = 1..C`` (``N_c`` pixels each, embeddings ``x_i``,
instance means ``mu_c``)::

    var  = 1/C      sum_c  1/N_c sum_{i in c} [ ||mu_c - x_i|| - delta_v ]_+^2
    dist = 1/(C(C-1)) sum_{c != c'} [ 2 delta_d - ||mu_c - mu_c'|| ]_+^2      (0 when C < 2)
    reg  = 1/C      sum_c  ||mu_c||
    total = alpha * var + beta * dist + gamma * reg

Points on which public ports of the loss often differ from the paper, and what is done here:

* the pull term is a mean *per instance* and then over instances -- a large instance does not
  weigh more than a small one (not a pixel-weighted mean over all pixels);
* the push term runs over ordered pairs ``c != c'`` and is divided by ``C(C-1)``, with margin
  ``2 * delta_d`` (the paper's Eq. 2);
* the Euclidean norm is computed with a "safe" square root (:func:`safe_norm`): its value equals
  the norm down to 1e-19 (float32) and its gradient at a zero vector is 0 instead of NaN;
* every label value is an instance (background too), except ``ignore_index``.

Two implementations with the same semantics:

* :func:`discriminative_loss` -- vectorised over the batch and the instances (one slot per
  instance of each image, ``scatter_add_`` means and pull sums, a padded pairwise-distance
  matrix); use this one.
* :func:`discriminative_loss_reference` -- a plain loop over images and instances, written to be
  read. It is slow and is kept for teaching and for the benchmark in ``benchmarks/``.
"""

from __future__ import annotations

import torch

from ._validate import check_float, describe_value

__all__ = ["discriminative_loss", "discriminative_loss_reference", "safe_norm"]

# Label values serve directly as instance slots while the per-slot tables stay small next to the
# image: (max_label + 2) * _LANES <= H*W / 4 + 1024. Larger label values are renumbered first
# (``torch.unique``, a sort of the labels).
_MAX_SLOT_FRACTION = 4


def safe_norm(v: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Euclidean norm along ``dim`` whose value and gradient are finite everywhere.

    ``torch.sqrt`` has an infinite derivative at 0, so ``sqrt(sum(v**2))`` yields NaN gradients
    (``0 * inf``) when ``v`` is exactly zero -- e.g. a pixel that sits on its instance mean, or two
    identical instance means. Here the squared norm is clamped from below at the smallest positive
    normal number of the dtype, ``eps = torch.finfo(dtype).tiny`` (1.2e-38 for float32, 2.2e-308
    for float64), before the square root. The value therefore differs from the exact norm only
    for norms below ``sqrt(eps)`` (1.1e-19 in float32), and the gradient at ``v = 0`` is 0 -- a
    valid subgradient of the norm -- because the clamp blocks it.
    """
    sq = (v * v).sum(dim)
    return torch.sqrt(sq.clamp(min=torch.finfo(sq.dtype).tiny))


_LANES = 8  # interleaved partial sums per instance slot (see _segment_sum)


def _segment_sum(v: torch.Tensor, lanes: torch.Tensor, K: int) -> torch.Tensor:
    """Per-slot sums (B, C, K) of ``v`` (B, C, P); ``lanes`` (B, P) is ``slot + K * (p % _LANES)``.

    Neighbouring pixels mostly belong to the same instance. With one accumulator per slot, each
    addition would wait for the previous one to the same address (on a CPU, a chain of dependent
    read-add-writes that cannot overlap). Pixel ``p`` therefore adds into partial sum
    ``p % _LANES`` of its slot, and the partial sums are added at the end: the same sums up to
    float rounding, without the chain.
    """
    B, C, _ = v.shape
    out = v.new_zeros(B, C, _LANES * K).scatter_add_(2, lanes[:, None, :].expand_as(v), v)
    return out.view(B, C, _LANES, K).sum(2)


_BLOCK = 1 << 20  # values per block of channels in _PullAndMeans (2 channels of 8 x 256 x 256)


def _per_pixel(table: torch.Tensor, slot: torch.Tensor) -> torch.Tensor:
    """Look up ``table`` (B, C, K) at each pixel's slot ``slot`` (B, P): (B, C, P)."""
    B, C, _ = table.shape
    return torch.gather(table, 2, slot[:, None, :].expand(B, C, slot.shape[1]))


class _PullAndMeans(torch.autograd.Function):
    """Instance means and summed pull hinges of every image, in few passes over the pixels.

    Inputs: ``x`` (B, D, P) pixel embeddings (P = H*W, the embedding's own memory layout, no
    copy); ``slot`` (B, P) int64, the instance slot in [0, K) of each pixel within its image (the
    last slot collects the ignored pixels and is discarded by the caller); ``lanes`` (B, P) int64,
    ``slot + K * (p % _LANES)`` (see :func:`_segment_sum`);
    ``counts`` (B, K) pixels per slot (0 for the ignored slot, whose "mean" is then a plain sum
    that the caller discards); ``delta_v``. Outputs: ``mu`` (B, D, K) the slot means,
    ``hinge_sum`` (B, K) the sum over the slot's pixels of ``[||mu - x_i|| - delta_v]_+^2``.

    Autograd could differentiate the same few lines, but it would keep several (B, D, P)
    temporaries and visit them more often; on a CPU, the time of the loss goes into these passes
    and into the memory they allocate. Here the channels are processed in blocks of about
    ``_BLOCK`` values (a few channels at a time for large images, all at once for small ones; a
    loop over channels, not over instances). The forward pass allocates one (B, D, P) array,
    ``mu_c - x_i``; it is needed again for the gradient, so it is kept (on ``ctx``, not saved with
    ``save_for_backward``) and the first backward pass turns it into the gradient in place: one
    per-pixel lookup of the means fewer, and no separate gradient array. The backward pass
    allocates one scratch block of as many channels as a block has (a whole second (B, D, P) array
    when all channels fit in one block, i.e. for small images). A further backward pass through a
    retained graph recomputes the differences. For a pixel ``i`` of instance ``c`` with
    ``g_i = 2 t_i (x_i - mu_c) / ||x_i - mu_c||`` times the incoming gradient of its hinge sum,
    ``dL/dx_i = g_i + (dL/dmu_c - sum_{j in c} g_j) / N_c`` (the second part through the mean).
    First derivatives only (``once_differentiable``).
    """

    @staticmethod
    def forward(ctx, x, slot, lanes, counts, delta_v):
        B, D, P = x.shape
        K = counts.shape[1]
        ctx.step = step = max(1, _BLOCK // (B * P))  # channels per block
        mu = _segment_sum(x, lanes, K) / counts.clamp(min=1)[:, None, :]
        sq = x.new_zeros(B, P)
        diff = torch.empty_like(x)  # mu_c - x_i, kept: the backward pass turns it into the gradient
        for d in range(0, D, step):  # ||x_i - mu_c||^2, a block of channels at a time
            diff_d = diff[:, d : d + step]
            torch.gather(mu[:, d : d + step], 2, slot[:, None, :].expand_as(diff_d), out=diff_d).sub_(
                x[:, d : d + step]
            )
            for k in range(diff_d.shape[1]):
                sq.addcmul_(diff_d[:, k], diff_d[:, k])
        dist = sq.clamp_(min=torch.finfo(x.dtype).tiny).sqrt_()  # safe norm, see safe_norm
        t = (dist - delta_v).clamp_(min=0)
        hinge_sum = _segment_sum((t * t)[:, None, :], lanes, K)[:, 0]
        ctx.save_for_backward(x, mu, dist, t, slot, lanes, counts)
        ctx.diff = diff  # not save_for_backward: the first backward pass overwrites it in place
        return mu, hinge_sum

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_mu, grad_hinge_sum):
        x, mu, dist, t, slot, lanes, counts = ctx.saved_tensors
        B, D, P = x.shape
        K, step = counts.shape[1], ctx.step
        if grad_hinge_sum is None:
            grad_hinge_sum = x.new_zeros(B, K)
        if grad_mu is None:
            grad_mu = x.new_zeros(B, D, K)
        # d hinge / d x_i = 2 t_i * (x_i - mu) / ||x_i - mu||  (t_i = 0 whenever ||.|| <= delta_v);
        # diff holds mu - x_i, hence the minus sign.
        coeff = _per_pixel(grad_hinge_sum[:, None, :], slot).mul_(t[:, None, :]).div_(dist[:, None, :]).mul_(-2.0)
        inv_n = 1.0 / counts.clamp(min=1)[:, None, :]
        g, ctx.diff = ctx.diff, None  # becomes the gradient, in place
        if g is None:  # a second backward pass through a retained graph: recompute mu - x
            g = _per_pixel(mu, slot).sub_(x)
        scratch = x.new_empty(B, min(step, D), P)
        for d in range(0, D, step):  # a block of channels at a time: the block stays in cache
            g_d = g[:, d : d + step].mul_(coeff)
            through_mean = (grad_mu[:, d : d + step] - _segment_sum(g_d, lanes, K)) * inv_n
            g_d += torch.gather(through_mean, 2, slot[:, None, :].expand_as(g_d), out=scratch[:, : g_d.shape[1]])
        return g, None, None, None, None


def _compute_dtype(embedding: torch.Tensor) -> torch.dtype:
    # float64 stays float64 (gradcheck, careful experiments); float16/bfloat16/float32 -> float32.
    return torch.float64 if embedding.dtype == torch.float64 else torch.float32


def _validate(embedding, instances, delta_v, delta_d, alpha, beta, gamma, ignore_index):
    if not isinstance(embedding, torch.Tensor):
        raise TypeError(f"embedding: expected a torch.Tensor of shape (B, D, H, W), got {describe_value(embedding)}")
    if not isinstance(instances, torch.Tensor):
        raise TypeError(f"instances: expected a torch.Tensor of shape (B, H, W), got {describe_value(instances)}")
    if not embedding.is_floating_point():
        raise TypeError(
            f"embedding: expected a floating-point tensor (float16/bfloat16/float32/float64), got dtype {embedding.dtype}"
        )
    if embedding.ndim != 4:
        raise ValueError(
            f"embedding: expected shape (B, D, H, W) with 4 dimensions, got shape {tuple(embedding.shape)}"
        )
    B, D, H, W = embedding.shape
    if D == 0:
        raise ValueError(
            f"embedding: expected at least one embedding channel (D >= 1), got shape {tuple(embedding.shape)}"
        )
    if B == 0 or H == 0 or W == 0:
        raise ValueError(
            f"embedding: expected a non-empty batch and image (B, H, W >= 1), got shape {tuple(embedding.shape)}"
        )
    if instances.is_floating_point() or instances.is_complex():
        raise TypeError(
            f"instances: expected integer instance labels (e.g. torch.long), got dtype {instances.dtype}; "
            f"convert label maps with .long() only if their values are whole numbers"
        )
    if instances.ndim != 3:
        hint = (
            " -- drop the channel axis, e.g. instances[:, 0]" if instances.ndim == 4 and instances.shape[1] == 1 else ""
        )
        raise ValueError(
            f"instances: expected shape (B, H, W) = ({B}, {H}, {W}) with 3 dimensions, got shape {tuple(instances.shape)}{hint}"
        )
    if instances.shape[0] != B:
        raise ValueError(
            f"instances: expected batch size B = {B} (from embedding of shape {tuple(embedding.shape)}), "
            f"got shape {tuple(instances.shape)}"
        )
    if tuple(instances.shape[1:]) != (H, W):
        raise ValueError(
            f"instances: expected spatial size (H, W) = ({H}, {W}) like embedding of shape {tuple(embedding.shape)}, "
            f"got shape {tuple(instances.shape)}"
        )
    if instances.device != embedding.device:
        raise ValueError(
            f"instances: expected a tensor on the embedding's device {embedding.device}, got device {instances.device}"
        )
    params = {
        "delta_v": check_float(delta_v, "delta_v", min_value=0.0),
        "delta_d": check_float(delta_d, "delta_d", min_value=0.0),
        "alpha": check_float(alpha, "alpha", min_value=0.0),
        "beta": check_float(beta, "beta", min_value=0.0),
        "gamma": check_float(gamma, "gamma", min_value=0.0),
    }
    if ignore_index is not None:
        if isinstance(ignore_index, bool) or not isinstance(ignore_index, int):
            raise TypeError(f"ignore_index: expected None or an int, got {describe_value(ignore_index)}")
    return params


def _check_no_negative(labels: torch.Tensor, valid: torch.Tensor | None, ignore_index) -> None:
    if labels.numel() == 0 or int(labels.min()) >= 0:
        return
    neg = labels < 0
    if valid is not None:
        neg = neg & valid
    if bool(neg.any()):
        bad = int(labels[neg][0])
        extra = (
            f" other than ignore_index={ignore_index}"
            if ignore_index is not None
            else " (set ignore_index to mark ignored pixels)"
        )
        raise ValueError(f"instances: expected non-negative labels{extra}, got label {bad}")


def discriminative_loss(
    embedding: torch.Tensor,
    instances: torch.Tensor,
    *,
    delta_v: float = 0.5,
    delta_d: float = 1.5,
    alpha: float = 1.0,
    beta: float = 1.0,
    gamma: float = 0.001,
    ignore_index: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Discriminative loss (De Brabandere et al. 2017), vectorised over batch and instances.

    Args:
        embedding: Pixel embeddings, shape (B, D, H, W), floating point. float16/bfloat16/float32
            inputs are computed in float32 (also under ``torch.autocast``, which is switched off
            inside); float64 inputs are computed in float64.
        instances: Instance label per pixel, shape (B, H, W), integer (or bool). Every value is an
            instance, background included, except ``ignore_index``. Labels need not be consecutive
            (e.g. 3, 17, 1000) and must be >= 0.
        delta_v: Pull margin: a pixel closer than ``delta_v`` to its mean is not pulled.
        delta_d: Push margin: two means further apart than ``2 * delta_d`` are not pushed.
        alpha: Weight of the pull (var) term.
        beta: Weight of the push (dist) term.
        gamma: Weight of the regularisation (reg) term.
        ignore_index: Label whose pixels take no part in the loss, or None.

    Returns:
        ``(total, var, dist, reg)``, four 0-d tensors (float32, or float64 for float64 input), each
        the mean over the images of the batch of the per-image terms (see the module docstring). An
        image whose pixels are *all* ignored has no instances and is left out of the mean; if every
        image of the batch is fully ignored the four terms are 0 and still connected to
        ``embedding`` (their gradient is zero). ``dist`` of an image with one instance is 0, and that
        image does count in the mean of ``dist``.

    Note:
    Vectorised: label value ``l`` of image ``b`` is instance slot ``l`` of image ``b`` (label values
    that are large next to the image size are renumbered first, a sort); instance means and
    per-instance pull sums are ``scatter_add_`` over the slots of the (B, D, H*W) embedding in one
    fused autograd function with a hand-written backward (``_LANES`` interleaved partial sums per slot,
    and passes over blocks of channels rather than (B, D, H*W) temporaries: see ``_segment_sum``
    and ``_PullAndMeans``); the push term packs each image's means into a padded (B, C_max, D)
    tensor and uses a (B, C_max, C_max) pairwise-distance matrix, masked.
    There is no Python loop over images or instances (only one over blocks of channels). Norms use
    :func:`safe_norm`, so values and gradients are finite when distances are exactly zero. The
    input is not checked for NaN/inf.
    """
    p = _validate(embedding, instances, delta_v, delta_d, alpha, beta, gamma, ignore_index)
    B, D, H, W = embedding.shape
    dtype = _compute_dtype(embedding)
    with torch.autocast(device_type=embedding.device.type, enabled=False):
        x = embedding.to(dtype).reshape(B, D, H * W)  # a view for a contiguous embedding
        labels = instances.reshape(B, H * W).long()
        valid = None if ignore_index is None else labels != ignore_index
        lab_v = labels if valid is None else labels[valid]
        n_pix = lab_v.numel()
        min_label, max_label = (int(v) for v in torch.aminmax(lab_v)) if n_pix else (0, 0)
        if min_label < 0:
            _check_no_negative(lab_v, None, ignore_index)

        # 1. Slots: label value l of image b is slot l of image b; one extra slot (the last) takes
        #    the ignored pixels. Absent labels leave empty slots. Huge label values are renumbered.
        if (max_label + 2) * _LANES > H * W // _MAX_SLOT_FRACTION + 1024:
            _, compact = torch.unique(lab_v, return_inverse=True)
            max_label = int(compact.max()) if n_pix else 0
            if valid is None:
                labels = compact.reshape(B, H * W)
            else:
                labels = torch.zeros_like(labels).masked_scatter_(valid, compact)
        n_lab = max_label + 1  # label slots 0..n_lab-1
        K = n_lab + 1  # + the ignored slot
        slot = labels if valid is None else torch.where(valid, labels, n_lab)  # (B, H*W)
        lanes = slot + K * (torch.arange(H * W, device=x.device) % _LANES)  # accumulator lane (_segment_sum)
        counts = _segment_sum(x.new_ones(()).expand(B, 1, H * W), lanes, K)[:, 0]  # (B, K) pixels per slot
        counts[:, n_lab] = 0  # ignored pixels are not an instance

        # 2. Means (B, D, K) and per-instance sums of the pull hinge (B, K), fused.
        mu_all, hinge_sum = _PullAndMeans.apply(x, slot, lanes, counts, p["delta_v"])
        n_c = counts[:, :n_lab]  # (B, n_lab): 0 for the labels absent from an image
        present = n_c > 0
        n_inst = present.sum(1)  # C per image, (B,)
        has_inst = n_inst > 0
        c_f = n_inst.to(dtype).clamp(min=1)

        # 3. Each image's instance means packed in label order, padded with the (zero) means of
        #    empty slots: (B, C_max, D).
        c_max = int(n_inst.max())
        first = torch.sort(present.to(torch.uint8), dim=1, descending=True, stable=True).indices[:, :c_max]
        mu = torch.gather(mu_all[:, :, :n_lab], 2, first[:, None, :].expand(B, D, c_max)).transpose(1, 2)
        real = torch.arange(c_max, device=x.device)[None, :] < n_inst[:, None]  # (B, C_max), False = padding

        # 4. Pull (var): mean per instance, then over the instances of the image.
        var_b = (hinge_sum[:, :n_lab] / n_c.clamp(min=1)).sum(1) / c_f
        # 5. Regulariser: mean norm of the instance means (padding slots masked out).
        reg_b = torch.where(real, safe_norm(mu), torch.zeros_like(mu[:, :, 0])).sum(1) / c_f
        # 6. Push (dist): masked pairwise distances between the means of an image, / C(C-1).
        if c_max >= 2:
            pair = real[:, :, None] & real[:, None, :]
            pair &= ~torch.eye(c_max, dtype=torch.bool, device=x.device)[None]
            d_push = safe_norm(mu[:, :, None, :] - mu[:, None, :, :])  # (B, C_max, C_max)
            hinge_d = torch.clamp(2.0 * p["delta_d"] - d_push, min=0) ** 2
            hinge_d = torch.where(pair, hinge_d, torch.zeros_like(hinge_d))
            n_pairs = (n_inst * (n_inst - 1)).to(dtype).clamp(min=1)
            dist_b = hinge_d.sum(dim=(1, 2)) / n_pairs
        else:
            dist_b = torch.zeros(B, dtype=dtype, device=x.device) + 0.0 * mu.sum()

        # 7. Mean over the images that have at least one (non-ignored) pixel.
        w = has_inst.to(dtype)
        n_img = w.sum().clamp(min=1)
        var = (var_b * w).sum() / n_img
        dist = (dist_b * w).sum() / n_img
        reg = (reg_b * w).sum() / n_img
        if c_max == 0:  # every pixel ignored: zeros that stay connected to the embedding
            anchor = 0.0 * embedding.to(dtype).sum()
            var, dist, reg = var + anchor, dist + anchor, reg + anchor
        total = p["alpha"] * var + p["beta"] * dist + p["gamma"] * reg
    return total, var, dist, reg


def discriminative_loss_reference(
    embedding: torch.Tensor,
    instances: torch.Tensor,
    *,
    delta_v: float = 0.5,
    delta_d: float = 1.5,
    alpha: float = 1.0,
    beta: float = 1.0,
    gamma: float = 0.001,
    ignore_index: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The same loss as :func:`discriminative_loss`, written as loops over images and instances.

    Slow on purpose -- it reads like the paper's equations and is used for teaching and as the
    baseline of the speed benchmark. Same arguments, returns and conventions.
    """
    p = _validate(embedding, instances, delta_v, delta_d, alpha, beta, gamma, ignore_index)
    dtype = _compute_dtype(embedding)
    with torch.autocast(device_type=embedding.device.type, enabled=False):
        emb = embedding.to(dtype)
        valid_all = None if ignore_index is None else instances != ignore_index
        _check_no_negative(instances, valid_all, ignore_index)
        var_terms, dist_terms, reg_terms = [], [], []
        for b in range(emb.shape[0]):
            x = emb[b].flatten(1)  # (D, H*W)
            lab = instances[b].flatten()
            if ignore_index is not None:
                keep = lab != ignore_index
                x, lab = x[:, keep], lab[keep]
            if lab.numel() == 0:
                continue  # a fully ignored image has no instance: left out of the batch mean
            means, pulls = [], []
            for c in torch.unique(lab):
                xc = x[:, lab == c]  # (D, N_c)
                mu = xc.mean(dim=1)
                means.append(mu)
                d = safe_norm(xc - mu[:, None], dim=0)
                pulls.append((torch.clamp(d - p["delta_v"], min=0) ** 2).mean())
            C = len(means)
            var_terms.append(torch.stack(pulls).mean())
            reg_terms.append(torch.stack([safe_norm(m, dim=0) for m in means]).mean())
            push = emb.new_zeros((), dtype=dtype)
            if C >= 2:  # pairs through a (C, C) distance matrix of the stacked means
                M = torch.stack(means)  # (C, D)
                d = safe_norm(M[:, None, :] - M[None, :, :])  # (C, C)
                off_diagonal = ~torch.eye(C, dtype=torch.bool, device=M.device)
                push = (torch.clamp(2.0 * p["delta_d"] - d[off_diagonal], min=0) ** 2).sum() / (C * (C - 1))
            dist_terms.append(push)
        anchor = 0.0 * emb.sum()
        if not var_terms:
            zero = anchor
            return zero, zero, zero, zero
        var = torch.stack(var_terms).mean() + anchor
        dist = torch.stack(dist_terms).mean() + anchor
        reg = torch.stack(reg_terms).mean() + anchor
        total = p["alpha"] * var + p["beta"] * dist + p["gamma"] * reg
    return total, var, dist, reg
