"""The `clausec` command line: check, compile, eval, schema, summarize.

Every failure the user can cause ends as a message and exit code 1, never a
traceback; an unexpected internal error says so and asks for a report (exit 2).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2

from clausec import __version__, api, ir
from clausec.analysis import semdiff, verify
from clausec.backends.english import summaries as summarize
from clausec.backends.python import codegen
from clausec.backends.python.schema import facts_schema
from clausec.diagnostics import Diagnostic
from clausec.ir import types as T
from clausec.source import ReadError, SourceFile
from clausec.tools import formatter, testing
from clausec.tools.lsp import server as lsp

EXIT_OK, EXIT_ERRORS, EXIT_INTERNAL = 0, 1, 2


class UserError(Exception):
    """A problem with the command's input, reported as one message."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_ERRORS
    try:
        return int(args.run(args))
    except (UserError, ReadError) as error:
        # A file refused on the way (a device, a pipe, too large), wherever it was read.
        print(f"clausec: error: {error}", file=sys.stderr)
        return EXIT_ERRORS
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (clausec check --format json | head): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as error:  # noqa: BLE001 - the last line of defence against tracebacks
        print(f"clausec: internal error: {type(error).__name__}: {error}\n"
              "This is a bug in clausec; please report it with the input that caused it.",
              file=sys.stderr)
        return EXIT_INTERNAL


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clausec",
        description="Compile Clause files (contract logic) to Python modules and summaries.",
    )
    parser.add_argument("--version", action="version", version=f"clausec {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("check", help="report errors and warnings in clause files",
                       description="Check clause files and report every error and warning. "
                       "Amendments are checked with the agreement they amend (found among "
                       "the files given, or beside the amendment).")
    p.add_argument("files", nargs="+", metavar="PATH", help="clause files or folders")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="diagnostics as text (default) or as JSON for other tools")
    p.add_argument("--werror", action="store_true", help="treat warnings as errors")
    p.set_defaults(run=_check)

    p = sub.add_parser("compile", help="compile clause files to Python modules",
                       description="Compile agreements (with their amendments) to standalone "
                       "Python modules: one NAME.py per agreement file NAME.clause. Nothing "
                       "is written unless everything compiles.")
    p.add_argument("files", nargs="+", metavar="PATH",
                   help="clause files or folders (an agreement and its amendments)")
    p.add_argument("-o", "--output", metavar="DIR", default=".",
                   help="directory for the generated modules (default: current directory)")
    p.set_defaults(run=_compile)

    p = sub.add_parser("eval", help="evaluate a term, condition, obligation or power",
                       description="Evaluate NAME on the facts of a JSON file and print "
                       "the result (and, with --explain, why).")
    p.add_argument("file", metavar="PATH",
                   help="the agreement's clause file, or its folder (with its amendments)")
    p.add_argument("name", metavar="NAME", help="a defined term, condition, obligation, "
                   "power or fact")
    p.add_argument("args", nargs="*", metavar="ARG",
                   help="arguments of a parametrised term, e.g. 2008 for "
                   "revenue_limitation(year)")
    p.add_argument("--facts", metavar="FACTS.json", help="the facts, as a JSON object")
    p.add_argument("--explain", action="store_true", help="print the explanation tree")
    p.add_argument("--as-of", metavar="DATE", type=_iso_date,
                   help="evaluate the agreement as in force on DATE (YYYY-MM-DD); default: "
                   "as in force now, with every amendment")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="output as text (default) or JSON")
    p.set_defaults(run=_eval)

    p = sub.add_parser("summarize", help="write a plain-English summary of an agreement",
                       description="Write a plain-English summary of an agreement (with its "
                       "amendments), generated from its compiled logic: overview, every "
                       "section, glossary, facts, obligations, timeline, and each "
                       "amendment's redline and changes in the logic.")
    p.add_argument("file", metavar="PATH",
                   help="the agreement's clause file, or its folder (with its amendments)")
    p.add_argument("--format", choices=("markdown", "html", "text"), default="markdown",
                   help="Markdown (default), a standalone HTML page, or plain text")
    p.add_argument("--as-of", metavar="DATE", type=_iso_date,
                   help="summarise the agreement as in force on DATE (YYYY-MM-DD); default: "
                   "with every amendment")
    p.add_argument("--templates", metavar="DIR",
                   help="a folder of templates that override the built-in ones by name "
                   "(summary.md.j2, summary.html.j2, summary.txt.j2, english.j2, ...)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the summary to FILE (atomically) instead of standard output")
    p.set_defaults(run=_summarize)

    p = sub.add_parser("schema", help="print a JSON Schema of a clause file's facts",
                       description="Print the JSON Schema that a facts file for FILE must "
                       "satisfy.")
    p.add_argument("file", metavar="PATH", help="the agreement's clause file, or its folder")
    p.set_defaults(run=_schema)

    # Commands that live in modules of their own register themselves here.
    testing.register(sub)
    lsp.register(sub)
    formatter.register(sub)
    verify.register(sub)
    semdiff.register(sub)
    return parser


