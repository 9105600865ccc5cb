"""`clausec fmt`: one canonical layout for clause files.

The layout (the style of the seed contracts):

- two spaces of indentation per block (`section 3.1 {`, `given {`, the header's `{`);
  one declaration per line; at most one blank line between items, as written;
- a declaration broken over lines keeps its line breaks where the author put them
  (like gofmt) and gets a canonical indentation: 4 more for a continuation, 2 more for an
  expression that starts on the line after `=`, for a duty that starts on the line after
  an obligation's or power's `:`, and for `then` of a power (from its holder's line), an
  `and` or `or` right under `when` aligned on the `when`;
- `sum of [x for each royalty_quarter q from a until b when c]` is on one line, or broken
  before `for each` and `when`, which go under `x`; `statement(q).due` and a series fact's
  key (`royalties["2009-Q1"]`) have no spaces; words that read as one (`calendar
  quarter`, `for each FAMILY q`, `but in any event`, `performed on`) are never broken;
- a type of several words (`business days in nyse`, `money USD`) and a duration
  (`2 business days in nyse`, `3 months`) are never broken inside;
- a bracketed list (`all of [...]`, `holidays [...]`) is on one line, or one item per
  line with a trailing separator when the author wrote it over several lines or it does
  not fit in 100 columns; a long `and` / `or` / `unless` / `if` chain that does not fit
  is broken before each operator;
- `[x for each l in lenders when c]`, `sum of [...]`, `(x when c)` and the list of
  `present value of [...]` are laid out like `for each` above (a present value breaks
  before `at` too); `case S of [a: X, b: Y]` and `choice C = [a, b]` are bracketed lists;
  a `record` has one field per line; a `table` one row per line, each cell padded so that
  the `|` of every row line up;
- comments are kept where they are: a comment on its own line stays on its own line
  before what follows it, a comment at the end of a line stays at the end of that line
  (at least two spaces after the code; more if the author aligned it);
- every token is kept byte for byte: names, numbers, dates, strings and `text` blocks
  (the contract's words) are never rewritten, so the compiled module cannot change.

The printer works on the parse tree of the grammar itself (`grammar/clause.lark`, built
here with every token kept), one method per rule. Lark drops comments and whitespace, so
they are read from the gaps between consecutive tokens: a gap holds nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache

import lark
from lark import Token, Tree
from lark.exceptions import UnexpectedInput

from clausec.diagnostics import CompileError, Diagnostics
from clausec.source import SourceFile

MAX_WIDTH = 100
BLOCK_INDENT = 2
CONTINUATION = 4  # a declaration's continuation lines
TRAILING_SPACES = 2  # at least, between code and a comment at the end of its line
BODY = 2  # an expression that starts on the line after `=`; a power's `then`


@cache
def _lark() -> lark.Lark:
    """The compiler's grammar, keeping the keywords and punctuation in the tree."""
    from clausec.front import parser, parser_cache

    return parser_cache.build(
        parser.grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=True,
        keep_all_tokens=True,
    )


