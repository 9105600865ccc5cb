"""How long `clausec verify` takes on the seed contracts: per invariant and version (the
method, the result, the seconds), per agreement, and beside it, as a baseline measured in
the same run, the time to analyse and compile the agreement.

    python benchmarks/verify_time.py [--examples N] [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from clausec import api
from clausec.analysis import verify
from clausec.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    print(f"clausec verify, {args.examples} examples per search, z3 timeout {args.timeout}s")
    for agreement, amendments in api.group([ROOT / "clauses"]):
        start = time.perf_counter()
        result = api.analyse(SourceFile.read(agreement), [SourceFile.read(a) for a in amendments])
        api.generate(result)
        compile_seconds = time.perf_counter() - start
        start = time.perf_counter()
        outcomes = verify.verify(result, examples=args.examples, timeout=args.timeout)
        total = time.perf_counter() - start
        print()
        print(f"{agreement.relative_to(ROOT)} (+{len(amendments)} amendment(s)): "
              f"compile {compile_seconds:.2f}s, verify {total:.2f}s "
              f"({total / compile_seconds:.0f}x compile)")
        print(f"  {'invariant':<48} {'version':<30} {'method':<32} {'result':<10} seconds")
        for o in outcomes:
            print(f"  {o.invariant:<48} {o.version or '-':<30} {o.method:<32} "
                  f"{o.status:<10} {o.seconds:7.3f}")
        for method in ("z3", "search"):
            chosen = [o for o in outcomes if (o.method == "search") == (method == "search")]
            if chosen:
                print(f"  {method}: {len(chosen)} checks, {sum(o.seconds for o in chosen):.2f}s")


if __name__ == "__main__":
    main()