# ------------------------------------------------------------------- helpers


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _read(path: str) -> SourceFile:
    try:
        return SourceFile.read(path)
    except ReadError as error:
        raise UserError(str(error)) from None
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, not a clause file") from None
    except OSError as error:
        raise UserError(f"{path}: cannot read: {error.strerror}") from None


def _print_diagnostics(diagnostics: list[Diagnostic], sources: dict[str, SourceFile]) -> None:
    for d in diagnostics:
        print(d.render(sources), file=sys.stderr)
        print(file=sys.stderr)


def _summary(diagnostics: list[Diagnostic]) -> str:
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = len(diagnostics) - errors
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"


def _groups(paths: Sequence[str]) -> list[api.Result]:
    """Each agreement among the paths analysed with its amendments."""
    for path in paths:
        if not Path(path).exists():
            raise UserError(f"{path}: no such file or folder")
    grouped = api.group(paths)
    if not grouped:
        raise UserError(f"{', '.join(paths)}: no .clause files")
    return [api.analyse(_read(str(agreement)), [_read(str(a)) for a in amendments])
            for agreement, amendments in grouped]


def _analyse(path: str) -> api.Result:
    results = _groups([path])
    if len(results) > 1:
        names = ", ".join(r.source.name for r in results)
        raise UserError(f"{path} holds {len(results)} agreements ({names}); name one")
    result = results[0]
    if not result.ok:
        _print_diagnostics(result.diagnostics, result.sources)
        raise UserError(f"{path}: {_summary(result.diagnostics)}")
    return result


