"""Business days: the Rights Agreement's Distribution Date compiled against the same rule
written by hand, and a shift of N business days against the walk day by day.

The Distribution Date (clauses/rights_agreement/rights_agreement.clause, Section 3(a)) is
the earlier of 10 days after the Stock Acquisition Date and the tenth business day after
a tender offer commenced (or a later date the Board determines); the facts are those of
clauses/examples/rights_tender_offer.json (an offer commenced on Friday November 21, 2003,
whose ten business days span Thanksgiving). The hand-written version is what a developer
would write over the same validated facts object: the U.S. federal holidays of the years
it needs as a set built once, and a loop over the days. The ratio is compiled /
hand-written (target: <= 1.2x).

Then `Calendar.add_business_days` (the runtime of every generated module) for N business
days from days of 2000 to 2030, against the walk day by day over the same calendar
(tests/test_business_days.py keeps it as the reference): the time per shift, which stays
flat as N grows, and the ratio walk / runtime. Both run in this process.

    python benchmarks/business_days.py
"""

from __future__ import annotations

import json
import random
import sys
import timeit
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import clausec
from clausec.backends.python.runtime import Calendar, us_federal_holidays

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from test_business_days import walk_business_days

CLAUSE = ROOT / "clauses" / "rights_agreement" / "rights_agreement.clause"
FACTS = ROOT / "clauses" / "examples" / "rights_tender_offer.json"

# Constants built once, as a careful developer (and the compiler) would.
FIFTEEN_PERCENT = Decimal("0.15")
TEN_DAYS = timedelta(days=10)
ONE_DAY = timedelta(days=1)
FEDERAL_HOLIDAYS = frozenset(d for year in range(1990, 2051) for d in us_federal_holidays(year))


def business_days_after(day: date, n: int) -> date:
    """The n-th U.S. federal business day after `day` (n > 0)."""
    while n:
        day += ONE_DAY
        if day.weekday() < 5 and day not in FEDERAL_HOLIDAYS:
            n -= 1
    return day


def hand_written(facts: Any) -> date | None:
    """Section 3(a)'s Distribution Date over the module's validated facts, by hand."""
    earliest: date | None = None
    announced = facts.acquiring_person_announced_on
    if announced is not None and facts.beneficial_ownership >= FIFTEEN_PERCENT and not (
            facts.crossed_by_company_repurchases or facts.crossed_by_inadvertent_action
            or facts.acquired_on_or_before_june_1_2001):
        earliest = announced + TEN_DAYS
    commenced = facts.tender_offer_commenced_on
    if commenced is not None and facts.tender_offer_would_create_acquiring_person:
        tenth = business_days_after(commenced, 10)
        board = facts.board_determined_later_date
        if board is not None and board > tenth:
            tenth = board
        earliest = tenth if earliest is None else min(earliest, tenth)
    return earliest


def best_of(runs: dict[str, Callable[[], object]], number: int) -> dict[str, float]:
    """Seconds per call of each function: interleaved repeats, best of each (the least
    noisy estimate on a shared machine)."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(7):
        for name, run in runs.items():
            best[name] = min(best[name], timeit.timeit(run, number=number) / number)
    return best


def distribution_date() -> None:
    module = clausec.load(CLAUSE)
    facts = module.Facts.from_dict(json.loads(FACTS.read_text()))
    assert module.distribution_date(facts) == hand_written(facts) == date(2003, 12, 8)
    compiled = module.distribution_date
    times = best_of({"compiled": lambda: compiled(facts),
                     "hand": lambda: hand_written(facts)}, 20_000)
    print(f"Distribution Date, compiled:    {times['compiled'] * 1e9:8.0f} ns per evaluation")
    print(f"Distribution Date, by hand:     {times['hand'] * 1e9:8.0f} ns per evaluation")
    print(f"ratio compiled / hand:          {times['compiled'] / times['hand']:8.2f}x"
          "  (target <= 1.2x)")


def shifts() -> None:
    calendar = Calendar()
    rng = random.Random(7)
    starts = [date(2000, 1, 1) + timedelta(days=rng.randrange(31 * 365)) for _ in range(100)]
    for start in starts:  # the years the shifts reach, built before timing
        calendar.add_business_days(start, 2500)
    print(f"{'N':>6} {'runtime':>12} {'walk':>12} {'walk / runtime':>15}")
    for n in (10, 250, 2500):
        times = best_of({
            "runtime": lambda n=n: [calendar.add_business_days(s, n) for s in starts],
            "walk": lambda n=n: [walk_business_days(calendar, s, n) for s in starts],
        }, max(1, 2000 // n))
        runtime, walk = times["runtime"] / len(starts), times["walk"] / len(starts)
        print(f"{n:>6} {runtime * 1e6:9.2f} us {walk * 1e6:9.1f} us {walk / runtime:14.0f}x")


def main() -> None:
    distribution_date()
    print()
    shifts()


if __name__ == "__main__":
    main()
