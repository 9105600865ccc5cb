"""`clausec fmt`: rewrite clause files in the canonical layout (tools/formatter.py)."""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from clausec.cli.common import EXIT_ERRORS, EXIT_OK, UserError, write_atomically
from clausec.diagnostics import CompileError
from clausec.source import ReadError, read_bytes
from clausec.tools.formatter import format_text


def _files(paths: Sequence[str]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(path.rglob("*.clause"))
            if not found:
                raise UserError(f"{raw}: no .clause files")
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            raise UserError(f"{raw}: no such file or folder")
    return list(dict.fromkeys(files))


def run(args: argparse.Namespace) -> int:
    changed, failed, unchanged = 0, 0, 0
    for path in _files(args.paths):
        try:
            raw = read_bytes(path)
            original = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            print(f"{path}: not UTF-8 text (byte {error.start}); left untouched",
                  file=sys.stderr)
            failed += 1
            continue
        except ReadError as error:
            print(f"{error}; left untouched", file=sys.stderr)
            failed += 1
            continue
        except OSError as error:
            raise UserError(f"{path}: cannot read: {error.strerror}") from None
        try:
            formatted = format_text(original, str(path))
        except CompileError as error:
            for diagnostic in error.diagnostics:
                print(diagnostic.render(error.sources), file=sys.stderr)
                print(file=sys.stderr)
            print(f"{path}: not formatted (errors above)", file=sys.stderr)
            failed += 1
            continue
        if formatted == original:
            unchanged += 1
            continue
        changed += 1
        if args.diff:
            sys.stdout.writelines(difflib.unified_diff(
                original.splitlines(keepends=True), formatted.splitlines(keepends=True),
                f"{path}", f"{path} (formatted)"))
        if args.check:
            print(f"would reformat {path}")
        elif not args.diff:
            mode = os.stat(path).st_mode
            write_atomically(path, formatted)
            os.chmod(path, mode & 0o7777)
            print(f"reformatted {path}")
    verb = "would be reformatted" if args.check or args.diff else "reformatted"
    print(f"{changed} file{'s' * (changed != 1)} {verb}, {unchanged} unchanged"
          + (f", {failed} with errors" if failed else ""), file=sys.stderr)
    if failed or (args.check and changed):
        return EXIT_ERRORS
    return EXIT_OK
