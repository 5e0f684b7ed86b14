"""Choosing bf16 arithmetic: "bf16" always, "auto" where native, "fp32" never; other values one clear error."""

from __future__ import annotations

import pytest
import torch

from vcore.errors import UserError
from vcore.precision import bf16_native, use_bf16


def test_use_bf16_follows_the_setting_and_the_device() -> None:
    cpu = torch.device("cpu")
    assert use_bf16("bf16", cpu) is True
    assert use_bf16("fp32", cpu) is False
    assert use_bf16("auto", cpu) is bf16_native(cpu)
    assert use_bf16("auto", torch.device("meta")) is False  # neither CPU nor CUDA: no native bf16
    with pytest.raises(UserError, match="--precision must be auto, fp32 or bf16, got 'fp16'"):
        use_bf16("fp16", cpu)
