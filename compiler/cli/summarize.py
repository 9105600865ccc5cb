"""`clausec summarize`: the plain-English summary of an agreement (with its amendments).

The table of what each amendment changed says whether each result gives the same
answers: the semantic diff decides it, with z3 and hypothesis (clausec[verify]). Without
them the summary is written all the same, and that column says what it needs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jinja2

import clausec
from clausec.backends.python import codegen
from clausec.cli.common import EXIT_OK, UserError, analyse, write_atomically


def run(args: argparse.Namespace) -> int:
    if args.templates is not None and not Path(args.templates).is_dir():
        raise UserError(f"{args.templates}: no such folder of templates")
    result = analyse(args.file)
    try:
        text = clausec.summarize(result, args.format, args.as_of, args.templates)
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
