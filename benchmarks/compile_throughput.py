"""Compile throughput on a generated large clause file, and peak memory.

Prints lines per second for each pass and in all, the peak memory of a compile, and, as
a baseline measured in the same run, how long CPython's own `compile()` takes on the
generated module (the ratio says what clausec costs beyond producing Python).

    python benchmarks/compile_throughput.py [--sections 800]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

from clausec.backends.python import codegen
from clausec.diagnostics import Diagnostics
from clausec.front import parser, transform
from clausec.passes import check
from clausec.source import SourceFile


def large_clause_file(sections: int) -> str:
    """A synthetic agreement in the shape of the seed contracts, ~13 lines a section."""
    out = [
        'agreement big "A Large Agreement" {',
        "  dated 2004-01-01",
        '  party buyer "Buyer": "Buyer Inc."',
        '  party seller "Seller": "Seller Inc."',
        '  time zone America/New_York "New York City time"',
        "}",
    ]
    for i in range(sections):
        # Price schedules of 50 steps each: one chain of 800 would pass check.MAX_TERM_CHAIN.
        prev = f"price_{i - 1}" if i % 50 else "$1,000"
        out += [
            f'fact approved_{i} "Approval {i}": bool "Whether approval {i} was received."',
            f"fact paid_on_{i}: date optional",
            f'section {i + 1}.1 "Provision {i}" {{',
            '  text """The Buyer shall pay the price within two business days after the',
            '  approval, unless the approval has been revoked."""',
            f"  define price_{i}: money = {prev} + $100 * (1 + 2.5%)",
            (f"  define due_{i} = earlier of [(i) 2 business days after paid_on_{i}, "
            f"(ii) 2004-12-31]"),
            (f"  condition ok_{i} = all of [(a) approved_{i}, (b) price_{i} is at least $10,"
            f" (c) not approved_{i} or price_{i} > $5]"),
            (f"  obligation pay_{i}: buyer must pay price_{i} to seller within 2 business days"
            f" after 2004-06-01 when ok_{i}"),
            f"  power end_{i}: either party may terminate when not ok_{i}",
            "}",
            "",
        ]
    return "\n".join(out) + "\n"


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    args.add_argument("--sections", type=int, default=800)
    ns = args.parse_args()
    text = large_clause_file(ns.sections)
    lines = text.count("\n")
    source = SourceFile("big.clause", text)
    parser.lark_parser()  # building the parser tables is a one-off per process

    timings: dict[str, float] = {}
    start = time.perf_counter()
    d = Diagnostics()
    trees = parser.parse(source, d)
    timings["parse"] = time.perf_counter() - start
    t = time.perf_counter()
    program = transform.build(source.name, trees, d)
    timings["transform"] = time.perf_counter() - t
    t = time.perf_counter()
    checked = check.check(program, d)
    timings["check"] = time.perf_counter() - t
    t = time.perf_counter()
    code = codegen.generate(checked, source)
    timings["codegen"] = time.perf_counter() - t
    total = time.perf_counter() - start
    assert not d.has_errors, d.render({source.name: source})
    # Memory in a second run: tracemalloc slows allocation too much to time with it on.
    tracemalloc.start()
    d2 = Diagnostics()
    codegen.generate(check.check(transform.build(source.name, parser.parse(source, d2), d2),
                                 d2), source)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    t = time.perf_counter()
    compile(code, "big.py", "exec")
    baseline = time.perf_counter() - t

    print(f"input: {lines:,} clause lines, {len(text):,} bytes; output: "
          f"{code.count(chr(10)):,} Python lines")
    for name, seconds in timings.items():
        print(f"  {name:<10} {seconds * 1000:8.1f} ms  {lines / seconds:12,.0f} lines/s")
    print(f"  {'total':<10} {total * 1000:8.1f} ms  {lines / total:12,.0f} lines/s")
    print(f"peak memory (tracemalloc) during compile: {peak / 2**20:.1f} MiB")
    print(f"baseline: CPython compile() of the generated module: {baseline * 1000:.1f} ms; "
          f"clausec / baseline = {total / baseline:.1f}x")


if __name__ == "__main__":
    main()
