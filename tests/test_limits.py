"""Bad input gets a diagnostic, never a traceback, a hang or a memory blow-up.

Each reproducer runs through the real command line (`clausec.cli.main`, in-process), and
the ones that could hang through a subprocess with a timeout:

- expressions nested far deeper than a contract nests (parentheses, lists, `not`, `if`)
  are refused where the limit is passed, `file:line:col` with the line and a caret;
- a long chain of one operator (a contract's list of fees) is flat, however long: it
  compiles, evaluates, explains, summarises, formats, tests and verifies;
- a facts file nested absurdly deep, or with a number of thousands of digits, is refused
  with where;
- a device, a named pipe or a file larger than the limit is refused at once;
- a text block takes memory linear in its size, a few bytes per byte.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import tracemalloc
from decimal import Decimal
from pathlib import Path

import pytest

import clausec
from clausec import api, cli, source
from clausec.diagnostics import Diagnostics
from clausec.front import incremental, parser
from clausec.passes import check
from clausec.source import SourceFile

MAX = parser.MAX_NESTING

HEADER = """\
agreement fees "Fee Schedule" {
  dated 2004-01-01
  party buyer "Buyer"
  party seller "Seller"
}

fact x: integer
fact ok: bool
"""
# The line of the first declaration after HEADER and `section 1 {`.
LINE = HEADER.count("\n") + 2


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`clausec ARGV...` in-process: its exit code, standard output and error. No run
    may end in an internal error or a traceback."""
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert "internal error" not in out + err
    assert "Traceback" not in out + err
    return code, out, err


def clause(tmp_path: Path, body: str, name: str = "fees.clause") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
    return path


def definition(tmp_path: Path, expr: str, type_: str = "integer") -> Path:
    return clause(tmp_path, f"section 1 {{\n  define total: {type_} = {expr}\n}}\n")


def parentheses(depth: int) -> str:
    """`(x + (x + ... x))`, `depth` deep: what a program generator or a careless merge
    writes, never a contract."""
    return "(x + " * depth + "x" + ")" * depth


def assert_nesting_error(err: str, path: Path) -> None:
    first = err.splitlines()[0]
    assert first.startswith(f"{path}:{LINE}:")  # the definition's line, a column in it
    assert f"error: this expression nests more than {MAX} levels deep" in first
    lines = err.splitlines()
    assert lines[1].lstrip().startswith(f"{LINE} |")  # the line itself
    assert lines[2].strip() == "^"  # and a caret under where the limit is passed
    assert "hint: give the inner parts names of their own" in err


# ------------------------------------------------------------------ deep nesting


@pytest.mark.parametrize("depth", [500, 5000])
def test_deep_parentheses_are_a_diagnostic_in_check(tmp_path, capsys, depth):
    path = definition(tmp_path, parentheses(depth))
    code, _, err = run(capsys, "check", str(path))
    assert code == 1
    assert_nesting_error(err, path)
    # Where: the operand that opens level MAX + 1.
    column = int(err.split(":")[2])
    line = path.read_text().splitlines()[LINE - 1]
    assert line[:column - 1].count("(") == MAX + 1
    assert "1 error," in err  # one, not one per level


@pytest.mark.parametrize("depth", [500, 5000])
def test_deep_parentheses_are_a_diagnostic_in_compile(tmp_path, capsys, depth):
    path = definition(tmp_path, parentheses(depth))
    out_dir = tmp_path / "out"
    code, _, err = run(capsys, "compile", str(path), "-o", str(out_dir))
    assert code == 1
    assert_nesting_error(err, path)
    assert "nothing written" in err
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_the_reviewed_depth_of_488_is_a_diagnostic(tmp_path, capsys):
    path = definition(tmp_path, parentheses(488))
    code, _, err = run(capsys, "check", str(path))
    assert code == 1
    assert_nesting_error(err, path)


