"""`clausec fmt`: the canonical layout, and the guarantee that it never changes what a
clause file means (same IR, same generated module modulo positions), keeps every comment
and every word of the contract, and is idempotent.

The properties run on the seed contracts, on a golden sample of every construct
(tests/data/format/), and on random programs over the grammar whose tokens are joined by
random spaces, line breaks and comments."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import lark
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clausec import api
from clausec.cli import main
from clausec.diagnostics import CompileError, Diagnostics
from clausec.front import parser, transform
from clausec.source import SourceFile
from clausec.tools import formatter
from clausec.tools.formatter import format_text

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "format"
SAMPLE_IN = DATA / "every_construct.input.clause"
SAMPLE_OUT = DATA / "every_construct.expected.clause"
SEEDS = sorted((ROOT / "clauses").rglob("*.clause"))
CORPUS = [*SEEDS, ROOT / "tests" / "data" / "all_constructs.clause", SAMPLE_IN, SAMPLE_OUT]


# ------------------------------------------------------------------ the properties


def program_of(text: str, name: str = "f.clause") -> tuple[Any, list[str]]:
    """The IR of a file (spans are not compared: attrs eq=False) and its messages."""
    diagnostics = Diagnostics()
    trees = parser.parse(SourceFile(name, text), diagnostics)
    program = transform.build(name, trees, diagnostics)
    return program, [d.message for d in diagnostics.sorted()]


def tokens_of(text: str) -> list[tuple[str, str]]:
    """Every token of a file, comments included, in order."""
    return [(t.type, str(t)) for t in formatter._lark().lex(text, dont_ignore=True)
            if t.type not in ("WS", "__IGNORE_0")]


def comments_of(text: str) -> list[str]:
    return [value.rstrip() for kind, value in tokens_of(text) if kind == "COMMENT"]


def strings_of(text: str) -> list[str]:
    return [value for kind, value in tokens_of(text) if kind in ("STRING", "LONG_STRING")]


def assert_same_meaning(original: str, name: str = "f.clause") -> str:
    formatted = format_text(original, name)
    assert format_text(formatted, name) == formatted, "formatting is not idempotent"
    assert program_of(formatted, name) == program_of(original, name)
    assert comments_of(formatted) == comments_of(original)
    assert strings_of(formatted) == strings_of(original)
    assert formatted.endswith("\n") or not formatted
    assert not re.search(r"[ \t]+\n", _outside_text_blocks(formatted))
    return formatted


def _outside_text_blocks(text: str) -> str:
    return re.sub(r'"""(?:.|\n)*?"""', '""', text)


def _normalised(code: str) -> str:
    """Generated code with its references to clause lines and columns blanked out."""
    code = re.sub(r"\('([^']*)', \d+, \d+, ", r"('\1', L, C, ", code)
    code = re.sub(r"(\.clause):\d+(:\d+)?", r"\1:L", code)
    return re.sub(r"\b(line|column|end_line|end_column)=\d+", r"\1=N", code)


# ------------------------------------------------------------- seeds and samples


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_formatting_keeps_the_meaning_comments_and_words(path: Path) -> None:
    assert_same_meaning(SourceFile.read(path).text, path.name)


@pytest.mark.parametrize("folder", ["patent_purchase", "rights_agreement"])
def test_seed_modules_are_the_same_after_formatting(folder: str) -> None:
    """The agreement and its amendment, formatted, compile to the same module."""
    grouped = api.group([ROOT / "clauses" / folder])
    assert len(grouped) == 1
    agreement, amendments = grouped[0]
    sources = [SourceFile.read(p) for p in [agreement, *amendments]]
    assert len(sources) == 2  # the agreement and its amendment
    before = api.analyse(sources[0], sources[1:])
    formatted = [SourceFile(s.name, format_text(s.text, s.name)) for s in sources]
    after = api.analyse(formatted[0], formatted[1:])
    assert before.ok and after.ok
    assert _normalised(api.generate(after)) == _normalised(api.generate(before))


def test_seed_contracts_are_already_almost_in_the_canonical_layout() -> None:
    """The style is the seeds' own: only lines longer than 100 columns get broken."""
    for path in SEEDS:
        text = SourceFile.read(path).text
        formatted = format_text(text, path.name)
        old = set(text.split("\n"))
        for line in formatted.split("\n"):
            if line not in old:
                assert any(len(o) > formatter.MAX_WIDTH and o.strip().startswith(
                    line.strip()[:20]) or line.strip() in o for o in old), (path, line)


