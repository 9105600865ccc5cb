"""Time of `clausec check` on each seed contract: wall and CPU seconds of the whole process,
cold (the first run after installing: no cached parser tables) and warm (the tables
loaded from the cache, compiler/front/parser_cache.py).

Each figure is the best and the median of --runs processes. The baselines, measured in the
same run, are the interpreter starting and doing nothing (`python -c pass`) and importing
lark (`python -c "import lark"`): a warm check is stated as a multiple of them, and cold
as a multiple of warm. Then where the time of one warm check goes: imports, loading the
tables, the rest of the command.

Python's compiled bytecode is kept as an installed package keeps it (PYTHONPYCACHEPREFIX,
a folder of this run's), also where PYTHONDONTWRITEBYTECODE is set; --no-bytecode measures
every process compiling the sources again, as such an environment does.

    python benchmarks/check_time.py [--runs N] [--no-bytecode] [SEED ...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ["rights_agreement", "patent_purchase", "intricon_license", "neon_distributor"]
TARGET = 0.3  # CPU seconds of a warm check

# One warm check, its CPU time split where it goes.
_PHASES = """
import contextlib, io, json, sys, time
start = time.process_time()
import clausec.cli, clausec.cli.check
imported = time.process_time()
from clausec.front import parser
parser.lark_parser()
tables = time.process_time()
with contextlib.redirect_stderr(io.StringIO()):
    clausec.cli.main(["check", sys.argv[1]])
print(json.dumps({"imports": imported - start, "tables": tables - imported,
                  "the command": time.process_time() - tables}))
"""


def measure(argv: list[str], env: dict[str, str], runs: int, fresh_cache: bool = False
            ) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of `runs` processes (`fresh_cache`: each with an empty cache)."""
    walls, cpus = [], []
    for _ in range(runs):
        run_env = dict(env)
        folder = tempfile.mkdtemp(prefix="clausec-cache-") if fresh_cache else None
        if folder is not None:
            run_env["CLAUSEC_CACHE_DIR"] = folder
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, env=run_env, capture_output=True, check=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    return walls, cpus


def figures(label: str, walls: list[float], cpus: list[float], baseline: float | None = None,
            baseline_name: str = "") -> float:
    """Print one row; return the median CPU seconds."""
    cpu = statistics.median(cpus)
    ratio = f"  {cpu / baseline:5.1f}x {baseline_name}" if baseline else ""
    print(f"{label:<34} wall {min(walls):6.3f} / {statistics.median(walls):6.3f} s   "
          f"CPU {min(cpus):6.3f} / {cpu:6.3f} s{ratio}")
    return cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seeds", nargs="*", default=SEEDS, metavar="SEED",
                        help="folders of clauses/ (default: every seed contract)")
    parser.add_argument("--runs", type=int, default=7, help="processes per figure")
    parser.add_argument("--no-bytecode", action="store_true",
                        help="every process compiles the sources (no bytecode kept)")
    args = parser.parse_args()
    python = sys.executable
    env = dict(os.environ)
    env.pop("CLAUSEC_CACHE_DIR", None)
    work = Path(tempfile.mkdtemp(prefix="clausec-check-time-"))
    if args.no_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(work / "bytecode")
    try:
        print(f"best / median of {args.runs} processes; "
              f"bytecode {'not kept' if args.no_bytecode else 'kept'}\n")
        nothing = figures("python -c pass", *measure([python, "-c", "pass"], env, args.runs))
        lark = figures("python -c 'import lark'",
                       *measure([python, "-c", "import lark"], env, args.runs))
        warm_env = dict(env, CLAUSEC_CACHE_DIR=str(work / "cache"))
        for seed in args.seeds:
            folder = str(ROOT / "clauses" / seed)
            argv = [python, "-m", "clausec", "check", folder]
            subprocess.run(argv, env=warm_env, capture_output=True, check=True)  # the cache
            print(f"\n{seed}")
            cold = figures("  check, cold (no cache)",
                           *measure(argv, env, args.runs, fresh_cache=True))
            warm = figures("  check, warm", *measure(argv, warm_env, args.runs),
                           lark, "import lark")
            print(f"  cold / warm {cold / warm:.1f}x; warm / python -c pass "
                  f"{warm / max(nothing, 1e-3):.0f}x; warm CPU "
                  f"{'within' if warm <= TARGET else 'over'} the target of {TARGET} s")
            phases = [json.loads(subprocess.run(
                [python, "-c", _PHASES, folder], env=warm_env, capture_output=True,
                text=True, check=True).stdout) for _ in range(args.runs)]
            split = {name: statistics.median(p[name] for p in phases) for name in phases[0]}
            print("  warm, CPU by phase (median): " + ", ".join(
                f"{name} {seconds:.3f} s" for name, seconds in split.items()))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
