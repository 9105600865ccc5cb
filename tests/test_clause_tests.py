"""`clausec test`: scenario tests written in clause files, checked and run.

A small agreement with an amendment, tests beside it in a `tests for` file; passing and
failing tests, every kind of expectation, the static checks with their diagnostics, exit
codes and what a failure prints.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from clausec.tools import testing

AGREEMENT = """
agreement deal "Deal" {
  dated 2020-01-01
  party buyer "Buyer"
  party seller "Seller"
  time zone America/New_York
}

fact price: money
fact signed_on: date optional
fact rate: percent default 5%
fact note: text default "none"

section 1 "Price" {
  define total "Total": money = price + price * rate
  condition big = all of [ (a) price > $100, (b) signed_on is given ]
  define share(n: integer): money = price / n
  define deadline: date = 10 days after signed_on
  define signing = earlier of [ signed_on ]
  define cutoff: datetime = close of business on signed_on
  define chooser: party = if big then seller else buyer
  obligation pay: buyer must pay total to seller on deadline when big
  power walk: seller may terminate when not big
}

section 2 "Bonus" {
  condition bonus = price > $1,000
}
"""

AMENDMENT = """
amendment first "First Amendment" amends deal {
  dated 2021-01-01
  effective 2021-01-01
}

delete section 2
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture()
def deal(tmp_path: Path) -> Path:
    folder = tmp_path / "deal"
    folder.mkdir()
    write(folder, "deal.clause", AGREEMENT)
    write(folder, "amendment.clause", AMENDMENT)
    return folder


def write_tests(folder: Path, body: str) -> Path:
    return write(folder, "deal.tests.clause",
                 "tests for deal\n\n" + textwrap.dedent(body).lstrip("\n"))


PASSING = """
test "a big price with a signature" {
  given {
    price = $200
    signed_on = 2020-03-02
  }
  expect big = true
  expect total = $210.00
  expect total = $210
  expect share(4) = $50
  expect deadline = March 12, 2020
  expect cutoff = 2020-03-02 5:00 PM
  expect chooser = seller
  expect pay.due = 2020-03-12
  expect pay.object = $210
  expect pay.obligor = buyer
  expect pay.beneficiary = seller
  expect pay.active = true
  expect pay.section = "1"
  expect walk.available = false
  expect walk.holders = seller
  expect rate = 5%
  expect rate = 0.05
  expect note = "none"
  expect bonus raises NotInForceError
}

test "before the amendment, and errors" {
  as of 2020-06-01
  given { price = $2,000 }
  expect bonus = true
  expect big = false
  expect deadline raises MissingFactError
  expect deadline raises ClauseError
  expect signing raises NoValueError
  expect pay.due raises NoValueError
  expect share(0) raises ClauseRuntimeError
}
"""


def run(*paths: Path, extra: tuple[str, ...] = ()) -> tuple[list[testing.TestResult], str]:
    """Discover, prepare and run as `clausec test` does; the results and the failures."""
    found = testing.discover(paths)
    assert not found.diagnostics
    results = []
    for suite in found.suites:
        prepared = testing.prepare(suite)
        assert prepared.ok, [d.render(prepared.sources) for d in prepared.diagnostics]
        results.extend(testing.run_test(prepared, t) for t in prepared.tests)
    text = "\n\n".join(testing.render_failure(r) for r in results if not r.passed)
    return results, text


def test_every_kind_of_expectation_passes(deal: Path) -> None:
    write_tests(deal, PASSING)
    results, failures = run(deal)
    assert failures == ""
    assert [r.passed for r in results] == [True, True]
    assert results[0].version == "the agreement as amended on January 1, 2021"
    assert results[1].version == "the agreement as originally signed"
    assert testing.summary_line(results) == "2 passed, 0 failed"


def test_a_file_of_tests_alone_finds_its_agreement_beside_it(deal: Path) -> None:
    path = write_tests(deal, PASSING)
    results, failures = run(path)
    assert failures == "" and len(results) == 2


def test_tests_in_the_agreements_own_file(tmp_path: Path) -> None:
    path = write(tmp_path, "deal.clause", AGREEMENT + textwrap.dedent("""
        test "inline" {
          given { price = $50 }
          expect big = false
          expect bonus = false
        }
        """))
    results, failures = run(path)
    assert failures == "" and [r.test.description for r in results] == ["inline"]