def test_the_golden_sample_of_every_construct() -> None:
    """Input written carelessly; the expected output is the canonical layout."""
    original = SAMPLE_IN.read_text(encoding="utf-8")
    expected = SAMPLE_OUT.read_text(encoding="utf-8")
    assert format_text(original) == expected
    assert format_text(expected) == expected
    for construct in ("invariant", "tests for", "test \"", "as of", "given {", "expect",
                      "raises", "exception", "power", "obligation", "replace clause",
                      "delete sections", "append to", "add section", "amendment",
                      "holidays [", "close of business", "text \"\"\"", ": months",
                      "5 years after", "1 month", "business days in nyse", "day in target"):
        assert construct in expected, construct


# ---------------------------------------------------------------- layout rules


def fmt(text: str) -> str:
    return format_text(text.lstrip("\n"))


def test_blocks_and_declarations_are_indented_by_two() -> None:
    assert fmt("section 3.1 \"H\"{define  x =1 fact y:integer}") == (
        'section 3.1 "H" {\n  define x = 1\n  fact y: integer\n}\n')


def test_continuation_lines_keep_their_breaks_with_canonical_indentation() -> None:
    text = """
section 1 {
define net
  "Net Price"  : money =
        price - deposit
obligation pay: buyer must pay net to seller
                on closing_date when ready
}
"""
    assert fmt(text) == """section 1 {
  define net
      "Net Price": money =
    price - deposit
  obligation pay: buyer must pay net to seller
      on closing_date when ready
}
"""


def test_a_multi_line_list_has_one_item_per_line_and_trailing_commas() -> None:
    text = """
condition c = all of [(a) x,
   (b) any of [y, z]]
"""
    assert fmt(text) == """condition c = all of [
  (a) x,
  (b) any of [y, z],
]
"""


def test_a_one_line_list_loses_its_trailing_separator() -> None:
    assert fmt("define t = sum of [ (a) x; (b) y; ]\n") == "define t = sum of [(a) x; (b) y]\n"


def test_a_list_longer_than_the_line_is_exploded() -> None:
    items = ", ".join(f"item_number_{i} when flag_{i}" for i in range(5))
    out = fmt(f"define d = earlier of [{items}]\n")
    assert out.splitlines()[0] == "define d = earlier of ["
    assert out.splitlines()[1] == "  item_number_0 when flag_0,"
    assert out.splitlines()[-1] == "]"
    assert all(len(line) <= formatter.MAX_WIDTH for line in out.splitlines())


def test_a_long_chain_is_broken_before_each_operator() -> None:
    chain = " and ".join(f"condition_number_{i}" for i in range(6))
    out = fmt(f"condition c = {chain}\n")
    assert out == "condition c = condition_number_0\n" + "".join(
        f"  and condition_number_{i}\n" for i in range(1, 6))


def test_and_under_when_is_aligned_on_when() -> None:
    text = """
exception e to t = false
  when a is more than 0%
  and b is less than 15%
"""
    assert fmt(text) == """exception e to t = false
    when a is more than 0%
     and b is less than 15%
"""


def test_a_given_block_of_one_fact_stays_on_one_line() -> None:
    text = 'test "t" {given {a = 1} given {a=1 b=2} expect x=1}\n'
    assert fmt(text) == """test "t" {
  given { a = 1 }
  given {
    a = 1
    b = 2
  }
  expect x = 1
}
"""


def test_a_parenthesised_short_name_is_not_turned_into_an_item_label() -> None:
    text = "define d = any of [ ( a ) and b, (b) c ]\n"
    out = fmt(text)
    assert out == "define d = any of [( a ) and b, (b) c]\n"
    assert program_of(out) == program_of(text)


def test_spacing_of_calls_parameters_probes_and_unary_minus() -> None:
    text = 'define f ( y : integer ) : money = round( x * 2 , 2 ) + - y\n' \
           'test "t" { expect f ( 1 ) . due raises MissingFactError }\n'
    assert fmt(text) == ('define f(y: integer): money = round(x * 2, 2) + -y\n'
                         'test "t" {\n  expect f(1).due raises MissingFactError\n}\n')


