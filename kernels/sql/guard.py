"""Decide whether a preview may run, and bound how many rows it can return.

The guard parses the SQL with sqlglot before anything reaches the warehouse. It accepts
exactly one read statement and refuses everything else with a message naming what was
refused. It then injects or tightens the LIMIT of the *outermost* query: wrapping the
query in ``SELECT * FROM (...) LIMIT n`` would be shorter, but a subquery's ORDER BY is not
guaranteed to survive (dbt-core learned this the hard way), so the limit goes on the query
itself, where it composes with its own ORDER BY, OFFSET, set operations and CTEs.
"""

from __future__ import annotations

import logging
import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from .guarded import (
    DEFAULT_ROW_CAP,
    MAX_ROW_CAP,
    GuardedQuery,
    Position,
    QueryRefused,
    validate_cap,
)

__all__ = [
    "DEFAULT_ROW_CAP",
    "MAX_ROW_CAP",
    "GuardedQuery",
    "Position",
    "QueryRefused",
    "guard",
    "statement_name",
    "validate_cap",
]

# sqlglot warns "... contains unsupported syntax" with the statement text. User SQL can
# carry customer literals (WHERE email = '...'), and the pod's log is not a place for them.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

# Statements that are reads but have no LIMIT clause of their own; the adapter's fetch
# bound caps them instead. DuckDB-only forms: PostgreSQL has no DESCRIBE or SUMMARIZE.
_DUCKDB_READ_FORMS: tuple[type[exp.Expr], ...] = (
    exp.Describe,
    exp.Summarize,
    exp.Show,
    exp.Pivot,
)

# Anything of these kinds, at any depth, writes, locks or changes the session: a
# data-modifying CTE (`WITH d AS (DELETE ... RETURNING *) SELECT ...`), `SELECT ... INTO`,
# `SELECT ... FOR UPDATE`.
_FORBIDDEN_NODES: tuple[type[exp.Expr], ...] = (
    exp.DML,
    exp.DDL,
    exp.Drop,
    exp.Alter,
    exp.Command,
    exp.TruncateTable,
    exp.Set,
    exp.Into,
    exp.Lock,
    exp.Attach,
    exp.Detach,
    exp.Pragma,
    exp.Use,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Grant,
    exp.Revoke,
    exp.Install,
    exp.Analyze,
    exp.Comment,
    exp.Refresh,
    exp.Cache,
    exp.Uncache,
    exp.LoadData,
    exp.Kill,
    exp.Export,
    exp.Declare,
)

# sqlglot's messages embed a token's repr; a person only needs its text.
_TOKEN_REPR = re.compile(r"<Token token_type: [\w.]+, text: (.*?), line: \d+.*?>")

_NAMES = {
    "truncatetable": "TRUNCATE",
    "transaction": "BEGIN",
    "into": "SELECT ... INTO",
    "lock": "SELECT ... FOR UPDATE/SHARE",
}


def guard(
    sql: str, dialect: str, *, cap: int = DEFAULT_ROW_CAP, source_dialect: str | None = None
) -> GuardedQuery:
    """Check ``sql`` and rewrite it for ``dialect`` with the row cap applied.

    ``source_dialect`` names the dialect the SQL is written in when it differs from the
    warehouse's (e.g. Snowflake SQL previewed on DuckDB); it is transpiled.
    """
    cap = validate_cap(cap)
    read = source_dialect or dialect
    statement = _parse_one(sql, read)
    _check_read_only(statement, dialect)
    statement = _unwrap_parentheses(statement)
    if isinstance(statement, exp.Query):
        _apply_cap(statement, cap)
    return GuardedQuery(
        sql=statement.sql(dialect=dialect),
        cap=cap,
        dialect=dialect,
        source_sql=sql,
        source_dialect=read,
    )


def _parse_one(sql: str, dialect: str) -> exp.Expr:
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except ParseError as exc:
        raise QueryRefused(_parse_message(exc), _parse_position(exc, sql)) from None
    except TokenError as exc:
        raise QueryRefused(f"could not read the SQL: {exc}") from None
    if not statements:
        raise QueryRefused("there is no SQL statement to preview")
    if len(statements) > 1:
        kinds = ", ".join(statement_name(s) for s in statements)
        raise QueryRefused(
            f"a preview runs exactly one statement; found {len(statements)} ({kinds})"
        )
    return statements[0]