FAILING = """
test "wrong answers" {
  given {
    price = $200
    signed_on = 2020-03-02
  }
  expect total = $1,800,000
  expect big = false
  expect rate = 7.5%
  expect deadline = 2020-03-13
  expect chooser = buyer
  expect deadline raises MissingFactError
}

test "an error where a value was expected" {
  given { price = $200 }
  expect deadline = 2020-03-12
  expect total raises ConflictError
}
"""


def test_failures_say_expected_actual_where_and_why(deal: Path) -> None:
    write_tests(deal, FAILING)
    results, text = run(deal)
    assert [r.passed for r in results] == [False, False]
    assert [len(r.failures) for r in results] == [6, 2]
    name = str(deal / "deal.tests.clause")
    assert f"FAILED {name}:3: wrong answers" in text
    assert f"{name}:8:3: expect total = $1,800,000" in text
    # In the contract's formats: money, percent, dates; parties by role.
    assert "expected: $1,800,000.00\n    actual:   $210.00" in text
    assert "expected: 7.5%\n    actual:   5%" in text
    assert "expected: March 13, 2020\n    actual:   March 12, 2020" in text
    assert "expected: Buyer\n    actual:   Seller" in text
    assert "expected: MissingFactError\n    actual:   no error; the value is March 12, 2020" \
        in text
    # The explanation tree, in the clause's names, with the deciding lines.
    assert "why:" in text
    assert "total (Total) = $210.00  [Section 1, deal.clause:14]" in text
    assert "price = $200.00" in text
    # A run-time error where a value was expected names the error and its clause line.
    assert "actual:   MissingFactError: " in text
    assert "deal.clause:" in text
    assert "expected: ConflictError\n    actual:   no error; the value is $210.00" in text


def diagnostics(deal: Path, body: str) -> str:
    write_tests(deal, body)
    found = testing.discover([deal])
    prepared = [testing.prepare(s) for s in found.suites]
    assert all(p.module is None for p in prepared)
    return "\n\n".join(d.render(p.sources) for p in prepared for d in p.diagnostics)


def test_static_errors_all_reported_with_positions_and_hints(deal: Path) -> None:
    text = diagnostics(deal, """
        test "mistakes" {
          given {
            prise = $200
            price = 200
            signed_on = $5
          }
          expect totl = $210
          expect big = $1
          expect share = $50
          expect share(1, 2) = $50
          expect share("x") = $50
          expect pay.dew = 2020-03-12
          expect pay = 2020-03-12
          expect total.due = 2020-03-12
          expect total raises NoValueErorr
          expect total raises NotInForceError
          expect chooser = byer
        }

        test "versions" {
          as of 2021-06-01
          expect bonus = true
        }
        """)
    name = str(deal / "deal.tests.clause")
    expected = [
        (f"{name}:5:5: error: 'prise' is not a fact of the agreement", "did you mean 'price'?"),
        (f"{name}:6:13: error: 'price' is money USD, but this value is integer",
         "write money USD like $900,000"),
        (f"{name}:7:17: error: 'signed_on' is date, but this value is money USD", None),
        ((f"{name}:9:10: error: 'totl' is not a term, condition, obligation, power or fact "
         "of the agreement as amended on January 1, 2021"), "did you mean 'total'?"),
        (f"{name}:10:16: error: big is bool, but the value expected is money USD", None),
        (f"{name}:11:10: error: 'share' takes 1 argument(s) (n), not 0", "write share(n)"),
        (f"{name}:12:10: error: 'share' takes 1 argument(s) (n), not 2", None),
        (f"{name}:13:16: error: 'n' of 'share' is integer, not text", None),
        (f"{name}:14:10: error: 'pay' has no field 'dew'", "did you mean 'due'?"),
        (f"{name}:15:10: error: 'pay' is an obligation; a test compares one of its fields",
         "write pay.active or pay.due or pay.object"),
        (f"{name}:16:10: error: 'total' is a value, not an obligation or a power", None),
        (f"{name}:17:3: error: 'NoValueErorr' is not an error of a compiled agreement",
         "did you mean 'NoValueError'?"),
        ((f"{name}:18:3: error: 'total' is in force in the agreement as amended on "
         "January 1, 2021, so it cannot raise NotInForceError"), None),
        ((f"{name}:19:20: error: 'byer' is not a party of the agreement; did you mean "
         "'buyer'?"), None),
        ((f"{name}:24:10: error: 'bonus' is not in force in the agreement as amended on "
         "January 1, 2021"), "expect bonus raises NotInForceError"),
    ]
    for message, hint in expected:
        assert message in text, message
        if hint:
            assert hint in text, hint
    assert text.count(": error: ") == len(expected)
    # The line and a caret under the name.
    assert "    5 |     prise = $200\n" in text
    caret_line = text.split("    5 |     prise = $200\n")[1].splitlines()[0]
    assert caret_line.strip() == "^" * len("prise = $200")


