"""`clausec diff`: what an amendment (or a new draft) changes in the results, each
changed result decided by the semantic diff (analysis/semdiff.py). Needs z3 and
hypothesis (clausec[verify])."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from clausec import api
from clausec.analysis.semdiff import (
    Comparison,
    Options,
    amendment_comparisons,
    compiled,
    file_comparison,
    render_text,
    to_json,
)
from clausec.backends.english.summaries import version_at
from clausec.cli.common import (
    EXIT_ERRORS,
    EXIT_OK,
    UserError,
    print_diagnostics,
    read,
    require,
    summary,
)


def run(args: argparse.Namespace) -> int:
    require("diff", "verify")
    if args.examples < 1:
        raise UserError("--examples must be at least 1")
    options = Options(args.examples, args.seed, args.timeout, args.use_z3)
    comparisons = _comparisons(args, options)
    if args.format == "json":
        print(json.dumps(to_json(comparisons), indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(render_text(comparisons))
    differs = any(f.verdict == "differs" or f.change in ("added", "removed")
                  for c in comparisons for f in c.findings)
    return EXIT_ERRORS if args.exit_code and differs else EXIT_OK


def _comparisons(args: argparse.Namespace, options: Options) -> list[Comparison]:
    for path in args.files:
        if not Path(path).exists():
            raise UserError(f"{path}: no such file or folder")
    groups = api.group(args.files)
    if not groups:
        raise UserError(f"{', '.join(args.files)}: no .clause files")
    if len(groups) == 2:
        if args.amendment or args.date_from or args.date_to:
            raise UserError("--amendment, --from and --to choose versions of one "
                            "agreement; with two agreements, each is compared as in "
                            "force with all its amendments")
        old, new = (_analysed(agreement, amendments) for agreement, amendments in groups)
        return [file_comparison(old, new, options)]
    if len(groups) > 2:
        raise UserError(f"{len(groups)} agreements given; give one agreement (to compare "
                        "its amendments) or two (to compare them)")
    agreement, amendments = groups[0]
    result = _analysed(agreement, amendments)
    assert result.versions is not None
    pairs = _pairs(result, args)
    return amendment_comparisons(result, compiled(result), pairs, options)


def _analysed(agreement: Path, amendments: Sequence[Path]) -> api.Result:
    result = api.analyse(read(str(agreement)), [read(str(a)) for a in amendments])
    if not result.ok:
        print_diagnostics(result.diagnostics, result.sources)
        raise UserError(f"{agreement}: {summary(result.diagnostics)}")
    return result


def _pairs(result: api.Result, args: argparse.Namespace) -> list[tuple[int, int]]:
    """Which versions to compare: every amendment with the version before it, one
    amendment, or the versions in force on two dates."""
    versions = result.versions or []
    if len(versions) < 2 and not (args.date_from or args.date_to):
        raise UserError(f"{result.source.name}: no amendments to compare; to compare "
                        "two agreements, give both (clausec diff OLD NEW)")
    if args.amendment:
        if args.date_from or args.date_to:
            raise UserError("give --amendment, or --from and --to, not both")
        names = []
        for i, (version, _) in enumerate(versions):
            if version is None or version.amendment is None:
                continue
            header = version.amendment
            stem = Path(header.span.file).stem
            names.append(header.name)
            if args.amendment in (header.name, stem, Path(header.span.file).name):
                return [(i - 1, i)]
        raise UserError(f"no amendment named {args.amendment!r}; the amendments are: "
                        f"{', '.join(names) or 'none'}")
    if args.date_from or args.date_to:
        i = version_at(versions, args.date_from) if args.date_from else 0
        j = version_at(versions, args.date_to)
        if args.date_from and args.date_to and args.date_to < args.date_from:
            raise UserError("--to is before --from")
        return [(i, j)]
    return [(i - 1, i) for i in range(1, len(versions))]