def test_nesting_at_the_limit_compiles(tmp_path, capsys):
    path = definition(tmp_path, parentheses(MAX - 1))
    facts = tmp_path / "facts.json"
    facts.write_text('{"x": 2, "ok": true}')
    assert run(capsys, "check", str(path))[0] == 0
    code, out, _ = run(capsys, "eval", str(path), "total", "--facts", str(facts))
    assert (code, out.splitlines()[0]) == (0, f"total = {2 * MAX}")


@pytest.mark.parametrize("kind, expr, type_", [
    ("parentheses", parentheses(MAX - 1), "integer"),
    ("not", "not " * MAX + "ok", "bool"),
    ("minus", "- " * MAX + "x", "integer"),
    ("if", "if ok then " * MAX + "x" + " else 1" * MAX, "integer"),
    ("else if", "if ok then 1 else " * MAX + "x", "integer"),
    ("lists", "all of [" * MAX + "ok" + "]" * MAX, "bool"),
    ("sums", "sum of [" * MAX + "x" + "]" * MAX, "integer"),
    ("calls", "round(" * MAX + "x" + ", 2)" * MAX, "decimal"),
    ("subtractions", " - ".join(["x"] * check._MAX_DEPTH), "integer"),
])
def test_what_the_limits_allow_works_in_every_command(tmp_path, capsys, kind, expr, type_):
    """The deepest expression of each kind that the limits let through is checked,
    compiled, evaluated and explained, summarised, formatted and tested without a
    traceback: the limits are where every pass still works."""
    path = clause(tmp_path, f"""\
        section 1 {{
          define total: {type_} = {expr}
          obligation pay: buyer must pay x to seller when ok
        }}

        test "x" {{
          given {{ x = 2 ok = true }}
          expect x = 2
        }}
        """)
    facts = tmp_path / "facts.json"
    facts.write_text('{"x": 2, "ok": true}')
    assert run(capsys, "check", str(path))[0] == 0, kind
    assert run(capsys, "compile", str(path), "-o", str(tmp_path / "out"))[0] == 0
    code, out, _ = run(capsys, "eval", str(path), "total", "--facts", str(facts), "--explain")
    assert code == 0 and out.startswith("total = ")
    assert run(capsys, "summarize", str(path))[0] == 0
    assert run(capsys, "fmt", "--check", str(path))[0] in (0, 1)  # 1: would reformat
    assert run(capsys, "test", str(path))[0] == 0


@pytest.mark.parametrize("kind, expr, type_", [
    ("not", "not " * 5000 + "ok", "bool"),
    ("minus", "- " * 5000 + "x", "integer"),
    ("if", "if ok then 1 else " * 5000 + "x", "integer"),
    ("power", " ^ ".join(["x"] * 5000), "decimal"),
    ("lists", "any of [" * 5000 + "ok" + "]" * 5000, "bool"),
    ("calls", "round(" * 5000 + "x" + ", 2)" * 5000, "decimal"),
])
def test_deep_constructs_are_a_diagnostic(tmp_path, capsys, kind, expr, type_):
    path = definition(tmp_path, expr, type_)
    code, _, err = run(capsys, "check", str(path))
    assert code == 1, kind
    assert f"nests more than {MAX} levels deep" in err
    assert "never used" not in err  # the cut part is no reason for other complaints


def test_redundant_parentheses_are_counted_where_they_open(tmp_path, capsys):
    path = definition(tmp_path, "(" * 500 + "x" + ")" * 500)
    code, _, err = run(capsys, "check", str(path))
    assert code == 1
    first = err.splitlines()[0]
    column = len("  define total: integer = ") + MAX + 1
    assert first == (f"{path}:{LINE}:{column}: error: parentheses nest more than {MAX} deep "
                     "here")


def test_several_deep_declarations_are_each_reported(tmp_path, capsys):
    path = clause(tmp_path, f"""\
        section 1 {{
          define a: integer = {parentheses(600)}
          define b: integer = x + 1
          condition c = {"not " * 600 + "ok"}
        }}
        """)
    code, _, err = run(capsys, "check", str(path))
    assert code == 1
    assert err.count(f"nests more than {MAX} levels deep") == 2
    assert f"{path}:{LINE}:" in err and f"{path}:{LINE + 2}:" in err


