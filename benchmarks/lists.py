"""Contracts over many things: lists of records, allocation and aggregates at size.

The credit agreement of docs/examples/credit_prepayment.clause shares a prepayment pro
rata among N Term Lenders and sums the Declined Proceeds; the compiled module does it for
N = 1,000, 10,000 and 100,000 lenders, against the same computation written by hand (the
same largest-remainder rounding over the same Decimals). It prints the time per lender at
each size (linear time: the figure stays flat as N grows) and the ratio compiled / by hand.
Reading the facts (converting N records) is timed apart.

    python benchmarks/lists.py [--sizes 1000,10000,100000]
"""

from __future__ import annotations

import argparse
import time
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from clausec import api

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "credit_prepayment.clause"


def by_hand(amount: Decimal, lenders: list[tuple[Decimal, bool]]) -> Decimal:
    total = sum((w for w, _ in lenders), Decimal(0))
    units = int(amount * 100)
    exact = [Fraction(units) * Fraction(w) / Fraction(total) for w, _ in lenders]
    floors = [int(x) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:units - sum(floors)]:
        floors[i] += 1
    return sum((Decimal(n) / 100 for n, (_, d) in zip(floors, lenders) if d), Decimal(0))


def best(run: object, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    module = api.load(EXAMPLE)
    print(f"{'lenders':>9} {'read facts':>12} {'compiled':>10} {'by hand':>10} "
          f"{'per lender':>11} {'ratio':>6}")
    for n in (int(s) for s in args.sizes.split(",")):
        raw = [{"name": str(i), "principal": str(1000 + i % 97), "declined": i % 3 == 0}
               for i in range(n)]
        given = {"loan_kind": "base_rate", "prepayment": "1234567.89", "payment": "0",
                 "accrued_interest": "0", "installments": [], "test_date": "2024-06-30",
                 "leverage_ratio": "4", "term_lenders": raw}
        read = best(lambda: module.Facts.from_dict(given), 1)
        facts = module.Facts.from_dict(given)
        compiled = best(lambda: module.declined_proceeds(facts))
        plain = [(Decimal(r["principal"]), bool(r["declined"])) for r in raw]
        hand = best(lambda: by_hand(Decimal("1234567.89"), plain))
        assert module.declined_proceeds(facts) == by_hand(Decimal("1234567.89"), plain)
        print(f"{n:>9,} {read * 1000:>10.1f}ms {compiled * 1000:>8.1f}ms "
              f"{hand * 1000:>8.1f}ms {compiled / n * 1e6:>9.2f}us {compiled / hand:>6.2f}")


if __name__ == "__main__":
    main()
