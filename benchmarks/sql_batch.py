"""SQL batch backend: a seed predicate over N rows of facts, on DuckDB, against Python.

The agreement below holds one condition with a money threshold and a date shift
(`debt <= $50,000,000 and 45 days after tested_on >= 2024-06-30`). A seeded random
Parquet file of N rows (id, debt and ebitda as decimal128(38,10), tested_on as date32) is
answered, all in this one run, by:

  - DuckDB batch: `engines.batch(result, facts.parquet, ["covenant_met"], output=...)`,
    compiling the plan, reading the facts and writing the answers to Parquet (wall time);
  - the compiled Python module building `Facts` per row then calling the condition, on a
    sample of min(N, 200,000) rows (the baseline: what a loop over the rows would do);
  - the compiled condition alone over `Facts` built beforehand, on the same sample;
  - the same predicate written by hand in DuckDB SQL, Parquet to Parquet (the engine's limit);
  - the same predicate as a hand-written polars expression (if polars is installed);
  - with --spark: Spark in local mode (session start-up, then `engine="spark"`).

Before printing, the DuckDB answers for the sampled rows are checked equal to the Python
module's. Ratios are rows/s against the two Python paths; the targets are DuckDB batch
>= 500x the Facts-per-row path and >= 10x the pre-built Facts path. Peak memory is this
process's ru_maxrss (a Spark JVM is a child process, not counted).

    python benchmarks/sql_batch.py [--rows 1000000] [--sample 200000] [--seed 1] [--spark]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb  # imported here so that no timing below includes importing it
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import clausec
from clausec.backends.sql import engines
from clausec.cli.common import analyse

CLAUSES = '''
agreement loans "Loans" {
  dated 2024-01-01
  party lender "Lender"
}
section 1 "Covenant" {
  text "..."
  fact debt "debt": money
  fact ebitda "EBITDA": money
  fact tested_on "test date": date
  define report_due "report due": date = 45 days after tested_on
  condition covenant_met "the covenant is met" = debt <= $50,000,000 and report_due >= 2024-06-30
}
'''

SCALE = 10  # decimal128(38, 10)
EPOCH_2024 = (date(2024, 1, 1) - date(1970, 1, 1)).days


def money_array(cents: np.ndarray) -> pa.Array:
    """Non-negative amounts in cents as decimal128(38, 10), built from their unscaled
    128-bit little-endian integers (low word, then a zero high word)."""
    unscaled = np.zeros((len(cents), 2), dtype=np.int64)
    unscaled[:, 0] = cents * 10 ** (SCALE - 2)  # < 2**63 for amounts < $92M
    return pa.Array.from_buffers(pa.decimal128(38, SCALE), len(cents),
                                 [None, pa.py_buffer(unscaled.tobytes())])


def write_facts(path: Path, rows: int, seed: int) -> None:
    """N seeded random rows: debt up to $90M (about half under the threshold), EBITDA up to
    $20M, test dates through 2024 (report due on or after 2024-06-30 from mid-May)."""
    rng = np.random.default_rng(seed)
    table = pa.table({
        "id": pa.array(np.arange(rows, dtype=np.int64)),
        "debt": money_array(rng.integers(0, 9_000_000_000, rows, dtype=np.int64)),
        "ebitda": money_array(rng.integers(0, 2_000_000_000, rows, dtype=np.int64)),
        "tested_on": pa.array(EPOCH_2024 + rng.integers(0, 366, rows).astype(np.int32),
                              pa.int32()).cast(pa.date32()),
    })
    pq.write_table(table, path)


def timed(run: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = run()
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of facts")
    parser.add_argument("--sample", type=int, default=200_000,
                        help="rows for the Python paths (at most --rows)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--spark", action="store_true",
                        help="also run on Spark in local mode (slow to start)")
    args = parser.parse_args()
    rows, sample = args.rows, min(args.rows, args.sample)
    results: list[tuple[str, int, float]] = []  # method, rows, seconds

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        clause = tmp / "loans.clause"
        clause.write_text(CLAUSES)
        result = analyse(str(clause))
        module = clausec.load(clause)

        facts_path = tmp / "facts.parquet"
        seconds, _ = timed(lambda: write_facts(facts_path, rows, args.seed))
        print(f"generated {rows:,} rows of facts in {seconds:.2f} s "
              f"({facts_path.stat().st_size / 2**20:.1f} MiB of Parquet)")

        # DuckDB batch, end to end: compile, read, answer, write.
        out = tmp / "results.parquet"
        seconds, _ = timed(lambda: engines.batch(result, str(facts_path), ["covenant_met"],
                                                 output=str(out)))
        results.append(("DuckDB batch (clausec)", rows, seconds))

        # The Python paths, on the first `sample` rows (conversion to Python untimed).
        head = next(pq.ParquetFile(facts_path).iter_batches(batch_size=sample))
        debts = head.column("debt").to_pylist()
        ebitdas = head.column("ebitda").to_pylist()
        dates = head.column("tested_on").to_pylist()
        facts_type, condition = module.Facts, module.covenant_met

        def per_row() -> list[bool]:
            return [condition(facts_type(debt=d, ebitda=e, tested_on=t))
                    for d, e, t in zip(debts, ebitdas, dates)]

        seconds, python_answers = timed(per_row)
        results.append(("Python, Facts per row", sample, seconds))

        prebuilt = [facts_type(debt=d, ebitda=e, tested_on=t)
                    for d, e, t in zip(debts, ebitdas, dates)]
        seconds, prebuilt_answers = timed(lambda: [condition(f) for f in prebuilt])
        results.append(("Python, pre-built Facts", sample, seconds))
        assert prebuilt_answers == python_answers

        # The answers agree: DuckDB's for the sampled rows, by id, against Python's.
        answers = pq.read_table(out, filters=[("id", "<", sample)]).sort_by("id")
        assert answers.num_rows == sample
        assert answers.column("id").to_pylist() == list(range(sample))
        assert answers.column("error").null_count == sample, "rows with errors"
        assert answers.column("covenant_met").to_pylist() == python_answers
        print(f"answers agree: DuckDB and Python on {sample:,} rows "
              f"({sum(python_answers):,} met)")

        # The engine's limit: the same predicate in hand-written DuckDB SQL.
        hand_out = tmp / "hand.parquet"
        query = (f"COPY (SELECT id, debt <= 50000000 AND tested_on + INTERVAL 45 DAY "
                 f">= DATE '2024-06-30' AS covenant_met FROM read_parquet('{facts_path}')) "
                 f"TO '{hand_out}' (FORMAT parquet)")
        connection = duckdb.connect()
        seconds, _ = timed(lambda: connection.execute(query))
        results.append(("DuckDB, hand-written SQL", rows, seconds))
        met = "SELECT count(*) FILTER (WHERE covenant_met) FROM read_parquet('{}')"
        hand_met = connection.execute(met.format(hand_out)).fetchone()
        assert hand_met == connection.execute(met.format(out)).fetchone()
        connection.close()

        # A hand-written polars expression, if polars is installed.
        try:
            import polars as pl
        except ImportError:
            print("polars is not installed: skipped")
        else:
            polars_out = tmp / "polars.parquet"
            frame = pl.scan_parquet(facts_path).select(
                pl.col("id"),
                ((pl.col("debt") <= pl.lit(Decimal(50_000_000)))
                 & (pl.col("tested_on") + pl.duration(days=45) >= pl.lit(date(2024, 6, 30))))
                .alias("covenant_met"))
            seconds, _ = timed(lambda: frame.sink_parquet(polars_out))
            results.append(("polars, hand-written", rows, seconds))
            polars_met = pl.read_parquet(polars_out)["covenant_met"].sum()
            assert hand_met is not None and polars_met == hand_met[0]

        if args.spark:
            from pyspark.sql import SparkSession
            seconds, spark = timed(lambda: SparkSession.builder.master("local[*]")
                                   .appName("clausec sql_batch").getOrCreate())
            print(f"Spark local session started in {seconds:.1f} s")
            spark.sparkContext.setLogLevel("ERROR")
            spark_out = tmp / "spark_results.parquet"
            seconds, _ = timed(lambda: engines.batch(
                result, str(facts_path), ["covenant_met"], engine="spark", spark=spark,
                output=str(spark_out)))
            results.append(("Spark batch (clausec, local)", rows, seconds))
            spark.stop()

    per_row_rate = results[1][1] / results[1][2]
    prebuilt_rate = results[2][1] / results[2][2]
    print()
    print(f"{'method':<30} {'rows':>11} {'seconds':>9} {'rows/s':>13} "
          f"{'vs per-row':>11} {'vs pre-built':>13}")
    for method, n, seconds in results:
        rate = n / seconds
        print(f"{method:<30} {n:>11,} {seconds:>9.3f} {rate:>13,.0f} "
              f"{rate / per_row_rate:>10.1f}x {rate / prebuilt_rate:>12.1f}x")

    batch_rate = results[0][1] / results[0][2]
    print()
    for target, base, name in ((500, per_row_rate, "Facts-per-row path"),
                               (10, prebuilt_rate, "pre-built Facts path")):
        ratio = batch_rate / base
        verdict = "met" if ratio >= target else "NOT met"
        print(f"target: DuckDB batch >= {target}x the {name}: {ratio:,.1f}x ({verdict})")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"peak memory (ru_maxrss of this process): {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
