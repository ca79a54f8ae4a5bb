"""Output sizes of convolution, pooling and transposed convolution (lessons 2 and 4).

:func:`conv_output_size` and :func:`conv_transpose_output_size` are the formulas that
``nn.Conv2d``, ``nn.MaxPool2d``, ``nn.AvgPool2d`` and ``nn.ConvTranspose2d`` implement, along one
axis: ``floor((n + 2p - d(k - 1) - 1) / s) + 1`` and ``(n - 1)s - 2p + d(k - 1) + output_padding + 1``.
"""

from __future__ import annotations

from typing import Any

from ._validate import check_int

__all__ = ["conv_output_size", "conv_transpose_output_size"]


def _geometry(kernel_size: Any, stride: Any, padding: Any, dilation: Any) -> tuple[int, int, int, int]:
    k = check_int(kernel_size, "kernel_size", min_value=1)
    s = check_int(stride, "stride", min_value=1)
    p = check_int(padding, "padding", min_value=0)
    d = check_int(dilation, "dilation", min_value=1)
    return k, s, p, d


def conv_output_size(
    size: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Output length of a convolution or pooling along one spatial axis.

    ``out = floor((size + 2*padding - dilation*(kernel_size-1) - 1) / stride) + 1``
    (``ceil`` instead of ``floor`` when ``ceil_mode``, as ``nn.MaxPool2d(ceil_mode=True)`` does,
    dropping a last window that would start in the right padding).

    Args:
        size: input length H (or W), an int >= 1.
        kernel_size: kernel length, an int >= 1.
        stride: step between windows, an int >= 1.
        padding: zeros added on both sides, an int >= 0.
        dilation: spacing between kernel taps, an int >= 1.
        ceil_mode: round up instead of down (pooling layers only).

    Returns:
        The output length, an int >= 1.

    Raises:
        ValueError: when the dilated kernel ``dilation*(kernel_size-1)+1`` is longer than the
            padded input ``size + 2*padding``, or an argument is out of range.
    """
    n = check_int(size, "size", min_value=1)
    k, s, p, d = _geometry(kernel_size, stride, padding, dilation)
    span = d * (k - 1) + 1
    if span > n + 2 * p:
        raise ValueError(
            f"kernel_size: the dilated kernel spans dilation*(kernel_size-1)+1 = {span} pixels, more "
            f"than the padded input size + 2*padding = {n + 2 * p}; no output position fits"
        )
    num = n + 2 * p - span
    if ceil_mode:
        out = -(-num // s) + 1
        if (out - 1) * s >= n + p:  # last window would start inside the right padding
            out -= 1
    else:
        out = num // s + 1
    return out


def conv_transpose_output_size(
    size: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
) -> int:
    """Output length of a transposed convolution (``nn.ConvTranspose2d``) along one axis.

    ``out = (size - 1)*stride - 2*padding + dilation*(kernel_size - 1) + output_padding + 1``

    Args:
        size: input length, an int >= 1.
        kernel_size: kernel length, an int >= 1.
        stride: the stride of the convolution it inverts, an int >= 1.
        padding: the padding of the convolution it inverts, an int >= 0.
        output_padding: int in ``[0, max(stride, dilation) - 1]``: extra rows added on one side
            to pick between the input sizes a strided convolution maps to the same output size.
        dilation: spacing between kernel taps, an int >= 1.

    Returns:
        The output length, an int >= 1.

    Raises:
        ValueError: for an out-of-range argument, or when the padding crops everything away.
    """
    n = check_int(size, "size", min_value=1)
    k, s, p, d = _geometry(kernel_size, stride, padding, dilation)
    op = check_int(output_padding, "output_padding", min_value=0)
    if op >= max(s, d):
        raise ValueError(f"output_padding: expected an int smaller than max(stride, dilation) = {max(s, d)}, got {op}")
    out = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
    if out < 1:
        raise ValueError(
            f"padding: 2*padding = {2 * p} removes the whole output (it would have "
            f"{out + 2 * p} pixels before cropping); use a smaller padding"
        )
    return out
