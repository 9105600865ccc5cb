"""Evaluation overhead: a compiled condition against the same logic written by hand.

The condition is the seed Patent Purchase Agreement's kind of logic (an all-of over facts
and thresholds on amounts computed from facts). The hand-written version is what a
developer would write in plain Python over the same validated facts object, with its
constants built once. Both run in this process on the same facts; the ratio is
compiled / hand-written (target: <= 1.5x). The compiled code pays for two guarantees
the hand-written one lacks: Decimal arithmetic in its own context (results do not depend
on the caller's decimal precision) and errors located in the clause file.

    python benchmarks/eval_overhead.py
"""

from __future__ import annotations

import tempfile
import timeit
from decimal import Decimal
from pathlib import Path
from typing import Any

import clausec

CLAUSES = '''
agreement bench "Benchmark Agreement" {
  party purchaser "Purchaser"
  party seller "Seller"
}
fact board_approved: bool
fact license_terminated: bool
fact escrow_terminated: bool
fact deposit_received: money
fact interest: money
section 3.1 "Closing Conditions" {
  define deposit_amount: money = $900,000 + interest
  define closing_payment: money = $1,800,000 - deposit_received
  condition closing_conditions_met = all of [
    (a) board_approved,
    (b) not license_terminated,
    (c) not escrow_terminated,
    (d) closing_payment is at most $1,800,000,
    (e) deposit_amount is at least $900,000,
  ]
}
'''


# Constants built once, as a careful developer (and the compiler) would.
DEPOSIT = Decimal(900000)
PRICE = Decimal(1800000)


def hand_written(facts: Any) -> bool:
    """The same rule over the same validated facts object, as a developer would write it."""
    deposit_amount = DEPOSIT + facts.interest
    closing_payment = PRICE - facts.deposit_received
    return bool(facts.board_approved and not facts.license_terminated
                and not facts.escrow_terminated and closing_payment <= PRICE
                and deposit_amount >= DEPOSIT)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.clause"
        path.write_text(CLAUSES)
        module = clausec.load(path)
    facts = module.Facts(board_approved=True, license_terminated=False,
                         escrow_terminated=False, deposit_received="900000", interest="12.5")
    assert module.closing_conditions_met(facts) == hand_written(facts) is True

    condition = module.closing_conditions_met

    def compiled() -> bool:
        return condition(facts)  # type: ignore[no-any-return]

    def by_hand() -> bool:
        return hand_written(facts)

    number = 100_000
    # Interleaved repeats, best of each: the least noisy estimate on a shared machine.
    best_c, best_h = float("inf"), float("inf")
    for _ in range(7):
        best_c = min(best_c, timeit.timeit(compiled, number=number))
        best_h = min(best_h, timeit.timeit(by_hand, number=number))
    explain = timeit.timeit(lambda: module.explain("closing_conditions_met", facts), number=2000)
    print(f"compiled condition:     {best_c / number * 1e9:8.0f} ns per evaluation")
    print(f"hand-written Python:    {best_h / number * 1e9:8.0f} ns per evaluation")
    print(f"ratio compiled / hand:  {best_c / best_h:8.2f}x  (target <= 1.5x)")
    print(f"explain():              {explain / 2000 * 1e6:8.1f} us per explanation tree")


if __name__ == "__main__":
    main()
