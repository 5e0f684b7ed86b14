"""Which arithmetic is fast where: bfloat16 matmuls are native on CPUs with AMX or AVX512-BF16 (through
oneDNN) and on recent CUDA GPUs; elsewhere they are emulated and slower than float32."""

from __future__ import annotations

import torch


def bf16_native(device: torch.device) -> bool:
    """Whether bfloat16 matmuls are native on `device` (AMX/AVX512-BF16 through oneDNN, or CUDA)."""
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device.type == "cpu":
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return False