def test_deep_nesting_in_a_file_that_also_has_a_syntax_error(tmp_path, capsys):
    path = clause(tmp_path, f"""\
        section 1 {{
          define a: integer = {parentheses(600)}
        }}

        section 2 {{
          define b: integer = x +
        }}
        """)
    code, _, err = run(capsys, "check", str(path))
    assert code == 1
    assert f"nests more than {MAX} levels deep" in err
    assert "unexpected" in err


def test_the_language_server_front_reports_deep_nesting_as_the_compiler_does(tmp_path):
    text = HEADER + f"section 1 {{\n  define total: integer = {parentheses(3000)}\n}}\n"
    src = SourceFile(str(tmp_path / "fees.clause"), text)
    whole, chunked = Diagnostics(), Diagnostics()
    api._front(src, whole)
    incremental.FileFront().front(src, chunked)
    assert [d.message for d in chunked.sorted()] == [d.message for d in whole.sorted()]
    assert any("nests more than" in d.message for d in whole.items)


def test_deep_nesting_in_the_python_api_is_a_compile_error(tmp_path):
    path = definition(tmp_path, parentheses(5000))
    with pytest.raises(clausec.CompileError, match="nests more than"):
        api.compile_file(path)


# ------------------------------------------------------------------ flat chains


def fee_schedule(tmp_path: Path, terms: int) -> tuple[Path, int]:
    """A sum of `terms` fees (seven facts, used in turn), and its value for fees 1..7."""
    total = " + ".join(f"fee_{i % 7}" for i in range(terms))
    expected = sum(i % 7 + 1 for i in range(terms))
    given = " ".join(f"fee_{i} = ${i + 1}" for i in range(7))
    assumption = " and ".join(f"fee_{i} >= $0" for i in range(7))
    lines = [
        *(f"fact fee_{i}: money" for i in range(7)),
        "",
        'section 2 "Fees" {',
        '  text "The Buyer pays the Seller every fee of the Schedule."',
        f"  define total: money = {total}",
        "  obligation pay: buyer must pay total to seller",
        f"  invariant not_negative = total >= $0 when {assumption}",
        "}",
        "",
        'test "the total of the schedule" {',
        f"  given {{ {given} x = 1 ok = true }}",
        f"  expect total = ${expected:,}",
        "}",
    ]
    path = tmp_path / "fees.clause"
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    facts = {f"fee_{i}": str(i + 1) for i in range(7)} | {"x": 1, "ok": True}
    (tmp_path / "facts.json").write_text(json.dumps(facts))
    return path, expected


def test_a_sum_of_62_terms_compiles(tmp_path, capsys):
    # Refused as "nests more than 60 levels deep" before: 62 fees are one flat list.
    path, expected = fee_schedule(tmp_path, 62)
    code, out, _ = run(capsys, "eval", str(path), "total", "--facts",
                       str(tmp_path / "facts.json"))
    assert (code, out.splitlines()[0]) == (0, f"total = ${expected:,}.00")


