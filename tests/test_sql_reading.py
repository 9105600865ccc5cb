"""Facts given as text (a CSV file's every value) read by the query as the compiled
module's `Facts` reads them: "1,000" whole numbers and not "1.5", "$1,800,000.00",
"USD 1,000" and "-$5" amounts, "7.5%" percentages; a text that does not read is a
FactError of its row. Hand-picked texts and hypothesis-generated ones, on DuckDB and on
Spark."""

from __future__ import annotations

import csv
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

duckdb = pytest.importorskip("duckdb")
pytest.importorskip("pyarrow")

from hypothesis import given, settings
from hypothesis import strategies as st
from test_differential import _compile

from clausec import api
from clausec.backends.sql import engines
from clausec.source import SourceFile

PROGRAM = """\
agreement reading "Reading" {
  dated 2024-01-01
  party lender "Lender"
}
fact count: integer optional
fact amount: money optional
fact euros: money EUR optional
fact rate: percent optional
fact ratio: decimal optional
define count_of: integer = count
define amount_of: money = amount
define euros_of: money EUR = euros
define rate_of: percent = rate
define ratio_of: decimal = ratio
"""
FACTS = {"count": "count_of", "amount": "amount_of", "euros": "euros_of", "rate": "rate_of",
         "ratio": "ratio_of"}
TEXTS = ["1,000", "42", " 42 ", "1.5", "-7", "+7", "1,00", "12,345,678", "$1,800,000.00",
         "USD 1,000", "1,000 usd", "-$5", "$-5", "USD -5", "USD 5 USD", "--5", "$5 EUR",
         "EUR 5", "5 EUR", "7.5%", "-0.25%", "7.5 %", "0.075", ".5", "$.5", "abc", "5.",
         "1e3", "%", "$", "1 000"]
PLACES = Decimal(10) ** -10


@pytest.fixture(scope="module")
def reading() -> tuple[Any, api.Result]:
    module, _ = _compile(PROGRAM, "reading.clause")
    return module, api.analyse(SourceFile("reading.clause", PROGRAM))


def module_answer(module: Any, fact: str, value: str) -> tuple[str, Any]:
    try:
        facts = module.Facts(**{fact: value})
    except Exception as error:  # noqa: BLE001 - the error's class is the answer
        return ("error", type(error).__name__)
    return ("value", module.evaluate(FACTS[fact], facts))


def write_csv(path: Path, texts: list[str]) -> Path:
    """A row per text and fact, that fact given the text and the others not given: the
    row's error, if any, is that fact's."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["id", *FACTS])
        for i, value in enumerate(texts):
            for fact in FACTS:
                writer.writerow([f"{i}-{fact}", *(value if f == fact else "" for f in FACTS)])
    return path


def sql_answers(result: api.Result, path: Path, **options: Any) -> dict[str, dict[str, Any]]:
    """Each row's answers, by its id."""
    answers = engines.batch(result, path, list(FACTS.values()), **options)
    rows = answers.to_pylist() if hasattr(answers, "to_pylist") else \
        [r.asDict() for r in answers.collect()]
    return {row["id"]: row for row in rows}


def compare(module: Any, result: api.Result, texts: list[str], tmp_path: Path,
            **options: Any) -> None:
    path = write_csv(tmp_path / "facts.csv", texts)
    got = sql_answers(result, path, **options)
    for i, value in enumerate(texts):
        for fact, name in FACTS.items():
            expected = module_answer(module, fact, value)
            row = got[f"{i}-{fact}"]
            where = f"{fact} = {value!r}: python {expected}, sql {row}"
            if expected[0] == "error":
                if row["error"] is None:
                    # Leniency, never a different number: the query reads what a cast
                    # reads ("5.", "1e3", a percentage's fraction "0.075"), the number
                    # the text spells (README, "The facts").
                    assert row[name] == Decimal(value.strip()), where
                    continue
                assert row["error"].startswith(f"{expected[1]}: "), where
            else:
                assert row["error"] is None, where
                number = expected[1]
                if isinstance(number, Decimal):
                    number = number.quantize(PLACES, ROUND_HALF_UP)
                assert row[name] == number, where


def test_texts_read_as_the_module_reads_them(reading: Any, tmp_path: Path) -> None:
    module, result = reading
    compare(module, result, TEXTS, tmp_path)


def test_what_the_texts_read_as(reading: Any, tmp_path: Path) -> None:
    _, result = reading
    path = write_csv(tmp_path / "facts.csv", ["1,000", "$1,800,000.00", "7.5%", "1.5"])
    got = sql_answers(result, path)
    assert got["0-count"]["count_of"] == 1000
    assert got["1-amount"]["amount_of"] == Decimal(1800000)
    assert got["2-rate"]["rate_of"] == Decimal("0.075")
    # "1.5" is not a whole number: DuckDB would cast it to 2.
    assert got["3-count"]["count_of"] is None
    assert got["3-count"]["error"] == "FactError: fact 'count': 1.5 is not a whole number"
    assert got["1-euros"]["error"].startswith("FactError: fact 'euros': $1,800,000.00 ")


NUMBERISH = st.lists(st.sampled_from(["1", "0", "9", ",", ".", "-", "+", "$", "%", " ", "USD",
                                      "usd", "EUR", "000", ",000", "e"]),
                     min_size=1, max_size=7).map("".join)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.lists(NUMBERISH, min_size=5, max_size=20))
def test_generated_texts_read_as_the_module_reads_them(reading: Any, tmp_path_factory: Any,
                                                       texts: list[str]) -> None:
    module, result = reading
    compare(module, result, texts, tmp_path_factory.mktemp("texts"))


@pytest.mark.spark
def test_texts_on_spark_as_the_module_reads_them(spark_session: Any, reading: Any,
                                                 tmp_path: Path) -> None:
    """On Spark (in ANSI mode, where a CAST that fails fails the query), the same."""
    module, result = reading
    compare(module, result, TEXTS, tmp_path, spark=spark_session)


def test_typed_columns_are_read_by_a_cast_alone(reading: Any) -> None:
    """Columns of numbers need no pattern (a regular expression per row triples a batch's
    time); text columns do, and so does a query for columns of unknown types."""
    from clausec.backends.sql import compile_plan

    _, result = reading
    names = list(FACTS.values())
    assert "REGEXP" not in compile_plan(result, names, text_columns=set()).sql().upper()
    assert "REGEXP" in compile_plan(result, names, text_columns={"amount"}).sql().upper()
    assert "REGEXP" in compile_plan(result, names).sql().upper()


def test_typed_facts_in_memory_as_the_module(reading: Any) -> None:
    """An Arrow table of typed columns (read by a cast) answered as the module does."""
    import pyarrow as pa

    module, result = reading
    table = pa.table({"id": [0, 1], "count": pa.array([1000, None], pa.int64()),
                      "amount": pa.array([Decimal("1800000.25"), Decimal(-5)],
                                         pa.decimal128(38, 10)),
                      "rate": pa.array([Decimal("0.075"), None], pa.decimal128(38, 10))})
    got = {r["id"]: r for r in engines.batch(result, table, ["count_of", "amount_of",
                                                              "rate_of"]).to_pylist()}
    assert got[0]["count_of"] == 1000 and got[0]["amount_of"] == Decimal("1800000.25")
    assert got[0]["rate_of"] == module.evaluate("rate_of", module.Facts(rate="7.5%"))
    assert got[1]["amount_of"] == Decimal(-5) and got[1]["count_of"] is None
