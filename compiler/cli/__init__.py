"""The `clausec` command line: check, compile, eval, agenda, summarize, schema, test, lsp,
fmt, verify, diff, sql, batch.

This module holds `main` and the parser of the arguments; each command runs in a module
of its own (cli/check.py, cli/compile.py, ...), imported only when that command runs, so
that a command pays only for what it uses: `clausec check` imports neither the
summaries nor z3, hypothesis or pygls. What the commands share is in cli/common.py.

Every failure the user can cause ends as a message and exit code 1, never a
traceback; an unexpected internal error says so and asks for a report (exit 2).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from clausec import __version__
from clausec.cli.common import (
    EXIT_ERRORS,
    EXIT_INTERNAL,
    EXIT_OK,
    MAX_FACTS_NESTING,
    MAX_NUMBER_DIGITS,
    UserError,
    iso_date,
    positive,
    write_atomically,
)
from clausec.source import ReadError

__all__ = ["EXIT_ERRORS", "EXIT_INTERNAL", "EXIT_OK", "MAX_FACTS_NESTING", "MAX_NUMBER_DIGITS",
           "UserError", "main", "write_atomically"]

# What --facts takes, in every command that reads facts.
FACTS_HELP = ("a facts file: a JSON object, or a CSV file (.csv) with the header "
              "fact,period,value, one row per value (the period empty for a fact that is "
              "not a series); repeat to merge several files")

# The defaults of `clausec diff`, as semdiff's (DEFAULT_EXAMPLES, DEFAULT_SEED,
# DEFAULT_TIMEOUT_MS; a test checks they agree): written here so that the parser of the
# command line does not import the semantic diff.
DIFF_EXAMPLES = 2000
DIFF_SEED = 0
DIFF_TIMEOUT_MS = 10_000


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_ERRORS
    if args.command == "agenda" and args.date_to < args.date_from:
        # A usage error, as a date that is not one is: argparse's message and exit status.
        _command_parser(parser, "agenda").error(
            f"argument --to: {args.date_to.isoformat()} is before --from "
            f"{args.date_from.isoformat()}")
    try:
        # The command's module (cli/<command>.py), imported only now.
        command = importlib.import_module(f"{__name__}.{args.command}")
        return int(command.run(args))
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


def _command_parser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    """The parser of one command's arguments (for its usage line in an error)."""
    for action in parser._actions:  # argparse keeps its subparsers there
        if isinstance(action, argparse._SubParsersAction):
            found: argparse.ArgumentParser = action.choices[command]
            return found
    return parser


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

    p = sub.add_parser("compile", help="compile clause files to Python modules",
                       description="Compile agreements (with their amendments) to standalone "
                       "Python modules: one NAME.py per agreement file NAME.clause. Nothing "
                       "is written unless everything compiles.")
    p.add_argument("files", nargs="+", metavar="PATH",
                   help="clause files or folders (an agreement and its amendments)")
    p.add_argument("-o", "--output", metavar="DIR", default=".",
                   help="directory for the generated modules (default: current directory)")

    p = sub.add_parser("eval", help="evaluate a term, condition, obligation or power",
                       description="Evaluate NAME on the facts of JSON or CSV files and "
                       "print the result (and, with --explain, why).")
    p.add_argument("file", metavar="PATH",
                   help="the agreement's clause file, or its folder (with its amendments)")
    p.add_argument("name", metavar="NAME", help="a defined term, condition, obligation, "
                   "power or fact")
    p.add_argument("args", nargs="*", metavar="ARG",
                   help="arguments of a parametrised term, e.g. 2008 for "
                   "revenue_limitation(year); a period (also of a recurring obligation or "
                   "power) as a date inside it or its label: 2009-03-31, 2009-Q1, FY2000")
    p.add_argument("--facts", metavar="FILE", action="append", help=FACTS_HELP)
    p.add_argument("--explain", action="store_true", help="print the explanation tree")
    p.add_argument("--as-of", metavar="DATE", type=iso_date,
                   help="evaluate the agreement as in force on DATE (YYYY-MM-DD); default: "
                   "as in force now, with every amendment")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="output as text (default) or JSON")

    p = sub.add_parser(
        "agenda", help="list what falls due between two dates",
        description="List every obligation instance due, and every power window that "
        "closes, from one date to another (both included), in date order, with amounts, "
        "parties, sections and whether each was performed: each evaluated in the version "
        "of the agreement in force on its date. An instance that needs a fact not given "
        "is left out and listed as undetermined: on standard error after the entries "
        "(text and ics), in the field \"undetermined\" (json).")
    p.add_argument("files", nargs="+", metavar="PATH",
                   help="the agreement's folder, or its clause file and those of its "
                   "amendments")
    p.add_argument("--facts", metavar="FILE", action="append", help=FACTS_HELP)
    p.add_argument("--from", dest="date_from", metavar="DATE", type=iso_date, required=True,
                   help="the first day of the agenda (YYYY-MM-DD)")
    p.add_argument("--to", dest="date_to", metavar="DATE", type=iso_date, required=True,
                   help="the last day of the agenda (YYYY-MM-DD), included")
    p.add_argument("--as-of", dest="as_of", metavar="DATE", type=iso_date,
                   help="the day to judge each duty on: one not performed by then is "
                   "pending, late or in default (without it: not performed)")
    p.add_argument("--format", choices=("text", "json", "ics"), default="text",
                   help="a table (text, the default), JSON, or an iCalendar file (ics: one "
                   "all-day event per entry, for calendar programs; importing it again "
                   "updates the events rather than duplicating them)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the agenda to FILE (atomically) instead of standard output")

    p = sub.add_parser("summarize", help="write a plain-English summary of an agreement",
                       description="Write a plain-English summary of an agreement (with its "
                       "amendments), generated from its compiled logic: overview, every "
                       "section, glossary, facts, obligations, timeline, and each "
                       "amendment's redline and changes in the logic.")
    p.add_argument("file", metavar="PATH",
                   help="the agreement's clause file, or its folder (with its amendments)")
    p.add_argument("--format", choices=("markdown", "html", "text"), default="markdown",
                   help="Markdown (default), a standalone HTML page, or plain text")
    p.add_argument("--as-of", metavar="DATE", type=iso_date,
                   help="summarise the agreement as in force on DATE (YYYY-MM-DD); default: "
                   "with every amendment")
    p.add_argument("--templates", metavar="DIR",
                   help="a folder of templates that override the built-in ones by name "
                   "(summary.md.j2, summary.html.j2, summary.txt.j2, english.j2, ...)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the summary to FILE (atomically) instead of standard output")

    p = sub.add_parser("schema", help="print a JSON Schema of a clause file's facts",
                       description="Print the JSON Schema that a facts file for FILE must "
                       "satisfy.")
    p.add_argument("file", metavar="PATH", help="the agreement's clause file, or its folder")

    p = sub.add_parser("test", help="run the scenario tests of clause files",
                       description="Run the tests of clause files: `test` blocks in an "
                       "agreement's files, and files that start with `tests for AGREEMENT` "
                       "(the agreement is found among the paths given, or beside the file). "
                       "Exit status 1 when a test fails or a file has errors.")
    p.add_argument("files", nargs="+", metavar="PATH", help="clause files or folders")
    p.add_argument("-k", metavar="TEXT", dest="select",
                   help="run only the tests whose description contains TEXT (any case)")
    p.add_argument("-v", "--verbose", action="store_true", help="list every test run")
    p.add_argument("--coverage", action="store_true",
                   help="report which conditions and items the tests made true and false")
    p.add_argument("--fail-under", metavar="PERCENT", type=float,
                   help="fail when the coverage is below PERCENT (implies --coverage)")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="results as text (default) or JSON")
    p.add_argument("--backend", choices=("python", "sql"), default="python",
                   help="answer the expectations with the compiled Python module (default) "
                        "or with the SQL backend in DuckDB (needs clausec[sql])")

    p = sub.add_parser("lsp", help="run the language server (for editors)",
                       description="Run the Clause language server over standard input and "
                       "output (the Language Server Protocol): diagnostics, hover, go to "
                       "definition, references, completion, outline, rename, formatting, "
                       "semantic tokens.")
    p.add_argument("--stdio", action="store_true",
                   help="talk over standard input and output (the default and only way)")

    p = sub.add_parser(
        "fmt", help="lay out clause files in the canonical style",
        description="Rewrite clause files in the canonical layout (indentation, spacing, "
        "lists, comments kept). The compiled module never changes: names, numbers, "
        "strings and text blocks are kept byte for byte. Files with syntax errors (or "
        "expressions nested too deeply to compile) are "
        "reported and left untouched.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="clause files or folders")
    p.add_argument("--check", action="store_true",
                   help="write nothing; list the files that would change and exit 1 if any")
    p.add_argument("--diff", action="store_true",
                   help="write nothing; print the changes as a unified diff")

    p = sub.add_parser(
        "verify", help="prove the invariants of agreements, or find counterexamples",
        description="Check every invariant of each agreement in every version in force "
        "(as signed, after each amendment): prove it with z3 where its logic is in reach, "
        "otherwise search for a counterexample with hypothesis. A counterexample is "
        "confirmed by the compiled code, minimised, and can be replayed with clausec eval. "
        "Exit 1 if an invariant fails (or, with --require-proof, is not proved).")
    p.add_argument("files", nargs="+", metavar="PATH",
                   help="clause files or folders (an agreement and its amendments)")
    p.add_argument("--examples", type=positive, default=200, metavar="N",
                   help="examples to try when searching (default: 200)")
    p.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                   help="time limit of each z3 query (default: 10)")
    p.add_argument("--counterexamples", metavar="DIR",
                   help="write each counterexample to DIR/INVARIANT[@DATE].json")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="the report as text (default) or JSON")
    p.add_argument("--require-proof", action="store_true",
                   help="exit 1 when an invariant is only searched, not proved")

    p = sub.add_parser(
        "diff", help="what an amendment (or a new draft) changes in the results",
        description="Compare two versions of an agreement: each amendment with the "
        "version before it (one PATH: the agreement's folder or files), or two agreements "
        "(two PATHs: e.g. two drafts). For every result whose logic changed, say whether "
        "it gives the same answers (proved with z3 where the logic allows, otherwise "
        "searched for) and, if not, facts on which the versions disagree, with both "
        "answers and why. Exit status 0, or with --exit-code 1 when they differ.")
    p.add_argument("files", nargs="+", metavar="PATH",
                   help="an agreement with its amendments (a folder or its files), or OLD "
                   "and NEW clause files (or folders)")
    p.add_argument("--amendment", metavar="NAME",
                   help="only this amendment (its name in the file's header, or its file "
                   "name), against the version before it")
    p.add_argument("--from", dest="date_from", metavar="DATE", type=iso_date,
                   help="compare the agreement as in force on DATE (YYYY-MM-DD) ...")
    p.add_argument("--to", dest="date_to", metavar="DATE", type=iso_date,
                   help="... with the agreement as in force on DATE (default: now)")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="text (default) or JSON")
    p.add_argument("--examples", type=int, default=DIFF_EXAMPLES, metavar="N",
                   help=f"examples the bounded search tries per result (default "
                   f"{DIFF_EXAMPLES})")
    p.add_argument("--seed", type=int, default=DIFF_SEED,
                   help="seed of the bounded search (default 0: runs are reproducible)")
    p.add_argument("--timeout", type=int, default=DIFF_TIMEOUT_MS, metavar="MS",
                   help=f"z3's time limit per result, in milliseconds (default "
                   f"{DIFF_TIMEOUT_MS})")
    p.add_argument("--no-z3", dest="use_z3", action="store_false",
                   help="decide by the bounded search alone")
    p.add_argument("--exit-code", action="store_true",
                   help="exit with status 1 when a result differs or was added or removed "
                   "(as git diff --exit-code)")

    p = sub.add_parser(
        "sql", help="print the SQL query that answers an agreement over a table of facts",
        description="Print the SQL query that computes terms, conditions, obligations and "
        "powers for every row of a table of facts (one case per row), in the agreement as "
        "in force now or on --as-of. Its result has the input's columns that are not facts "
        "(keys), then one column per answer, then `error`. What has no SQL translation is "
        "reported as check reports errors.")
    _agreement_and_names(p)
    p.add_argument("--dialect", default="duckdb", metavar="DIALECT",
                   help="the SQL dialect: duckdb (default), spark, or any other sqlglot "
                   "knows (postgres, snowflake, bigquery, ...)")
    p.add_argument("--as-of", metavar="DATE", type=iso_date,
                   help="the agreement as in force on DATE (YYYY-MM-DD); default: now")
    p.add_argument("--columns", metavar="COL,COL,...",
                   help="the columns of the facts table (default: every fact); those that "
                   "are not facts are passed through first, as keys")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the query to FILE (atomically) instead of standard output")

    p = sub.add_parser(
        "batch", help="answer an agreement for every row of a table of facts",
        description="Compute terms, conditions, obligations and powers for every row of a "
        "table of facts (a portfolio: one case per row), with DuckDB on this machine or "
        "with Spark, locally or on a cluster. The results have the input's columns that "
        "are not facts (keys), one column per answer, and `error` (empty when the row has "
        "none). Without -o, prints the first rows and counts the rows and those with "
        "errors.")
    _agreement_and_names(p)
    p.add_argument("--facts", metavar="FILE|DIR", required=True,
                   help="the facts: a Parquet (.parquet), CSV (.csv, with a header) or JSON "
                   "lines (.jsonl, .ndjson) file, or a folder of Parquet files; one row per "
                   "case, one column per fact")
    p.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                   help="DuckDB, embedded (default), or Spark: local on every core, or on "
                   "the cluster at --master")
    p.add_argument("--master", metavar="URL",
                   help="the Spark cluster to run on (spark://host:7077, yarn, k8s://...); "
                   "implies --engine spark")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--as-of", metavar="DATE", type=iso_date,
                      help="the agreement as in force on DATE (YYYY-MM-DD); default: now")
    when.add_argument("--as-of-column", metavar="COL",
                      help="a column of dates: each row answered by the agreement as in "
                      "force on its date (as now where it is empty)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write every row to FILE (.parquet, .csv or .jsonl), atomically")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show the engine's progress bar on standard error (default: when "
                   "standard error is a terminal)")
    return parser


class _NamesAnywhereParser(argparse.ArgumentParser):
    """A command's parser whose NAMEs may also follow its options (`clausec batch PATH
    --facts FILE NAME...`): argparse fills a `nargs="*"` positional only where it first
    meets positional arguments, and leaves the later ones over."""

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: argparse.Namespace | None = None,
                         ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        later = [e for e in extras if not e.startswith("-")]
        if later:
            parsed.names = [*(parsed.names or []), *later]
            extras = [e for e in extras if e.startswith("-")]  # still refused
        return parsed, extras


def _agreement_and_names(p: argparse.ArgumentParser) -> None:
    """The arguments of the commands that answer an agreement over a table of facts."""
    _positionals_anywhere(p)
    p.add_argument("file", metavar="PATH",
                   help="the agreement's clause file, or its folder (with its amendments)")
    p.add_argument("names", nargs="*", metavar="NAME",
                   help="the terms, conditions, obligations and powers to compute "
                   "(default: every one without parameters)")


def _positionals_anywhere(parser: argparse.ArgumentParser) -> None:
    parser.__class__ = _NamesAnywhereParser


if __name__ == "__main__":
    sys.exit(main())
