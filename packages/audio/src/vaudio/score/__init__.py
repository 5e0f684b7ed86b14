"""Scores: note names and frequencies (`vaudio.score.pitch`), DiffSinger .ds files (`vaudio.score.ds`)."""