def test_a_name_of_another_version_is_checked_against_the_tests_date(deal: Path) -> None:
    # 'bonus' exists before the amendment: there it is a condition like any other.
    write_tests(deal, """
        test "bonus before" {
          as of 2020-12-31
          given { price = $2,000 }
          expect bonus = true
        }
        """)
    results, failures = run(deal)
    assert failures == "" and results[0].passed


def test_unknown_agreement_of_a_file_of_tests(tmp_path: Path) -> None:
    write(tmp_path, "deal.clause", AGREEMENT)
    path = write(tmp_path, "x.tests.clause", "tests for dael\n\ntest \"t\" { expect big = true }\n")
    found = testing.discover([path])
    assert found.suites == []
    [d] = found.diagnostics
    assert str(d.span) == f"{path}:1:11"
    assert "no agreement 'dael' among the files given, nor beside this file" in d.message
    assert d.hint == "did you mean 'deal'?"


# ------------------------------------------------------------------ the command


def test_cli_passes_with_exit_0(deal: Path, run_cli) -> None:
    write_tests(deal, PASSING)
    done = run_cli("test", deal, "-v")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "2 passed, 0 failed"
    assert "ok     " in done.stdout and "a big price with a signature" in done.stdout


def test_cli_fails_with_exit_1_and_selects_with_k(deal: Path, run_cli) -> None:
    write_tests(deal, PASSING + FAILING)
    done = run_cli("test", deal)
    assert done.returncode == 1
    assert done.stdout.splitlines()[-1] == "2 passed, 2 failed"
    assert "expected: $1,800,000.00" in done.stdout
    selected = run_cli("test", deal, "-k", "BIG PRICE")
    assert selected.returncode == 0
    assert selected.stdout.splitlines()[-1] == "1 passed, 0 failed"


def test_cli_json(deal: Path, run_cli) -> None:
    write_tests(deal, FAILING)
    done = run_cli("test", deal, "--format", "json")
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert data["passed"] == 0 and data["failed"] == 2
    first = data["tests"][0]["failures"][0]
    assert first["expected"] == "$1,800,000.00" and first["actual"] == "$210.00"
    assert first["line"] == 8


def test_cli_errors_in_tests_exit_1_with_diagnostics(deal: Path, run_cli) -> None:
    write_tests(deal, 'test "t" {\n  expect totl = $1\n}\n')
    done = run_cli("test", deal)
    assert done.returncode == 1
    assert "deal.tests.clause:4:10: error: 'totl' is not a term" in done.stderr
    assert "did you mean 'total'?" in done.stderr
    assert "no tests run" in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_errors_in_the_agreement_exit_1(deal: Path, run_cli) -> None:
    write_tests(deal, PASSING)
    write(deal, "deal.clause", AGREEMENT.replace("price + price", "price + signed_on"))
    done = run_cli("test", deal)
    assert done.returncode == 1
    assert "deal.clause:14:" in done.stderr and ": error: cannot multiply" in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_syntax_error_in_a_file_of_tests(deal: Path, run_cli) -> None:
    write_tests(deal, 'test "t" {\n  expect = 1\n}\n')
    done = run_cli("test", deal)
    assert done.returncode == 1
    assert "deal.tests.clause:4:" in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_no_tests_is_an_error(deal: Path, run_cli) -> None:
    done = run_cli("test", deal)
    assert done.returncode == 1
    assert "no tests" in done.stderr


def test_check_reports_the_errors_of_tests(deal: Path, run_cli) -> None:
    path = write_tests(deal, 'test "t" {\n  given { prise = $1 }\n}\n')
    for target in (deal, path):
        done = run_cli("check", target)
        assert done.returncode == 1
        assert "'prise' is not a fact of the agreement" in done.stderr
        assert "did you mean 'price'?" in done.stderr


def test_check_passes_good_tests(deal: Path, run_cli) -> None:
    write_tests(deal, PASSING)
    done = run_cli("check", deal)
    assert done.returncode == 0, done.stderr
    assert "3 files checked, 0 errors" in done.stderr


def test_the_seed_contracts_tests_pass(run_cli) -> None:
    clauses = Path(__file__).resolve().parent.parent / "clauses"
    done = run_cli("test", clauses)
    assert done.returncode == 0, done.stdout + done.stderr
    passed = int(done.stdout.splitlines()[-1].split()[0])
    assert passed >= 90
