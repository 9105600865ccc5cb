"""Time of `clausec diff` on the seed contracts, per changed result and in total.

For each seed agreement, every amendment against the version before it, with the
command's defaults (z3 first, then a bounded search of 2,000 examples, seeded): the
method and verdict of each changed result, and the seconds it took to decide (confirming
and minimising the counterexamples and explaining both versions included). The baseline,
measured in the same run, is the time to compile the agreement (parse, consolidate,
check, generate, import): the diff's own overhead is stated as a multiple of it.

    python benchmarks/diff_time.py [--examples N] [--no-z3]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from clausec import api
from clausec.analysis import semdiff
from clausec.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
SEEDS = [ROOT / "clauses" / "patent_purchase", ROOT / "clauses" / "rights_agreement"]


def compile_seconds(agreement: Path, amendments: list[Path]) -> float:
    """The baseline: the agreement and its amendments compiled and imported (best of 3)."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        result = api.analyse(SourceFile.read(agreement),
                             [SourceFile.read(a) for a in amendments])
        semdiff.compiled(result)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=semdiff.DEFAULT_EXAMPLES)
    parser.add_argument("--no-z3", dest="use_z3", action="store_false")
    args = parser.parse_args()
    options = semdiff.Options(examples=args.examples, use_z3=args.use_z3)
    grand = 0.0
    for folder in SEEDS:
        (agreement, amendments), = api.group([folder])
        baseline = compile_seconds(agreement, amendments)
        start = time.perf_counter()
        result = api.analyse(SourceFile.read(agreement),
                             [SourceFile.read(a) for a in amendments])
        assert result.versions is not None
        pairs = [(i - 1, i) for i in range(1, len(result.versions))]
        comparisons = semdiff.amendment_comparisons(result, semdiff.compiled(result), pairs,
                                                    options)
        total = time.perf_counter() - start
        grand += total
        print(f"\n{folder.name}: compile (baseline) {baseline:.3f} s")
        print(f"{'result':<48} {'method':<7} {'verdict':<20} {'seconds':>8}")
        for comparison in comparisons:
            for f in comparison.results():
                if f.change in ("changed", "affected"):
                    print(f"{f.name:<48} {f.method:<7} {f.verdict:<20} {f.seconds:>8.3f}")
        decided = [f for c in comparisons for f in c.results()
                   if f.change in ("changed", "affected")]
        counts = {m: sum(f.method == m for f in decided) for m in ("z3", "search")}
        slowest = max((f.seconds for f in decided), default=0.0)
        print(f"{len(decided)} results decided ({counts['z3']} by z3, {counts['search']} "
              f"by search) in {total:.2f} s: {total / baseline:.1f}x the compile time; "
              f"mean {total / max(len(decided), 1):.3f} s, slowest {slowest:.3f} s")
    print(f"\nall seed contracts: {grand:.2f} s")


if __name__ == "__main__":
    main()