def test_a_sum_of_5000_terms_works_in_every_command(tmp_path, capsys):
    path, expected = fee_schedule(tmp_path, 5000)
    facts = str(tmp_path / "facts.json")
    assert run(capsys, "check", str(path))[0] == 0

    out_dir = tmp_path / "out"
    assert run(capsys, "compile", str(path), "-o", str(out_dir))[0] == 0
    assert (out_dir / "fees.py").exists()
    module = api.load(path)
    facts_object = module.Facts.from_dict(json.loads(Path(facts).read_text()))
    assert module.total(facts_object) == Decimal(expected)

    code, out, _ = run(capsys, "eval", str(path), "total", "--facts", facts)
    assert (code, out.splitlines()[0]) == (0, f"total = ${expected:,}.00")
    code, out, _ = run(capsys, "eval", str(path), "total", "--facts", facts, "--explain")
    assert code == 0 and "Why, in words:" in out

    code, out, _ = run(capsys, "summarize", str(path))
    assert code == 0 and "fee 6" in out.lower().replace("_", " ")

    assert run(capsys, "fmt", "--check", str(path))[0] in (0, 1)
    assert run(capsys, "fmt", str(path))[0] == 0
    assert run(capsys, "fmt", "--check", str(path))[0] == 0  # formatted once for all
    assert api.load(path).total(facts_object) == Decimal(expected)

    code, out, _ = run(capsys, "test", str(path))
    assert code == 0 and "1 passed" in out
    assert run(capsys, "verify", str(path))[0] == 0

    other = tmp_path / "other" / "fees.clause"
    other.parent.mkdir()
    other.write_text(path.read_text().replace("fee_0 + fee_1", "fee_0 + fee_0", 1))
    code, out, _ = run(capsys, "diff", str(path), str(other))
    assert code in (0, 1) and "differ" in out


def test_long_chains_of_and_and_or_are_flat(tmp_path, capsys):
    path = clause(tmp_path, f"""\
        section 1 {{
          condition every = {" and ".join(["ok"] * 5000)}
          condition some = {" or ".join(["not ok"] * 5000)}
        }}
        """)
    facts = tmp_path / "facts.json"
    facts.write_text('{"x": 1, "ok": true}')
    assert run(capsys, "check", str(path))[0] == 0
    code, out, _ = run(capsys, "eval", str(path), "every", "--facts", str(facts), "--explain")
    assert code == 0 and out.startswith("every = true")
    code, out, _ = run(capsys, "eval", str(path), "some", "--facts", str(facts))
    assert code == 0 and out.startswith("some = false")


def test_a_long_chain_that_cannot_be_regrouped_is_a_diagnostic(tmp_path, capsys):
    # Subtraction is not associative: a - b - c is not a - (b - c).
    path = definition(tmp_path, " - ".join(["x"] * 5000))
    code, _, err = run(capsys, "check", str(path))
    assert code == 1
    assert (f"{path}:{LINE}:27: error: this chain of 5000 operands is too long to compile"
            in err)
    assert "hint: split it into several defined terms" in err


def term_chain(tmp_path: Path, n: int, base: str = "x") -> Path:
    """`n` terms, each defined by the next (step_{n-1} = step_{n-2} + 1 ... step_0 = x),
    written last first, with an invariant and a test on the last."""
    steps = "\n".join(f"  define step_{i}: integer = step_{i - 1} + 1" for i in range(n - 1, 0, -1))
    top = f"step_{n - 1}"
    return clause(tmp_path, f"""\
section 1 {{
{steps}
  define step_0: integer = {base}
  invariant grows = {top} >= x
}}

test "the last step" {{
  given {{ x = 1 ok = true }}
  expect {top} = {n}
}}
""")


def deeper(frames: int, call):
    """`call()` under `frames` more Python frames: as called from a test runner, a web
    framework or an application."""
    return call() if frames == 0 else deeper(frames - 1, call)


