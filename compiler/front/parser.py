"""The front end, parsing: text to parse tree, with every syntax error of a file reported.

The grammar lives in `grammar/clause.lark`. Lark's LALR parser stops at the first
error, so on failure the file is cut into top-level chunks (a line that starts at
column 0 with a declaration keyword starts a chunk) and each chunk is parsed on its
own: one bad section does not hide the errors of the next one.

An expression that nests deeper than MAX_NESTING is reported here and cut from the tree
(`limit_nesting`), so that no later pass meets a tree deeper than that.
"""

from __future__ import annotations

import bisect
import difflib
import itertools
import re
from collections.abc import Iterator
from functools import cache, lru_cache
from pathlib import Path

import lark
from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from clausec.diagnostics import Diagnostics, did_you_mean
from clausec.front import parser_cache
from clausec.source import SourceFile, Span

_HERE = Path(__file__).resolve().parent
# Installed wheel: clausec/grammar/; source tree: <repo>/grammar/ beside compiler/.
_GRAMMAR_DIRS = (_HERE.parent / "grammar", _HERE.parent.parent / "grammar")

TOP_LEVEL_KEYWORDS = (
    "agreement", "amendment", "section", "fact", "define", "condition", "exception",
    "obligation", "power", "replace", "delete", "insert", "append", "add", "substitute",
    "conform", "article", "exhibit", "schedule",
)