def test_months_years_and_calendars() -> None:
    text = """
fact notice :months   default 3   months
fact lag: business   days  in
   nyse default 2 business days   in   nyse
define a: date = 3 months  after x
define b: date = x+1 year - 2 business days in nyse
define c: date = 2 business
  days in nyse after x
obligation pay: buyer must pay to seller within 12   month after x
"""
    out = fmt(text)
    assert out == """fact notice: months default 3 months
fact lag: business days in nyse default 2 business days in nyse
define a: date = 3 months after x
define b: date = x + 1 year - 2 business days in nyse
define c: date = 2 business days in nyse after x
obligation pay: buyer must pay to seller within 12 month after x
"""
    assert fmt(out) == out
    assert program_of(out) == program_of(text.lstrip("\n"))
    # A line too long breaks around `after`, never inside a duration.
    long = ("define settlement_date: date = 2 business days in us_government_securities "
            "after the_closing_date_of_the_transaction_as_defined\n")
    out = fmt(long)
    assert "business days in us_government_securities" in out
    assert fmt(out) == out


def test_blank_lines_are_kept_but_never_more_than_one() -> None:
    text = "fact a: bool\n\n\n\nfact b: bool\nfact c: bool\nsection 1 {\n\n  fact d: bool\n\n}\n"
    assert fmt(text) == "fact a: bool\n\nfact b: bool\nfact c: bool\nsection 1 {\n  fact d: bool\n}\n"


def test_an_empty_file_and_a_file_of_comments() -> None:
    assert format_text("") == ""
    assert format_text("\n\n") == ""
    assert format_text("  # one\n\n\n# two  \n") == "# one\n\n# two\n"


# -------------------------------------------------------------------- comments


COMMENTED = """# file header

# about the section
section 1 { # after the brace
  # before the text
  text \"\"\"
    Words # not a comment: the contract's text.
  \"\"\" # after the text
  define d = # after =
    earlier of [ # after [
      # before (a)
      (a) x, # after (a)
      (b) y # after (b), before the comma
        when z # in the guard
      # before ]
    ] # after ]
  define e = f( # inside a call
    x) + 1
  # at the end of the block
} # after the block
# at the end of the file
"""


def test_comments_in_every_position_survive_in_order() -> None:
    out = assert_same_meaning(COMMENTED)
    assert comments_of(out) == comments_of(COMMENTED)
    assert "Words # not a comment: the contract's text." in out
    lines = out.splitlines()
    assert lines[0] == "# file header" and lines[1] == ""
    assert "section 1 {  # after the brace" in lines
    assert "  # before the text" in lines
    assert '  """  # after the text' in lines
    assert "  define d =  # after =" in lines
    assert "      # before (a)" in lines
    assert "      (a) x,  # after (a)" in lines
    assert "      # before ]" in lines
    assert "    ]  # after ]" in lines
    assert "  # at the end of the block" in lines
    assert "}  # after the block" in lines
    assert lines[-1] == "# at the end of the file"


def test_text_blocks_are_kept_byte_for_byte() -> None:
    block = '"""\n        Indented   oddly,\n  with trailing spaces   \n\tand a tab.\n   """'
    text = f"section 1 {{\n      text   {block}\n}}\n"
    out = fmt(text)
    assert out == f"section 1 {{\n  text {block}\n}}\n"


# ------------------------------------------------------------------ syntax errors


def test_text_with_syntax_errors_raises_compile_error_with_every_error() -> None:
    text = "fact x: integer\ndefine y = x +\nsection 1 {\n  define z = = 2\n}\n"
    with pytest.raises(CompileError) as caught:
        format_text(text, "bad.clause")
    rendered = str(caught.value)
    assert "bad.clause:3:1" in rendered and "bad.clause:4:14" in rendered
    assert "^" in rendered
    assert all(d.code == "syntax" for d in caught.value.diagnostics)


# ------------------------------------------------------------------ the command


MESSY = "fact   x : integer\nsection 1 {define y=x}\n"
TIDY = "fact x: integer\nsection 1 {\n  define y = x\n}\n"
BAD = "fact x: integer\ndefine y = \n"