def test_a_chain_of_terms_at_the_limit_works_in_every_command(tmp_path, capsys):
    n = check.MAX_TERM_CHAIN
    top = f"step_{n - 1}"
    path = term_chain(tmp_path, n)
    facts = tmp_path / "facts.json"
    facts.write_text('{"x": 1, "ok": true}')
    other = tmp_path / "other" / "fees.clause"
    other.parent.mkdir()
    other.write_text(path.read_text().replace("step_0: integer = x", "step_0: integer = x + 1"))

    def every_command() -> None:
        assert run(capsys, "check", str(path))[0] == 0
        assert run(capsys, "compile", str(path), "-o", str(tmp_path / "out"))[0] == 0
        code, out, _ = run(capsys, "eval", str(path), top, "--facts", str(facts))
        assert (code, out.splitlines()[0]) == (0, f"{top} = {n}")
        code, out, _ = run(capsys, "eval", str(path), top, "--facts", str(facts), "--explain")
        assert code == 0 and "Why, in words:" in out
        for fmt in ("markdown", "html", "text"):
            assert run(capsys, "summarize", str(path), "--format", fmt)[0] == 0
        code, out, _ = run(capsys, "test", str(path))
        assert code == 0 and "1 passed" in out
        assert run(capsys, "fmt", "--check", str(path))[0] in (0, 1)
        assert run(capsys, "verify", str(path))[0] == 0
        code, out, _ = run(capsys, "diff", str(path), str(other))
        assert code == 0 and "differ" in out
        module = clausec.load(path)
        given = module.Facts(x=1, ok=True)
        assert getattr(module, top)(given) == n
        assert module.explain(top, given).to_dict()

    every_command()
    deeper(100, every_command)  # with room to spare for the caller's own frames


def test_a_chain_of_terms_one_past_the_limit_is_a_diagnostic(tmp_path, capsys):
    n = check.MAX_TERM_CHAIN + 1
    path = term_chain(tmp_path, n)
    for argv in (["check", str(path)], ["verify", str(path)],
                 ["eval", str(path), f"step_{n - 1}", "--explain"]):
        code, _, err = run(capsys, *argv)
        assert code == 1
        name = f"step_{check.MAX_TERM_CHAIN}"
        line = path.read_text().splitlines().index(
            f"  define {name}: integer = step_{n - 2} + 1") + 1
        assert (f"{path}:{line}:3: error: '{name}' ends a chain of more than "
                f"{check.MAX_TERM_CHAIN} terms, each defined by the next") in err
        assert f"{line} |   define {name}" in err and "^^^" in err
        assert "hint: split the chain, or define the terms from a common base" in err
        assert err.count("ends a chain") == 1


def test_a_much_longer_chain_of_terms_is_one_diagnostic(tmp_path, capsys):
    path = term_chain(tmp_path, check.MAX_TERM_CHAIN * 10)
    code, _, err = run(capsys, "check", str(path))
    assert code == 1 and err.count("error:") == 1
    assert f"'step_{check.MAX_TERM_CHAIN}' ends a chain" in err


def test_a_chain_of_terms_in_reverse_order_is_checked_without_recursion(tmp_path, capsys):
    # Each term uses the one defined after it: checking the first reaches all the others.
    n = check.MAX_TERM_CHAIN
    steps = "\n".join(f"  define step_{i}: integer = step_{i - 1} + 1" for i in range(n - 1, 0, -1))
    path = clause(tmp_path, f"section 1 {{\n{steps}\n  define step_0: integer = x\n}}\n")
    facts = tmp_path / "facts.json"
    facts.write_text('{"x": 1, "ok": true}')
    code, out, _ = run(capsys, "eval", str(path), f"step_{n - 1}", "--facts", str(facts))
    assert (code, out.splitlines()[0]) == (0, f"step_{n - 1} = {n}")


def test_a_long_cycle_of_terms_is_reported_as_a_cycle(tmp_path, capsys):
    n = 500
    steps = "\n".join(f"  define step_{i}: integer = step_{(i + 1) % n} + 1" for i in range(n))
    path = clause(tmp_path, f"section 1 {{\n{steps}\n}}\n")
    code, _, err = run(capsys, "check", str(path))
    assert code == 1
    assert "circular definition: step_0 -> step_1 -> step_2" in err


# ------------------------------------------------------------------ formatter


def test_500_nested_brackets_in_fmt_check(tmp_path, capsys):
    path = definition(tmp_path, "all of [" * 500 + "ok" + "]" * 500, "bool")
    before = path.read_bytes()
    code, _, err = run(capsys, "fmt", "--check", str(path))
    assert code == 1
    assert f"{path}:{LINE}:" in err and f"nests more than {MAX} levels deep" in err
    assert f"{path}: not formatted" in err
    code, _, err = run(capsys, "fmt", str(path))
    assert code == 1 and path.read_bytes() == before  # left untouched


