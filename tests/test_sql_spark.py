"""`clausec batch --engine spark`: the same answers from Spark as from DuckDB, row by row,
on the small agreement and on the Rights Agreement with its amendment; inputs from files,
from memory and from a Spark DataFrame; outputs written as one file. One local Spark
serves the whole run (conftest.py's `spark_session`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyspark")
pytest.importorskip("pyarrow")

from test_sql_batch import (
    LOANS,
    RIGHTS,
    Agreement,
    agreement_of,
    arrow_table,
    error_class,
    make_rows,
    plan_outputs,
    read_back,
    write_parquet,
)

from clausec.backends.sql import engines
from clausec.cli import main

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def loans(tmp_path_factory: pytest.TempPathFactory) -> Agreement:
    path = tmp_path_factory.mktemp("loans") / "loans.clause"
    path.write_text(LOANS, encoding="utf-8")
    return agreement_of(path)


@pytest.fixture(scope="module")
def rights() -> Agreement:
    return agreement_of(RIGHTS)


def _utc(value: Any) -> Any:
    """A timestamp as PySpark gives it (naive, in this process's local time) naive in
    UTC, as DuckDB gives it."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def spark_rows(frame: Any) -> list[dict[str, Any]]:
    return [{k: _utc(v) for k, v in row.asDict().items()} for row in frame.collect()]


def same_rows(agreement: Agreement, duck: list[dict[str, Any]],
              spark: list[dict[str, Any]], names: tuple[str, ...] = ()) -> None:
    """Row by row, the same values, and errors of the same class from the same output."""
    outputs = plan_outputs(agreement, names)
    assert len(spark) == len(duck)
    by_id = {str(r["id"]): r for r in spark}  # a CSV file's keys are text
    for expected in duck:
        got = by_id[str(expected["id"])]
        assert list(got) == list(expected)
        assert error_class(got["error"], outputs) == error_class(expected["error"], outputs), \
            (expected, got)
        assert got["error"] is None or got["error"].split(":")[0] == \
            expected["error"].split(":")[0]
        differ = {k: (expected[k], got[k]) for k in expected if k not in ("id", "error")
                  and expected[k] != got[k]}
        assert not differ, f"row {expected['id']}: duckdb, spark: {differ}"


def test_loans_on_spark_as_on_duckdb(spark_session: Any, loans: Agreement,
                                     tmp_path: Path) -> None:
    rows = make_rows(loans, 200, seed=21)
    facts = write_parquet(loans, rows, tmp_path / "facts.parquet")
    duck = engines.batch(loans.result, facts).to_pylist()
    frame = engines.batch(loans.result, facts, engine="spark", spark=spark_session)
    same_rows(loans, duck, spark_rows(frame))


# A name of each kind the Rights Agreement answers with (business days, a close of business,
# money, percentages, an obligation and a power): the query of every name takes Spark half
# a minute to plan and run cold, these a few seconds.
RIGHTS_NAMES = ("distribution_date", "distribution_date_occurred", "record_date",
                "expiration_time", "rights_exercisable", "purchase_price", "sell_units",
                "redeem_rights", "beneficial_ownership_under_section_1d",
                "qualified_transaction")


def test_the_rights_agreement_on_spark_as_on_duckdb(spark_session: Any, rights: Agreement,
                                                    tmp_path: Path) -> None:
    rows = make_rows(rights, 100, seed=22)
    facts = write_parquet(rights, rows, tmp_path / "facts.parquet")
    duck = engines.batch(rights.result, facts, RIGHTS_NAMES).to_pylist()
    frame = engines.batch(rights.result, facts, RIGHTS_NAMES, engine="spark",
                          spark=spark_session)
    same_rows(rights, duck, spark_rows(frame), RIGHTS_NAMES)


def test_inputs_from_csv_a_folder_memory_and_a_spark_dataframe(spark_session: Any, loans: Agreement,
                                                      tmp_path: Path) -> None:
    rows = make_rows(loans, 60, seed=23)
    table = arrow_table(loans, rows)
    duck = engines.batch(loans.result, table).to_pylist()
    csv = tmp_path / "facts.csv"
    csv.write_text("id,debt,ebitda,tested_on\n" + "".join(
        f"{r['id']},{_text(r['debt'])},{_text(r['ebitda'])},{_text(r['tested_on'])}\n"
        for r in rows), encoding="utf-8")
    folder = tmp_path / "portfolio"
    (folder / "2024").mkdir(parents=True)
    write_parquet(loans, rows[:20], folder / "part-0.parquet")
    write_parquet(loans, rows[20:], folder / "2024" / "part-1.parquet")
    for facts in (csv, folder, table, spark_session.createDataFrame(table)):
        frame = engines.batch(loans.result, facts, engine="spark", spark=spark_session)
        same_rows(loans, duck, spark_rows(frame))


def _text(value: object) -> str:
    return "" if value is None else str(value)


@pytest.mark.parametrize("name", ["results.parquet", "results.csv", "results.jsonl"])
def test_spark_writes_one_file(spark_session: Any, loans: Agreement, tmp_path: Path,
                               name: str) -> None:
    rows = make_rows(loans, 50, seed=24)
    facts = write_parquet(loans, rows, tmp_path / "facts.parquet")
    out = tmp_path / "out" / name
    run = engines.prepare(loans.result, facts, engine="spark", spark=spark_session)
    counts = run.write(out)
    outputs = plan_outputs(loans)
    written = read_back(out, outputs)
    duck = engines.batch(loans.result, facts).to_pylist()
    assert counts == engines.Counts(50, sum(r["error"] is not None for r in duck))
    same_rows(loans, duck, written)
    assert sorted(p.name for p in out.parent.iterdir()) == [name]  # nothing else left


def test_cli_batch_on_spark(spark_session: Any, capsys: pytest.CaptureFixture[str],
                            loans: Agreement, tmp_path: Path) -> None:
    rows = make_rows(loans, 30, seed=25)
    facts = write_parquet(loans, rows, tmp_path / "facts.parquet")
    code = main(["batch", str(loans.path), "--facts", str(facts), "--engine", "spark",
                 "covenant_met"])
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["id", "covenant_met", "error"]
    assert lines[-1].startswith("30 rows, ") and lines[-1].endswith("(the first 10 shown)")


def test_a_missing_file_on_spark(spark_session: Any, loans: Agreement, tmp_path: Path) -> None:
    with pytest.raises(engines.BatchError, match="no such file or folder"):
        engines.batch(loans.result, tmp_path / "none.parquet", spark=spark_session)
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"not parquet")
    with pytest.raises(engines.BatchError, match="garbage.parquet: "):
        engines.batch(loans.result, garbage, spark=spark_session)


