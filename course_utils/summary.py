"""A layer-by-layer table of a network (lesson 2): output shape, parameters, output memory, MACs.

:func:`summarize` records the table with forward hooks; :func:`format_summary` prints it.
Conventions: tensors are (N, C, H, W); one multiply-accumulate (MAC) is counted as 2 FLOPs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn

from ._validate import check_int, describe_value

__all__ = ["LayerRow", "Summary", "summarize", "format_summary", "print_summary", "count_parameters", "layer_macs"]


@dataclass(frozen=True)
class LayerRow:
    """One row of :func:`summarize`.

    Attributes:
        name: the module's qualified name in the model (``"layer1.0.conv1"``).
        kind: its class name (``"Conv2d"``).
        output_shape: shape of the output tensor, e.g. ``(1, 64, 56, 56)``.
        params: parameters of the module (counted on its first call only).
        activation_bytes: bytes of the output tensor (what backward would keep).
        macs: multiply-accumulates of the convolutions / linear layers inside this call
            (batch-norm, activations, pooling and additions are not counted).
    """

    name: str
    kind: str
    output_shape: tuple[int, ...]
    params: int
    activation_bytes: int
    macs: int

    @property
    def flops(self) -> int:
        """Floating-point operations, counting one multiply-accumulate as 2 FLOPs."""
        return 2 * self.macs


@dataclass
class Summary:
    """What :func:`summarize` returns: the rows plus model-wide totals.

    Attributes:
        rows: one :class:`LayerRow` per call of a selected module, in forward order.
        input_shape: shape of the input used.
        total_params: all parameters of the model (each shared tensor once).
        param_bytes: bytes those parameters take.
        input_bytes: bytes of the input tensor.
    """

    rows: list[LayerRow]
    input_shape: tuple[int, ...]
    total_params: int
    param_bytes: int
    input_bytes: int

    @property
    def row_params(self) -> int:
        """Parameters summed over the rows (equals ``total_params`` when every module is covered)."""
        return sum(r.params for r in self.rows)

    @property
    def total_macs(self) -> int:
        """Multiply-accumulates of one forward pass, summed over the rows."""
        return sum(r.macs for r in self.rows)

    @property
    def total_flops(self) -> int:
        """Floating-point operations of one forward pass (2 per multiply-accumulate)."""
        return 2 * self.total_macs

    @property
    def activation_bytes(self) -> int:
        """Bytes of all recorded outputs together (an upper bound on what training keeps)."""
        return sum(r.activation_bytes for r in self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, i):
        return self.rows[i]

    def row(self, name: str) -> LayerRow:
        """The first row whose name is ``name``."""
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"name: no row called {name!r}; rows are {[r.name for r in self.rows][:12]}...")

    def __str__(self) -> str:
        return format_summary(self)


_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_TRANSPOSED = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


def layer_macs(module: nn.Module, inputs: tuple, output: Any) -> int:
    """Multiply-accumulates of one call of ``module`` (conv, transposed conv or linear; else 0).

    Conv: ``output elements * (C_in / groups) * prod(kernel)``; transposed conv:
    ``input elements * (C_out / groups) * prod(kernel)``; linear: ``output elements * in_features``.
    Biases are not counted.
    """
    if isinstance(module, _TRANSPOSED):
        x = inputs[0]
        return int(x.numel() * (module.out_channels // module.groups) * math.prod(module.kernel_size))
    if isinstance(module, _CONVS):
        return int(output.numel() * (module.in_channels // module.groups) * math.prod(module.kernel_size))
    if isinstance(module, nn.Linear):
        return int(output.numel() * module.in_features)
    return 0


def _first_tensor(obj):

    if isinstance(obj, torch.Tensor):
        return obj
    if isinstance(obj, dict):
        obj = list(obj.values())
    if isinstance(obj, (list, tuple)):
        for o in obj:
            t = _first_tensor(o)
            if t is not None:
                return t
    return None


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters of ``model`` (each shared tensor counted once)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {describe_value(model)}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _selected_modules(model, depth: int | None) -> list[tuple[str, Any]]:
    """Modules at ``depth`` in the module tree, plus leaves shallower than that (``None``: leaves)."""
    out = []
    for name, m in model.named_modules():
        if name == "":
            if depth == 0 or not any(True for _ in m.children()):
                out.append((name or type(m).__name__, m))
            continue
        level = name.count(".") + 1
        is_leaf = not any(True for _ in m.children())
        if depth is None:
            if is_leaf:
                out.append((name, m))
        elif level == depth or (level < depth and is_leaf):
            out.append((name, m))
    return out


def summarize(
    model: nn.Module,
    input_size: Sequence[int] | None = None,
    *,
    x: torch.Tensor | None = None,
    depth: int | None = None,
) -> Summary:
    """Run one forward pass with hooks and tabulate every selected module, in call order.

    Args:
        model: any ``torch.nn.Module`` taking one (N, C, H, W) tensor.
        input_size: shape of a zero input to use, e.g. ``(1, 3, 224, 224)``; or give ``x``.
        x: an input tensor (N, C, H, W) instead of ``input_size``.
        depth: which modules become rows: ``None`` every leaf module (Conv2d, ReLU, ...);
            ``1`` the model's direct children (``layer1`` ... for a ResNet); ``2`` one level deeper.

    Returns:
        A :class:`Summary`. A module called twice (a ReLU reused in a block) gives two rows;
        its parameters are counted on the first. The model is run in eval mode under
        ``torch.no_grad()`` and its train/eval mode is restored afterwards.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {describe_value(model)}")
    if (input_size is None) == (x is None):
        raise ValueError("input_size / x: give exactly one of them, e.g. input_size=(1, 3, 224, 224)")
    if x is None:
        if not isinstance(input_size, (tuple, list, torch.Size)) or len(input_size) < 2:
            raise ValueError(f"input_size: expected a shape such as (1, 3, 224, 224), got {input_size!r}")
        dims = [check_int(v, f"input_size[{i}]", min_value=1) for i, v in enumerate(input_size)]
        p0 = next(model.parameters(), None)
        x = torch.zeros(
            dims, dtype=p0.dtype if p0 is not None else torch.float32, device=p0.device if p0 is not None else "cpu"
        )
    elif not isinstance(x, torch.Tensor):
        raise TypeError(f"x: expected a torch.Tensor of shape (N, C, H, W), got {describe_value(x)}")
    if depth is not None:
        depth = check_int(depth, "depth", min_value=0)

    selected = _selected_modules(model, depth)
    sel_ids = {id(m) for _, m in selected}
    rows: list[LayerRow] = []
    stack: list[list[int]] = []
    seen: set[int] = set()
    handles = []

    def pre_hook(module, inputs):
        stack.append([0])

    def make_post(name):
        def post_hook(module, inputs, output):
            acc = stack.pop()[0]
            own = layer_macs(module, inputs, output) if not any(True for _ in module.children()) else 0
            macs = acc + own
            if stack:  # a selected module nested in another call (e.g. depth=0 root)
                stack[-1][0] += macs
            t = _first_tensor(output)
            params = 0
            if id(module) not in seen:
                seen.add(id(module))
                params = sum(p.numel() for p in module.parameters())
            rows.append(
                LayerRow(
                    name=name,
                    kind=type(module).__name__,
                    output_shape=tuple(t.shape) if t is not None else (),
                    params=params,
                    activation_bytes=int(t.numel() * t.element_size()) if t is not None else 0,
                    macs=int(macs),
                )
            )

        return post_hook

    def leaf_hook(module, inputs, output):
        if stack:
            stack[-1][0] += layer_macs(module, inputs, output)

    for name, m in selected:
        handles.append(m.register_forward_pre_hook(pre_hook))
        handles.append(m.register_forward_hook(make_post(name)))
    for _, m in model.named_modules():
        if id(m) not in sel_ids and not any(True for _ in m.children()):
            handles.append(m.register_forward_hook(leaf_hook))

    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)

    params = list({id(p): p for p in model.parameters()}.values())
    return Summary(
        rows=rows,
        input_shape=tuple(x.shape),
        total_params=sum(p.numel() for p in params),
        param_bytes=sum(p.numel() * p.element_size() for p in params),
        input_bytes=int(x.numel() * x.element_size()),
    )


