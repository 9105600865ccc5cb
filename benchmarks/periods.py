"""Contracts over time: a balance carried forward over many periods, and an agenda.

A royalty credit carried from quarter to quarter (IntriCon 4.4's shape) is computed by the
compiled module and by the interpreter for the last of N quarters, against the same
balance written by hand as a loop over the same amounts, already Decimals. The compiled
module evaluates a definition of the previous period with memory and computes earlier
periods first (no deep recursion); it is timed once with the reading of the series (each
period named by its label, matched with the family's periods) and once on a series
already read; the ratio is compiled / hand-written. Then the agenda of the IntriCon
licence for one year, from `clauses/examples/intricon_2009.json`.

    python benchmarks/periods.py [--quarters N]
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from clausec import api
from clausec.backends.interpret import interpret
from clausec.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
CLAUSES = """
agreement bench "Benchmark Licence" {
  party licensee "Licensee"
  party licensor "Licensor"
}
define commencement_date: date = 2008-10-01
periods royalty_quarter = calendar quarters from commencement_date
fact royalties: money per royalty_quarter
define credit(q: royalty_quarter): money =
  if q is after first royalty_quarter
  then greater of [$0, credit(previous q) + $25,000 - royalties(q)]
  else greater of [$0, $25,000 - royalties(q)]
"""


def by_hand(royalties: list[Decimal]) -> Decimal:
    credit = Decimal(0)
    for amount in royalties:
        credit = max(Decimal(0), credit + Decimal(25000) - amount)
    return credit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quarters", type=int, default=2000)
    n = parser.parse_args().quarters
    result = api.analyse(SourceFile("bench.clause", CLAUSES))
    module = api.module_from_source(api.generate(result), "bench.clause")
    amounts = [Decimal(20000 + (i * 7919) % 10000) for i in range(n)]
    labels = []
    period = module.royalty_quarter(module.Facts(royalties={})).first()
    for _ in range(n):
        labels.append(period.label.split(" (")[0])
        period = period.next()
    series = dict(zip(labels, amounts))
    last = labels[-1]

    start = time.perf_counter()
    facts = module.Facts(royalties=series)
    compiled = module.credit(facts, last)
    first_s = time.perf_counter() - start
    # The same series, already matched with its periods: the balance alone.
    start = time.perf_counter()
    module.credit(module.Facts(royalties=facts.royalties), last)
    compiled_s = time.perf_counter() - start
    start = time.perf_counter()
    interpreted = interpret(result).evaluate("credit", {"royalties": series}, last)
    interpreted_s = time.perf_counter() - start
    start = time.perf_counter()
    expected = by_hand(amounts)
    hand_s = time.perf_counter() - start
    assert compiled == interpreted == expected, (compiled, interpreted, expected)
    print(f"credit carried over {n} quarters: {compiled}")
    print(f"  compiled, reading the series  {first_s * 1000:9.1f} ms")
    print(f"  compiled     {compiled_s * 1000:9.1f} ms   {compiled_s / hand_s:7.1f}x by hand")
    print(f"  interpreted  {interpreted_s * 1000:9.1f} ms   {interpreted_s / hand_s:7.1f}x by hand")
    print(f"  by hand      {hand_s * 1000:9.1f} ms")

    intricon = api.load(ROOT / "clauses" / "intricon_license")
    facts = intricon.Facts.from_dict(json.loads(
        (ROOT / "clauses" / "examples" / "intricon_2009.json").read_text(encoding="utf-8")))
    runs = 20
    start = time.perf_counter()
    for _ in range(runs):
        agenda = intricon.agenda(facts, date(2009, 1, 1), date(2009, 12, 31))
    each = (time.perf_counter() - start) / runs
    print(f"agenda of the IntriCon licence for 2009: {len(agenda)} entries in "
          f"{each * 1000:.1f} ms")


if __name__ == "__main__":
    main()