PRODUCTS = """
agreement deal "Deal" {
  dated 2008-01-01
  party licensee "Licensee"
}
section 1 "Products" {
  text "Products of decimals of every magnitude."
  fact a: decimal
  fact b: decimal
  define product: decimal = a * b
  define squared: decimal = a ^ 2
}
"""


def _units(rnd: Any, digits: int) -> int:
    return rnd.randrange(-10 ** digits, 10 ** digits)


def test_products_keep_ten_places_on_spark(spark_session: Any) -> None:
    """A product of two decimals is rounded half up at its 10th place on Spark as on
    DuckDB (Spark's own type for a product of two DECIMAL(38, 10) keeps 6), whatever the
    factors' magnitudes, up to the backend's limit of 10^17."""
    import random
    from decimal import ROUND_HALF_UP, Decimal

    import pyarrow as pa

    from clausec import api
    from clausec.source import SourceFile

    result = api.analyse(SourceFile("products.clause", PRODUCTS))
    rnd = random.Random(5)
    pairs = []
    for _ in range(300):
        # Units of 10^-10, from 1 to 36 digits: every bucket of the first factor's magnitude.
        a = Decimal(_units(rnd, rnd.randrange(1, 37))).scaleb(-10)
        b = Decimal(_units(rnd, rnd.randrange(1, 21))).scaleb(-10)
        pairs.append((a, b) if rnd.random() < 0.5 else (b, a))
    pairs += [(Decimal("0.0000012345"), Decimal("0.0000054321")),  # below 10^-6: refused
              (Decimal("123456789.0123456789"), Decimal("0.0000000001"))]
    decimal = pa.decimal128(38, 10)
    table = pa.table({"id": list(range(len(pairs))),
                      "a": pa.array([a for a, _ in pairs], decimal),
                      "b": pa.array([b for _, b in pairs], decimal)})
    names = ["product", "squared"]
    duck = {r["id"]: r for r in engines.batch(result, table, names).to_pylist()}
    spark = {r["id"]: r for r in spark_rows(engines.batch(result, table, names,
                                                          spark=spark_session))}
    answered = 0
    for row_id, (a, b) in enumerate(pairs):
        expected, got = duck[row_id], spark[row_id]
        assert got == expected, (a, b, expected, got)
        if expected["product"] is not None:
            exact = (a * b).quantize(Decimal("1e-10"), ROUND_HALF_UP)
            assert expected["product"] == exact, (a, b)
            answered += 1
    assert answered > 100
    assert "too small" in duck[len(pairs) - 2]["error"]
