"""FOLDOC, the Free On-line Dictionary of Computing (https://foldoc.org), from Debian's `dict-foldoc`.

The dictionary is in dictd's format (dictd(8), dictfmt(1)): foldoc.dict.dz is a dictzip file, which is a
gzip stream with a random-access table in an extra header field, so `gzip` reads it whole; foldoc.index
has one line per headword, `headword<TAB>offset<TAB>length`, both numbers in dictd's base-64 digits
(A-Z a-z 0-9 + /, most significant first) giving a byte range of the uncompressed text. Several headwords
may point at the same entry. An entry is its headword lines (name, then aliases), a blank line, and the
indented body with `{cross references}` and a trailing `(YYYY-MM-DD)` date; the `00-database-*` entries
are dictd's metadata, not definitions.
"""

from __future__ import annotations

import gzip
import logging
import os
import re
import zlib
from pathlib import Path

from vcore.errors import UserError
from vodqa.corpus.chunking import check_chunking, chunk_words
from vodqa.corpus.passage import Passage

logger = logging.getLogger(__name__)

DEFAULT_DICTD_DIR = Path("/usr/share/dictd")
FOLDOC_ENV = "VODQA_FOLDOC_DIR"
B64_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

_LINK = re.compile(r"\{([^{}]*)\}")
_LINK_URL = re.compile(r"^(.*\S)\s+\((?:[^()]*[./:][^()]*)\)$", re.DOTALL)  # "{text (url)}" -> "text"
_DATE_LINE = re.compile(r"\(\d{4}-\d{2}-\d{2}\)\s*$")
_CATEGORY = re.compile(r"^<([^<>@]+)>\s*")


def decode_b64_number(digits: str) -> int:
    """dictd's base-64 number: "B" -> 1, "BA" -> 64, "K5" -> 10*64 + 57."""
    value = 0
    for char in digits:
        index = B64_DIGITS.find(char)
        if index < 0:
            raise ValueError(f"{digits!r} is not a dictd base-64 number")
        value = value * 64 + index
    return value


def _link_text(match: re.Match[str]) -> str:
    inner = match.group(1)
    url = _LINK_URL.match(inner)
    return url.group(1) if url else inner


def clean_body(body: str) -> str:
    """Entry body as plain prose: `{link}` braces and `{text (url)}` targets dropped, the `<category>`
    tag written as "(category)", the trailing date removed, whitespace collapsed."""
    text = body.strip()
    text = _DATE_LINE.sub("", text).strip()
    text = _CATEGORY.sub(lambda m: f"({m.group(1).strip()}) ", text)
    previous = None
    while previous != text:  # nested braces are rare but exist
        previous, text = text, _LINK.sub(_link_text, text)
    return " ".join(text.split())


def parse_entry(raw: str) -> tuple[str, list[str], str]:
    """(name, aliases, cleaned body) of one entry's text."""
    head, _, body = raw.strip("\n").partition("\n\n")
    names = [line.strip() for line in head.splitlines() if line.strip()]
    if not names:
        return "", [], clean_body(body)
    aliases = [n for n in names[1:] if n.lower() != names[0].lower()]
    return names[0], aliases, clean_body(body)


def _default_paths(dict_path: Path | None, index_path: Path | None) -> tuple[Path, Path]:
    folder = Path(os.environ.get(FOLDOC_ENV) or DEFAULT_DICTD_DIR)
    return (
        Path(dict_path) if dict_path is not None else folder / "foldoc.dict.dz",
        Path(index_path) if index_path is not None else folder / "foldoc.index",
    )


def read_index(index_path: Path) -> list[tuple[str, int, int]]:
    """(headword, offset, length) lines of a dictd index; a malformed line is a `UserError` path:line."""
    rows: list[tuple[str, int, int]] = []
    for number, line in enumerate(index_path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        try:
            if len(parts) != 3:
                raise ValueError("expected headword, offset and length separated by tabs")
            rows.append((parts[0], decode_b64_number(parts[1]), decode_b64_number(parts[2])))
        except ValueError as err:
            raise UserError(f"{index_path}:{number}: not a dictd index line ({err})") from None
    return rows


def load_foldoc(
    dict_path: Path | None = None, index_path: Path | None = None, passage_words: int = 100, stride: int = 75
) -> list[Passage]:
    """FOLDOC's entries as passages "foldoc:<name>" (chunks "foldoc:<name>#<k>", k from 0, for long ones).

    Title: the entry's name; text: "also: <aliases>. " (when it has some) and the cleaned body.
    Default files: /usr/share/dictd/foldoc.{dict.dz,index}, or $VODQA_FOLDOC_DIR instead of the folder.
    """
    check_chunking(passage_words, stride)
    dict_path, index_path = _default_paths(dict_path, index_path)
    for path in (dict_path, index_path):
        if not path.is_file():
            raise UserError(
                f"{path}: FOLDOC file not found; install Debian's dict-foldoc (apt-get install dict-foldoc) "
                f"or pass the paths / set {FOLDOC_ENV}"
            )
    try:
        with gzip.open(dict_path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError, zlib.error) as err:
        raise UserError(f"{dict_path}: not a readable dictzip/gzip file ({err})") from None
    passages: list[Passage] = []
    seen_ranges: set[tuple[int, int]] = set()
    seen_ids: set[str] = set()
    for headword, offset, length in read_index(index_path):
        if headword.startswith("00-database-") or (offset, length) in seen_ranges:
            continue
        seen_ranges.add((offset, length))
        if offset + length > len(data):
            raise UserError(f"{index_path}: entry {headword!r} points past the end of {dict_path}")
        name, aliases, body = parse_entry(data[offset : offset + length].decode("utf-8", errors="replace"))
        name = name or headword
        text = (f"also: {', '.join(aliases)}. " if aliases else "") + body
        base = f"foldoc:{name}"
        suffix = 2
        while base in seen_ids:
            base = f"foldoc:{name} ({suffix})"
            suffix += 1
        seen_ids.add(base)
        chunks = chunk_words(text, passage_words, stride)
        if len(chunks) == 1:
            passages.append(Passage(base, name, chunks[0]))
        else:
            passages.extend(Passage(f"{base}#{k}", name, chunk) for k, chunk in enumerate(chunks))
    if not passages:
        raise UserError(f"{index_path}: FOLDOC index lists no entries")
    logger.info("read %d FOLDOC entries as %d passages", len(seen_ranges), len(passages))
    return passages
