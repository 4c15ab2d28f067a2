"""Map an error position in the SQL the warehouse ran back to the SQL the user wrote.

The warehouse runs the guard's rewrite (a tightened LIMIT, normalized spacing, maybe
another dialect), so its positions point into text the user never saw. Both texts tokenize
into mostly the same tokens in the same order; the n-th occurrence of the offending token
in the rewrite is taken to be the n-th occurrence in the original.
"""

from __future__ import annotations

import sqlglot
from sqlglot.errors import SqlglotError
from sqlglot.tokens import Token

from .guarded import Position


def position_at(text: str, offset: int) -> Position:
    """The 1-based line and column of a 0-based character offset in ``text``."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Position(line=line, column=column)


def map_to_source(
    executed: str, executed_dialect: str, source: str, source_dialect: str, offset: int
) -> Position | None:
    """Where ``offset`` (0-based, in ``executed``) falls in ``source``; None if unsure."""
    if executed == source:
        return position_at(source, offset)
    try:
        ran = sqlglot.tokenize(executed, read=executed_dialect)
        wrote = sqlglot.tokenize(source, read=source_dialect)
    except SqlglotError:
        return None
    index = _token_at(ran, offset)
    if index is None:
        return None
    key = ran[index].text.upper()
    occurrence = sum(1 for t in ran[:index] if t.text.upper() == key)
    matches = [t for t in wrote if t.text.upper() == key]
    if occurrence >= len(matches):
        return None
    return position_at(source, matches[occurrence].start)


def _token_at(tokens: list[Token], offset: int) -> int | None:
    for index, token in enumerate(tokens):
        if token.end >= offset:
            return index
    return None
