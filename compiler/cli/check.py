"""`clausec check`: every error and warning of clause files, and of their tests."""

from __future__ import annotations

import argparse
import json
import sys

from clausec import api
from clausec.cli.common import (
    EXIT_ERRORS,
    EXIT_OK,
    UserError,
    groups,
    print_diagnostics,
    summary,
)
from clausec.tools import testing


def run(args: argparse.Namespace) -> int:
    # A lone file of tests holds no agreement; its tests are checked below.
    results = groups(args.files) if api.group(args.files) else []
    diagnostics = [d for r in results for d in r.diagnostics]
    sources = {name: s for r in results for name, s in r.sources.items()}
    tested, tested_sources = testing.check_tests(args.files, results)
    if not results and not tested_sources:
        raise UserError(f"{', '.join(args.files)}: no .clause files")
    diagnostics += tested
    sources.update(tested_sources)
    failed = any(d.severity == "error" for d in diagnostics) or (args.werror and diagnostics)
    if args.format == "json":
        print(json.dumps([d.to_dict() for d in diagnostics], indent=2))
    else:
        print_diagnostics(diagnostics, sources)
        status = "failed" if failed else "ok"
        count = len(sources)
        print(f"{status}: {count} file{'s' * (count != 1)} checked, "
              f"{summary(diagnostics)}", file=sys.stderr)
    return EXIT_ERRORS if failed else EXIT_OK
