"""The all-MiniLM-L6-v2 encoder: pooling by hand, unit embeddings with sensible cosines, fingerprints."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest
import torch

from vcore.errors import UserError
from vodqa.encoder import EMBED_DIM, embed, load_base_model, load_tokenizer, mean_pool, weights_fingerprint


@pytest.fixture(scope="module")
def minilm() -> tuple[Any, Any]:
    return load_base_model(), load_tokenizer()


def test_mean_pool_by_hand() -> None:
    hidden = torch.tensor(
        [
            [[1.0, 0.0], [3.0, 4.0], [100.0, 100.0]],  # third token masked: mean (2, 2)
            [[0.0, 3.0], [7.0, 7.0], [7.0, 7.0]],  # only the first token: (0, 3)
        ]
    )
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    pooled = mean_pool(hidden, mask)
    s = 1 / math.sqrt(2)
    torch.testing.assert_close(pooled, torch.tensor([[s, s], [0.0, 1.0]]), rtol=0, atol=1e-7)


def test_embed_unit_rows_and_cosines(minilm: tuple[Any, Any]) -> None:
    model, tok = minilm
    texts = ["a young dog", "puppy", "spreadsheet"]
    for precision in ("fp32", "auto"):
        v = embed(model, tok, texts, precision=precision)
        assert v.dtype == np.float32
        assert v.shape == (3, EMBED_DIM)
        np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
        assert v[0] @ v[1] > v[0] @ v[2] + 0.3  # measured 0.507 vs 0.068


def test_embed_matches_recorded_cosines_and_keeps_order(minilm: tuple[Any, Any]) -> None:
    model, tok = minilm
    texts = ["spreadsheet", "a young dog that plays in the garden all day long", "puppy", "a young dog"]
    together = embed(model, tok, texts, batch_size=2, precision="fp32")  # sorted by length, batched by 2
    alone = np.concatenate([embed(model, tok, [t], precision="fp32") for t in texts])
    np.testing.assert_allclose(together, alone, atol=2e-6)
    # recorded with sentence-transformers' SentenceTransformer("all-MiniLM-L6-v2").encode (identical to 1e-7)
    assert float(alone[3] @ alone[2]) == pytest.approx(0.50696, abs=2e-4)
    assert float(alone[3] @ alone[0]) == pytest.approx(0.06834, abs=2e-4)
    bf16 = embed(model, tok, texts, precision="bf16")
    assert np.min(np.sum(bf16 * alone, axis=1)) > 0.995


def test_embed_same_as_sentence_transformers(minilm: tuple[Any, Any]) -> None:
    st = pytest.importorskip("sentence_transformers")
    from vodqa.encoder import base_model_path

    model, tok = minilm
    texts = ["dog, domestic dog: (noun) a member of the genus Canis", "a young dog"]
    reference = st.SentenceTransformer(str(base_model_path()), device="cpu", local_files_only=True).encode(
        texts
    )
    np.testing.assert_allclose(embed(model, tok, texts, precision="fp32"), reference, atol=1e-5)


def test_embed_empty_and_bad_arguments(minilm: tuple[Any, Any]) -> None:
    model, tok = minilm
    assert embed(model, tok, []).shape == (0, EMBED_DIM)
    with pytest.raises(UserError, match="precision must be one of auto, fp32, bf16"):
        embed(model, tok, ["x"], precision="fp16")
    with pytest.raises(UserError, match="batch size must be at least 1"):
        embed(model, tok, ["x"], batch_size=0)


def test_weights_fingerprint_recorded_stable_and_sensitive(minilm: tuple[Any, Any]) -> None:
    tiny = torch.nn.Linear(2, 1)
    with torch.no_grad():
        tiny.weight.copy_(torch.tensor([[1.0, -2.0]]))
        tiny.bias.fill_(0.5)
    assert weights_fingerprint(tiny) == "f57e149fe3535b56"  # recorded
    model, _ = minilm
    first = weights_fingerprint(model)
    assert len(first) == 16
    assert weights_fingerprint(model) == first
    twin = copy.deepcopy(model)
    assert weights_fingerprint(twin) == first
    with torch.no_grad():
        twin.encoder.layer[5].output.dense.weight[0, 0] += 1e-3
    assert weights_fingerprint(twin) != first
    assert weights_fingerprint(twin.to(torch.bfloat16)) != weights_fingerprint(model)