@pytest.mark.parametrize("depth", [247, 500])
def test_nested_brackets_reported_by_the_review_in_fmt(tmp_path, capsys, depth):
    path = definition(tmp_path, "sum of [" * depth + "x" + "]" * depth)
    code, _, err = run(capsys, "fmt", "--check", str(path))
    assert code == 1 and "nests more than" in err


def test_fmt_of_long_chains_of_every_operator(tmp_path, capsys):
    ops = {"+": "integer", "-": "integer", "*": "integer", "and": "bool", "or": "bool"}
    body = "\n".join(
        f"  define t{i}: {type_} = {f' {op} '.join(['ok' if type_ == 'bool' else 'x'] * 5000)}"
        for i, (op, type_) in enumerate(ops.items()))
    path = clause(tmp_path, f"section 1 {{\n{body}\n}}\n")
    assert run(capsys, "fmt", str(path))[0] == 0
    assert run(capsys, "fmt", "--check", str(path))[0] == 0


# ------------------------------------------------------------------ tests files


def test_1000_nested_lists_in_a_file_of_tests(tmp_path, capsys):
    clause(tmp_path, """\
        section 1 {
          condition done = ok
        }
        """)
    tests = tmp_path / "fees.tests.clause"
    tests.write_text(
        'tests for fees\n\ntest "deep" {\n  given { ok = true x = 1 }\n'
        f'  expect done = {"all of [" * 1000}true{"]" * 1000}\n}}\n')
    code, _, err = run(capsys, "test", str(tmp_path))
    assert code == 1
    assert f"{tests}:5:" in err and f"nests more than {MAX} levels deep" in err
    code, _, err = run(capsys, "check", str(tmp_path))
    assert code == 1 and f"nests more than {MAX} levels deep" in err


# ------------------------------------------------------------------ facts files


@pytest.fixture
def small(tmp_path: Path) -> Path:
    return definition(tmp_path, "x + 1")


def test_a_facts_file_nested_200000_deep(tmp_path, capsys, small):
    facts = tmp_path / "facts.json"
    facts.write_text('{"x": ' + "[" * 200_000 + "]" * 200_000 + "}")
    code, _, err = run(capsys, "eval", str(small), "total", "--facts", str(facts))
    assert code == 1
    lines = err.splitlines()
    limit = cli.MAX_FACTS_NESTING
    # The object is the first level: where the bracket opening the level past the limit is.
    column = len('{"x": ') + limit
    assert lines[0] == (f"clausec: error: {facts}:1:{column}: the facts nest more than "
                        f"{limit} levels deep")
    assert lines[1].startswith("  ...[[[") and lines[1].endswith("...")
    assert len(lines[1]) < 200  # a window of the line, not all of it
    assert lines[2].strip() == "^"
    assert lines[3].startswith("  hint: give each fact a plain value")


def test_a_facts_file_with_a_5000_digit_number(tmp_path, capsys, small):
    facts = tmp_path / "facts.json"
    facts.write_text('{"ok": true,\n "x": ' + "7" * 5000 + "}")
    code, _, err = run(capsys, "eval", str(small), "total", "--facts", str(facts))
    assert code == 1
    lines = err.splitlines()
    assert lines[0] == f"clausec: error: {facts}:2:7: a number of 5000 digits is too long"
    assert lines[2] == "  " + " " * 6 + "^"
    assert lines[3] == f"  hint: numbers may have at most {cli.MAX_NUMBER_DIGITS} digits"


def test_a_5000_digit_number_in_a_string_is_a_fact_error(tmp_path, capsys, small):
    facts = tmp_path / "facts.json"
    facts.write_text('{"x": "' + "7" * 5000 + '"}')
    code, _, err = run(capsys, "eval", str(small), "total", "--facts", str(facts))
    assert code == 1 and "fact 'x': expected a whole number" in err


