"""The shipped default checkpoint loads, reads an index of the untuned encoder, and answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from vcore.errors import UserError
from vodqa.corpus.passage import Passage
from vodqa.index import Index, build_index
from vodqa.inference import QASystem
from vodqa.model.checkpoint import load_checkpoint
from vodqa.pretrained import default_checkpoint

WORDS = {
    "corkscrew": "(noun) a bottle opener that pulls corks",
    "funnel": "(noun) a conically shaped utensil for pouring liquids into a narrow opening",
    "ladle": "(noun) a spoon-shaped vessel with a long handle, for serving soup",
    "whisk": "(noun) a mixer that beats eggs or cream by hand",
}


def test_default_checkpoint_answers_over_option_pools(tmp_path: Path) -> None:
    model = load_checkpoint(default_checkpoint())
    assert (model.config.method, model.config.pool) == ("vod", "options")
    passages = [Passage(f"p{i}", word, gloss) for i, (word, gloss) in enumerate(WORDS.items())]
    system = QASystem(model, Index.load(build_index(passages, tmp_path / "idx")), k=8)
    answer = system.answer("the tool you twist into a wine bottle to get the cork out", list(WORDS))
    assert answer.best == 0
    assert {p.title for p in answer.passages} == set(WORDS)


def test_no_default_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("vodqa.pretrained.DEFAULT_DIR", tmp_path / "none")
    with pytest.raises(UserError, match="ships no default vodqa checkpoint"):
        default_checkpoint()