def _human(n: float, unit: str = "") -> str:
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= div:
            return f"{n / div:.2f} {suffix}{unit}"
    return f"{n:.0f} {unit}".rstrip() if unit else f"{n:.0f}"


def format_summary(summary: Summary, max_rows: int | None = None) -> str:
    """The table of a :class:`Summary` as text: one line per row, then totals.

    Columns: name, type, output shape, parameters, output memory (MB, 1 MB = 10^6 bytes), MACs.
    ``max_rows`` shows the first rows only (the totals still cover all of them).
    """
    if not isinstance(summary, Summary):
        raise TypeError(f"summary: expected a layers.Summary from summarize(...), got {describe_value(summary)}")
    rows = summary.rows if max_rows is None else summary.rows[: check_int(max_rows, "max_rows", min_value=0)]
    w = max([len(r.name) for r in rows] + [5])
    head = f"{'layer':<{w}}  {'type':<17} {'output shape':<20} {'params':>11} {'out MB':>8} {'MACs':>10}"
    lines = [head, "-" * len(head)]
    lines.append(
        f"{'input':<{w}}  {'':<17} {str(list(summary.input_shape)):<20} {'':>11} "
        f"{summary.input_bytes / 1e6:>8.2f} {'':>10}"
    )
    for r in rows:
        lines.append(
            f"{r.name:<{w}}  {r.kind[:17]:<17} {str(list(r.output_shape)):<20} {r.params:>11,} "
            f"{r.activation_bytes / 1e6:>8.2f} {_human(r.macs):>10}"
        )
    if max_rows is not None and len(summary.rows) > len(rows):
        lines.append(f"... {len(summary.rows) - len(rows)} more rows")
    lines.append("-" * len(head))
    lines.append(
        f"total: {summary.total_params:,} parameters ({summary.param_bytes / 1e6:.2f} MB), "
        f"outputs {summary.activation_bytes / 1e6:.2f} MB, {_human(summary.total_macs)} MACs "
        f"= {_human(summary.total_flops)} FLOPs"
    )
    return "\n".join(lines)


def print_summary(summary: Summary, max_rows: int | None = None) -> None:
    """Print :func:`format_summary`."""
    print(format_summary(summary, max_rows=max_rows))
