"""Fuzz every command: mutated seed contracts, hostile texts, file names and facts files.

Each input is one command (check, compile, fmt, test, summarize, eval, lsp) on one case
drawn from its seed by `tests/fuzzing.py` (the generator the fuzz tests use). A case
breaks a promise when the command exits with a code other than 0 or 1 (2 for a usage
error), prints a traceback or "internal error", takes longer than the time limit, runs
out of the memory limit, or runs code from the input. Workers run in parallel, each with
its own language server for the lsp cases; memory is capped per worker so a blow-up
shows as a broken case rather than a swapping machine.

    python benchmarks/fuzz.py                    # 100,000 inputs
    python benchmarks/fuzz.py --inputs 2000 --workers 2 --seed 7

It prints, per command, how many inputs ran and how each ended, the inputs per second,
and the seed of each broken case (reproduce one with `--replay SEED --command NAME`).
The baseline is the time of `clausec check` on the unmutated seed contracts, measured in
the same run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fuzzing import BASE_TEXTS, COMMANDS, Case, LspClient, make_case, run_case

MEMORY_LIMIT = 4 << 30  # bytes per worker
SECONDS = 60.0

_lsp: LspClient | None = None


def _start_worker() -> None:
    global _lsp
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    _lsp = LspClient(Path(tempfile.mkdtemp(prefix="clausec-fuzz-lsp-")))


def _one(job: tuple[int, str]) -> tuple[str, int, str, float, list[str]]:
    seed, command = job
    case = make_case(random.Random(seed), command)
    folder = Path(tempfile.mkdtemp(prefix="clausec-fuzz-"))
    try:
        outcome = run_case(case, folder, seconds=SECONDS, lsp=_lsp)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    ended = ("broken" if not outcome.ok else "skipped" if outcome.exit_code is None
             else f"exit {outcome.exit_code}")
    return command, seed, ended, outcome.seconds, outcome.problems


def _baseline() -> float:
    """Seconds per `clausec check` of an unmutated seed file, in this process."""
    folder = Path(tempfile.mkdtemp(prefix="clausec-fuzz-base-"))
    try:
        for _ in range(2):  # the first round pays for imports and parser tables
            start = time.perf_counter()
            for base, text in sorted(BASE_TEXTS.items()):
                run_case(Case("check", base, text, base), folder, seconds=SECONDS)
        return (time.perf_counter() - start) / len(BASE_TEXTS)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=multiprocessing.cpu_count())
    parser.add_argument("--seed", type=int, default=0, help="the first case's seed")
    parser.add_argument("--command", choices=COMMANDS, help="fuzz only this command")
    parser.add_argument("--replay", type=int, metavar="SEED", help="run one case and show it")
    args = parser.parse_args()

    if args.replay is not None:
        _start_worker()
        command, seed, ended, seconds, problems = _one((args.replay, args.command or "check"))
        case = make_case(random.Random(seed), command)
        print(case.describe())
        print(f"{ended} in {seconds:.2f} s; problems: {problems or 'none'}")
        return 1 if problems else 0

    baseline = _baseline()
    commands = [args.command] if args.command else list(COMMANDS)
    jobs = [(args.seed + i, commands[i % len(commands)]) for i in range(args.inputs)]
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    seconds: Counter[str] = Counter()
    broken: list[tuple[str, int, list[str]]] = []
    start = time.perf_counter()
    with multiprocessing.Pool(args.workers, initializer=_start_worker) as pool:
        for done, (command, seed, ended, took, problems) in enumerate(
                pool.imap_unordered(_one, jobs, chunksize=8), 1):
            counts[command][ended] += 1
            seconds[command] += took
            if problems:
                broken.append((command, seed, problems))
            if sys.stderr.isatty() and done % 100 == 0:
                print(f"\r{done:,}/{len(jobs):,} inputs, {len(broken)} broken",
                      end="", file=sys.stderr)
    wall = time.perf_counter() - start
    if sys.stderr.isatty():
        print(file=sys.stderr)

    print(f"{len(jobs):,} inputs in {wall:.0f} s ({len(jobs) / wall:.1f} inputs/s, "
          f"{args.workers} workers); baseline: clausec check of an unmutated seed file "
          f"{baseline * 1000:.0f} ms")
    print(f"{'command':<10} {'inputs':>8} {'exit 0':>8} {'exit 1':>8} {'usage':>7} "
          f"{'skipped':>8} {'broken':>7} {'ms/input':>9} {'x baseline':>10}")
    for command in commands:
        c = counts[command]
        n = sum(c.values())
        mean = seconds[command] / n if n else 0.0
        print(f"{command:<10} {n:>8,} {c['exit 0']:>8,} {c['exit 1']:>8,} {c['exit 2']:>7,} "
              f"{c['skipped']:>8,} {c['broken']:>7,} {mean * 1000:>9.1f} "
              f"{mean / baseline:>10.2f}")
    for command, seed, problems in broken[:50]:
        print(f"broken: --replay {seed} --command {command}: {'; '.join(problems)[:300]}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