def _check_read_only(statement: exp.Expr, dialect: str) -> None:
    accepted: tuple[type[exp.Expr], ...] = (exp.Query, exp.Values)
    if dialect == "duckdb":
        accepted += _DUCKDB_READ_FORMS
    if not isinstance(statement, accepted) or isinstance(statement, _FORBIDDEN_NODES):
        raise QueryRefused(
            f"only a read query (SELECT, WITH ... SELECT, VALUES, UNION/INTERSECT/EXCEPT"
            f"{', DESCRIBE, SUMMARIZE, SHOW' if dialect == 'duckdb' else ''}) can be "
            f"previewed; refused: {statement_name(statement)}"
        )
    for node in statement.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            raise QueryRefused(
                f"a preview may not modify data or the session; refused: "
                f"{statement_name(node)} inside the query"
            )


def statement_name(node: exp.Expr) -> str:
    """A person-readable name for a statement kind: ``INSERT``, ``CREATE TABLE``, ``ATTACH``."""
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    if isinstance(node, exp.Create | exp.Drop) and node.args.get("kind"):
        return f"{node.key.upper()} {str(node.args['kind']).upper()}"
    if isinstance(node, exp.Column):
        # A bare word such as DuckDB's CHECKPOINT parses as a column reference.
        return node.sql().upper()
    return _NAMES.get(node.key, node.key.upper())


def _unwrap_parentheses(statement: exp.Expr) -> exp.Expr:
    # `(SELECT ... ORDER BY a LIMIT 10)` is the same query as its inside; unwrapping lets
    # the cap tighten the inner LIMIT instead of stacking a second one outside.
    while isinstance(statement, exp.Subquery) and not statement.alias:
        modifiers = ("limit", "offset", "order", "with_")
        if any(statement.args.get(m) for m in modifiers):
            break
        statement = statement.this
    return statement


def _apply_cap(query: exp.Query, cap: int) -> None:
    """Set the outermost LIMIT to min(own limit, cap + 1), keeping ORDER BY and OFFSET."""
    bound = cap + 1
    current = query.args.get("limit")
    if isinstance(current, exp.Fetch):
        count = _literal_int(current.args.get("count"))
        options = current.args.get("limit_options")
        if options is not None and (options.args.get("percent") or options.args.get("with_ties")):
            return  # not a plain row count; the adapter's fetch bound still caps the rows
        if count is None or count > bound:
            current.set("count", exp.Literal.number(bound))
        return
    if isinstance(current, exp.Limit):
        options = current.args.get("limit_options")
        if options is not None and options.args.get("percent"):
            return  # LIMIT 10% in DuckDB: a share, not a count; the fetch bound caps it
        expression = current.args.get("expression")
        count = _literal_int(expression)
        is_all = isinstance(expression, exp.Var) and str(expression.this).upper() == "ALL"
        if count is not None and count <= bound:
            return
        if count is None and not is_all:
            return  # an expression (LIMIT 10 * 2): kept; the fetch bound caps the rows
    query.set("limit", exp.Limit(expression=exp.Literal.number(bound)))


def _literal_int(node: exp.Expression | None) -> int | None:
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            return int(str(node.this))
        except ValueError:
            return None
    return None


def _parse_message(exc: ParseError) -> str:
    if exc.errors:
        first = exc.errors[0]
        near = first.get("highlight") or ""
        description = _TOKEN_REPR.sub(r"'\1'", str(first.get("description") or "invalid SQL"))
        return f"syntax error: {description}" + (f" near {near!r}" if near else "")
    return f"syntax error: {exc}"


def _parse_position(exc: ParseError, sql: str) -> Position | None:
    if not exc.errors:
        return None
    first = exc.errors[0]
    line, end_col = first.get("line"), first.get("col")
    if not isinstance(line, int) or not isinstance(end_col, int) or line < 1:
        return None
    # sqlglot reports the column where the offending token *ends*.
    width = len(first.get("highlight") or "") or 1
    lines = sql.splitlines() or [""]
    line = min(line, len(lines))
    return Position(line=line, column=max(1, end_col - width + 1))
