"""The pure rule of a `sql` aggregate (`lucid.engines.sql_aggregates`): what passes, what is
refused and with which sentence, and the text that is run."""

from __future__ import annotations

import pytest

from lucid.engines.sql_aggregates import ALLOWED_NODES, checked_expression
from lucid.errors import InvalidInput

COLUMNS = {"amount", "status", "purchased_at", "is_bot", "customer_id", "weird col"}


def check(expression: str) -> str:
    return checked_expression("spend", expression, "purchases", COLUMNS)


@pytest.mark.parametrize(
    ("expression", "run"),
    [
        ("SUM(amount)", "SUM(amount)"),
        ("count(*)", "COUNT(*)"),
        ("count(DISTINCT customer_id)", "COUNT(DISTINCT customer_id)"),
        (
            "COALESCE(SUM(amount) FILTER (WHERE NOT is_bot), 0)",
            "COALESCE(SUM(amount) FILTER(WHERE NOT is_bot), 0)",
        ),
        ("quantile_cont(amount, 0.9)", "QUANTILE_CONT(amount, 0.9)"),
        ("stddev_samp(amount) / NULLIF(avg(amount), 0)",
         "STDDEV_SAMP(amount) / NULLIF(AVG(amount), 0)"),
        (
            "SUM(CASE WHEN status = 'paid' THEN amount ELSE 0 END)",
            "SUM(CASE WHEN status = 'paid' THEN amount ELSE 0 END)",
        ),
        ("SUM(amount::DOUBLE)", "SUM(CAST(amount AS DOUBLE))"),
        ("MAX(purchased_at) - MIN(purchased_at)", "MAX(purchased_at) - MIN(purchased_at)"),
        ("COUNT(DISTINCT date_trunc('day', purchased_at))",
         "COUNT(DISTINCT DATE_TRUNC('DAY', purchased_at))"),
        ("count_if(lower(status) LIKE 'refund%')", "COUNT_IF(LOWER(status) LIKE 'refund%')"),
        ("arg_max(amount, purchased_at)", "ARG_MAX(amount, purchased_at)"),
        ('MAX("weird col")', 'MAX("weird col")'),
        ("mean(amount)", "MEAN(amount)"),
        ("SUM(amount) FILTER (WHERE purchased_at > TIMESTAMP '2026-01-01')",
         "SUM(amount) FILTER(WHERE purchased_at > CAST('2026-01-01' AS TIMESTAMP))"),
    ],
)  # fmt: skip
def test_expressions_over_the_sources_columns_pass_as_sqlglot_writes_them(
    expression: str, run: str
) -> None:
    assert check(expression) == run