def test_long_strings_and_numbers_with_fractions_are_facts_as_usual(tmp_path, capsys):
    path = clause(tmp_path, """\
        fact note: text
        fact rate: decimal

        section 1 {
          condition noted = note is "x" or rate > 1 or ok
          define total: integer = x + 1
        }
        """)
    facts = tmp_path / "facts.json"
    # Brackets in a string are no nesting; a long fraction is no whole number.
    facts.write_text('{"x": 3, "ok": true, "note": "' + "[" * 1000 + '", "rate": 0.'
                     + "9" * 20 + "}")
    code, out, _ = run(capsys, "eval", str(path), "total", "--facts", str(facts))
    assert (code, out.splitlines()[0]) == (0, "total = 4")
    # As many digits as a number may have.
    facts.write_text('{"x": ' + "9" * cli.MAX_NUMBER_DIGITS + ', "ok": true, "note": "",'
                     ' "rate": 1}')
    code, out, _ = run(capsys, "eval", str(path), "total", "--facts", str(facts))
    assert code == 0 and out.startswith("total = 1")


def test_invalid_json_still_says_where(tmp_path, capsys, small):
    facts = tmp_path / "facts.json"
    facts.write_text('{"x": 1,,}')
    code, _, err = run(capsys, "eval", str(small), "total", "--facts", str(facts))
    assert code == 1
    assert err.splitlines()[0] == (f"clausec: error: {facts}:1:9: invalid JSON: Expecting "
                                   "property name enclosed in double quotes")


# --------------------------------------------------------- what is not a clause file


@pytest.mark.parametrize("command", ["check", "compile", "fmt", "test", "summarize", "verify"])
def test_a_device_is_refused(capsys, command):
    code, _, err = run(capsys, command, "/dev/zero")
    assert code == 1
    assert "/dev/zero: is a character device, not a file; clausec reads regular files " \
        "only" in err


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    path = tmp_path / "pipe.clause"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("command", ["check", "compile", "fmt", "test", "summarize"])
def test_a_named_pipe_is_refused(capsys, fifo, command):
    code, _, err = run(capsys, command, str(fifo))
    assert code == 1
    assert f"{fifo}: is a named pipe, not a file" in err


def test_a_named_pipe_as_facts_is_refused(tmp_path, capsys, fifo, small):
    code, _, err = run(capsys, "eval", str(small), "total", "--facts", str(fifo))
    assert code == 1 and f"{fifo}: is a named pipe" in err


def test_a_named_pipe_in_a_folder_is_refused(tmp_path, capsys, fifo):
    clause(tmp_path, "section 1 {\n  define total: integer = x\n}\n", "a.clause")
    code, _, err = run(capsys, "check", str(tmp_path))
    assert code == 1 and f"{fifo}: is a named pipe" in err


@pytest.mark.parametrize("argv", [["check", "{}"], ["fmt", "--check", "{}"], ["test", "{}"],
                                  ["eval", "{small}", "total", "--facts", "{}"]])
