"""The rules of a definition's `sql` aggregate: one expression over its source's own columns.

The expression is parsed with sqlglot in DuckDB's dialect and every node of its tree must be
on a closed allow-list: aggregates (`SUM`, `AVG`, `COUNT`, `MIN`, `MAX`, `STDDEV`, `QUANTILE`,
…, with `FILTER (WHERE …)` and `DISTINCT`), arithmetic, comparisons and logic, `CASE`, `IF`,
`COALESCE`, `NULLIF`, casts, and the string, number and date functions that read nothing
but their arguments. Nothing else passes: no table function (`read_text`, `read_csv`,
`glob`, …), no statement (`SUMMARIZE`, `INSTALL`, `LOAD`, `ATTACH`, `COPY`, `SET`, …), no
subquery, window, lambda or parameter, no `;`, no comment, no string that looks like a file
path or URL, no column that the source does not declare and no qualified column.

What runs is the expression as sqlglot writes it back from the checked tree, never the text
as typed, so a string or comment the engine would read differently from sqlglot cannot smuggle
SQL past the check. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from lucid.engines.dialects import SOURCE_DIALECT
from lucid.errors import InvalidInput


def _words(*lines: str) -> frozenset[str]:
    return frozenset(" ".join(lines).split())


ALLOWED_NODES = _words(
    # aggregates
    "Sum Avg Count CountIf Min Max Stddev StddevSamp StddevPop Variance VariancePop Median "
    "Mode Quantile PercentileCont PercentileDisc ApproxQuantile ApproxDistinct ArgMax ArgMin "
    "AnyValue First Last LogicalAnd LogicalOr Corr CovarPop CovarSamp Skewness Kurtosis "
    "GroupConcat RegrSlope RegrIntercept BitwiseAndAgg BitwiseOrAgg BitwiseXorAgg "
    "Filter Where Distinct IgnoreNulls RespectNulls Order Ordered "
    # values, arithmetic, comparison, logic
    "Column Identifier Literal Boolean Null Paren Neg Add Sub Mul Div IntDiv Mod Pow "
    "BitwiseAnd BitwiseOr BitwiseXor BitwiseNot BitwiseLeftShift BitwiseRightShift "
    "EQ NEQ GT GTE LT LTE Is NullSafeEQ NullSafeNEQ Between In Like ILike SimilarTo Glob "
    "And Or Not Xor Case If Coalesce Nullif Cast TryCast DataType DataTypeParam Interval Var "
    # numbers
    "Abs Ceil Floor Round Trunc Ln Log Exp Sqrt Sign Greatest Least IsNan IsInf "
    # text
    "Lower Upper Length Substring Trim Concat DPipe StrPosition Left Right Replace Contains "
    "StartsWith EndsWith RegexpLike RegexpReplace RegexpExtract Pad Reverse SplitPart Repeat "
    "Ascii Chr MD5 "
    # dates and times
    "TimestampTrunc DateTrunc Extract Year Month Day Hour Minute Second DayOfWeek DayOfYear "
    "Week Quarter TimeToUnix UnixToTime DateDiff TimestampDiff TimeToStr StrToTime "
    "DateFromParts LastDay Dayname Monthname DateBin",
)
"""sqlglot node types an expression may contain (docs/features.md lists them as SQL)."""

ALLOWED_FUNCTIONS = _words(
    "mean entropy product fsum sumkahan kahan_sum geomean geometric_mean favg even isfinite",
    "strlen prefix suffix date_part datepart date_sub age printf hash",
)
"""DuckDB functions sqlglot does not model (its `Anonymous` nodes), by lower-case name."""

_AGGREGATE_FUNCTIONS = _words(
    "mean entropy product fsum sumkahan kahan_sum geomean geometric_mean favg"
)

_STATEMENT_WORDS = _words(
    "SELECT FROM WITH VALUES TABLE SUMMARIZE DESCRIBE SHOW INSTALL LOAD FORCE ATTACH DETACH",
    "COPY EXPORT IMPORT PRAGMA SET RESET CALL CREATE DROP ALTER INSERT UPDATE DELETE MERGE",
    "TRUNCATE USE EXPLAIN CHECKPOINT VACUUM ANALYZE BEGIN COMMIT ROLLBACK PIVOT UNPIVOT",
)
_PATH_OR_URL = re.compile(
    r"""^\s*(?:[a-z][a-z0-9+.-]*://|/|~|\.{1,2}[/\\]|[a-z]:[/\\]|\\\\)"""
    r"""|\.(?:parquet|csv|tsv|json|jsonl|ndjson|txt|db|duckdb|sqlite|arrow|xlsx?)\s*$""",
    re.IGNORECASE,
)
_UNIT = re.compile(r"^[A-Za-z_]+$")


