"""Pass 1: text to parse tree, with every syntax error of a file reported.

The grammar lives in `grammar/clause.lark`. Lark's LALR parser stops at the first
error, so on failure the file is cut into top-level chunks (a line that starts at
column 0 with a declaration keyword starts a chunk) and each chunk is parsed on its
own: one bad section does not hide the errors of the next one.
"""

from __future__ import annotations

import difflib
import itertools
import re
from functools import cache
from pathlib import Path

import lark
from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .diagnostics import Diagnostics, did_you_mean
from .source import SourceFile, Span

_HERE = Path(__file__).resolve().parent
# Installed wheel: clausec/grammar/; source tree: <repo>/grammar/ beside compiler/.
_GRAMMAR_DIRS = (_HERE / "grammar", _HERE.parent / "grammar")

TOP_LEVEL_KEYWORDS = (
    "agreement", "amendment", "section", "fact", "define", "condition", "exception",
    "obligation", "power", "replace", "delete", "insert", "append", "add",
)

# How terminals are named in messages.
_TERMINAL_NAMES = {
    "NAME": "a name",
    "STRING": "a quoted string",
    "LONG_STRING": 'a """text block"""',
    "SECTION_NUMBER": "a section number such as 3.1 or 1(d)",
    "LABEL": "an item label such as (a)",
    "INT": "a whole number",
    "DECIMAL": "a decimal number",
    "PERCENT": "a percentage such as 15%",
    "MONEY": "an amount such as $1,800,000",
    "CURRENCY_CODE": "a currency code such as USD",
    "ISO_DATE": "a date such as 2004-03-30",
    "LONG_DATE": "a date such as March 30, 2004",
    "DATETIME": "a date and time such as 2011-06-14 17:00 America/New_York",
    "TIME_OF_DAY": "a time of day such as 17:00",
    "TZ_NAME": "a time zone such as America/New_York",
    "COMPARE_OP": "a comparison (==, <, >=, ...)",
    "$END": "the end of the file",
}


def grammar_path() -> Path:
    for folder in _GRAMMAR_DIRS:
        path = folder / "clause.lark"
        if path.exists():
            return path
    raise FileNotFoundError("clause.lark not found beside the clausec package")


@cache
def lark_parser() -> lark.Lark:
    return lark.Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=True,
    )


def keywords() -> frozenset[str]:
    """Every keyword of the language (the grammar's quoted words)."""
    return frozenset(
        t.pattern.value
        for t in lark_parser().terminals
        if t.pattern.type == "str" and t.pattern.value.isalpha()
    )


def parse(source: SourceFile, diagnostics: Diagnostics) -> list[lark.Tree[Token]]:
    """Parse a file into top-level trees; syntax errors go to `diagnostics`.

    Returns the trees of the chunks that parsed, so later passes can still check them.
    """
    parser = lark_parser()
    try:
        return _trees(parser.parse(source.text))
    except UnexpectedInput:
        pass
    trees: list[lark.Tree[Token]] = []
    chunks = _chunks(source.text)
    for i, (start_line, chunk) in enumerate(chunks):
        # Padding with newlines keeps line numbers true to the file.
        try:
            trees.extend(_trees(parser.parse("\n" * (start_line - 1) + chunk)))
        except UnexpectedInput as error:
            next_line = chunks[i + 1][0] if i + 1 < len(chunks) else None
            _report(source, error, diagnostics, next_line)
    return trees


def _trees(start: lark.Tree[Token]) -> list[lark.Tree[Token]]:
    return [c for c in start.children if isinstance(c, lark.Tree)]


_LONG_STRING = re.compile(r'"""(?:.|\n)*?(?:"""|\Z)')
_LINE_START_WORD = re.compile(r"^([A-Za-z_]+)\b", re.MULTILINE)


def _chunks(text: str) -> list[tuple[int, str]]:
    """Cut a file where top-level declarations start: a line beginning at column 0 with a
    declaration keyword, or with a word close to one (a misspelt keyword), outside text
    blocks."""
    strings = [(m.start(), m.end()) for m in _LONG_STRING.finditer(text)]

    def in_string(pos: int) -> bool:
        return any(a < pos < b for a, b in strings)

    starts = []
    for match in _LINE_START_WORD.finditer(text):
        word = match.group(1)
        if in_string(match.start()):
            continue
        if word in TOP_LEVEL_KEYWORDS or difflib.get_close_matches(
                word, TOP_LEVEL_KEYWORDS, n=1, cutoff=0.75):
            starts.append(match.start())
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    bounds = starts + [len(text)]
    return [
        (text.count("\n", 0, a) + 1, text[a:b]) for a, b in itertools.pairwise(bounds)
        if text[a:b]
    ]


