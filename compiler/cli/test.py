"""`clausec test`: run the scenario tests of clause files (tools/testing.py), with
coverage (tools/coverage.py) on request."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from clausec.cli.common import EXIT_ERRORS, EXIT_OK, UserError
from clausec.tools import coverage
from clausec.tools.testing import (
    TestResult,
    discover,
    prepare,
    render_failure,
    run_test,
    summary_line,
    to_dict,
)


def run(args: argparse.Namespace) -> int:
    for path in args.files:
        if not Path(path).exists():
            raise UserError(f"{path}: no such file or folder")
    found = discover(args.files)
    diagnostics = list(found.diagnostics)
    sources = dict(found.sources)
    prepared = [prepare(suite) for suite in found.suites]
    for p in prepared:
        diagnostics.extend(p.diagnostics)
        sources.update(p.sources)
    if not prepared and not diagnostics:
        raise UserError(f"{', '.join(args.files)}: no tests (no `test \"...\" {{ }}` "
                        "blocks)")
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        if args.format == "json":
            print(json.dumps({"diagnostics": [d.to_dict() for d in diagnostics]}, indent=2))
        for d in diagnostics if args.format == "text" else ():
            print(d.render(sources), file=sys.stderr)
            print(file=sys.stderr)
        print(f"clausec: {len(errors)} error{'s' * (len(errors) != 1)}; no tests run",
              file=sys.stderr)
        return EXIT_ERRORS
    measure = args.coverage or args.fail_under is not None  # --fail-under implies it
    tracker = coverage.Tracker() if measure else None
    results: list[TestResult] = []
    for p in prepared:
        selected = [t for t in p.tests
                    if not args.select or args.select.lower() in t.test.description.lower()]
        observer = tracker.observer(p, selected) if tracker is not None and selected else None
        results.extend(run_test(p, located, observer, args.backend) for located in selected)
    report = tracker.report() if tracker is not None else None
    below = report is not None and args.fail_under is not None \
        and report.percent < args.fail_under
    if args.format == "json":
        out: dict[str, object] = {"tests": [to_dict(r) for r in results],
                                  "passed": sum(r.passed for r in results),
                                  "failed": sum(not r.passed for r in results)}
        if report is not None:
            out["coverage"] = report.to_dict()
        print(json.dumps(out, indent=2))
    else:
        _print_results(results, args.verbose)
        if report is not None:
            print()
            print(report.render())
        print(summary_line(results))
        if below:
            assert report is not None
            print(f"coverage {report.percent:.1f}% is below --fail-under {args.fail_under:g}%")
    failed = any(not r.passed for r in results) or below
    return EXIT_ERRORS if failed else EXIT_OK


def _print_results(results: Sequence[TestResult], verbose: bool) -> None:
    for result in results:
        if verbose:
            status = "ok    " if result.passed else "FAILED"
            print(f"{status} {result.where}: {result.test.description}")
    for result in results:
        if not result.passed:
            print()
            print(render_failure(result))
    if any(not r.passed for r in results) or verbose:
        print()