# How terminals are named in messages.
_TERMINAL_NAMES = {
    "NAME": "a name",
    "STRING": "a quoted string",
    "LONG_STRING": 'a """text block"""',
    "SECTION_NUMBER": "a section number such as 3.1 or 1(d)",
    "PART_NUMBER": "a number such as VI, C or 1.01(c)",
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
    # Its tables cached on disk (parser_cache.py): building them costs more than a check.
    return parser_cache.build(
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
    past = code_past_limit(source.text)
    if past is not None:
        line = source.text.count("\n", 0, past) + 1
        column = past - source.text.rfind("\n", 0, past)
        diagnostics.error(
            source.span(line, column),
            f"this file has more than {MAX_CODE_CHARS:,} characters (4 MiB) of code outside "
            "text blocks; clausec parses at most that much from one file",
            "split the agreement into several files (an agreement and its amendments), or "
            "keep long prose in text blocks", code="limit")
        return []
    parser = lark_parser()
    try:
        return limit_nesting(top_level_trees(parser.parse(source.text)), source, diagnostics)
    except UnexpectedInput:
        pass
    trees: list[lark.Tree[Token]] = []
    pieces = chunks(source.text)
    for i, (start_line, chunk) in enumerate(pieces):
        # Padding with newlines keeps line numbers true to the file.
        try:
            trees.extend(top_level_trees(parser.parse("\n" * (start_line - 1) + chunk)))
        except UnexpectedInput as error:
            next_line = pieces[i + 1][0] if i + 1 < len(pieces) else None
            report_syntax_error(source, error, diagnostics, next_line)
    return limit_nesting(trees, source, diagnostics)


# Code outside text blocks costs the parser about 120 bytes of memory a character (a
# token and a tree node for each piece): this bound keeps a file's parse within about
# half a gigabyte. Text blocks cost a few bytes a character and count only against
# source.MAX_FILE_BYTES.
MAX_CODE_CHARS = 4 * 1024 * 1024
# Text blocks (counted out), and strings and comments (skipped, so that three quotes in
# one do not start a text block): as the lexer reads them.
_TEXT_BLOCK_OR_SKIPPED = re.compile(
    r'""".*?(?:"""|\Z)|"[^"\\\n]*(?:\\.[^"\\\n]*)*"?|#[^\n]*', re.DOTALL)


def code_past_limit(text: str) -> int | None:
    """Where the code of `text` (outside text blocks) first passes MAX_CODE_CHARS, as an
    offset in `text`, or None if it does not: found without parsing."""
    if len(text) <= MAX_CODE_CHARS:
        return None
    code = pos = 0
    for match in _TEXT_BLOCK_OR_SKIPPED.finditer(text):
        if not match.group().startswith('"""'):
            continue
        if code + (match.start() - pos) > MAX_CODE_CHARS:
            break
        code += match.start() - pos
        pos = match.end()
    if code + (len(text) - pos) > MAX_CODE_CHARS:
        return pos + (MAX_CODE_CHARS - code)
    return None


def top_level_trees(start: lark.Tree[Token]) -> list[lark.Tree[Token]]:
    """The declarations of a parse (the trees below the start rule)."""
    return [c for c in start.children if isinstance(c, lark.Tree)]


# ---------------------------------------------------------------- headers

# `agreement NAME`, `amendment NAME "Title" amends NAME`, `tests for NAME`. The title is a
# string as the grammar has it (STRING): escapes such as \" included, or a title with a
# quote in it would end early and the amendment pass for an agreement. Unrolled (runs of
# plain characters, then an escape and another run): the alternation `(?:[^"\\\n]|\\.)*`
# keeps a backtracking state per character, ~190 bytes per byte of a long title, and
# every command reads every header.
_HEADER = re.compile(r"^\s*(agreement|amendment|tests\s+for)\s+([A-Za-z_][A-Za-z0-9_]*)"
                     r"(?:\s+\"[^\"\\\n]*(?:\\.[^\"\\\n]*)*\"\s+amends\s+"
                     r"([A-Za-z_][A-Za-z0-9_]*))?",
                     re.MULTILINE)


def peek_header(text: str) -> tuple[str, str, str]:
    """(kind, name, amends) of a clause file's header, read without parsing the file
    (grouping files into agreements reads every header): kind is "agreement",
    "amendment", "tests" or "" (no header); amends is "" but for an amendment."""
    match = _HEADER.search(text)
    if match is None:
        return ("", "", "")
    return (match.group(1).split()[0], match.group(2), match.group(3) or "")


# ---------------------------------------------------------------- nesting

# How deeply an expression may nest as the contract writes it: an operand in parentheses,
# a list in a list, `not`, `-`, an `if` in an `if`, the arguments of a call. A chain of
# one operator, however long (`a + b - c + ...`, `x and y and ...`), is one level, as a
# contract's list of fees is. Real contracts nest a handful of levels; the bound keeps
# every pass, and the Python generated from it, far from any recursion limit.
MAX_NESTING = 20

# The rules of expressions, as both this parser and the formatter's (which keeps every
# token, so that parentheses are `atom` nodes) name them.
EXPRESSION_RULES = frozenset({
    "if_then_else", "unless", "or_", "and_", "not_", "compare", "compare_words",
    "is_given", "is_not_given", "after_", "before_", "add", "sub", "mul", "div", "pow_",
    "neg", "days", "business_days", "calendar_business_days", "months", "years", "call",
    "list_op", "close_of_business", "atom",
})
# A left operand of one of these families continues its parent's chain.
CHAIN_FAMILIES = {"add": "sum", "sub": "sum", "mul": "product", "div": "product",
                  "and_": "and", "or_": "or"}
# Parentheses around an operand add nothing to evaluate, so nothing to nest: `((x))` is x.
_NOT_A_LEVEL = frozenset({"atom"})
TOO_DEEP = "too_deep"  # the rule that stands for a cut subtree


def too_deep(tree: lark.Tree[Token]
             ) -> Iterator[tuple[lark.Tree[Token], lark.Tree[Token]]]:
    """The expression nodes of `tree` that nest deeper than MAX_NESTING: the outermost
    of each such subtree, in source order, with the declaration that holds it. Without
    recursion: a tree may be as deep as the input is long."""
    # (node, its depth, the chain family its first operand continues, its declaration)
    stack: list[tuple[lark.Tree[Token], int, str | None, lark.Tree[Token]]] = [
        (tree, 0, None, tree)]
    while stack:
        node, depth, family, owner = stack.pop()
        if depth > MAX_NESTING:
            yield node, owner
            continue
        if depth == 0:
            owner = node  # outside any expression
        parenthesised = node.data in _NOT_A_LEVEL
        for index in range(len(node.children) - 1, -1, -1):
            child = node.children[index]
            if not isinstance(child, lark.Tree):
                continue
            first = index == 0 or parenthesised
            child_family = CHAIN_FAMILIES.get(child.data)
            if child.data not in EXPRESSION_RULES:
                stack.append((child, depth, None, owner))
            elif child.data in _NOT_A_LEVEL:
                # `(a + b) + c` is the chain a + b + c: the parentheses are transparent.
                stack.append((child, depth, family if first else None, owner))
            elif first and family is not None and child_family == family:
                stack.append((child, depth, child_family, owner))  # the chain goes on
            else:
                stack.append((child, depth + 1, child_family, owner))


def nesting_error(source: SourceFile, node: lark.Tree[Token],
                  diagnostics: Diagnostics) -> None:
    """Report an expression nested deeper than MAX_NESTING, where the limit is passed."""
    meta = node.meta
    known = not getattr(meta, "empty", True)
    line, column = (meta.line, meta.column) if known else (1, 1)
    diagnostics.error(
        source.span(line, column),
        f"this expression nests more than {MAX_NESTING} levels deep",
        "give the inner parts names of their own (define ...) and use those",
        code="syntax")  # a part of the file is cut, as a syntax error cuts one


def limit_nesting(trees: list[lark.Tree[Token]], source: SourceFile,
                  diagnostics: Diagnostics) -> list[lark.Tree[Token]]:
    """Report every expression that nests deeper than MAX_NESTING (once per declaration),
    and parentheses nested deeper than that, and cut such expressions from the trees:
    what is left is shallow enough for every later pass."""
    reported: list[lark.Tree[Token]] = []
    for tree in trees:
        for node, owner in list(too_deep(tree)):
            if not reported or reported[-1] is not owner:
                reported.append(owner)
                nesting_error(source, node, diagnostics)
            # Cut in place, so that the rest of the declaration is still checked.
            node.data = TOO_DEEP
            node.children = []
    spans = [(o.meta.line, o.meta.column, o.meta.end_line, o.meta.end_column)
             for o in reported if not getattr(o.meta, "empty", True)]
    for line, column in deep_parentheses(source.text):
        if not any((a, b) <= (line, column) < (c, d) for a, b, c, d in spans):
            diagnostics.error(
                source.span(line, column),
                f"parentheses nest more than {MAX_NESTING} deep here",
                "give the inner parts names of their own (define ...) and use those",
                code="syntax")
    return trees


# What the parentheses of a file are not counted in: text blocks, strings, comments.
_SKIPPED_OR_PAREN = re.compile(
    r'""".*?(?:"""|\Z)|"[^"\\\n]*(?:\\.[^"\\\n]*)*"?|#[^\n]*|[()]', re.DOTALL)


def deep_parentheses(text: str) -> list[tuple[int, int]]:
    """Where parentheses first nest deeper than MAX_NESTING, (line, column) of each such
    opening parenthesis: whatever they hold (redundant parentheses around an operand are
    no level of the tree), a formatter would print them one inside the other."""
    found: list[int] = []
    depth = 0
    for match in _SKIPPED_OR_PAREN.finditer(text):
        at = match.start()
        token = text[at] if match.end() == at + 1 else ""  # not a copy of a text block
        if token == "(":
            depth += 1
            if depth == MAX_NESTING + 1:
                found.append(match.start())
        elif token == ")":
            depth = max(0, depth - 1)
    return [(text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)) for at in found]


# DOTALL and one character repeated: a group repeated per character (`(?:.|\n)*?`) costs
# the regular expression engine memory for every character of a long text block.
_LONG_STRING = re.compile(r'""".*?(?:"""|\Z)', re.DOTALL)
_LINE_START_WORD = re.compile(r"^([A-Za-z_]+)\b", re.MULTILINE)


def chunks(text: str) -> list[tuple[int, str]]:
    """Cut a file where top-level declarations start: a line beginning at column 0 with a
    declaration keyword, or with a word close to one (a misspelt keyword), outside text
    blocks. (line, text) per chunk, in time linear in the text: the compiler cuts a file
    to report every syntax error, the language server on every edit."""
    strings = [(m.start(), m.end()) for m in _LONG_STRING.finditer(text)]
    string_starts = [a for a, _ in strings]

    def in_string(pos: int) -> bool:
        i = bisect.bisect_left(string_starts, pos) - 1  # the last string starting before
        return i >= 0 and pos < strings[i][1]

    starts = [m.start() for m in _LINE_START_WORD.finditer(text)
              if _starts_chunk(m.group(1)) and not in_string(m.start())]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    bounds = [*starts, len(text)]
    out = []
    line = 1
    for a, b in itertools.pairwise(bounds):
        if text[a:b]:
            out.append((line, text[a:b]))
        line += text.count("\n", a, b)
    return out


@lru_cache(maxsize=4096)
def _starts_chunk(word: str) -> bool:
    return word in TOP_LEVEL_KEYWORDS or bool(difflib.get_close_matches(
        word, TOP_LEVEL_KEYWORDS, n=1, cutoff=0.75))


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


def report_syntax_error(source: SourceFile, error: UnexpectedInput, diagnostics: Diagnostics,
                        next_chunk_line: int | None = None) -> None:
    """Report a syntax error of lark's in words; `next_chunk_line`: where the next chunk
    starts, when the error is the end of a chunk that ran into it."""
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