def _describe(terminal: str) -> str:
    if terminal in _TERMINAL_NAMES:
        return _TERMINAL_NAMES[terminal]
    try:
        pattern = lark_parser().get_terminal(terminal).pattern
    except KeyError:
        return terminal.lower()
    return f"'{pattern.value}'" if pattern.type == "str" else terminal.lower()


_EXPRESSION_STARTS = {"NAME", "INT", "MONEY", "PERCENT", "ISO_DATE"}


def _expected_list(expected: set[str]) -> str:
    if _EXPRESSION_STARTS <= expected:
        # Listing every kind of literal helps nobody: say what the grammar wants.
        rest = expected - _EXPRESSION_STARTS - {
            "DECIMAL", "LONG_DATE", "DATETIME", "STRING", "LPAR", "MINUS", "TRUE", "FALSE",
            "NOT", "IF", "ALL", "ANY", "NONE", "EARLIER", "EARLIEST", "LATER", "LATEST",
            "LESSER", "LEAST", "GREATER", "GREATEST", "SUM", "CLOSE", "LABEL"}
        return ", ".join(["an expression"] + sorted({_describe(t) for t in rest}))
    names = sorted({_describe(t) for t in expected})
    if len(names) > 8:
        names = names[:8] + ["..."]
    return ", ".join(names)


def _report(source: SourceFile, error: UnexpectedInput, diagnostics: Diagnostics,
            next_chunk_line: int | None = None) -> None:
    line = max(1, getattr(error, "line", 1) or 1)
    column = max(1, getattr(error, "column", 1) or 1)
    if isinstance(error, UnexpectedCharacters):
        text = source.line_text(line)
        char = text[column - 1] if column <= len(text) else ""
        hint = None
        if char == "'":
            hint = 'strings are written in double quotes: "..."'
        elif char == "$":
            hint = "amounts are written like $1,800,000 or $0.01"
        diagnostics.error(
            source.span(line, column), f"unexpected character {char!r}", hint, code="syntax"
        )
        return
    if isinstance(error, UnexpectedEOF) or (
        isinstance(error, UnexpectedToken) and error.token.type == "$END"
    ):
        expected = set(getattr(error, "expected", ()) or ())
        if next_chunk_line is not None:
            # The block ran into the next declaration: say so there, not at the file's end.
            word = source.line_text(next_chunk_line).split()[0]
            span = source.span(next_chunk_line, 1, next_chunk_line, 1 + len(word))
            hint = "a '}' is missing before it" if "RBRACE" in expected else None
            diagnostics.error(span, f"unexpected {word!r}; expected {_expected_list(expected)}",
                              hint, code="syntax")
            return
        last = source.text.rstrip("\n").split("\n")
        span = source.span(len(last), max(1, len(last[-1]) + 1)) if last else source.span(1, 1)
        hint = "a '}' is missing" if "RBRACE" in expected else None
        diagnostics.error(
            span,
            f"unexpected end of file; expected {_expected_list(expected)}",
            hint,
            code="syntax",
        )
        return
    assert isinstance(error, UnexpectedToken)
    token = error.token
    expected = set(error.expected)
    text = str(token)
    span = Span(source.name, line, column, token.end_line or line,
                token.end_column or column + max(1, len(text)))
    hint = None
    words = {_describe(t).strip("'") for t in expected if _describe(t).startswith("'")}
    if token.type == "NAME" or text.isalpha():
        hint = did_you_mean(text, words)
    if hint is None and "RBRACE" in expected and text in TOP_LEVEL_KEYWORDS:
        hint = f"a '}}' is missing before this '{text}'"
    if hint is None and text in keywords() and "NAME" in expected:
        hint = f"'{text}' is a keyword of the language and cannot be used as a name"
    diagnostics.error(
        span,
        f"unexpected {text!r}; expected {_expected_list(expected)}",
        hint,
        code="syntax",
    )
