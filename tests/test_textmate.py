"""The TextMate grammar of the editor package (editors/vscode/syntaxes/clause.tmLanguage.json).

Files are tokenised by `textmate_grammar`, a port of vscode-textmate on Oniguruma, so the
scopes asserted here are the ones VS Code assigns. Three kinds of checks:

- specific tokens of a sample that uses every construct get the scopes themes colour;
- on the seed contracts and the samples, the grammar agrees with the Lark lexer on every
  token (a keyword is scoped as a keyword, a name as a name, a date as a date...), and no
  character outside whitespace is left unscoped or marked invalid;
- the grammar's keyword list is exactly the Lark grammar's, so the two cannot drift apart.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import lark
import pytest

from clausec.front import parser
from clausec.passes import check

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "editors" / "vscode"
GRAMMAR_PATH = EXTENSION / "syntaxes" / "clause.tmLanguage.json"
SAMPLE = ROOT / "tests" / "data" / "highlight" / "every_construct.clause"
SEEDS = sorted((ROOT / "clauses").glob("*/*.clause"))
LISTS_SAMPLE = ROOT / "tests" / "data" / "lists" / "highlight.clause"
# Row operations and a conformed copy: the worked example of amending a table.
LEVERAGE = ROOT / "docs" / "examples" / "leverage"
CORPUS = [*SEEDS, SAMPLE, ROOT / "tests" / "data" / "all_constructs.clause", LISTS_SAMPLE,
          LEVERAGE / "credit_agreement.clause", LEVERAGE / "second_amendment.clause"]

Scopes = tuple[str, ...]

# Scope families a keyword of the language may take: themes colour all of them as keywords,
# declaration words, types or language constants.
KEYWORD_FAMILIES = ("keyword.", "storage.", "support.type.", "constant.language.")


def _grammar_json() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(GRAMMAR_PATH.read_text(encoding="utf-8"))
    return data


@cache
def _engine() -> Any:
    # textmate_grammar creates a cache folder in the working directory when imported: import
    # it from a scratch folder so the repository stays clean.
    scratch = Path(__file__).resolve().parent / "__pycache__"
    scratch.mkdir(exist_ok=True)
    with contextlib.chdir(scratch):
        from textmate_grammar.parsers.base import LanguageParser
    # It logs every line it skips (e.g. inside a text block) as a warning.
    logging.getLogger("textmate_grammar").setLevel(logging.ERROR)
    return LanguageParser(_grammar_json())


@cache
def scopes_by_char(text: str) -> tuple[Scopes, ...]:
    """The scope stack of every character of `text` (newlines get their line's last scope)."""
    element = _engine().parse_string(text)
    line_starts = [0]
    for line in text.split("\n"):
        line_starts.append(line_starts[-1] + len(line) + 1)
    scopes: list[Scopes] = [("source.clause",)] * len(text)
    for (line, column), content, stack in element.flatten():
        start = line_starts[line] + column
        for offset in range(start, min(start + len(content), len(text))):
            scopes[offset] = tuple(stack)
    return tuple(scopes)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def locate(text: str, context: str, token: str) -> tuple[int, int]:
    """The span of `token` inside the first occurrence of `context` in `text`."""
    at = text.index(context)
    start = at + context.index(token)
    return start, start + len(token)


def has(stack: Scopes, prefix: str) -> bool:
    return any(scope == prefix or scope.startswith(prefix + ".") for scope in stack)


def assert_scoped(text: str, context: str, token: str, scope: str) -> None:
    start, end = locate(text, context, token)
    scopes = scopes_by_char(text)
    # The space of `business days` or `as of` belongs to no token, except in a string.
    words_only = not scope.startswith(("string.", "comment."))
    for offset in range(start, end):
        if words_only and text[offset].isspace():
            continue
        assert has(scopes[offset], scope), (
            f"{text[offset]!r} of {token!r} in {context!r}: {scopes[offset]}, not {scope}"
        )


# ------------------------------------------------------------------ specific tokens --

SAMPLE_TOKENS = [
    # (context in the sample, token, scope)
    ("# Every construct", "# Every construct", "comment.line.number-sign.clause"),
    ("# Every construct", "#", "punctuation.definition.comment.clause"),
    ("agreement sample", "agreement", "storage.type.agreement.clause"),
    ("agreement sample", "sample", "entity.name.type.agreement.clause"),
    ("dated March 30, 2004", "dated", "keyword.other"),
    ("dated March 30, 2004", "March 30, 2004", "constant.numeric.date.clause"),
    ("effective 2004-04-01", "2004-04-01", "constant.numeric.date.clause"),
    ("governing law", "law", "keyword.other"),
    ("party buyer", "party", "keyword.other.party.clause"),
    ("party buyer", "buyer", "variable.other.constant.party.clause"),
    ("party seller", "seller", "variable.other.constant.party.clause"),
    ("calendar us_federal", "us_federal", "support.constant.calendar.clause"),
    ("holidays [2004-12-24, December 31, 2004,]", "December 31, 2004",
     "constant.numeric.date.clause"),
    ("time zone America/New_York", "America/New_York", "constant.other.time-zone.clause"),
    ("close of business 5:00 P.M.", "5:00 P.M.", "constant.numeric.time.clause"),
    ("currency USD", "USD", "support.constant.currency.clause"),
    ("fact signed_on", "fact", "storage.type.fact.clause"),
    ("fact signed_on", "signed_on", "variable.other.fact.clause"),
    ('"Signing Date": date', "date", "support.type.clause"),
    ("price: money USD default $1,000.50", "money", "support.type.clause"),
    ("price: money USD default $1,000.50", "USD", "support.constant.currency.clause"),
    ("price: money USD default $1,000.50", "default", "storage.modifier.clause"),
    ("price: money USD default $1,000.50", "$1,000.50", "constant.numeric.money.clause"),
    ("rate: percent optional", "optional", "storage.modifier.clause"),
    ("cure: business days", "business days", "support.type.clause"),
    ("default 2 business days", "2", "constant.numeric.integer.clause"),
    ("default 2 business days", "business days", "keyword.other.unit.clause"),
    ("moment: datetime default 2004-01-02 9:30 AM", "2004-01-02 9:30 AM",
     "constant.numeric.datetime.clause"),
    ("term: months default 5 years", "months", "support.type.clause"),
    ("term: months default 5 years", "years", "keyword.other.unit.clause"),
    ("lag: business days in new_york_banks", "business days", "support.type.clause"),
    ("in new_york_banks default", "in", "keyword.other.unit.clause"),
    ("lag: business days in new_york_banks", "new_york_banks",
     "support.constant.calendar.clause"),
    ("in nyse\n", "in", "keyword.other.unit.clause"),
    ("default 2 business days in nyse", "nyse", "support.constant.calendar.clause"),
    ("1 year after signed_on + 1 month - 3 months", "year", "keyword.other.unit.clause"),
    ("1 year after signed_on + 1 month - 3 months", "month", "keyword.other.unit.clause"),
    ("signed_on + 1 month - 3 months", "months", "keyword.other.unit.clause"),
    ("1 business day in target", "day", "keyword.other.unit.clause"),
    ("in target before", "in", "keyword.other.unit.clause"),
    ("1 business day in target", "target", "support.constant.calendar.clause"),
    ("section 2.1(a)", "section", "storage.type.section.clause"),
    ("section 2.1(a)", "2.1(a)", "constant.other.section.clause"),
    ('"Definitions" {', "{", "punctuation.section.block.begin.clause"),
    ("  text \"\"\"", "text", "storage.type.text.clause"),
    ("define fee(y", "define", "storage.type.define.clause"),
    ("define fee(y", "fee", "entity.name.function.define.clause"),
    ("(y: integer)", "y", "variable.other.clause"),
    ("(y: integer)", "integer", "support.type.clause"),
    ("round(price", "round", "support.function.builtin.clause"),
    ("rate, 2) + $.01", "$.01", "constant.numeric.money.clause"),
    ("- USD 5", "USD 5", "constant.numeric.money.clause"),
    ("condition late", "condition", "storage.type.condition.clause"),
    ("condition late", "late", "entity.name.function.condition.clause"),
    ("is on or after 2004-06-14", "is", "keyword.operator.word.clause"),
    ("is on or after 2004-06-14", "or", "keyword.operator.logical.clause"),
    ("2004-06-14 17:00 America/New_York", "2004-06-14 17:00 America/New_York",
     "constant.numeric.datetime.clause"),
    ("earlier of [(a) signed_on", "earlier", "keyword.other.aggregate.clause"),
    ("earlier of [(a) signed_on", "(a)", "constant.other.label.clause"),
    ("; (ii) 3 days", "(ii)", "constant.other.label.clause"),
    ("; (ii) 3 days", "days", "keyword.other.unit.clause"),
    ("when not late", "when", "keyword.control.conditional.clause"),
    ("when not late", "not", "keyword.operator.logical.clause"),
    ("exception waiver to fee", "exception", "storage.type.exception.clause"),
    ("exception waiver to fee", "waiver", "entity.name.function.exception.clause"),
    ("exception waiver to fee", "fee", "entity.name.function.clause"),
    ("rate is not given", "given", "keyword.operator.word.clause"),
    ("exception to fee = 1.5", "1.5", "constant.numeric.decimal.clause"),
    ("then true else false", "true", "constant.language.boolean.clause"),
    ("then true else false", "false", "constant.language.boolean.clause"),
    ("obligation pay_due", "pay_due", "entity.name.function.obligation.clause"),
    ("buyer must pay", "buyer", "variable.other.constant.party.clause"),
    ("buyer must pay", "must", "keyword.other.deontic.clause"),
    ("buyer must pay", "pay", "support.function.action.clause"),
    ("buyer and seller jointly", "jointly", "keyword.other.jointly.clause"),
    ("either party may", "party", "keyword.other.party.clause"),
    ("power terminate", "terminate", "entity.name.function.power.clause"),
    ("fee(y) * 2", "fee", "entity.name.function.call.clause"),
    ("fee(y) * 2", "(", "punctuation.section.parens.begin.clause"),
    ("fee(y) * 2", "y", "variable.other.clause"),
    ("invariant fee_bounded", "invariant", "storage.type.invariant.clause"),
    ("invariant fee_bounded", "fee_bounded", "entity.name.function.invariant.clause"),
    ("fee(1) <= price * 50%", "<=", "keyword.operator.comparison.clause"),
    ("fee(1) <= price * 50%", "*", "keyword.operator.arithmetic.clause"),
    ("fee(1) <= price * 50%", "50%", "constant.numeric.percent.clause"),
    ("amendment first_amendment", "amendment", "storage.type.amendment.clause"),
    ("amends sample", "amends", "keyword.other.amends.clause"),
    ("amends sample", "sample", "entity.name.type.agreement.clause"),
    ("effective May 1, 2004", "May 1, 2004", "constant.numeric.date.clause"),
    ("replace the first sentence of section 3.1", "replace", "keyword.other.operation.clause"),
    ("replace the first sentence of section 3.1", "first", "keyword.other.ordinal.clause"),
    ("replace the first sentence of section 3.1", "3.1", "constant.other.section.clause"),
    ("replace clause (ii)", "(ii)", "constant.other.label.clause"),
    ("section 13(d)", "13(d)", "constant.other.section.clause"),
    ("delete sections 8.1, 8.2, 8.3 and 8.4", "sections", "keyword.other.sections.clause"),
    ("delete sections 8.1, 8.2, 8.3 and 8.4", "8.2", "constant.other.section.clause"),
    ("delete sections 8.1, 8.2, 8.3 and 8.4", "8.4", "constant.other.section.clause"),
    ("delete sections 8.1, 8.2, 8.3 and 8.4", "and", "keyword.operator.logical.clause"),
    ("delete the last sentence", "last", "keyword.other.ordinal.clause"),
    ("append to section 1(d)", "1(d)", "constant.other.section.clause"),
    ("add section 1(ll)", "1(ll)", "constant.other.section.clause"),
    ("tests for sample", "tests", "storage.type.tests.clause"),
    ("tests for sample", "sample", "entity.name.type.agreement.clause"),
    ('test "the fee', "test", "storage.type.test.clause"),
    ("as of 2004-07-01", "as of", "keyword.other.as-of.clause"),
    ("given {", "given", "keyword.other.given.clause"),
    ("expect fee(2)", "expect", "keyword.other.expect.clause"),
    ("pay_due.due", ".", "punctuation.accessor.dot.clause"),
    (".due = 2004", "due", "variable.other.property.clause"),
    ("raises NotInForceError", "raises", "keyword.other.raises.clause"),
    ("raises NotInForceError", "NotInForceError", "entity.name.type.exception.clause"),
]


@pytest.mark.parametrize(("context", "token", "scope"), SAMPLE_TOKENS,
                         ids=[f"{token}@{context}" for context, token, _ in SAMPLE_TOKENS])
def test_sample_token_scope(context: str, token: str, scope: str) -> None:
    assert_scoped(read(SAMPLE), context, token, scope)


def test_text_block_spans_lines_and_is_not_code() -> None:
    text = read(SAMPLE)
    start = text.index('"""')
    end = text.index('"""', start + 3) + 3
    block = text[start:end]
    assert block.count("\n") >= 2
    scopes = scopes_by_char(text)
    for offset in range(start, end):
        if text[offset] == "\n":
            continue
        stack = scopes[offset]
        assert has(stack, "string.quoted.triple.clause"), (text[offset], stack)
        # Inside, nothing but the string (and its delimiters): "and", "section", "define",
        # "(a)", "3" and "#" are the contract's words, not code.
        extra = [s for s in stack[1:] if not s.startswith(
            ("string.quoted.triple.", "punctuation.definition.string."))]
        assert not extra, (text[offset], stack)
    for word in ("and section 3", "define x", "# not a comment", "(a) clause"):
        assert word in block
    # The block is closed: the next line is code again.
    assert_scoped(text, 'text "A one-line', "text", "storage.type.text.clause")


def test_string_with_escaped_quotes() -> None:
    text = read(SAMPLE)
    literal = r'"Acme \"Buyer\" LLC"'
    assert_scoped(text, literal, literal, "string.quoted.double.clause")
    assert_scoped(text, literal, r"\"", "constant.character.escape.clause")
    closing = text.index(literal) + len(literal) - 1
    assert has(scopes_by_char(text)[closing], "punctuation.definition.string.end.clause")
    line = r'text "A one-line \"quoted\" block."'
    assert_scoped(text, line, r'"A one-line \"quoted\" block."', "string.quoted.double.clause")
    assert_scoped(text, line, r'\"quoted\"', "string.quoted.double.clause")


def test_escape_does_not_end_string_early() -> None:
    # `\"` before `#` would otherwise end the string and start a comment.
    text = 'define x = "a \\" # b" + y\n'
    assert_scoped(text, "# b", "# b", "string.quoted.double.clause")
    assert_scoped(text, "+ y", "y", "variable.other.clause")


def test_unclosed_string_ends_at_end_of_line() -> None:
    text = 'define x = "unclosed\ndefine y = 1\n'
    assert_scoped(text, "define y", "define", "storage.type.define.clause")
    assert_scoped(text, "define y", "y", "entity.name.function.define.clause")


def test_unclosed_header_ends_at_next_declaration() -> None:
    # While a header is being typed, the rest of the file is still highlighted as code.
    text = 'agreement a "A" {\n  dated 2004-01-01\nsection 1 {\n  fact g: date\n}\n'
    scopes = scopes_by_char(text)
    start, _ = locate(text, "section 1", "section")
    assert not has(scopes[start], "meta.header.clause")
    assert_scoped(text, "section 1", "section", "storage.type.section.clause")
    assert_scoped(text, "fact g", "g", "variable.other.fact.clause")


def test_month_and_year_are_builtins_before_a_parenthesis_and_units_after_a_number() -> None:
    text = "define m = month(d) + year(d)\ndefine e: date = 2 months after d + 1 year\n"
    assert_scoped(text, "month(d)", "month", "support.function.builtin.clause")
    assert_scoped(text, "year(d)", "year", "support.function.builtin.clause")
    assert_scoped(text, "2 months after", "months", "keyword.other.unit.clause")
    assert_scoped(text, "d + 1 year", "year", "keyword.other.unit.clause")


def test_a_calendar_name_on_the_next_line_is_still_a_name() -> None:
    text = "define e: date = 2 business days in\n  nyse after d\n"
    assert_scoped(text, "in\n", "in", "keyword.other.unit.clause")
    assert_scoped(text, "  nyse after", "nyse", "variable.other.clause")


def test_party_outside_header_is_not_a_party_declaration() -> None:
    text = "fact payee: party optional\nobligation o: either party must pay to x\n"
    assert_scoped(text, "party optional", "party", "support.type.clause")
    assert_scoped(text, "party optional", "optional", "storage.modifier.clause")
    assert_scoped(text, "either party must", "party", "keyword.other.party.clause")
    assert_scoped(text, "must pay", "must", "keyword.other.deontic.clause")


# ------------------------------------------------------ whole files, against Lark --

def _file_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", CORPUS, ids=_file_id)
def test_every_character_is_scoped(path: Path) -> None:
    """Code has no unscoped leftovers: every character but whitespace carries a scope
    beyond the root, and none is marked invalid."""
    text = read(path)
    scopes = scopes_by_char(text)
    leftovers = [
        (offset, text[offset], scopes[offset])
        for offset in range(len(text))
        if not text[offset].isspace()
        and (len(scopes[offset]) < 2 or any(s.startswith("invalid.") for s in scopes[offset]))
    ]
    assert not leftovers, leftovers[:10]


@cache
def _lark_all_tokens() -> lark.Lark:
    """The language's parser, keeping the keyword and punctuation tokens it usually drops."""
    return lark.Lark(parser.grammar_path().read_text(encoding="utf-8"), parser="lalr",
                     lexer="contextual", keep_all_tokens=True)


@cache
def _lark_tokens(text: str) -> tuple[lark.Token, ...]:
    tree = _lark_all_tokens().parse(text)
    return tuple(tree.scan_values(lambda value: isinstance(value, lark.Token)))


def _last_is_not_keyword(stack: Scopes) -> bool:
    return not stack[-1].startswith(
        (*KEYWORD_FAMILIES, "constant.numeric.", "string.", "comment.", "invalid."))


def _expected_scope(token: lark.Token) -> Callable[[Scopes], bool]:
    """What the TextMate grammar must say of every character of a Lark token."""
    by_terminal = {
        "LONG_STRING": "string.quoted.triple.clause",
        "STRING": "string.quoted.double.clause",
        "SECTION_NUMBER": "constant.other.section.clause",
        "PART_NUMBER": "constant.other.section.clause",
        "LABEL": "constant.other.label.clause",
        "MONEY": "constant.numeric.money.clause",
        "PERCENT": "constant.numeric.percent.clause",
        "DECIMAL": "constant.numeric.decimal.clause",
        "INT": "constant.numeric.integer.clause",
        "ISO_DATE": "constant.numeric.date.clause",
        "LONG_DATE": "constant.numeric.date.clause",
        "DATETIME": "constant.numeric.datetime.clause",
        "TIME_OF_DAY": "constant.numeric.time.clause",
        "TZ_NAME": "constant.other.time-zone.clause",
        "CURRENCY_CODE": "support.constant.currency.clause",
        "COMPARE_OP": "keyword.operator.comparison.clause",
        "ORDINAL": "keyword.other.ordinal.clause",
        "EQUAL": "keyword.operator.assignment.clause",
        "MONTH_NAME": "constant.other.month.clause",
        "DAY_COUNT": "constant.other.day-count.clause",
        "COMPOUNDING_FREQUENCY": "keyword.other.compounding.clause",
    }
    if token.type in by_terminal:
        scope = by_terminal[token.type]
        return lambda stack: has(stack, scope)
    if token.type == "NAME":
        return _last_is_not_keyword
    if token.value in parser.keywords() or _PHRASE.fullmatch(token.value):
        return lambda stack: stack[-1].startswith(KEYWORD_FAMILIES)
    if token.value in "+-*/^":
        return lambda stack: has(stack, "keyword.operator.arithmetic")
    # Brackets, braces, parentheses, commas, semicolons, colons and dots.
    return lambda stack: has(stack, "punctuation")


# A keyword of several words lexed as one token (`start of`, `last business day of`).
_PHRASE = re.compile(r"[a-z]+(?:[ \t]+[a-z]+)+")


@pytest.mark.parametrize("path", [*CORPUS, None],
                         ids=lambda p: _file_id(p) if p else "time_sample")
def test_agrees_with_lark_lexer(path: Path | None) -> None:
    """Every token Lark reads gets the matching scope on every character; what Lark skips
    (comments, whitespace) is whitespace or a comment."""
    text = read(path) if path else TIME_SAMPLE
    scopes = scopes_by_char(text)
    covered = [False] * len(text)
    disagreements = []
    for token in _lark_tokens(text):
        assert token.start_pos is not None and token.end_pos is not None
        expected = _expected_scope(token)
        for offset in range(token.start_pos, token.end_pos):
            covered[offset] = True
            if text[offset] == "\n":  # the engine scopes no line end
                continue
            if not expected(scopes[offset]):
                disagreements.append((token.line, token.type, token.value, scopes[offset]))
                break
    assert not disagreements, disagreements[:10]
    skipped = [
        (offset, text[offset], scopes[offset])
        for offset in range(len(text))
        if not covered[offset] and not text[offset].isspace()
        and not has(scopes[offset], "comment.line.number-sign.clause")
    ]
    assert not skipped, skipped[:10]


def test_every_token_kind_is_exercised() -> None:
    """The agreement test above sees every terminal of the language somewhere."""
    texts = [*(read(path) for path in CORPUS), TIME_SAMPLE]
    seen = {token.type for text in texts for token in _lark_tokens(text)}
    named = {"NAME", "STRING", "LONG_STRING", "SECTION_NUMBER", "PART_NUMBER", "LABEL", "INT",
             "DECIMAL",
             "PERCENT", "MONEY", "CURRENCY_CODE", "ISO_DATE", "LONG_DATE", "DATETIME",
             "TIME_OF_DAY", "TZ_NAME", "COMPARE_OP", "ORDINAL"}
    assert named <= seen, named - seen
    seen_values = {token.value for text in texts for token in _lark_tokens(text)}
    missing = parser.keywords() - seen_values
    assert not missing, missing


# ---------------------------------------------------------------- periods and time --

TIME_SAMPLE = """\
agreement lic "Licence" {
  effective upon commencement_date
  party licensor "Licensor"
  party licensee "Licensee"
  calendar lender_days "Business Day" = nyse and target plus [2024-12-24]
}

section 4 "Payments" {
  periods royalty_quarter "royalty quarter" = calendar quarters from commencement_date
  periods fiscal_year "fiscal year" = fiscal years beginning April 1
  periods contract_half = contract half years from commencement_date
  fact commencement_date: date
  fact royalties "royalties": money per royalty_quarter
  fact paid_on: date per calendar month optional
  define monthly(m: calendar month): money = $1
  define total(q: royalty_quarter): money =
    sum of [monthly(m) for each calendar month m from start of q through end of q]
  define ttm(q: fiscal_year): money =
    sum of [total(x) for each royalty_quarter x in the 4 ending with end of q
            when number of x is at least 2]
  define due: date = last business day of (calendar month containing commencement_date) in nyse
  define other: date = first business day of next (previous royalty_quarter containing d)
  obligation statement "the statement"
      for each royalty_quarter q from commencement_date until first royalty_quarter:
    licensee must provide "a statement" to licensor promptly, but in any event
      within 30 days after end of q performed on paid_on(calendar month containing end of q)
  obligation report for each calendar year y from commencement_date:
    licensee must report as soon as reasonably practicable and in any event by end of y
  condition overdue = any of [statement(q) is late on d
                              for each royalty_quarter q from commencement_date through d]
  define statement_due: date = statement(first royalty_quarter).due
  define then_total(q: royalty_quarter): money = (total(q) as in force on end of q)
}

test "t" {
  given { royalties["2009-Q1"] = $1 }
}
"""

TIME_TOKENS = [
    ("periods royalty_quarter", "periods", "storage.type.periods.clause"),
    ("periods royalty_quarter", "royalty_quarter", "entity.name.type.periods.clause"),
    ("= calendar quarters from", "calendar quarters", "keyword.other"),
    ("= calendar quarters from", "from", "keyword.other.period.clause"),
    ("fiscal years beginning April 1", "fiscal", "keyword.other.period.clause"),
    ("fiscal years beginning April 1", "beginning", "keyword.other.period.clause"),
    ("fiscal years beginning April 1", "April", "constant.other.month.clause"),
    ("fiscal years beginning April 1", "1", "constant.numeric.integer.clause"),
    ("contract half years", "contract", "keyword.other.period.clause"),
    ("contract half years", "half", "keyword.other.unit.clause"),
    ("money per royalty_quarter", "per", "storage.modifier.per.clause"),
    ("money per royalty_quarter", "royalty_quarter", "entity.name.type.periods.clause"),
    ("date per calendar month optional", "calendar month", "support.type.period.clause"),
    ("(m: calendar month)", "calendar month", "support.type.clause"),
    ("for each calendar month m", "for each", "keyword.other.period.clause"),
    ("for each calendar month m", "calendar month", "support.type.period.clause"),
    (" m from start of q", "m", "variable.parameter.period.clause"),
    ("for each royalty_quarter x", "royalty_quarter", "entity.name.type.periods.clause"),
    ("for each royalty_quarter x", "x", "variable.parameter.period.clause"),
    ("from start of q through end of q", "start of", "keyword.other.period.clause"),
    ("from start of q through end of q", "through", "keyword.other.period.clause"),
    ("from start of q through end of q", "end of", "keyword.other.period.clause"),
    ("in the 4 ending with", "ending", "keyword.other.period.clause"),
    ("in the 4 ending with", "with", "keyword.other.period.clause"),
    ("when number of x", "number of", "keyword.other.period.clause"),
    ("last business day of (", "last business day of", "keyword.other.period.clause"),
    ("first business day of next", "first business day of", "keyword.other.period.clause"),
    ("first business day of next", "next", "keyword.other.period.clause"),
    ("(previous royalty_quarter containing d)", "previous", "keyword.other.period.clause"),
    ("(previous royalty_quarter containing d)", "containing", "keyword.other.period.clause"),
    ("until first royalty_quarter", "until", "keyword.other.period.clause"),
    ("until first royalty_quarter", "first", "keyword.other.period.clause"),
    ("promptly, but in any event", "promptly", "keyword.other.standard.clause"),
    ("promptly, but in any event", "but in any event", "keyword.other.standard.clause"),
    ("performed on paid_on", "performed on", "keyword.other.performed.clause"),
    ("as soon as reasonably practicable", "as soon as reasonably practicable",
     "keyword.other.standard.clause"),
    ("and in any event by", "in any event", "keyword.other.standard.clause"),
    ("statement(q) is late on d", "is late on", "keyword.operator.word"),
    ("statement(first royalty_quarter).due", ".", "punctuation.accessor.dot.clause"),
    ("statement(first royalty_quarter).due", "due", "variable.other.property.clause"),
    ('royalties["2009-Q1"]', "[", "punctuation.section.brackets.begin.clause"),
    ("effective upon commencement_date", "upon", "keyword.other"),
    ("target plus [2024-12-24]", "plus", "keyword.other"),
    ("as in force on end of q", "force", "keyword.other"),
]


@pytest.mark.parametrize(("context", "token", "scope"), TIME_TOKENS,
                         ids=[f"{token}@{context}" for context, token, _ in TIME_TOKENS])
def test_time_token_scope(context: str, token: str, scope: str) -> None:
    assert_scoped(TIME_SAMPLE, context, token, scope)


def test_time_sample_every_character_is_scoped() -> None:
    scopes = scopes_by_char(TIME_SAMPLE)
    leftovers = [(offset, TIME_SAMPLE[offset], scopes[offset])
                 for offset in range(len(TIME_SAMPLE))
                 if not TIME_SAMPLE[offset].isspace() and (
                     len(scopes[offset]) < 2
                     or any(s.startswith("invalid.") for s in scopes[offset]))]
    assert not leftovers, leftovers[:10]


def test_words_that_are_keywords_only_in_a_phrase_are_names_elsewhere() -> None:
    """`start`, `end` and `number` are keywords only before `of`; `late` only in `is late
    on`; `quarter` and `half` only after `calendar` or before `year`."""
    text = ("define x: date = start + end + number + late + quarter + half\n"
            "condition c = x is late on d and late\n"
            "fact f: money per calendar quarter\nperiods h = fiscal half years\n")
    for name in ("start", "end", "number", "late", "quarter", "half"):
        assert_scoped(text, f"{name} +" if name != "half" else "+ half\n", name,
                      "variable.other.clause")
    assert_scoped(text, "and late", "late", "variable.other.clause")
    assert_scoped(text, "is late on", "is late on", "keyword.operator.word")
    assert_scoped(text, "calendar quarter", "calendar quarter", "support.type.period.clause")
    assert_scoped(text, "half years", "half", "keyword.other.unit.clause")


# ------------------------------------------------------------ the grammars in step --

def _keyword_words() -> list[str]:
    """The words of the grammar's keyword patterns, each `\\b(?:a|b|c)\\b`."""
    words: list[str] = []
    for pattern in _grammar_json()["repository"]["keywords"]["patterns"]:
        match = re.fullmatch(r"\\b\(\?:([a-z|]+)\)\\b", pattern["match"])
        assert match, pattern["match"]
        words.extend(match.group(1).split("|"))
    return words


def test_keyword_patterns_are_the_lark_keywords() -> None:
    words = _keyword_words()
    duplicates = {word for word in words if words.count(word) > 1}
    assert not duplicates
    assert set(words) - parser.keywords() == set(), "not keywords of grammar/clause.lark"
    assert parser.keywords() - set(words) == set(), "keywords missing from the TextMate grammar"


@pytest.mark.parametrize("keyword", sorted(parser.keywords()))
def test_keyword_alone_is_scoped_as_keyword(keyword: str) -> None:
    stack = scopes_by_char(keyword)[0]
    assert stack[-1].startswith(KEYWORD_FAMILIES), stack
    assert all(s == stack for s in scopes_by_char(keyword))


def test_keyword_prefix_of_a_name_is_a_name() -> None:
    text = "define x = as_of_date + the_end + days_left + section_count\n"
    for name in ("as_of_date", "the_end", "days_left", "section_count"):
        assert_scoped(text, name, name, "variable.other.clause")


def test_builtins_are_the_checkers() -> None:
    pattern = _grammar_json()["repository"]["builtin-calls"]["match"]
    match = re.match(r"\\b\(([a-z_|]+)\)", pattern)
    assert match, pattern
    assert set(match.group(1).split("|")) == set(check.BUILTINS)


def test_ordinals_are_the_lark_ordinals() -> None:
    terminal = next(t for t in _lark_all_tokens().terminals if t.name == "ORDINAL")
    lark_words = set(re.findall(r"[a-z]+", terminal.pattern.value))
    operations = _grammar_json()["repository"]["operations"]["patterns"]
    sentence = next(p["match"] for p in operations if "sentence" in p["match"])
    match = re.search(r"\((first\|[a-z|]+)\)", sentence)
    assert match, sentence
    assert set(match.group(1).split("|")) == lark_words


# ------------------------------------------------------------------ the extension --

def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_package_json_contributions_exist_and_match_the_grammar() -> None:
    package = _json(EXTENSION / "package.json")
    contributes = package["contributes"]
    (language,) = contributes["languages"]
    assert language["id"] == "clause"
    assert ".clause" in language["extensions"]
    assert (EXTENSION / language["configuration"]).is_file()
    (grammar,) = contributes["grammars"]
    assert grammar["language"] == "clause"
    assert (EXTENSION / grammar["path"]).resolve() == GRAMMAR_PATH
    assert grammar["scopeName"] == _grammar_json()["scopeName"] == "source.clause"
    properties = contributes["configuration"]["properties"]
    assert properties["clausec.serverPath"]["default"] == "clausec"
    assert properties["clausec.serverArgs"]["default"] == ["lsp"]
    assert (EXTENSION / "src" / "extension.ts").is_file()
    assert package["main"] == "./out/extension.js"
    assert "vscode-languageclient" in package["dependencies"]


def test_language_configuration() -> None:
    config = _json(EXTENSION / "language-configuration.json")
    assert config["comments"]["lineComment"] == "#"
    assert {"open": '"""', "close": '"""'} in [
        {k: pair[k] for k in ("open", "close")} for pair in config["autoClosingPairs"]]
    assert ["{", "}"] in config["brackets"]
    word = re.compile(config["wordPattern"])
    for name in ("closing_payment_due", "_x1", "Fee"):
        assert word.fullmatch(name)
    assert not word.fullmatch("3.1")
    start = re.compile(config["folding"]["markers"]["start"])
    end = re.compile(config["folding"]["markers"]["end"])
    for opening in ('section 3.1 "Closing" {', "  given {", 'test "x" {  # note', "# region"):
        assert start.search(opening), opening
    for other in ("# see section 3.1 {", "  define x = 1", "  }"):
        assert not start.search(other), other
    for closing in ("}", "  }", "# endregion"):
        assert end.search(closing), closing
    indent = re.compile(config["indentationRules"]["increaseIndentPattern"])
    assert indent.search('  text """') and indent.search("  all of [")
    assert not indent.search('  """') and not indent.search("# {")


def test_grammar_regexes_compile_in_oniguruma() -> None:
    from onigurumacffi import compile as onig_compile  # type: ignore[import-untyped]

    def regexes(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("match", "begin", "end", "while") and isinstance(value, str):
                    yield value
                else:
                    yield from regexes(value)
        elif isinstance(node, list):
            for item in node:
                yield from regexes(item)

    found = list(regexes(_grammar_json()))
    assert len(found) > 40
    for regex in found:
        onig_compile(regex)


# ------------------------------------------------- choices, records, tables, lists --

LISTS_TOKENS = [
    ('choice loan_type "Type', "choice", "storage.type.choice.clause"),
    ('choice loan_type "Type', "loan_type", "entity.name.type.clause"),
    ("[term_benchmark", "term_benchmark", "variable.other.clause"),
    ('record installment "Installment"', "record", "storage.type.record.clause"),
    ('record installment "Installment"', "installment", "entity.name.type.clause"),
    ('principal "outstanding Term Loans": money', "money", "support.type.clause"),
    ("table step_down", "table", "storage.type.table.clause"),
    ("table step_down", "step_down", "entity.name.type.clause"),
    ("| ending: date |", "|", "punctuation.separator.table.clause"),
    ("| ending: date |", "date", "support.type.clause"),
    ("| 2024-03-31   |", "2024-03-31", "constant.numeric.date.clause"),
    ("| -4.25", "4.25", "constant.numeric.decimal.clause"),
    ("| term_benchmark  |", "term_benchmark", "variable.other.clause"),
    ("lenders \"Term Lenders\": list of lender", "list of", "support.type.clause"),
    (": list of lender", "lender", "variable.other.clause"),
    ("money where prepayment", "where", "storage.modifier.clause"),
    ("case loan_kind of", "case", "keyword.control.conditional.clause"),
    ("case loan_kind of", "of", "keyword.other"),
    ("mid or high: 2%", "or", "keyword.operator.logical.clause"),
    ("otherwise: 1%", "otherwise", "keyword.control.conditional.clause"),
    ("allocate prepayment pro rata", "allocate", "keyword.other.allocation.clause"),
    ("allocate prepayment pro rata", "pro rata", "keyword.other.allocation.clause"),
    ("prepayment in order [", "in order", "keyword.other.allocation.clause"),
    ("[l.principal for each l", "principal", "variable.other.property.clause"),
    ("s.item.declined", "item", "variable.other.property.clause"),
    ("s.item.declined", "declined", "variable.other.property.clause"),
    ("sum of [s.amount", "sum", "keyword.other.aggregate.clause"),
    ("number of [l for", "number of", "keyword.other"),
    ("(first of [r.maximum", "first of", "keyword.other.aggregate.clause"),
    ("none of [l.declined", "none of", "keyword.other.aggregate.clause"),
    ("(prepayment when prepayment", "when", "keyword.control.conditional.clause"),
    ("money = none\n", "none", "constant.language.none.clause"),
    ("present value of [i.amount", "present value of", "keyword.other.present-value.clause"),
    ("at 5% actual/360", "at", "keyword.operator.word.clause"),
    ("at 5% actual/360", "actual/360", "constant.other.day-count.clause"),
    ("compounded monthly", "compounded monthly", "keyword.other.compounding.clause"),
    ("4.5% 30/360 simple", "30/360", "constant.other.day-count.clause"),
    ("4.5% 30/360 simple", "simple", "keyword.other.allocation.clause"),
    ("actual/actual compounded", "actual/actual", "constant.other.day-count.clause"),
    ("compounded continuously", "continuously", "keyword.other.compounding.clause"),
]


@pytest.mark.parametrize(("context", "token", "scope"), LISTS_TOKENS,
                         ids=[f"{token}@{context}" for context, token, _ in LISTS_TOKENS])
def test_lists_token_scope(context: str, token: str, scope: str) -> None:
    assert_scoped(read(LISTS_SAMPLE), context, token, scope)


def test_words_of_lists_are_names_outside_their_phrases() -> None:
    """`monthly`, `annually` and the other frequencies are keywords only after
    `compounded`; `first`, `none` and `present` only in their phrases; `order` of a name."""
    text = ("define x: money = monthly + annually + present + value + first_day\n"
            "define y: money = none_left + daily + order_book\n")
    for name in ("monthly", "annually", "present", "value", "first_day", "order_book",
                 "none_left", "daily"):
        assert_scoped(text, name, name, "variable.other")


def test_a_currency_after_money_in_a_list_type() -> None:
    text = "fact amounts: list of money USD\n"
    assert_scoped(text, "list of", "list of", "support.type.clause")
    assert_scoped(text, "money USD", "money", "support.type.clause")
    assert_scoped(text, "money USD", "USD", "support.constant.currency.clause")


def test_the_lists_sample_has_every_token_of_lists() -> None:
    """The agreement test above sees the terminals and keywords of lists in the sample."""
    tokens = _lark_tokens(read(LISTS_SAMPLE))
    assert {"DAY_COUNT", "COMPOUNDING_FREQUENCY", "FIRST_OF", "NONE_OF", "PRESENT_VALUE_OF",
            "NUMBER_OF"} <= {token.type for token in tokens}
    assert {"choice", "record", "table", "case", "of", "otherwise", "none", "allocate", "pro",
            "rata", "in", "order", "compounded", "simple", "list", "where", "|", "actual/360",
            "30/360", "actual/actual"} <= {token.value for token in tokens}