def write_atomically(path: Path, text: str) -> None:
    """Write a file so that readers see the old content or the new, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        # mkstemp creates the file private (0600); give it the mode any new file gets.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ------------------------------------------------------------------ commands


def _check(args: argparse.Namespace) -> int:
    # A lone file of tests holds no agreement; its tests are checked below.
    results = _groups(args.files) if api.group(args.files) else []
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
        _print_diagnostics(diagnostics, sources)
        status = "failed" if failed else "ok"
        count = len(sources)
        print(f"{status}: {count} file{'s' * (count != 1)} checked, "
              f"{_summary(diagnostics)}", file=sys.stderr)
    return EXIT_ERRORS if failed else EXIT_OK


def _compile(args: argparse.Namespace) -> int:
    outputs: list[tuple[Path, str]] = []
    failed = False
    out_dir = Path(args.output)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir}: not a directory")
    for result in _groups(args.files):
        _print_diagnostics(result.diagnostics, result.sources)
        if not result.ok:
            failed = True
            print(f"{result.source.name}: {_summary(result.diagnostics)}", file=sys.stderr)
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


# A facts file is an object of plain values: it nests a level or two, and its numbers are
# amounts and counts. Beyond these bounds the JSON reader itself would fail (Python's
# parser recurses once per level; int() refuses more than 4,300 digits).
MAX_FACTS_NESTING = 64
MAX_NUMBER_DIGITS = 100  # as for a number in a clause file
# Strings (skipped), brackets and numbers of a JSON text.
_JSON_PARTS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[{]|[\]}]'
                         r"|-?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?")


def _load_facts(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    source = _read(path)
    _check_json_limits(source)
    try:
        data = json.loads(source.text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise UserError(_json_problem(source, error.lineno, error.colno,
                                      f"invalid JSON: {error.msg}")) from None
    except (RecursionError, ValueError) as error:  # beyond what _check_json_limits sees
        raise UserError(f"{path}: cannot read the facts: {error}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: the facts must be a JSON object {{\"fact\": value, ...}}")
    return data


def _check_json_limits(source: SourceFile) -> None:
    """Refuse, with where, JSON nested deeper than MAX_FACTS_NESTING or with a whole
    number of more than MAX_NUMBER_DIGITS digits, before the JSON reader meets them."""
    text = source.text
    depth = 0
    for match in _JSON_PARTS.finditer(text):
        at = match.start()
        first = text[at]
        if first == '"':
            continue
        if first in "[{":
            depth += 1
            if depth > MAX_FACTS_NESTING:
                problem = f"the facts nest more than {MAX_FACTS_NESTING} levels deep"
                hint = "give each fact a plain value: true, 42, \"$1,800,000\", \"2004-03-31\""
            else:
                continue
        elif first in "]}":
            depth = max(0, depth - 1)
            continue
        else:
            number = match.group()
            digits = len(number.lstrip("-"))
            if any(c in number for c in ".eE") or digits <= MAX_NUMBER_DIGITS:
                continue
            problem = f"a number of {digits} digits is too long"
            hint = f"numbers may have at most {MAX_NUMBER_DIGITS} digits"
        line = text.count("\n", 0, at) + 1
        column = at - text.rfind("\n", 0, at)
        raise UserError(_json_problem(source, line, column, problem, hint))


def _json_problem(source: SourceFile, line: int, column: int, problem: str,
                  hint: str | None = None) -> str:
    """`file:line:col: problem`, the line (a window of it, when long) with a caret."""
    text = source.line_text(line)
    start = max(0, column - 1 - 60)
    shown = text[start:start + 120]
    prefix = "..." if start else ""
    suffix = "..." if start + 120 < len(text) else ""
    caret = " " * (len(prefix) + column - 1 - start) + "^"
    out = f"{source.name}:{line}:{column}: {problem}\n  {prefix}{shown}{suffix}\n  {caret}"
    return out + (f"\n  hint: {hint}" if hint else "")


def _eval(args: argparse.Namespace) -> int:
    try:
        return _evaluate(args)
    except RecursionError:
        # The compiled module calls a term inside the one it defines, and explains it
        # inside that one's explanation: a chain of terms of the length check allows
        # fits Python's stack, unless the caller already stands deep in it.
        doing = "explain" if args.explain else "evaluate"
        raise UserError(f"{args.name}: defined through too long a chain of terms to {doing} "
                        "here") from None


def _evaluate(args: argparse.Namespace) -> int:
    result = _analyse(args.file)
    assert result.versions is not None
    module = api.module_from_source(api.generate(result), result.source.name)
    version = module.at(args.as_of) if args.as_of else module.VERSIONS[-1]
    checked = result.versions[module.VERSIONS.index(version)][1]
    decls = checked.declarations
    facts_data = _load_facts(args.facts)
    try:
        facts = module.Facts.from_dict(facts_data)
        target = decls.get(args.name)
        call_args = _arguments(target, args.args, module)
        value = version.evaluate(args.name, facts, *call_args)
        explanation = version.explain(args.name, facts, *call_args) if args.explain else None
    except module.ClauseError as error:
        raise UserError(str(error)) from None
    except TypeError as error:
        raise UserError(f"{args.name}: {error}") from None
    kind = _kind(target, checked.types.get(args.name))
    currency = checked.header.currency
    if value is None:
        text = "no value"
    else:
        text = module.format_value(value, kind, currency) if kind else str(value)
    label = "as originally signed" if version.label == "original" else version.label
    # The same reasons in words: which conditions decided, with their sections.
    why = summarize.render_explanation(checked, label, args.name, explanation, value) \
        if explanation is not None else ""
    if args.format == "json":
        out: dict[str, Any] = {"name": args.name, "value": text, "kind": kind,
                               "version": version.label}
        if explanation is not None:
            out["explanation"] = explanation.to_dict()
            # One sentence per entry, unwrapped: for programs, not terminals.
            out["why"] = [" ".join(p.split()) for p in why.split("\n\n") if p.strip()]
        print(json.dumps(out, indent=2))
    else:
        print(f"{args.name}{_call_suffix(args.args)} = {text}")
        if len(module.VERSIONS) > 1:
            print(f"(the agreement {label})")
        if explanation is not None:
            print()
            print(explanation.render())
            print()
            print("Why, in words:")
            print()
            print(why, end="")
    return EXIT_OK


def _summarize(args: argparse.Namespace) -> int:
    if args.templates is not None and not Path(args.templates).is_dir():
        raise UserError(f"{args.templates}: no such folder of templates")
    result = _analyse(args.file)
    try:
        text = summarize.render(result, args.format, args.as_of, args.templates)
    except jinja2.TemplateSyntaxError as error:
        raise UserError(f"{error.filename or error.name}:{error.lineno}: template error: "
                        f"{error.message}") from None
    except jinja2.TemplateError as error:
        raise UserError(f"template error: {error}") from None
    if args.output:
        target = Path(args.output)
        if target.is_dir():
            raise UserError(f"{target}: is a directory; name the file to write")
        write_atomically(target, text)
        print(f"wrote {codegen.comment_text(str(target))}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _kind(target: ir.Declaration | None, type_: T.Type | None) -> str:
    if isinstance(target, ir.Obligation):
        return "obligation"
    if isinstance(target, ir.Power):
        return "power"
    return type_.kind if type_ is not None and type_.kind != "error" else ""


def _call_suffix(args: Sequence[str]) -> str:
    return f"({', '.join(args)})" if args else ""


def _arguments(target: ir.Declaration | None, raw: Sequence[str], module: Any) -> list[Any]:
    params = target.params if isinstance(target, ir.Definition) else ()
    if len(raw) != len(params):
        names = ", ".join(p.name for p in params) or "no arguments"
        raise UserError(f"{getattr(target, 'name', 'this name')} takes {len(params)} "
                        f"argument(s) ({names}), got {len(raw)}")
    converted = []
    for value, param in zip(raw, params):
        converter = getattr(module, codegen.converter_name(param.type.kind))
        extra: tuple[Any, ...] = ()
        if param.type.kind == "party":
            extra = (module._PARTY_NAMES,)
        elif param.type.kind == "money":
            extra = (param.type.currency or module.AGREEMENT["currency"],)
        converted.append(converter(param.name, value, *extra))
    return converted


def _schema(args: argparse.Namespace) -> int:
    result = _analyse(args.file)
    assert result.checked is not None
    print(json.dumps(facts_schema(result.checked), indent=2))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
