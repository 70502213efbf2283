"""An extract file's physical lines, in bytes: where each starts and ends (numpy over a memory
map, no Python object per line), the text kept as evidence of a quarantined one, the lines whose
quotes do not pair up, and a copy with some lines blanked out. The loader (ccq.ingest.loader)
uses them so that every line is loaded or quarantined under its own number, even those DuckDB's
reader would merge or skip; files in other encodings are transcoded to UTF-8 first.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

# One limit for every line, quoted or not (the raw contract page documents it).
MAX_LINE_BYTES = 2_000_000
RAW_TEXT_LIMIT = 4_000


def line_index(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end byte offsets (end exclusive, without CR/LF) of every physical line."""
    if data.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    nl = np.flatnonzero(data == 10)
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [data.size]))
    if starts[-1] == data.size:  # file ends with a newline: no last line after it
        starts, ends = starts[:-1], ends[:-1]
    has_cr = (ends > starts) & (data[np.maximum(ends - 1, 0)] == 13)
    return starts, ends - has_cr


def line_text(data: np.ndarray, start: int, end: int, encoding: str = "utf-8") -> str:
    raw = bytes(data[start : min(end, start + RAW_TEXT_LIMIT)])
    return raw.decode(encoding, errors="backslashreplace")


def unbalanced_quote_lines(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """Lines with an odd number of double quotes (an escaped quote counts two)."""
    quotes = np.flatnonzero(data == 34)
    if quotes.size == 0 or lines.size == 0:
        return np.empty(0, np.int64)
    counts = np.searchsorted(quotes, ends[lines]) - np.searchsorted(quotes, starts[lines])
    return lines[counts % 2 == 1]


def open_quote_field(text: str, columns: list[str]) -> str | None:
    """The column whose quoted value is left open on the line."""
    field, quoted, opened = 0, False, None
    for ch in text:
        if ch == '"':
            quoted = not quoted
            if quoted:
                opened = field
        elif ch == "," and not quoted:
            field += 1
    return columns[opened] if quoted and opened is not None and opened < len(columns) else None


def blank_lines(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, lines: np.ndarray, out: Path) -> Path:
    """A copy of the file with these lines emptied; every other line keeps its number."""
    with out.open("wb") as f:
        pos = 0
        for idx in lines:
            f.write(data[pos:starts[idx]].tobytes())
            pos = int(ends[idx])  # keeps the line's own CR LF or LF
        f.write(data[pos:].tobytes())
    return out


def transcode_to_utf8(path: Path, encoding: str, workdir: Path, out: Path | None = None) -> Path:
    """The file in UTF-8, in `workdir` (or at `out`). DuckDB reads UTF-8 natively; other
    encodings (GB18030 from Chinese systems) are converted first, in blocks. Undecodable bytes
    become U+FFFD, and the value holding them is quarantined by the rule `encoding`."""
    out = out or workdir / (path.name + ".utf8")
    with path.open("r", encoding=encoding, errors="replace", newline="") as src, out.open(
        "w", encoding="utf-8", newline=""
    ) as dst:
        for block in iter(lambda: src.read(1 << 20), ""):
            dst.write(block)
    return out