def format_text(text: str, file: str = "<input>") -> str:
    """The canonical layout of a clause file's text.

    Raises CompileError (with every syntax error, as `clausec check` reports them) if the
    text does not parse: half-parsed text is never formatted.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        tree = _lark().parse(text)
    except UnexpectedInput:
        raise _syntax_error(text, file) from None
    _check_nesting(tree, text, file)
    tokens = sorted(_tokens(tree), key=lambda t: t.start_pos or 0)
    gaps, final = _gaps(text, tokens)
    printer = _Printer()
    printer.start(tree)
    emitted = {id(p.src) for p in printer.pieces if p.src is not None}
    if len(emitted) != len(tokens):  # a token not printed would lose its comments too
        raise AssertionError("formatter: a token of the parse tree was not printed")
    return _Layout(printer, gaps, final).run()


def _syntax_error(text: str, file: str) -> CompileError:
    from clausec.front import parser

    source = SourceFile(file, text)
    diagnostics = Diagnostics()
    parser.parse(source, diagnostics)
    if not diagnostics.has_errors:  # the chunked parse found nothing: say where Lark stopped
        diagnostics.error(source.span(1, 1), "syntax error", code="syntax")
    return CompileError(diagnostics.sorted(), {file: source})


def _check_nesting(tree: Tree[Token], text: str, file: str) -> None:
    """Refuse, as `clausec check` does, an expression nested deeper than the compiler
    takes: the printer follows the nesting of the tree, which is then bounded."""
    from clausec.front import parser

    source = SourceFile(file, text)
    diagnostics = Diagnostics()
    parser.limit_nesting([tree], source, diagnostics)
    if diagnostics.has_errors:
        raise CompileError(diagnostics.sorted(), {file: source})


def _tokens(tree: Tree[Token]) -> Iterator[Token]:
    """The tokens of a tree, left to right (with a stack: a chain is as deep as long)."""
    stack: list[Tree[Token] | Token | None] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Token):
            yield node
        elif isinstance(node, Tree):
            stack.extend(reversed(node.children))


# -------------------------------------------------------------- comments and gaps


@dataclass
class _Comment:
    text: str
    spaces: int = 0  # at the end of a line: the spaces between the code and it
    blank_before: bool = False


@dataclass
class _Gap:
    """What the source had before a token: line breaks, blank lines, comments."""

    newline: bool = False
    blank: bool = False  # a blank line right before the token (after its comments)
    leading: list[_Comment] = field(default_factory=list)  # on lines of their own
    trailing: list[_Comment] = field(default_factory=list)  # after it, on its line


_COMMENT = re.compile(r"#[^\n]*")


def _gaps(text: str, tokens: Sequence[Token]) -> tuple[dict[int, _Gap], _Gap]:
    """The gap before every token (by id), and the one after the last token."""
    gaps: dict[int, _Gap] = {}
    previous: _Gap | None = None
    end = 0
    for token in tokens:
        gap = _Gap()
        _read_gap(text, end, token.start_pos or 0, previous, gap)
        gaps[id(token)] = gap
        previous = gap
        end = token.end_pos or 0
    final = _Gap()
    _read_gap(text + "\n", end, len(text) + 1, previous, final)
    return gaps, final


def _read_gap(text: str, start: int, stop: int, previous: _Gap | None, gap: _Gap) -> None:
    """Fill `gap` from text[start:stop]; a comment on the previous token's line goes to
    `previous.trailing`."""
    lines = text[start:stop].split("\n")
    blank = False
    for k, line in enumerate(lines):
        match = _COMMENT.search(line)
        if k == 0 and previous is not None:
            if match:  # the line starts at the end of the previous token
                previous.trailing.append(_Comment(match.group().rstrip(), match.start()))
        elif match:
            gap.leading.append(_Comment(match.group().rstrip(), blank_before=blank))
            blank = False
        elif 0 < k < len(lines) - 1:
            blank = blank or not line.strip()
    gap.newline = len(lines) > 1 or previous is None
    gap.blank = blank


# ------------------------------------------------------------------- the printer


@dataclass(frozen=True)
class _Indent:
    """Where a line that starts with a piece is indented.

    `column`: a fixed column; `line`: the indentation of the line holding piece `anchor`,
    plus `delta`; `col`: the column of piece `anchor` plus `delta`; `body`: the
    indentation of piece `anchor` if it starts its line, else column `delta`; `river`: an `and`/`or` ending where the `when` of piece `anchor` ends,
    when that `when` starts its line (else like `line` with `fallback`)."""

    kind: str
    delta: int = 0
    anchor: int = -1
    fallback: int = -1


@dataclass
class _Piece:
    text: str
    src: Token | None
    indent: _Indent
    space: bool = True  # a space before it when it does not start a line
    can_break: bool = False  # a line break before it in the source is kept
    force: bool = False  # always starts a line
    blank_ok: bool = False  # a blank line before it in the source is kept
    hidden: bool = False  # a list's trailing separator, shown only when it is exploded
    comment_indent: _Indent | None = None  # for comments on lines of their own before it
    glue_next: bool = False  # no space after it (an opening bracket, a unary minus)
    pad: int = 0  # more spaces before it, when it does not start a line (a table's bars)


@dataclass
class _Group:
    """Brackets whose items are on one line, or one per line."""

    open: int
    close: int
    items: list[int]
    separators: list[int]  # hidden trailing separators, shown when exploded
    item_indent: _Indent
    close_indent: _Indent
    always: bool = False  # blocks: always one item per line (unless empty)
    inner_space: bool = False  # `{ a = 1 }` rather than `[a, b]`
    max_inline: int = 1_000_000
    multiline: bool = False  # the source had a line break inside


@dataclass
class _Chain:
    """`a and b and c`: broken before every operator when it does not fit."""

    start: int
    end: int
    ops: list[int]


# Rules that have a `{ ... }` block after a header.
_BLOCKS = {"agreement", "amendment", "section", "replace_op", "append_op", "add_op", "test",
           "conform_op"}
# Chains of one operator (and of + and -): `a and b and c` is broken as one.
_CHAINS = {"or_": "or_", "and_": "and_", "add": "sum", "sub": "sum"}
_EXPRESSIONS = {
    "if_then_else", "unless", "or_", "and_", "not_", "compare", "compare_words", "is_given",
    "is_not_given", "after_", "before_", "add", "sub", "mul", "div", "pow_", "neg", "days",
    "business_days", "calendar_business_days", "months", "years", "name", "call", "atom",
    "list_op", "close_of_business", "true", "false", "integer", "decimal", "percent", "money",
    "datetime", "string", "late", "field", "containing", "period_start", "period_end",
    "previous_period", "next_period", "period_number", "first_period", "last_business_day",
    "first_business_day", "each", "in_force", "in_default", "first_name", "next_name",
    "previous_name",
}
# Lists, choices and records: `[x for each x in xs]`, `case k of [...]`, `(x when c)`...
_EXPRESSIONS |= {
    "list_literal", "list_each", "aggregate", "first_of", "case", "when_value", "nothing",
    "allocate", "present_value", "given_records", "given_record",
}
# Expressions of lists, choices and records with a layout of their own: the method of
# _Printer of the same name prints them.
_LIST_RULES = {"list_literal", "list_each", "aggregate", "case", "when_value",
               "present_value", "given_records", "given_record"}
_WORD_OPS = {"at_least", "at_most", "more_than", "less_than", "before", "after",
             "on_or_before", "on_or_after", "is_not", "is_equal"}
# Binary expressions: a line may break before the operator or after it.
_BINARY = {"compare", "compare_words", "after_", "before_", "mul", "div", "pow_"}
_PRODUCTS = {"mul", "div"}  # a chain of them nests to the left
_GLUE_BEFORE = {",", ";", ")", "]", ":", "."}
# A keyword of several words lexed as one token (`start of`, `last business day of`).
_PHRASE = re.compile(r"[A-Za-z]+(?:[ \t]+[A-Za-z]+)+")
_LABEL = re.compile(r"\((?:[ivxlc]{1,6}|[a-z]{1,2}|[A-Z]|[0-9]{1,2})\)")


class _Printer:
    """Turns the parse tree into pieces (tokens with their layout rules), one method per
    rule; _Layout decides the lines."""

    def __init__(self) -> None:
        self.pieces: list[_Piece] = []
        self.groups: list[_Group] = []
        self.chains: list[_Chain] = []
        self.ctx = _Indent("column", 0)  # the indentation of a continuation line
        self.can_break = True  # whether a line break before the next piece is kept
        self.level = 0  # the block's indentation
        self.holder = -1  # the first piece of an obligation's or power's duty
        # The table being printed: of each row, each cell's first piece and the bar after it.
        self.table_rows: list[list[tuple[int, int]]] = []

    # -------------------------------------------------------------- pieces

    def emit(self, token: Token | str, *, space: bool | None = None) -> int:
        text = str(token)
        if isinstance(token, Token) and token.type == "PERCENT" and "\n" in text:
            text = text.replace("\n", " ")  # `15\n%` is one token: keep it on one line
        elif isinstance(token, Token) and token.type not in ("STRING", "LONG_STRING") and \
                _PHRASE.fullmatch(text):
            text = " ".join(text.split())  # `start  of`, one token: one space between words
        glued = bool(self.pieces) and self.pieces[-1].glue_next
        if space is None:
            space = text not in _GLUE_BEFORE and not glued
        piece = _Piece(text, token if isinstance(token, Token) else None, self.ctx,
                       space=space and not glued,
                       can_break=self.can_break and text not in _GLUE_BEFORE and not glued)
        self.pieces.append(piece)
        return len(self.pieces) - 1

    def statement_start(self, index: int, indent: int) -> None:
        piece = self.pieces[index]
        piece.force, piece.blank_ok, piece.indent = True, True, _Indent("column", indent)

    def walk(self, node: Tree[Token] | Token | None) -> None:
        """Print a subtree in the current context, dispatching on its rule."""
        if node is None:
            return
        if isinstance(node, Token):
            self.emit(node)
            return
        method = getattr(self, f"rule_{node.data}", None)
        if method is not None:
            method(node)
        elif node.data in _EXPRESSIONS:
            self.expr(node)
        else:  # a part of a declaration: its words in order
            for child in node.children:
                self.walk(child)

    # ------------------------------------------------------ file and blocks

    def start(self, tree: Tree[Token]) -> None:
        for child in tree.children:
            if isinstance(child, Tree):
                self.item(child)

    def item(self, node: Tree[Token]) -> None:
        """A declaration (or a block) starting on a line of its own at the block's level."""
        first = len(self.pieces)
        saved = self.ctx, self.can_break
        self.ctx, self.can_break = _Indent("column", self.level + CONTINUATION), True
        if node.data in _BLOCKS:
            self.block_statement(node)
        else:
            self.walk(node)
        self.statement_start(first, self.level)
        self.ctx, self.can_break = saved

    def block_statement(self, node: Tree[Token]) -> None:
        children = [c for c in node.children if c is not None]
        brace = next(i for i, c in enumerate(children) if isinstance(c, Token) and c == "{")
        for child in children[:brace]:
            self.walk(child)
        open_, close = children[brace], children[-1]
        assert isinstance(open_, Token) and isinstance(close, Token)
        self.block(open_, children[brace + 1:-1], close)

    def block(self, open_: Token, items: Sequence[Tree[Token] | Token],
              close: Token, *, inline: int = 0) -> None:
        """`{ items }`: one item per line (or, for `given`, up to `inline` on one line)."""
        open_index = self.emit(open_, space=True)
        self.pieces[open_index].can_break = False
        level = self.level
        group = _Group(open_index, -1, [], [], _Indent("column", level + BLOCK_INDENT),
                       _Indent("column", level), always=inline == 0, inner_space=True,
                       max_inline=inline)
        self.level += BLOCK_INDENT
        for child in items:
            group.items.append(len(self.pieces))
            assert isinstance(child, Tree)
            self.item(child)
            self.pieces[group.items[-1]].force = False  # the group decides
        self.level = level
        group.close = self.emit(close, space=bool(items))
        self.pieces[group.close].can_break = False
        self.pieces[group.close].comment_indent = group.item_indent
        group.multiline = _multiline(open_, close)
        self.groups.append(group)

    def rule_op_body(self, node: Tree[Token]) -> None:
        """The body of `substitute ... { ... }`, `insert ... { ... }`: a section's block."""
        open_, *items, close = node.children
        assert isinstance(open_, Token) and isinstance(close, Token)
        self.block(open_, [i for i in items if isinstance(i, Tree)], close)

    def rule_given(self, node: Tree[Token]) -> None:
        keyword, open_, *facts, close = node.children
        assert isinstance(keyword, Token) and isinstance(open_, Token)
        assert isinstance(close, Token)
        self.emit(keyword)
        self.block(open_, [f for f in facts if isinstance(f, Tree)], close, inline=1)

    # ---------------------------------------------------------- declarations

    def body(self, node: Tree[Token] | Token | None) -> None:
        """An expression after `=`: on the same line, or on the next one, 2 deeper."""
        saved = self.ctx
        self.ctx = _Indent("column", self.level + BODY)
        self.expr(node)
        self.ctx = saved

    def _declaration(self, node: Tree[Token]) -> None:
        """definition, condition, exception, invariant, given fact, `expect x = v`: the
        first `=` introduces the body; a `when` after it is a clause of its own."""
        seen_equals = False
        body = 0
        children: list[Tree[Token] | Token | None] = list(node.children)
        for i, child in enumerate(children):
            if isinstance(child, Token) and child == "=" and not seen_equals:
                seen_equals = True
                self.emit(child)
                self.pieces[-1].can_break = False
                body = len(self.pieces)
                self.body(children[i + 1])
                children[i + 1] = None
            elif isinstance(child, Token) and child == "[" and not seen_equals:
                # A series fact's key: `royalties["2009-Q1"] = ...`, glued to its name.
                index = self.emit(child, space=False)
                piece = self.pieces[index]
                piece.can_break = False
                piece.glue_next = True
                saved = self.ctx, self.can_break
                self._continue_from(index - 1)
                self.expr(children[i + 1])
                children[i + 1] = None
                self.ctx, self.can_break = saved
            elif isinstance(child, Token) and child == "when" and seen_equals:
                when = len(self.pieces)
                self.guard(child, children[i + 1])
                # Under the body when it has a line of its own, else a continuation.
                self.pieces[when].indent = _Indent("body", self.level + CONTINUATION, body)
                children[i + 1] = None
            elif child is not None:
                self.walk(child)

    rule_definition = rule_condition = rule_exception = rule_invariant = _declaration
    rule_given_fact = rule_expect_value = _declaration

    def guard(self, keyword: Token, condition: Tree[Token] | Token | None) -> None:
        """`when COND`: an `and`/`or` of COND broken over lines ends where `when` ends."""
        when = self.emit(keyword)
        self.expr(condition, river=when)

    def rule_when(self, node: Tree[Token]) -> None:
        keyword, condition = node.children
        assert isinstance(keyword, Token)
        self.guard(keyword, condition)

    def rule_fact_default(self, node: Tree[Token]) -> None:
        keyword, value = node.children
        self.walk(keyword)
        self.expr(value)

    rule_constraint = rule_fact_default  # `where balance >= $0`

    def rule_object(self, node: Tree[Token]) -> None:
        self.expr(node.children[0])

    def _duty_declaration(self, node: Tree[Token]) -> None:
        """`obligation NAME "title" for each ...: DUTY`, `power ...: HOLDER may ...`: a
        duty that starts on the line after `:` is 2 deeper than the declaration (like an
        expression after `=`); its continuation lines 4 deeper; a power's `then` 2 deeper
        than the line of its holder."""
        colon_seen = False
        for child in node.children:
            if child is None:
                continue
            if colon_seen and self.holder < 0:
                self.holder = len(self.pieces)
                self.walk(child)
                if self.holder < len(self.pieces):
                    self.pieces[self.holder].indent = _Indent("column", self.level + BODY)
                continue
            if isinstance(child, Token) and child == ":" and not colon_seen:
                colon_seen = True
                self.holder = -1
            self.walk(child)
        self.holder = -1

    rule_obligation = rule_power = _duty_declaration

    def rule_recurrence(self, node: Tree[Token]) -> None:
        """`for each royalty_quarter q from X until Y`: a line may break before `for` and
        before each bound's keyword, never inside `for each FAMILY NAME`."""
        keyword, *rest = node.children
        self.emit(keyword)  # type: ignore[arg-type]
        saved = self.can_break
        self.can_break = False
        for child in rest:
            if isinstance(child, Tree) and child.data.startswith("range_"):
                self.can_break = saved
                self.period_range(child)
            else:
                self.words(child)
        self.can_break = saved

    def period_range(self, node: Tree[Token]) -> None:
        saved = self.can_break
        for child in node.children:
            if isinstance(child, Token) and child in ("from", "until", "through", "in"):
                self.can_break = saved
                self.emit(child)
                self.can_break = False
            elif isinstance(child, Token):
                self.emit(child)
            else:
                self.expr(child)
                self.can_break = False
        self.can_break = saved

    def words(self, node: Tree[Token] | Token | None) -> None:
        """Words that read as one (`calendar quarter`, `in any event`): a line may break
        before them, never inside."""
        first = len(self.pieces)
        for token in _tokens(node) if isinstance(node, Tree) else [node]:
            if token is None:
                continue
            index = self.emit(token)
            if index > first:
                self.pieces[index].can_break = False

    rule_calendar_period_type = rule_calendar_family = rule_period_units = words
    rule_month_unit = rule_quarter_unit = rule_half_year_unit = rule_year_unit = words
    rule_promptly = rule_practicable = rule_beginning = words

    def rule_performed(self, node: Tree[Token]) -> None:
        """`performed on DATE`."""
        keyword, on, value = node.children
        first = self.emit(keyword)  # type: ignore[arg-type]
        index = self.emit(on)  # type: ignore[arg-type]
        self.pieces[index].can_break = False
        saved = self.ctx, self.can_break
        self._continue_from(first)
        self.ctx = _Indent("line", BODY, first) if self.ctx.kind == "line" else self.ctx
        self.expr(value)
        self.ctx, self.can_break = saved

    def rule_consequence(self, node: Tree[Token]) -> None:
        then = self.emit(node.children[0])  # type: ignore[arg-type]
        self.pieces[then].indent = (_Indent("line", BODY, self.holder) if self.holder >= 0
                                    else _Indent("column", self.level + BODY))
        saved = self.ctx
        self.ctx = _Indent("line", CONTINUATION - BODY, then)
        self.walk(node.children[1])
        self.ctx = saved

    def _glued_call(self, node: Tree[Token]) -> None:
        """`f(x: integer)`, `name(args).field`: no space before `(` or around `.`."""
        saved = self.ctx, self.can_break
        first = len(self.pieces)
        children = [c for c in node.children if c is not None]
        while children:
            child = children.pop(0)
            if len(self.pieces) > first:
                self._continue_from(first)
            if isinstance(child, Token) and child == "(":
                # The arguments, up to the closing parenthesis.
                close = next(i for i, c in enumerate(children)
                             if isinstance(c, Token) and c == ")")
                self.call_arguments([child, *children[:close + 1]])
                children = children[close + 1:]
            elif isinstance(child, Token):
                index = self.emit(child)
                if child == ".":
                    piece = self.pieces[index]
                    piece.space = piece.can_break = False
                    piece.glue_next = True
            elif child.data == "arguments":
                self.call_arguments(child.children)
            else:
                self.walk(child)
        self.ctx, self.can_break = saved

    rule_probe = rule_parameters = _glued_call

    def rule_arguments(self, node: Tree[Token]) -> None:
        self.call_arguments(node.children)

    def call_arguments(self, children: Sequence[Tree[Token] | Token | None]) -> None:
        """`(a, b)`: a line may break after a comma, the next argument under the first;
        when the arguments do not fit, each goes on a line of its own."""
        saved = self.ctx, self.can_break
        self.can_break = False
        starts: list[int] = []
        for child in children:
            if isinstance(child, Token) and child in ("(", ")", ","):
                index = self.emit(child)
                if child == "(":
                    self.pieces[index].space = False
                    self.pieces[index].can_break = False
                    self.pieces[index].glue_next = True
            elif child is not None:
                starts.append(len(self.pieces))
                if len(starts) > 1:
                    self.ctx = _Indent("col", 0, starts[0])
                    self.can_break = True
                self.walk(child)
                self.can_break = False
        if len(starts) > 1:
            for index in starts[1:]:
                self.pieces[index].indent = _Indent("col", 0, starts[0])
            self.chains.append(_Chain(starts[0], len(self.pieces) - 1, starts[1:]))
        self.ctx, self.can_break = saved

    def _type(self, node: Tree[Token]) -> None:
        """`business days in nyse`, `money USD`: a type of several words is one unit, on
        one line (a line may break before it, never inside it)."""
        first = len(self.pieces)
        for child in node.children:
            if isinstance(child, Token):
                index = self.emit(child)
                if index > first:
                    self.pieces[index].can_break = False

    rule_business_days_type = rule_calendar_business_days_type = rule_money_type = _type

    def rule_holidays(self, node: Tree[Token]) -> None:
        keyword, open_, *items, close = node.children
        self.walk(keyword)
        assert isinstance(open_, Token) and isinstance(close, Token)
        self.bracket_list(open_, [c for c in items if c is not None], close)

    rule_calendar_plus = rule_holidays

    # ----------------------------------------------------------- expressions

    def expr(self, node: Tree[Token] | Token | None, river: int | None = None) -> None:
        """An expression: a line break is kept only around an operator, and a continuation
        line is indented 2 more than the line where the expression starts."""
        if node is None:
            return
        saved = self.ctx, self.can_break
        if isinstance(node, Token):
            self.emit(node)
        elif node.data in _CHAINS or node.data in ("unless", "if_then_else"):
            self.chain(node, river)
        elif node.data == "list_op":
            self.list_op(node)
        elif node.data == "each":
            self.each(node)
        elif node.data in _LIST_RULES:
            getattr(self, node.data)(node)
        elif node.data == "field":
            self.field(node)
        elif node.data == "in_force":
            self.in_force(node)
        elif node.data == "call":
            self._glued_call(node)
        elif node.data == "neg":
            self.unary(node)
        elif node.data == "atom":
            self.parenthesised(node)
        elif node.data in _BINARY:
            self.binary(node)
        else:
            self.plain(node)
        self.ctx, self.can_break = saved

    def _continue_from(self, first: int) -> None:
        """Pieces after `first` continue 2 deeper than its line; inside parentheses, under
        the first piece after the parenthesis."""
        after_paren = first > 0 and self.pieces[first - 1].text == "(" and \
            self.pieces[first - 1].glue_next
        self.ctx = _Indent("col", 0, first) if after_paren else _Indent("line", BODY, first)
        self.can_break = False

    def plain(self, node: Tree[Token]) -> None:
        first = len(self.pieces)
        for child in node.children:
            if len(self.pieces) > first:
                self._continue_from(first)
            if isinstance(child, Tree):
                self.expr(child)
            elif child is not None:
                self.emit(child)

    def binary(self, node: Tree[Token]) -> None:
        # `a * b / c * ...` nests to the left as long as it is: each operator and right
        # operand is printed in a loop, as the recursion into the left operand would.
        spine = [node]
        while spine[-1].data in _PRODUCTS and isinstance(spine[-1].children[0], Tree) and \
                spine[-1].children[0].data in _PRODUCTS:
            spine.append(spine[-1].children[0])
        first = len(self.pieces)
        saved = self.ctx, self.can_break
        self.expr(spine[-1].children[0])
        for level in reversed(spine):
            self.ctx, self.can_break = saved
            self._binary_rest(level, first)

    def _binary_rest(self, node: Tree[Token], first: int) -> None:
        """The operator and right operand of a binary expression whose left operand is
        printed from piece `first` on."""
        rest = node.children[1:]
        self._continue_from(first)
        for j, child in enumerate(rest):
            start = len(self.pieces)
            if isinstance(child, Tree) and child.data in _WORD_OPS:
                for word in child.children:  # `is at least`: one operator
                    self.emit(word)  # type: ignore[arg-type]
            elif isinstance(child, Tree):
                self.expr(child)
            elif child is not None:
                self.emit(child)
            # A line may break before the operator or before the right operand.
            if start < len(self.pieces) and j in (0, len(rest) - 1):
                self.pieces[start].can_break = True

    def unary(self, node: Tree[Token]) -> None:
        minus, operand = node.children
        index = self.emit(minus)  # type: ignore[arg-type]
        self.pieces[index].glue_next = True
        first = index
        self._continue_from(first)
        self.expr(operand)

    def parenthesised(self, node: Tree[Token]) -> None:
        open_, inner, close = node.children
        first = self.emit(open_)  # type: ignore[arg-type]
        self._continue_from(first)
        self.pieces[first].glue_next = True
        start = len(self.pieces)
        self.expr(inner)
        close_index = self.emit(close)  # type: ignore[arg-type]
        # `(a)` is read as an item label where one may stand: keep such a group spaced.
        if close_index == start + 1 and _LABEL.fullmatch(
                "(" + self.pieces[start].text + ")"):
            self.pieces[first].glue_next = False
            self.pieces[start].space = True
            self.pieces[close_index].space = True

    def chain(self, node: Tree[Token], river: int | None) -> None:
        """`a or b or c`, `a unless b`, `if c then x else y`."""
        first = len(self.pieces)
        operands = list(_flatten(node))
        chain = _Chain(first, -1, [])
        for i, part in enumerate(operands):
            if i > 0:
                self._continue_from(first)
            start = len(self.pieces)
            if isinstance(part, Token) and part in ("or", "and", "unless", "then", "else", "+",
                                                    "-"):
                index = self.emit(part)
                piece = self.pieces[index]
                piece.can_break = True
                if river is not None and part in ("and", "or"):
                    piece.indent = _Indent("river", anchor=river, fallback=first)
                chain.ops.append(index)
            elif isinstance(part, Token):
                self.emit(part)  # `if`
            else:
                self.expr(part)
                if i > 0 and start < len(self.pieces):
                    self.pieces[start].can_break = True  # a break after the operator
        chain.end = len(self.pieces) - 1
        self.chains.append(chain)

    def list_op(self, node: Tree[Token]) -> None:
        """`all of [(a) x, (b) y when z]`."""
        kind, open_, *items, close = node.children
        assert isinstance(kind, Tree)
        self.list_kind(kind)
        assert isinstance(open_, Token) and isinstance(close, Token)
        self.bracket_list(open_, [c for c in items if c is not None], close)

    def list_kind(self, kind: Tree[Token]) -> int:
        """`sum of`, `earlier of`, `none of`: words that read as one, never broken. What
        follows continues from them."""
        first = len(self.pieces)
        for word in kind.children:
            index = self.emit(word)  # type: ignore[arg-type]
            if index > first:
                self.pieces[index].can_break = False
        self._continue_from(first)
        return first

    def field(self, node: Tree[Token]) -> None:
        """`statement(q).due`: no space around the dot."""
        value, dot, name = node.children
        first = len(self.pieces)
        self.expr(value)
        self._continue_from(first)
        index = self.emit(dot)  # type: ignore[arg-type]
        piece = self.pieces[index]
        piece.space = piece.can_break = False
        piece.glue_next = True
        self.emit(name)  # type: ignore[arg-type]

    def in_force(self, node: Tree[Token]) -> None:
        """`(leverage_ratio(q) as in force on end of q)`: glued to its parentheses."""
        open_, *rest, close = node.children
        first = self.emit(open_)  # type: ignore[arg-type]
        self.pieces[first].glue_next = True
        self._continue_from(first)
        for child in rest:
            if isinstance(child, Tree):
                self.expr(child)
            elif child is not None:
                self.emit(child)
        self.emit(close)  # type: ignore[arg-type]

    def each(self, node: Tree[Token]) -> None:
        """`sum of [fee(m) for each calendar month m from X through Y when Z]`: on one line,
        or broken before `for each` and `when`, which go under the value."""
        kind, open_, value, recurrence, keyword, condition, close = node.children
        assert isinstance(kind, Tree) and isinstance(open_, Token)
        assert isinstance(recurrence, Tree) and isinstance(close, Token)
        first = self.list_kind(kind)
        clauses = [lambda: self.rule_recurrence(recurrence)]
        if isinstance(keyword, Token):
            clauses.append(lambda: self.guard(keyword, condition))
        self.comprehension(first, open_, lambda: self.expr(value), clauses, close)

    def comprehension(self, first: int, open_: Token, body: Callable[[], None],
                      clauses: Sequence[Callable[[], None]], close: Token) -> None:
        """`[BODY for each ... when ...]`, `(X when C)`: on one line, or broken before each
        clause (`for each`, `when`), which then goes under the body. A chain from piece
        `first`: when its first line does not fit, every clause starts a line."""
        open_index = self.emit(open_)
        self.pieces[open_index].glue_next = True
        start = len(self.pieces)
        body()
        self.pieces[start].space = False
        under = _Indent("col", 0, start)
        ops = []
        for clause in clauses:
            self.ctx, self.can_break = under, True
            ops.append(len(self.pieces))
            clause()
            self.pieces[ops[-1]].indent = under
            self.pieces[ops[-1]].can_break = True
        self.can_break = False
        end = self.emit(close)
        self.chains.append(_Chain(first, end, ops))

    # ---------------------------------------------- lists, choices and records

    def _for_each(self, words: Sequence[Tree[Token] | Token | None]) -> None:
        """`for each l in lenders`: a line may break before `for`, never inside `for each
        NAME in`; the list after it continues the clause."""
        first = len(self.pieces)
        for child in words:
            if isinstance(child, Token):
                index = self.emit(child)
                if index > first:
                    self.pieces[index].can_break = False
            elif child is not None:
                self.can_break = False
                self.expr(child)

    def _each_clauses(self, children: Sequence[Tree[Token] | Token | None]
                      ) -> list[Callable[[], None]]:
        """The clauses of `for each NAME in LIST [when C]` (children from `for` on)."""
        for_each, (keyword, condition) = children[:5], children[5:7]
        clauses = [lambda: self._for_each(for_each)]
        if isinstance(keyword, Token):
            clauses.append(lambda: self.guard(keyword, condition))
        return clauses

    def list_each(self, node: Tree[Token]) -> None:
        """`[l.principal for each l in lenders when not l.declined]`."""
        open_, value, *rest, close = node.children
        assert isinstance(open_, Token) and isinstance(close, Token)
        first = len(self.pieces)
        self.comprehension(first, open_, lambda: self.expr(value), self._each_clauses(rest),
                           close)

    def aggregate(self, node: Tree[Token]) -> None:
        """`sum of [s.amount for each s in shares when s.item.declined]`."""
        kind, open_, value, *rest, close = node.children
        assert isinstance(kind, Tree)
        assert isinstance(open_, Token) and isinstance(close, Token)
        first = self.list_kind(kind)
        self.comprehension(first, open_, lambda: self.expr(value), self._each_clauses(rest),
                           close)

    def present_value(self, node: Tree[Token]) -> None:
        """`present value of [p.amount on p.due for each p in payments when C] at RATE
        actual/360 compounded monthly on DATE`: the list as `for each`; a line may break
        before `at` (when the line does not fit) and before the last `on`."""
        keyword, open_, amount, on, day, *rest = node.children
        close_at = next(i for i, c in enumerate(rest) if isinstance(c, Token) and c == "]")
        each, (close, *tail) = rest[:close_at], rest[close_at:]
        assert isinstance(keyword, Token) and isinstance(open_, Token)
        assert isinstance(on, Token) and isinstance(close, Token)
        first = self.emit(keyword)
        self._continue_from(first)

        def body() -> None:
            start = len(self.pieces)
            self.expr(amount)
            self._continue_from(start)
            self.emit(on)
            self.expr(day)

        self.comprehension(first, open_, body, self._each_clauses(each), close)
        end = len(self.pieces) - 1
        self._continue_from(first)
        ops = []
        for child in tail:
            if isinstance(child, Token) and child in ("at", "on"):
                self.can_break = True
                index = self.emit(child)
                if child == "at":
                    ops.append(index)
                self.can_break = False
            elif isinstance(child, Token):
                self.emit(child)
            elif isinstance(child, Tree) and child.data in ("compounding", "simple_interest"):
                self.words(child)  # `compounded monthly`, `simple`
            elif child is not None:
                self.expr(child)
        self.chains.append(_Chain(end, len(self.pieces) - 1, ops))

    def when_value(self, node: Tree[Token]) -> None:
        """`(X when C)`: glued to its parentheses; `when` under X when it does not fit."""
        open_, value, keyword, condition, close = node.children
        assert isinstance(open_, Token) and isinstance(close, Token)
        assert isinstance(keyword, Token)
        first = len(self.pieces)
        self.comprehension(first, open_, lambda: self.expr(value),
                           [lambda: self.guard(keyword, condition)], close)

    def list_literal(self, node: Tree[Token]) -> None:
        """`[a, b, c]`; in a test, the records a fact is given, `[{name: "A", principal:
        $5}, ...]`, and one record: on one line, or one item per line."""
        open_, *items, close = node.children
        assert isinstance(open_, Token) and isinstance(close, Token)
        self.bracket_list(open_, [c for c in items if c is not None], close)

    given_records = given_record = list_literal

    def case(self, node: Tree[Token]) -> None:
        """`case loan_kind of [term_benchmark: 7.50%, base_rate: 6.50%]`: the arms on one
        line, or one per line (with a trailing separator) when they do not fit or the
        author wrote them over several lines."""
        keyword, subject, of, open_, *arms, close = node.children
        assert isinstance(open_, Token) and isinstance(close, Token)
        first = self.emit(keyword)  # type: ignore[arg-type]
        self._continue_from(first)
        self.expr(subject)
        self._continue_from(first)
        self.emit(of)  # type: ignore[arg-type]
        self.bracket_list(open_, [c for c in arms if c is not None], close)

    def rule_choice(self, node: Tree[Token]) -> None:
        """`choice loan_type "Type of Loan" = [term_benchmark "...", base_rate]`: the
        members as a bracketed list."""
        children = [c for c in node.children if c is not None]
        equals = next(i for i, c in enumerate(children) if isinstance(c, Token) and c == "=")
        for child in children[:equals]:
            self.walk(child)
        self.can_break = False
        self.walk(children[equals])
        open_, *members, close = children[equals + 1:]
        assert isinstance(open_, Token) and isinstance(close, Token)
        self.bracket_list(open_, members, close)

    # `record lender "Lender" { name: text ... }`: one field per line.
    rule_record = block_statement
    rule_list_type = words

    def rule_table(self, node: Tree[Token]) -> None:
        """`table NAME "title" { | col: type | ... | rows }`: a row per line, each cell
        padded so that the bars of every row line up."""
        children = [c for c in node.children if c is not None]
        brace = next(i for i, c in enumerate(children) if isinstance(c, Token) and c == "{")
        for child in children[:brace]:
            self.walk(child)
        open_, close = children[brace], children[-1]
        assert isinstance(open_, Token) and isinstance(close, Token)
        saved, self.table_rows = self.table_rows, []
        self.block(open_, children[brace + 1:-1], close)
        rows, self.table_rows = self.table_rows, saved
        self.pad(rows)

    def rule_add_row_op(self, node: Tree[Token]) -> None:
        """`add row to table T | ... |`: one row on the statement's line; several, one per
        line below it, padded as a table's rows are."""
        rows = [c for c in node.children if isinstance(c, Tree) and c.data == "table_row"]
        for child in node.children:
            if not any(child is row for row in rows):
                self.walk(child)
        saved, self.table_rows = self.table_rows, []
        for row in rows:
            first = len(self.pieces)
            self.walk(row)
            if len(rows) > 1:
                self.statement_start(first, self.level + BLOCK_INDENT)
                self.pieces[first].blank_ok = False
        cells, self.table_rows = self.table_rows, saved
        self.pad(cells)

    def pad(self, rows: list[list[tuple[int, int]]]) -> None:
        """Pad the cells of table rows so that the bars of every row line up."""
        widths: dict[int, int] = {}
        for row in rows:
            for column, (start, bar) in enumerate(row):
                widths[column] = max(widths.get(column, 0), self.one_line(start, bar))
        for row in rows:
            for column, (start, bar) in enumerate(row):
                self.pieces[bar].pad = widths[column] - self.one_line(start, bar)

    def one_line(self, start: int, stop: int) -> int:
        """The width of pieces start..stop-1 on one line."""
        return sum(len(p.text) + (1 if p.space and i > start else 0)
                   for i, p in enumerate(self.pieces[start:stop], start) if not p.hidden)

    def rule_table_row(self, node: Tree[Token]) -> None:
        """`| 2024-03-31 | 4.50 |`: never broken; the table pads the cells."""
        cells: list[tuple[int, int]] = []
        start = -1
        for child in node.children:
            if isinstance(child, Token) and child == "|":
                index = self.emit(child)
                if start >= 0:
                    cells.append((start, index))
                self.can_break = False
            elif isinstance(child, Tree):
                start = len(self.pieces)
                if child.data == "record_field":
                    self.walk(child)
                else:
                    self.expr(child)
        self.table_rows.append(cells)

    rule_columns = rule_table_row

    def bracket_list(self, open_: Token, items: Sequence[Tree[Token] | Token],
                     close: Token) -> None:
        open_index = self.emit(open_)
        self.pieces[open_index].glue_next = True
        group = _Group(open_index, -1, [], [], _Indent("line", BLOCK_INDENT, open_index),
                       _Indent("line", 0, open_index))
        saved = self.ctx, self.can_break
        separator = ","
        for i, child in enumerate(items):
            if isinstance(child, Token):  # a separator
                separator = str(child)
                last = i == len(items) - 1
                index = self.emit(child)
                if last:
                    self.pieces[index].hidden = True
                    group.separators.append(index)
                continue
            group.items.append(len(self.pieces))
            self.ctx, self.can_break = group.item_indent, False
            if child.data == "item":
                self.list_item(child)
            else:
                self.expr(child)
            self.pieces[group.items[-1]].blank_ok = True
        if items and not isinstance(items[-1], Token):
            self.ctx = group.item_indent
            index = self.emit(separator)
            self.pieces[index].hidden = True
            group.separators.append(index)
        self.ctx, self.can_break = saved
        group.close = self.emit(close)
        self.pieces[group.close].comment_indent = group.item_indent
        group.multiline = _multiline(open_, close)
        self.groups.append(group)

    def list_item(self, node: Tree[Token]) -> None:
        label, value, *guard = node.children
        first = len(self.pieces)
        if isinstance(label, Token):
            self.emit(label)
            self.ctx = _Indent("line", CONTINUATION, first)
        self.expr(value)
        if guard and guard[0] is not None:
            self.ctx = _Indent("line", CONTINUATION, first)
            self.can_break = True
            keyword, condition = guard
            assert isinstance(keyword, Token)
            when = len(self.pieces)
            self.guard(keyword, condition)
            # Too long for one line: the guard goes first to a line of its own.
            self.chains.append(_Chain(first, len(self.pieces) - 1, [when]))