@pytest.mark.parametrize(
    ("expression", "rule"),
    [
        ("SUMMARIZE '/etc/passwd'", "must be one expression, not a statement (SUMMARIZE)"),
        ("MAX(LENGTH((SUMMARIZE '/etc/passwd')))", "may not use SUMMARIZE"),
        ("COUNT(*) + LENGTH(read_text('/etc/passwd'))", "may not call read_text"),
        ("MAX(read_blob('/etc/passwd'))", "may not call read_blob"),
        ("MAX(read_csv('data.csv'))", "may not call read_csv"),
        ("COUNT(*) + LENGTH(getenv('HOME'))", "may not call getenv"),
        ("MAX(current_setting('threads'))", "may not call current_setting"),
        ("(SELECT MAX(amount) FROM source_purchases)", "may not contain a subquery"),
        ("SUM(amount) FILTER (WHERE amount IN (SELECT 1))", "may not contain a subquery"),
        ("INSTALL httpfs", "must be one expression, not a statement (INSTALL)"),
        ("LOAD httpfs", "must be one expression, not a statement (LOAD)"),
        ("ATTACH '/tmp/x.db' AS x", "must be one expression, not a statement (ATTACH)"),
        ("COPY source_purchases TO '/tmp/x'", "must be one expression, not a statement (COPY)"),
        ("FROM read_text('/etc/passwd')", "must be one expression, not a statement (FROM)"),
        ("SUM(amount); INSTALL httpfs", "may not contain ';'"),
        ("SUM(amount);", "may not contain ';'"),
        ("SUM(amount) -- a comment", "may not contain comments"),
        ("SUM(amount) /* a comment */", "may not contain comments"),
        ("SUM(amount) + LENGTH('https://example.com/x')", "may not contain a file path or URL"),
        ("MAX(status = '/etc/passwd')", "may not contain a file path or URL"),
        ("MAX(status = '../secrets.csv')", "may not contain a file path or URL"),
        ("MAX(status = 's3://bucket/key')", "may not contain a file path or URL"),
        ("SUM(price)", "uses column price, which source purchases does not have"),
        ("SUM(e.amount)", "may not qualify column e.amount"),
        ("SUM(s.__lucid_entity)", "may not qualify column s.__lucid_entity"),
        ("SUM(amount) OVER ()", "may not use a window function (OVER)"),
        ("SUM(amount) + $1", "may not use PLACEHOLDER"),
        ("SUM(amount) AS total", "may not use ALIAS"),
        ("MAX(list_transform([1], x -> x))", "may not call transform"),
        ("SUM(*)", "may use * only in COUNT(*)"),
        ("$$/etc/passwd$$ || MAX(status)", "may not use RAWSTRING"),
        ("amount * 2", "must aggregate the window's events"),
        ("SUM(amount", "is not valid SQL"),
        ("  ", "must be a SQL aggregate expression"),
    ],
)
def test_anything_else_is_refused_with_a_sentence_naming_the_feature_and_the_rule(
    expression: str, rule: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        check(expression)
    assert refused.value.field == "spend.computation.sql"
    assert refused.value.rule.startswith(rule)
    assert "\n" not in refused.value.sentence


def test_a_refusal_of_something_outside_says_what_is_allowed() -> None:
    with pytest.raises(InvalidInput) as refused:
        check("MAX(read_text('/etc/passwd'))")
    assert refused.value.sentence == (
        "spend.computation.sql: may not call read_text; only expressions over the columns of "
        "source purchases are allowed"
    )


def test_the_allow_list_names_only_node_types_that_read_nothing_outside_the_row() -> None:
    from sqlglot import exp

    for name in ALLOWED_NODES:
        node = getattr(exp, name, None)
        if node is None:
            continue  # a name this sqlglot does not have is simply never met
        assert not issubclass(node, exp.Query | exp.Subquery | exp.Table | exp.UDTF)
        assert node is not exp.Anonymous


DOCUMENTED = [
    "SUM(amount)",
    "AVG(amount)",
    "MEAN(amount)",
    "COUNT(*)",
    "COUNT(DISTINCT status)",
    "COUNT_IF(flag)",
    "MIN(ts)",
    "MAX(ts)",
    "STDDEV(amount)",
    "STDDEV_SAMP(amount)",
    "STDDEV_POP(amount)",
    "VARIANCE(amount)",
    "VAR_SAMP(amount)",
    "VAR_POP(amount)",
    "MEDIAN(amount)",
    "MODE(status)",
    "QUANTILE(amount,0.5)",
    "QUANTILE_CONT(amount,0.5)",
    "QUANTILE_DISC(amount,0.5)",
    "APPROX_QUANTILE(amount,0.5)",
    "APPROX_COUNT_DISTINCT(status)",
    "ARG_MAX(amount,ts)",
    "MAX_BY(amount,ts)",
    "ARG_MIN(amount,ts)",
    "MIN_BY(amount,ts)",
    "ANY_VALUE(status)",
    "FIRST(status)",
    "LAST(status)",
    "BOOL_AND(flag)",
    "BOOL_OR(flag)",
    "CORR(amount,n)",
    "COVAR_POP(amount,n)",
    "COVAR_SAMP(amount,n)",
    "SKEWNESS(amount)",
    "KURTOSIS(amount)",
    "STRING_AGG(status, ',')",
    "STRING_AGG(status, ',' ORDER BY ts)",
    "REGR_SLOPE(amount,n)",
    "REGR_INTERCEPT(amount,n)",
    "BIT_AND(n)",
    "BIT_OR(n)",
    "BIT_XOR(n)",
    "ENTROPY(status)",
    "PRODUCT(amount)",
    "FSUM(amount)",
    "SUMKAHAN(amount)",
    "GEOMEAN(amount)",
    "FAVG(amount)",
    "SUM(amount) FILTER (WHERE flag)",
    "MAX(amount + 1 - 2 * 3 / 4 // 1 % 2 ^ 2)",
    "MAX(amount BETWEEN 1 AND 2)",
    "MAX(status IN ('a','paid'))",
    "MAX(status LIKE 'p%')",
    "MAX(status ILIKE 'P%')",
    "MAX(status SIMILAR TO 'p.*')",
    "MAX(status GLOB 'p*')",
    "MAX(n & 1)",
    "MAX(amount IS NOT NULL)",
    "MAX(amount IS DISTINCT FROM 1)",
    "SUM(CASE WHEN flag THEN 1 ELSE 0 END)",
    "MAX(IF(flag, 1, 0))",
    "MAX(IFNULL(amount, 0))",
    "MAX(NULLIF(amount, 0))",
    "SUM(TRY_CAST(status AS INTEGER))",
    "SUM(n::DOUBLE)",
    "MAX(ts > TIMESTAMP '2020-01-01')",
    "MAX(ts - INTERVAL 1 DAY)",
    "MAX(ABS(amount))",
    "MAX(CEIL(amount))",
    "MAX(FLOOR(amount))",
    "MAX(ROUND(amount, 1))",
    "MAX(TRUNC(amount))",
    "MAX(LN(amount))",
    "MAX(LOG(amount))",
    "MAX(EXP(amount))",
    "MAX(SQRT(amount))",
    "MAX(POWER(amount,2))",
    "MAX(SIGN(amount))",
    "MAX(GREATEST(amount, 2))",
    "MAX(LEAST(amount, 2))",
    "MAX(ISNAN(amount))",
    "MAX(ISINF(amount))",
    "MAX(ISFINITE(amount))",
    "MAX(EVEN(amount))",
    "MAX(LOWER(status))",
    "MAX(UPPER(status))",
    "MAX(LENGTH(status))",
    "MAX(SUBSTRING(status, 1, 2))",
    "MAX(TRIM(status))",
    "MAX(CONCAT(status, 'x'))",
    "MAX(STRPOS(status, 'a'))",
    "MAX(POSITION('a' IN status))",
    "MAX(LEFT(status, 2))",
    "MAX(RIGHT(status, 2))",
    "MAX(REPLACE(status, 'a', 'b'))",
    "MAX(CONTAINS(status, 'a'))",
    "MAX(STARTS_WITH(status, 'p'))",
    "MAX(ENDS_WITH(status, 'd'))",
    "MAX(PREFIX(status, 'p'))",
    "MAX(SUFFIX(status, 'd'))",
    "MAX(REGEXP_MATCHES(status, 'p.*'))",
    "MAX(REGEXP_REPLACE(status, 'a', 'b'))",
    "MAX(REGEXP_EXTRACT(status, 'p(a)', 1))",
    "MAX(LPAD(status, 6, 'x'))",
    "MAX(RPAD(status, 6, 'x'))",
    "MAX(REVERSE(status))",
    "MAX(SPLIT_PART(status, 'a', 1))",
    "MAX(REPEAT(status, 2))",
    "MAX(ASCII(status))",
    "MAX(CHR(65))",
    "MAX(MD5(status))",
    "MAX(HASH(status))",
    "MAX(PRINTF('%s', status))",
    "MAX(DATE_TRUNC('day', ts))",
    "MAX(DATE_PART('year', ts))",
    "MAX(EXTRACT(year FROM ts))",
    "MAX(YEAR(ts))",
    "MAX(MONTH(ts))",
    "MAX(DAY(ts))",
    "MAX(HOUR(ts))",
    "MAX(MINUTE(ts))",
    "MAX(SECOND(ts))",
    "MAX(DAYOFWEEK(ts))",
    "MAX(DAYOFYEAR(ts))",
    "MAX(WEEK(ts))",
    "MAX(QUARTER(ts))",
    "MAX(EPOCH(ts))",
    "MAX(EPOCH_MS(n))",
    "MAX(TO_TIMESTAMP(n))",
    "MAX(DATE_DIFF('day', ts, ts))",
    "MAX(DATE_SUB('day', ts, ts))",
    "MAX(AGE(ts, ts))",
    "MAX(STRFTIME(ts, '%Y'))",
    "MAX(STRPTIME('2020', '%Y'))",
    "MAX(MAKE_DATE(2020, 1, 1))",
    "MAX(LAST_DAY(ts))",
    "MAX(DAYNAME(ts))",
    "MAX(MONTHNAME(ts))",
    "MAX(TIME_BUCKET(INTERVAL 1 DAY, ts))",
    "COUNT(*) FILTER (WHERE n BETWEEN 1 AND 5)",
]
"""An expression for each function docs/features.md allows."""


def test_every_documented_function_runs_on_duckdb_as_typed() -> None:
    """What runs (sqlglot's text) gives what the typed expression gives."""
    import math

    import duckdb

    columns = {"amount", "status", "ts", "flag", "n"}
    connection = duckdb.connect()
    connection.execute(
        "CREATE TABLE t AS SELECT 1.5 AS amount, 'paid' AS status, "
        "TIMESTAMP '2026-01-02 03:04:05' AS ts, TRUE AS flag, 3 AS n"
    )
    for expression in DOCUMENTED:
        run = checked_expression("f", expression, "t", columns)
        [typed] = connection.execute(f"SELECT {expression} FROM t").fetchall()
        [ran] = connection.execute(f"SELECT {run} FROM t").fetchall()
        same = typed == ran or all(
            isinstance(a, float) and math.isnan(a) and math.isnan(b)
            for a, b in zip(typed, ran, strict=True)
        )
        assert same, (expression, run, typed, ran)