def _tree(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "sub").mkdir()
    files = {"messy": tmp_path / "messy.clause", "tidy": tmp_path / "sub" / "tidy.clause",
             "bad": tmp_path / "bad.clause", "bad2": tmp_path / "sub" / "bad2.clause"}
    files["messy"].write_text(MESSY)
    files["tidy"].write_text(TIDY)
    files["bad"].write_text(BAD)
    files["bad2"].write_text("section 1 { define = 1 }\n")
    return files


def test_fmt_rewrites_files_and_reports_all_syntax_errors(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = _tree(tmp_path)
    assert main(["fmt", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert files["messy"].read_text() == TIDY
    assert files["tidy"].read_text() == TIDY
    assert files["bad"].read_text() == BAD  # untouched
    assert f"reformatted {files['messy']}" in out
    assert f"{files['bad']}:2:" in err and f"{files['bad2']}:1:" in err  # both reported
    assert "^" in err and "Traceback" not in err
    assert "1 file reformatted, 1 unchanged, 2 with errors" in err
    assert not list(tmp_path.rglob("*.tmp"))


def test_fmt_check_lists_files_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = _tree(tmp_path)
    files["bad"].unlink()
    files["bad2"].unlink()
    assert main(["fmt", "--check", str(tmp_path)]) == 1
    out, _ = capsys.readouterr()
    assert out.strip() == f"would reformat {files['messy']}"
    assert files["messy"].read_text() == MESSY
    assert main(["fmt", "--check", str(files["tidy"])]) == 0


def test_fmt_diff_prints_the_change_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = _tree(tmp_path)
    assert main(["fmt", "--diff", str(files["messy"])]) == 0
    out, _ = capsys.readouterr()
    assert "-fact   x : integer\n-section 1 {define y=x}\n+fact x: integer\n" in out
    assert "+  define y = x\n" in out
    assert files["messy"].read_text() == MESSY
    assert main(["fmt", "--diff", "--check", str(files["messy"])]) == 1


def test_fmt_keeps_the_file_mode_and_rejects_missing_paths(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = _tree(tmp_path)
    files["messy"].chmod(0o640)
    assert main(["fmt", str(files["messy"])]) == 0
    assert files["messy"].stat().st_mode & 0o777 == 0o640
    assert main(["fmt", str(tmp_path / "nope.clause")]) == 1
    assert "no such file or folder" in capsys.readouterr().err


def test_fmt_leaves_a_file_that_is_not_utf8_untouched(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "latin1.clause"
    path.write_bytes(b'fact  x: text default "caf\xe9"\n')
    assert main(["fmt", str(path)]) == 1
    assert path.read_bytes() == b'fact  x: text default "caf\xe9"\n'
    assert "not UTF-8" in capsys.readouterr().err


# ------------------------------------------------ random programs over the grammar

# A program is a list of tokens; it is written out with random whitespace and comments
# between the tokens, so the formatter has every kind of layout to undo.

NAMES = st.sampled_from(["alpha", "beta", "gamma", "x1", "price", "on_time", "d", "ab"])
LEAVES = st.sampled_from([
    ["alpha"], ["beta"], ["d"], ["1"], ["2.5"], ["15%"], ["$1,000"], ["USD 5"], ["true"],
    ["2004-01-02"], ["March 1, 2004"], ['"a # b"'], ["2004-01-02 5:00 PM"], ["27_037_814"],
])
TYPES = st.sampled_from([["money"], ["money", "USD"], ["date"], ["bool"], ["integer"],
                         ["business", "days"], ["percent"], ["text"], ["party"], ["months"],
                         ["business", "days", "in", "nyse"]])
# Every way of writing a duration after its amount.
UNITS = st.sampled_from([["day"], ["days"], ["business", "day"], ["business", "days"],
                         ["business", "days", "in", "new_york_banks"],
                         ["business", "day", "in", "target"], ["month"], ["months"],
                         ["year"], ["years"]])
LABELS = st.sampled_from(["(a)", "(ii)", "(B)", "(1)"])


def _chain(ops: list[str]) -> Any:
    return lambda inner: st.tuples(st.sampled_from(ops), st.lists(inner, min_size=2,
                                                                   max_size=4)).map(
        lambda t: [tok for i, operand in enumerate(t[1])
                   for tok in ([t[0]] if i else []) + operand])


def _paren(tokens: list[str]) -> list[str]:
    return tokens if len(tokens) == 1 else ["(", *tokens, ")"]


def _expressions() -> st.SearchStrategy[list[str]]:
    def extend(inner: st.SearchStrategy[list[str]]) -> st.SearchStrategy[list[str]]:
        atom = inner.map(_paren)
        item = st.tuples(st.lists(LABELS, max_size=1), atom,
                         st.lists(atom, max_size=1)).map(
            lambda t: [*t[0], *t[1], *(["when", *t[2][0]] if t[2] else [])])
        return st.one_of(
            _chain(["and", "or", "+", "-", "*"])(atom),
            st.tuples(atom, st.sampled_from([["unless"], ["=="], ["<"], ["is"], ["is", "not"],
                                             ["is", "at", "least"], ["after"], ["/"], ["^"],
                                             ["is", "on", "or", "before"]]), atom).map(
                lambda t: [*t[0], *t[1], *t[2]]),
            atom.map(lambda a: ["not", *a]),
            atom.map(lambda a: ["-", *a]),
            atom.map(lambda a: [*a, "is", "not", "given"]),
            st.tuples(atom, UNITS).map(lambda t: [*t[0], *t[1]]),
            atom.map(lambda a: ["close", "of", "business", "on", *a]),
            st.tuples(atom, atom, atom).map(
                lambda t: ["if", *t[0], "then", *t[1], "else", *t[2]]),
            st.tuples(NAMES, st.lists(atom, max_size=3)).map(
                lambda t: [t[0], "(", *_joined(t[1], ","), ")"]),
            st.tuples(st.sampled_from(["all", "any", "earlier", "sum", "greatest"]),
                      st.sampled_from([",", ";"]), st.lists(item, min_size=1, max_size=4),
                      st.booleans()).map(
                lambda t: [t[0], "of", "[", *_joined(t[2], t[1]),
                           *([t[1]] if t[3] else []), "]"]),
        )
    return st.recursive(LEAVES, extend, max_leaves=8)


def _joined(parts: list[list[str]], separator: str) -> list[str]:
    return [tok for i, part in enumerate(parts) for tok in ([separator] if i else []) + part]


EXPR = _expressions()
TITLE = st.lists(st.just('"Title"'), max_size=1)
WHEN = st.lists(EXPR.map(lambda e: ["when", *e]), max_size=1).map(lambda x: x[0] if x else [])
HOLDER = st.sampled_from([["buyer"], ["either", "party"], ["buyer", "and", "seller", "jointly"]])
DUTY = st.tuples(HOLDER, st.sampled_from([["pay"], ['"give notice"']]),
                 st.lists(EXPR, max_size=1), st.lists(st.just(["to", "seller"]), max_size=1),
                 st.lists(st.sampled_from([["by", "d"], ["on", "2004-01-01"],
                                           ["within", "2", "business", "days", "after", "d"],
                                           ["within", "3", "months", "after", "d"],
                                           ["within", "1", "business", "day", "in", "nyse",
                                            "after", "d"]]),
                          max_size=1), WHEN).map(
    lambda t: [*t[0], "must", *t[1], *(t[2][0] if t[2] else []), *(t[3][0] if t[3] else []),
               *(t[4][0] if t[4] else []), *t[5]])

DECLARATIONS = st.one_of(
    st.tuples(NAMES, TITLE, TYPES, st.booleans(), st.lists(EXPR, max_size=1),
              st.lists(st.just('"A description."'), max_size=1)).map(
        lambda t: ["fact", t[0], *t[1], ":", *t[2], *(["optional"] if t[3] else []),
                   *(["default", *t[4][0]] if t[4] else []), *t[5]]),
    st.tuples(st.sampled_from(["define", "condition"]), NAMES,
              st.lists(st.tuples(NAMES, TYPES), max_size=2), TITLE, EXPR).map(
        lambda t: [t[0], t[1],
                   *(["(", *_joined([[n, ":", *ty] for n, ty in t[2]], ","), ")"]
                     if t[2] else []), *t[3], "=", *t[4]]),
    st.tuples(NAMES, TITLE, EXPR, EXPR).map(
        lambda t: ["exception", "to", t[0], *t[1], "=", *t[2], "when", *t[3]]),
    st.tuples(NAMES, TITLE, EXPR, WHEN).map(
        lambda t: ["invariant", t[0], *t[1], "=", *t[2], *t[3]]),
    st.tuples(NAMES, TITLE, DUTY).map(lambda t: ["obligation", t[0], *t[1], ":", *t[2]]),
    st.tuples(NAMES, WHEN, st.lists(DUTY, max_size=2)).map(
        lambda t: ["power", t[0], ":", "seller", "may", "terminate", *t[1],
                   *[tok for duty in t[2] for tok in ["then", *duty]]]),
)
TEXT = st.sampled_from([['"""\n    Some words.\n      More words.\n  """'],
                        ['"One line # not a comment."']]).map(lambda s: ["text", *s])
SECTION_ITEMS = st.lists(st.one_of(DECLARATIONS, TEXT), max_size=4).map(
    lambda items: [tok for item in items for tok in item])
BLOCK = SECTION_ITEMS.map(lambda body: ["{", *body, "}"])
TOP_LEVEL = st.one_of(
    DECLARATIONS,
    st.tuples(st.sampled_from(["1", "3.1", "1(d)", "(ll)"]), TITLE, BLOCK).map(
        lambda t: ["section", t[0], *t[1], *t[2]]),
    st.just(["agreement", "sample", '"Sample"', "{", "dated", "2004-01-01", "party", "buyer",
             '"Buyer"', ":", '"Acme"', "holidays", "[", "2004-12-24", ",",
             "December 31, 2004", "]", "close", "of", "business", "5:00 P.M.", "}"]),
    BLOCK.map(lambda b: ["replace", "the", "first", "sentence", "of", "section", "3.4", *b]),
    st.just(["delete", "sections", "8.1", ",", "8.2", "and", "8.3"]),
    BLOCK.map(lambda b: ["append", "to", "section", "1(d)", *b]),
    # Words inside a provision, and articles, exhibits and schedules.
    st.tuples(st.lists(BLOCK, max_size=1), st.sampled_from([
        ["section", "1.01"], ["the", "first", "sentence", "of", "schedule", "1.01(c)"],
        ["clause", "(b)", "of", "article", "VI"]])).map(
        lambda t: ["substitute", '"$100,000,000"', "for", '"$75,000,000"', "in", *t[1],
                   *(t[0][0] if t[0] else [])]),
    st.lists(BLOCK, max_size=1).map(
        lambda b: ["insert", '"; provided that"', "at", "the", "end of", "exhibit", "A-1",
                   *(b[0] if b else [])]),
    st.just(["delete", "clause", "(b)", "of", "section", "14.2"]),
    st.tuples(st.sampled_from(["article", "exhibit", "schedule"]),
              st.sampled_from(["VI", "C", "A-1", "1.01(c)"]), TITLE, BLOCK).map(
        lambda t: [t[0], t[1], *t[2], *t[3]]),
    st.tuples(st.lists(st.tuples(NAMES, LEAVES), max_size=3), EXPR).map(
        lambda t: ["test", '"t"', "{", "as", "of", "2004-01-01", "given", "{",
                   *[tok for n, v in t[0] for tok in [n, "=", *v]], "}", "expect", "alpha",
                   "(", "1", ")", ".", "due", "=", *t[1], "expect", "beta", "raises",
                   "MissingFactError", "}"]),
)
PROGRAMS = st.lists(TOP_LEVEL, min_size=1, max_size=4).map(
    lambda items: [tok for item in items for tok in item])
SEPARATORS = st.sampled_from([" ", " ", " ", "  ", "\n", "\n", "\n\n", "\n\n\n    ", "\t",
                              " # note\n", "\n# note\n", "\n\n  # note\n\n  "])


@st.composite
def laid_out_programs(draw: st.DrawFn) -> str:
    tokens = draw(PROGRAMS)
    out = [draw(st.sampled_from(["", "# header\n\n", "\n"]))]
    for i, token in enumerate(tokens):
        separator = draw(SEPARATORS)
        out.append(token)
        out.append(separator.replace("note", f"note {i}"))
    return "".join(out)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(laid_out_programs())
def test_random_programs_keep_their_meaning_comments_and_words(text: str) -> None:
    try:
        formatter._lark().parse(text)
    except lark.exceptions.UnexpectedInput as error:  # the generator's fault, not fmt's
        raise AssertionError(f"the generator made a program that does not parse: {error}")
    assert_same_meaning(text)