def _flatten(node: Tree[Token]) -> list[Tree[Token] | Token]:
    """The operands and operators of a chain: `a and b and c` is one chain, not two."""
    family = _CHAINS.get(node.data)
    spine = [node]
    while family is not None:
        left = spine[-1].children[0]
        if not (isinstance(left, Tree) and _CHAINS.get(left.data) == family):
            break
        spine.append(left)
    out: list[Tree[Token] | Token] = []
    for level in reversed(spine):
        children = level.children[1:] if level is not spine[-1] else level.children
        out.extend(child for child in children if child is not None)
    return out


def _multiline(open_: Token, close: Token) -> bool:
    return (open_.line or 0) != (close.line or 0)


# -------------------------------------------------------------------- the layout


class _Layout:
    """Decides the lines: which breaks are kept or forced, the indentation, comments."""

    def __init__(self, printer: _Printer, gaps: dict[int, _Gap], final: _Gap) -> None:
        self.pieces = printer.pieces
        self.gaps = gaps
        self.final = final
        self.groups = {g.open: g for g in printer.groups}
        self.chains: dict[int, list[_Chain]] = {}
        for chain in sorted(printer.chains, key=lambda c: c.end - c.start, reverse=True):
            self.chains.setdefault(chain.start, []).append(chain)
        self.lines: list[str] = []
        self.line = ""  # the line being built
        self.line_indent = 0
        self.indent_of: list[int] = []  # the indentation of each piece's line
        self.column_of: list[int] = []
        self.starts_line: list[bool] = []
        self.pending: list[_Comment] = []  # end-of-line comments waiting for the line's end

    def run(self) -> str:
        for index, piece in enumerate(self.pieces):
            self.place(index, piece)
        self.end_line()
        for comment in self.final.leading:
            self.blank_line(comment.blank_before)
            self.lines.append(comment.text)
        while self.lines and not self.lines[0].strip():
            self.lines.pop(0)
        return "\n".join(self.lines) + "\n" if self.lines else ""

    def place(self, index: int, piece: _Piece) -> None:
        gap = self.gaps.get(id(piece.src)) if piece.src is not None else None
        if piece.hidden:
            self.indent_of.append(self.line_indent)
            self.column_of.append(_column(self.line))
            self.starts_line.append(False)
            if gap is not None:
                self.pending.extend(gap.leading)
                self.pending.extend(gap.trailing)
            return
        leading = gap.leading if gap is not None else []
        if leading and not (piece.can_break or piece.force or piece.comment_indent):
            self.pending.extend(leading)  # no line may start here: keep them at the end
            leading = []
        newline = gap is not None and gap.newline
        brk = (not self.lines and not self.line) or piece.force or bool(leading) or (
            piece.can_break and (newline or bool(self.pending)))
        if brk:
            comment_indent = self.resolve(piece.comment_indent or piece.indent, piece)
            self.end_line(comment_indent)
            blank = gap is not None and piece.blank_ok
            for comment in leading:
                self.blank_line(blank and comment.blank_before)
                self.lines.append(" " * comment_indent + comment.text)
            self.blank_line(blank and gap is not None and gap.blank)
            self.line_indent = self.resolve(piece.indent, piece)
            self.line = " " * self.line_indent
            self.column_of.append(_column(self.line))
            self.line += piece.text
        else:
            if piece.space:
                self.line += " " * (1 + piece.pad)
            self.column_of.append(_column(self.line))
            self.line += piece.text
        self.indent_of.append(self.line_indent)
        self.starts_line.append(brk)
        if gap is not None:
            self.pending.extend(gap.trailing)
        for chain in self.chains.get(index, []):
            self.decide_chain(chain)
        if index in self.groups:
            self.decide_group(self.groups[index])

    def resolve(self, indent: _Indent, piece: _Piece) -> int:
        if indent.kind == "column":
            return indent.delta
        if indent.kind == "col":
            return self.column_of[indent.anchor] + indent.delta
        if indent.kind == "body":
            if self.starts_line[indent.anchor]:
                return self.indent_of[indent.anchor]
            return indent.delta
        if indent.kind == "river":
            if self.starts_line[indent.anchor] and len(piece.text) <= len("when"):
                return self.column_of[indent.anchor] + len("when") - len(piece.text)
            return self.indent_of[indent.fallback] + BODY
        return self.indent_of[indent.anchor] + indent.delta

    def blank_line(self, wanted: bool) -> None:
        if wanted and self.lines and self.lines[-1].strip() and \
                not self.lines[-1].rstrip().endswith(("{", "[")):
            self.lines.append("")

    def end_line(self, next_indent: int = 0) -> None:
        """Finish the line with the first comment waiting for its end; more comments go on
        lines of their own, where the next line's comments would be (so that they stay
        there the next time)."""
        pending, self.pending = self.pending, []
        if not self.line.strip():
            self.line = ""
        elif pending:
            # Two spaces at least; more if the author aligned comments.
            first = pending.pop(0)
            spaces = max(TRAILING_SPACES, first.spaces)
            self.line = self.line.rstrip(" ") + " " * spaces + first.text
        if self.line:
            self.lines.append(self.line.rstrip(" "))
        self.lines.extend(" " * next_indent + comment.text for comment in pending)
        self.line = ""

    # ---------------------------------------------------------- decisions

    def decide_group(self, group: _Group) -> None:
        pieces = self.pieces
        # A comment waiting for the end of the line would break the line inside the
        # brackets: one item per line then, as the next run would see it.
        exploded = bool(group.items) and (
            group.always or group.multiline or len(group.items) > group.max_inline
            or bool(self.pending)
            or self.column_of[group.open] + len(pieces[group.open].text)
            + self.width(group.open, group.close) > MAX_WIDTH)
        for index in group.items:
            piece = pieces[index]
            piece.force = exploded
            piece.can_break = False
            piece.blank_ok = exploded
            piece.indent = group.item_indent
        if group.items:
            pieces[group.items[0]].space = group.inner_space
        for index in group.separators:
            pieces[index].hidden = not exploded
        close = pieces[group.close]
        close.force = exploded
        close.indent = group.close_indent
        close.space = group.inner_space and bool(group.items) and not exploded

    def width(self, start: int, stop: int) -> int:
        """The width of pieces start..stop on one line (from the end of `start`)."""
        total = 0
        for index in range(start + 1, stop + 1):
            piece = self.pieces[index]
            if piece.hidden:
                continue
            total += len(piece.text) + (1 + piece.pad if piece.space else 0)
        return total

    def decide_chain(self, chain: _Chain) -> None:
        """Break before every operator of a chain whose first line would be too long."""
        total = 0
        for index in range(chain.start + 1, chain.end + 1):
            piece = self.pieces[index]
            if piece.hidden:
                continue
            gap = self.gaps.get(id(piece.src)) if piece.src is not None else None
            if piece.force or (piece.can_break and gap is not None and
                               (gap.newline or gap.leading)):
                break
            total += len(piece.text) + (1 + piece.pad if piece.space else 0)
            group = self.groups.get(index)
            if group is not None and (group.multiline or group.always):
                break
        if self.column_of[chain.start] + len(self.pieces[chain.start].text) + total \
                <= MAX_WIDTH:
            return
        for index in chain.ops:
            self.pieces[index].force = True


def _column(line: str) -> int:
    """The column after the text of a line (a text block spans several)."""
    return len(line) - (line.rfind("\n") + 1)
