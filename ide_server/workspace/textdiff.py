"""Turning one text into another in a few edits, in time linear in its size.

A document open in a room is reloaded when its file changes on disk. Diffing the old and
new text character by character (difflib on the whole text) grows with the square of the
size and froze the pod for minutes on a 1 MB file. Here the common prefix and suffix are
trimmed line by line (linear), the changed middle is diffed line by line only when it is
small, and past that budget it is replaced in one edit: the content is always exact, only
cursors inside a large changed region move.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from pycrdt import Doc, Text

# Lines of changed middle (old and new together) worth diffing line by line.
LINE_DIFF_BUDGET = 4000


@dataclass(frozen=True)
class Edit:
    """Replace bytes ``start:end`` of the old UTF-8 text by ``insert``."""

    start: int
    end: int
    insert: str


def _common_prefix(a: list[bytes], b: list[bytes]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _common_suffix(a: list[bytes], b: list[bytes], prefix: int) -> int:
    n = min(len(a), len(b)) - prefix
    i = 0
    while i < n and a[-1 - i] == b[-1 - i]:
        i += 1
    return i


def text_edits(old: str, new: str) -> list[Edit]:
    """Edits (in increasing order, not overlapping) that turn ``old`` into ``new``.

    Offsets are UTF-8 byte offsets, as pycrdt's ``Text`` counts. Lines end on ``\\n``, which
    never falls inside a multi-byte character, so every offset is a character boundary.
    """
    if old == new:
        return []
    a = old.encode("utf-8").splitlines(keepends=True)
    b = new.encode("utf-8").splitlines(keepends=True)
    head = _common_prefix(a, b)
    tail = _common_suffix(a, b, head)
    middle_a, middle_b = a[head : len(a) - tail], b[head : len(b) - tail]
    base = sum(len(line) for line in a[:head])
    if len(middle_a) + len(middle_b) > LINE_DIFF_BUDGET:
        end = base + sum(len(line) for line in middle_a)
        return [Edit(base, end, b"".join(middle_b).decode("utf-8"))]
    offsets = [base]
    for line in middle_a:
        offsets.append(offsets[-1] + len(line))
    matcher = SequenceMatcher(None, middle_a, middle_b, autojunk=False)
    return [
        Edit(offsets[i1], offsets[i2], b"".join(middle_b[j1:j2]).decode("utf-8"))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def apply_edits(doc: Doc, text: Text, edits: list[Edit]) -> None:
    """Apply ``edits`` (computed on the current content of ``text``) in one transaction."""
    with doc.transaction():
        for edit in reversed(edits):  # from the end: earlier offsets stay valid
            if edit.end > edit.start:
                del text[edit.start : edit.end]
            if edit.insert:
                text.insert(edit.start, edit.insert)