def test_a_named_pipe_never_hangs_a_process(tmp_path, fifo, small, argv):
    """Nothing ever writes to the pipe: reading it would block for ever."""
    args = [a.format(fifo, small=small) for a in argv]
    done = subprocess.run([sys.executable, "-m", "clausec", *args], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert "named pipe" in done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr


def test_a_device_never_hangs_a_process():
    done = subprocess.run([sys.executable, "-m", "clausec", "check", "/dev/zero"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert done.stderr.strip() == ("clausec: error: /dev/zero: is a character device, not a "
                                   "file; clausec reads regular files only")


def test_a_file_larger_than_the_limit_is_refused(tmp_path, capsys):
    path = tmp_path / "huge.clause"
    with path.open("wb") as handle:
        handle.truncate(source.MAX_FILE_BYTES + 1)  # sparse: nothing is written
    code, _, err = run(capsys, "check", str(path))
    assert code == 1
    assert (f"{path}: is too large ({source.MAX_FILE_BYTES + 1:,} bytes): clausec reads at "
            f"most {source.MAX_FILE_BYTES:,} bytes (64 MiB) from one file") in err


def test_the_limit_is_also_kept_while_reading(tmp_path):
    path = tmp_path / "a.clause"
    path.write_text("x" * 1000)
    assert source.read_text(path, limit=1000) == "x" * 1000
    with pytest.raises(source.ReadError, match="is too large"):
        source.read_text(path, limit=999)


# ------------------------------------------------------------------ memory


def _peak_per_byte(path: Path, capsys: pytest.CaptureFixture[str]) -> float:
    size = path.stat().st_size
    tracemalloc.start()
    try:
        code, _, _ = run(capsys, "check", str(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 0
    return peak / size


def text_block_file(path: Path, size: int) -> Path:
    sentence = "The Purchaser shall pay to the Seller the Purchase Price on the Closing Date. "
    words = (sentence * (size // len(sentence) + 1))[:size]
    body = "\n".join("    " + words[i:i + 96] for i in range(0, len(words), 96))
    path.write_text(f'{HEADER}section 1 {{\n  text """\n{body}\n  """\n'
                    "  define total: integer = x\n  condition done = ok\n}\n")
    return path


def test_a_text_block_takes_a_few_bytes_of_memory_per_byte(tmp_path, capsys):
    # Warm up: the grammar and the other caches of a first run are no cost of the text.
    run(capsys, "check", str(text_block_file(tmp_path / "warm.clause", 10_000)))
    for megabytes in (1, 5):
        path = text_block_file(tmp_path / f"text{megabytes}.clause", megabytes * 1_000_000)
        ratio = _peak_per_byte(path, capsys)
        # About 6 measured; a regular expression that keeps state per character took 190.
        assert ratio <= 10, f"{megabytes} MB: {ratio:.1f} bytes of memory per byte"


def test_a_long_string_takes_a_few_bytes_of_memory_per_byte(tmp_path, capsys):
    run(capsys, "check", str(text_block_file(tmp_path / "warm.clause", 10_000)))
    path = tmp_path / "string.clause"
    path.write_text(f'{HEADER}section 1 {{\n  text "{"word " * 400_000}"\n'
                    "  define total: integer = x\n  condition done = ok\n}\n")
    assert _peak_per_byte(path, capsys) <= 10


def test_a_long_title_in_a_header_is_read_in_memory_linear_in_it(tmp_path):
    title = "A" * 1_000_000 + '\\" quoted ' + "B" * 10
    path = tmp_path / "amendment.clause"
    path.write_text(f'amendment second "{title}" amends fees {{\n  dated 2004-02-01\n}}\n')
    api.peek(path)  # warm up
    tracemalloc.start()
    try:
        assert api.peek(path) == ("amendment", "second", "fees")
        assert api.group([path]) == [(path, [])]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak / path.stat().st_size < 20


def test_too_much_code_outside_text_blocks_is_refused_before_parsing(tmp_path, capsys):
    path = tmp_path / "dense.clause"
    code_line = "  define total: integer = " + "(" * (5 * 1024 * 1024) + "\n"
    path.write_text(HEADER + "section 1 {\n" + code_line + "}\n")
    tracemalloc.start()
    try:
        code, _, err = run(capsys, "check", str(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 1
    assert (f"error: this file has more than {parser.MAX_CODE_CHARS:,} characters (4 MiB) "
            "of code outside text blocks") in err
    assert f"{path}:{LINE}:" in err and "hint: split the agreement" in err
    assert len(err) < 2_000  # the excerpt of the line is a window, not 5 MiB
    assert peak < 20 * path.stat().st_size  # nothing was parsed


def test_text_blocks_do_not_count_against_the_code_limit(tmp_path, capsys):
    path = text_block_file(tmp_path / "long.clause", parser.MAX_CODE_CHARS + 100_000)
    assert run(capsys, "check", str(path))[0] == 0
