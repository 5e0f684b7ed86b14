"""Which arithmetic is fast where: bfloat16 matmuls are native on CPUs with AMX or AVX512-BF16 (through
oneDNN) and on recent CUDA GPUs; elsewhere they are emulated and slower than float32."""

from __future__ import annotations

import torch

from vcore.errors import UserError


def bf16_native(device: torch.device) -> bool:
    """Whether bfloat16 matmuls are native on `device` (AMX/AVX512-BF16 through oneDNN, or CUDA)."""
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device.type == "cpu":
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return False


PRECISIONS = ("auto", "fp32", "bf16")


def check_precision(precision: str, name: str = "--precision") -> None:
    """UserError unless `precision` is auto, fp32 or bf16 (`name` is the option named in the message)."""
    if precision not in PRECISIONS:
        raise UserError(f"{name} must be auto, fp32 or bf16, got {precision!r}")


def use_bf16(precision: str, device: torch.device) -> bool:
    """Whether to compute in bfloat16: always for "bf16", where native (`bf16_native`) for "auto"."""
    check_precision(precision)
    return precision == "bf16" or (precision == "auto" and bf16_native(device))