def checked_expression(feature: str, expression: str, source: str, columns: set[str]) -> str:
    """The expression as it is run (sqlglot's DuckDB text of the checked tree), or
    `InvalidInput` naming `{feature}.computation.sql` and the rule the expression breaks."""
    return _checked(feature, expression, source, frozenset(columns))


@cache
def _checked(feature: str, expression: str, source: str, columns: frozenset[str]) -> str:
    from sqlglot import exp

    field = f"{feature}.computation.sql"
    only = f"only expressions over the columns of source {source} are allowed"

    def refuse(rule: str) -> InvalidInput:
        return InvalidInput(field, rule)

    tree = _allowed_tree(expression, columns, source, refuse, only)
    if not any(_aggregates(node, exp) for node in tree.walk()):
        raise refuse("must aggregate the window's events (e.g. SUM, COUNT, AVG)")
    rendered: str = tree.sql(dialect=SOURCE_DIALECT, comments=False)
    # The text that runs passes the same rules as the text that was typed.
    _allowed_tree(rendered, columns, source, refuse, only)
    return rendered


def _allowed_tree(
    expression: str,
    columns: frozenset[str],
    source: str,
    refuse: Callable[[str], InvalidInput],
    only: str,
) -> Any:
    """sqlglot's tree of `expression`, once its tokens and every node pass the rules."""
    import sqlglot  # imported here: sqlglot takes half a second to import
    from sqlglot import TokenType, exp
    from sqlglot.errors import SqlglotError

    try:
        tokens = sqlglot.Dialect.get_or_raise(SOURCE_DIALECT).tokenize(expression)
    except SqlglotError:
        raise refuse("is not valid SQL: a quote or bracket is not closed") from None
    if not tokens:
        raise refuse("must be a SQL aggregate expression")
    first = tokens[0].text.upper()
    if first in _STATEMENT_WORDS:
        raise refuse(f"must be one expression, not a statement ({first}); {only}")
    if any(token.token_type is TokenType.SEMICOLON for token in tokens):
        raise refuse(f"may not contain ';': one expression, no stacked statements; {only}")
    if any(token.comments for token in tokens):
        raise refuse("may not contain comments")
    try:
        trees = sqlglot.parse(expression, read=SOURCE_DIALECT)
    except SqlglotError as error:
        raise refuse(f"is not valid SQL: {str(error).splitlines()[0]}") from None
    if len(trees) != 1 or trees[0] is None:
        raise refuse(f"must be one expression; {only}")
    allowed = _allowed_nodes(exp)
    for node in trees[0].walk():
        _check_node(node, allowed, columns, source, refuse, only, exp)
    return trees[0]


def _aggregates(node: Any, exp: Any) -> bool:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower() in _AGGREGATE_FUNCTIONS
    return isinstance(node, exp.AggFunc)


def _allowed_nodes(exp: Any) -> tuple[type, ...]:
    return tuple(getattr(exp, name) for name in sorted(ALLOWED_NODES) if hasattr(exp, name))


def _check_node(
    node: Any,
    allowed: tuple[type, ...],
    columns: frozenset[str],
    source: str,
    refuse: Callable[[str], InvalidInput],
    only: str,
    exp: Any,
) -> None:
    """Refuse one node of the tree that is not on the allow-list."""
    if isinstance(node, exp.Subquery | exp.Query):
        raise refuse(f"may not contain a subquery; {only}")
    if isinstance(node, exp.Window):
        raise refuse(f"may not use a window function (OVER); {only}")
    if isinstance(node, exp.Anonymous):
        if str(node.name).lower() not in ALLOWED_FUNCTIONS:
            raise refuse(f"may not call {str(node.name).lower()}; {only}")
        return
    if isinstance(node, exp.Star):
        if not isinstance(node.parent, exp.Count):
            raise refuse(f"may use * only in COUNT(*); {only}")
        return
    if type(node) not in allowed:
        if isinstance(node, exp.Func):
            raise refuse(f"may not call {node.sql_name().lower()}; {only}")
        raise refuse(f"may not use {str(node.key).upper()}; {only}")
    if isinstance(node, exp.Column):
        if node.table or node.args.get("db") or node.args.get("catalog"):
            raise refuse(f"may not qualify column {node.sql()}; name the column alone")
        if node.name not in columns:
            raise refuse(f"uses column {node.name}, which source {source} does not have")
    elif isinstance(node, exp.Literal) and node.is_string and _PATH_OR_URL.search(node.this):
        raise refuse(f"may not contain a file path or URL ({node.this!r}); {only}")
    elif isinstance(node, exp.Var) and not _UNIT.match(str(node.this)):
        raise refuse(f"may not use {node.this}; {only}")
