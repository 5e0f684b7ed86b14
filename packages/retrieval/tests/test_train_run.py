"""`vodqa train` end to end on a tiny corpus: checkpoint export/load, exact resume across re-indexing, baselines."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from vcore.errors import UserError
from vodqa.corpus.passage import Passage
from vodqa.index import Index, build_index
from vodqa.inference import QASystem
from vodqa.model.checkpoint import DELTA_NAME, load_checkpoint, trained_tensors
from vodqa.questions.question import Question, write_questions
from vodqa.train.run import TrainOptions, _Trainer, train_vodqa

ANIMALS = {
    "puppy": "a young dog",
    "kitten": "a young cat",
    "foal": "a young horse",
    "calf": "a young cow",
    "lamb": "a young sheep",
    "piglet": "a young pig",
    "cub": "a young bear or lion",
    "chick": "a young bird",
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("vodqa-train")
    passages = [Passage(f"p{i}", word, f"(noun) {gloss}") for i, (word, gloss) in enumerate(ANIMALS.items())]
    index = build_index(passages, root / "index")
    words = list(ANIMALS)
    questions = [
        Question(
            question=f"the baby of a {gloss.split()[-1]}",
            options=[w, *[x for x in words if x != w][i % 5 : i % 5 + 3]],
            answer_idx=0,
            id=f"q{i}",
            gold=f"p{i}",
        )
        for i, (w, gloss) in enumerate(ANIMALS.items())
    ]
    write_questions(root / "train.jsonl", questions)
    return {"root": root, "index": index, "questions": root / "train.jsonl"}


def _options(tiny: dict[str, Path], out: Path, **kw: object) -> TrainOptions:
    base = {
        "index": tiny["index"],
        "questions": tiny["questions"],
        "out": out,
        "max_steps": 4,
        "batch_size": 2,
        "passages": 2,
        "top_p": 4,
        "reindex_every": 2,
        "checkpoint_every": 1,
        "eval_every": 0,
        "progress": False,
    }
    base.update(kw)
    return TrainOptions(**base)  # type: ignore[arg-type]


class Crash(Exception):
    pass


def test_vod_training_resumes_exactly_after_a_crash_past_a_reindex(
    tiny: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tiny["root"]
    straight = train_vodqa(_options(tiny, root / "straight"))
    assert straight["step"] == 4
    real_loss = _Trainer._loss

    def crash_at_step_3(self: _Trainer, model: torch.nn.Module, batch: object) -> object:
        if self.calls == 3:
            raise Crash
        return real_loss(self, model, batch)  # type: ignore[arg-type]

    monkeypatch.setattr(_Trainer, "_loss", crash_at_step_3)
    with pytest.raises(Crash):  # steps 0-2 done and checkpointed, re-indexed at step 2, crash in step 3
        train_vodqa(_options(tiny, root / "split"))
    monkeypatch.setattr(_Trainer, "_loss", real_loss)
    resumed = train_vodqa(_options(tiny, root / "split", resume=True))
    assert resumed["step"] == 4
    assert json.loads((root / "split.run" / "reindex" / "meta.json").read_text())["step"] == 2
    a, b = load_file(str(root / "straight" / DELTA_NAME)), load_file(str(root / "split" / DELTA_NAME))
    assert a.keys() == b.keys()
    assert any(k.startswith("retriever.") for k in a)
    for name in a:
        assert torch.equal(a[name], b[name]), name
    with pytest.raises(UserError, match="already there"):
        train_vodqa(_options(tiny, root / "split", max_steps=6))


def test_exported_checkpoint_reloads_the_trained_weights(tiny: dict[str, Path]) -> None:
    root = tiny["root"]
    train_vodqa(_options(tiny, root / "export", max_steps=2))
    full = load_checkpoint(root / "export.run" / "checkpoint")
    shipped = load_checkpoint(root / "export")
    for name, value in trained_tensors(full).items():
        torch.testing.assert_close(shipped.state_dict()[name], value, atol=2e-6, rtol=1e-3)
    # the shipped folder holds only the trained layers: 2 x 2 MiniLM layers in fp16 + the head
    size = (root / "export" / DELTA_NAME).stat().st_size
    assert 13e6 < size < 16e6


def test_baseline_checkpoint_answers_and_checks_the_index_encoder(tiny: dict[str, Path]) -> None:
    root = tiny["root"]
    train_vodqa(_options(tiny, root / "bm25", method="bm25", max_steps=2))
    model = load_checkpoint(root / "bm25")
    assert not any(name.startswith("retriever.") for name in trained_tensors(model))
    index = Index.load(tiny["index"])
    answer = QASystem(model, index, k=3).answer("a young dog", ["puppy", "kitten"])
    assert sum(answer.probabilities) == pytest.approx(1.0, abs=1e-5)
    assert [p.title for p in answer.passages] == ["puppy", "kitten"]  # the pool: the options' passages
    assert sum(answer.passage_probabilities) == pytest.approx(1.0, abs=1e-5)
    assert len(answer.reader_probabilities) == 2
    model.config.pool = "corpus"
    answer = QASystem(model, index, k=3).answer("a young dog", ["puppy", "kitten"])
    assert len(answer.passages) == 3  # the BM25 top 3 of the whole corpus
    assert answer.passages[0].title == "puppy"


def test_eval_and_ask_commands(tiny: dict[str, Path], invoke: Callable[..., tuple[int, str, str]]) -> None:
    root = tiny["root"]
    if not (root / "bm25").exists():
        train_vodqa(_options(tiny, root / "bm25", method="bm25", max_steps=2))
    index, ckpt = str(tiny["index"]), str(root / "bm25")
    code, out, _ = invoke("eval", index, str(tiny["questions"]), "--checkpoint", ckpt, "--json", "--quiet")
    assert code == 0
    report = json.loads(out)
    assert report["questions"] == len(ANIMALS)
    assert 0.0 <= report["accuracy"] <= 1.0
    assert report["questions_with_gold"] == len(ANIMALS)
    assert 0.0 <= report["recall@1"] <= report["recall@5"] <= report["recall@10"] == 1.0  # 8 passages in all
    code, out, _ = invoke(
        "ask",
        index,
        "a young dog",
        "--options",
        "puppy",
        "--options",
        "kitten",
        "--checkpoint",
        ckpt,
        "--json",
    )
    assert code == 0
    assert set(json.loads(out)["probabilities"]) == {"puppy", "kitten"}


def test_eval_and_ask_reject_bad_input_with_one_line(
    tiny: dict[str, Path], invoke: Callable[..., tuple[int, str, str]]
) -> None:
    root = tiny["root"]
    if not (root / "bm25").exists():
        train_vodqa(_options(tiny, root / "bm25", method="bm25", max_steps=2))
    index, ckpt = str(tiny["index"]), str(root / "bm25")
    code, _, err = invoke("ask", index, "a young dog", "--options", "puppy", "--checkpoint", ckpt)
    assert code == 2
    assert "at least 2" in err
    bad = root / "bad.jsonl"
    bad.write_text(
        '{"question": "q", "options": ["a", "b"], "answer_idx": 0}\n{"question": "q", "options": ["a", "b"], "answer_idx": 5}\n'
    )
    code, _, err = invoke("eval", index, str(bad), "--checkpoint", ckpt)
    assert code == 2
    assert "bad.jsonl:2" in err
    other = root / "other-model"
    other.mkdir(exist_ok=True)
    (other / "config.json").write_text(
        json.dumps({"model_type": "vgeom-point-diffusion", "vcore_version": "0.1.0", "config": {}})
    )
    code, _, err = invoke("eval", index, str(tiny["questions"]), "--checkpoint", str(other))
    assert code == 2
    assert "not a vodqa" in err
    assert len(err.splitlines()) == 1


def test_corpus_wide_training_still_runs(tiny: dict[str, Path]) -> None:
    root = tiny["root"]
    summary = train_vodqa(_options(tiny, root / "corpus", pool="corpus", max_steps=3))
    assert summary["step"] == 3
    assert json.loads((root / "corpus" / "config.json").read_text())["config"]["pool"] == "corpus"
    with pytest.raises(UserError, match="--pool"):
        train_vodqa(_options(tiny, root / "nowhere", pool="web"))


def test_vod_checkpoint_reads_any_index_of_the_corpus_over_option_pools(tiny: dict[str, Path]) -> None:
    """The untuned index serves a VOD checkpoint: pool passages are embedded with its retriever on demand,
    giving what an index re-embedded with that retriever gives; corpus-wide retrieval refuses it."""
    root = tiny["root"]
    train_vodqa(_options(tiny, root / "lazy", max_steps=2))
    vod = load_checkpoint(root / "lazy")
    base = Index.load(tiny["index"])
    lazy = QASystem(vod, base, k=3)
    assert lazy.passage_vectors is not None
    tuned = Index.load(tiny["index"])
    tuned.reembed(vod.retriever, vod.tokenizer)
    exact = QASystem(vod, tuned, k=3)
    assert exact.passage_vectors is None
    question, options = "the baby of a dog", ["puppy", "kitten", "foal"]
    a, b = lazy.answer(question, options), exact.answer(question, options)
    assert [p.id for p in a.passages] == [p.id for p in b.passages]
    assert a.probabilities == pytest.approx(b.probabilities, abs=2e-3)  # fp16 stored vs fp32 fresh vectors
    assert len(lazy.passage_vectors.cache) == 3
    vod.config.pool = "corpus"
    with pytest.raises(UserError, match="built with encoder"):
        QASystem(vod, base)


def test_dense_only_vod_retriever(tiny: dict[str, Path]) -> None:
    root = tiny["root"]
    train_vodqa(_options(tiny, root / "dense-only", bm25_weight=0.0, max_steps=2))
    model = load_checkpoint(root / "dense-only")
    assert model.config.bm25_weight == 0.0
    system = QASystem(model, Index.load(tiny["index"]), k=8)
    scores, ids = system.retrieve(["the baby of a cow"], 8, [["calf", "lamb", "foal"]])
    assert (ids[0] >= 0).sum() == 3
    assert np.isfinite(scores[0][:3]).all()
    assert np.isneginf(scores[0][3:]).all()
    with pytest.raises(UserError, match="bm25-weight"):
        train_vodqa(_options(tiny, root / "negative", bm25_weight=-1.0))
