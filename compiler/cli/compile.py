"""`clausec compile`: agreements (with their amendments) to standalone Python modules."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clausec import api
from clausec.backends.python import codegen
from clausec.cli.common import (
    EXIT_ERRORS,
    EXIT_OK,
    UserError,
    groups,
    print_diagnostics,
    summary,
    write_atomically,
)


def run(args: argparse.Namespace) -> int:
    outputs: list[tuple[Path, str]] = []
    failed = False
    out_dir = Path(args.output)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir}: not a directory")
    for result in groups(args.files):
        print_diagnostics(result.diagnostics, result.sources)
        if not result.ok:
            failed = True
            print(f"{result.source.name}: {summary(result.diagnostics)}", file=sys.stderr)
            continue
        outputs.append((out_dir / (Path(result.source.name).stem + ".py"),
                        api.generate(result)))
    if failed:
        print("clausec: nothing written", file=sys.stderr)
        return EXIT_ERRORS
    for target, code in outputs:
        write_atomically(target, code)
        print(f"wrote {codegen.comment_text(str(target))}")  # one line, whatever the name
    return EXIT_OK
