"""`clausec verify`: prove every invariant of agreements in every version in force, or
find a counterexample (analysis/verify.py), and report it. Needs z3 and hypothesis
(clausec[verify])."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from clausec import api
from clausec.analysis.verify import Outcome, verify
from clausec.cli.common import (
    EXIT_ERRORS,
    EXIT_OK,
    UserError,
    groups,
    print_diagnostics,
    require,
    summary,
)


def run(args: argparse.Namespace) -> int:
    require("verify", "verify")
    if args.timeout <= 0:
        raise UserError("--timeout must be more than 0 seconds")
    out_dir = Path(args.counterexamples) if args.counterexamples else None
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir}: not a directory")
    results = groups(args.files)
    outcomes: list[Outcome] = []
    failed_to_compile = False
    for result in results:
        if not result.ok:
            print_diagnostics(result.diagnostics, result.sources)
            print(f"{result.source.name}: {summary(result.diagnostics)}", file=sys.stderr)
            failed_to_compile = True
            continue
        path = _eval_path(result, args.files)
        if args.format == "text":
            _print_heading(result, path)
        found = verify(result, args.examples, args.timeout, path, out_dir,
                       _print_outcome if args.format == "text" else None)
        outcomes += found
        if args.format == "text" and not found:
            print("  no invariants")
    failed = [o for o in outcomes if o.status == "failed"]
    unproved = [o for o in outcomes if o.status == "passed"] if args.require_proof else []
    if args.format == "json":
        print(json.dumps([o.to_dict() for o in outcomes], indent=2))
    else:
        for outcome in failed:
            _print_failure(outcome)
        _print_totals(outcomes)
    if failed_to_compile:
        raise UserError("some agreements did not compile; their invariants were not "
                        "verified")
    if unproved:
        print(f"clausec: --require-proof: {len(unproved)} invariant check"
              f"{'s' * (len(unproved) != 1)} only searched, not proved:", file=sys.stderr)
        for outcome in unproved:
            where = f", {outcome.version}" if outcome.version else ""
            print(f"  {outcome.agreement}: {outcome.invariant}{where}"
                  f"{' (' + outcome.note + ')' if outcome.note else ''}", file=sys.stderr)
    return EXIT_ERRORS if failed or unproved else EXIT_OK


def _eval_path(result: api.Result, given: list[str]) -> str:
    """The PATH of `clausec eval` that loads this agreement with its amendments."""
    agreement = Path(result.source.name)
    if len(result.sources) == 1:
        return str(agreement)
    folder = agreement.parent
    if len(api.group([folder])) == 1:
        return str(folder)
    return str(agreement)


def _print_heading(result: api.Result, path: str) -> None:
    assert result.versions is not None
    header = result.versions[0][1].header
    count = len(result.versions)
    versions = f", {count} versions" if count > 1 else ""
    print(f"{path}: {header.title}{versions}")


def _print_outcome(outcome: Outcome) -> None:
    where = f", {outcome.version}" if outcome.version else ""
    title = f" ({outcome.title})" if outcome.title else ""
    print(f"  {outcome.verdict:<44} {outcome.invariant}{title}{where}  "
          f"[{outcome.seconds:.2f}s]")
    if outcome.note:  # why z3 could not decide; a constraint no value satisfies
        print(f"  {'':<44} {outcome.note}")
    sys.stdout.flush()


def _print_failure(outcome: Outcome) -> None:
    where = f", {outcome.version}" if outcome.version else ""
    print()
    print(f"FAILED: {outcome.invariant}{where}: {outcome.failure}")
    print(f"  counterexample ({outcome.method}): "
          f"{json.dumps(outcome.facts, sort_keys=True)}")
    if outcome.file:
        print(f"  written to {outcome.file}")
    else:
        print("  (write it to a file with --counterexamples DIR)")
    print(f"  replay: {outcome.replay}")
    print()
    for line in outcome.explanation.rstrip("\n").split("\n"):
        print(f"    {line}")


def _print_totals(outcomes: list[Outcome]) -> None:
    proved = sum(o.status == "proved" for o in outcomes)
    passed = sum(o.status == "passed" for o in outcomes)
    failed = sum(o.status == "failed" for o in outcomes)
    seconds = sum(o.seconds for o in outcomes)
    print()
    print(f"{len(outcomes)} invariant check{'s' * (len(outcomes) != 1)}: {proved} proved, "
          f"{passed} without counterexample (search), {failed} failed  [{seconds:.2f}s]")
