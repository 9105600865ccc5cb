"""The pytest plugin: clause tests collected and run by pytest, in pytester sandboxes.

An installed clausec declares the plugin as a `pytest11` entry point, so pytest loads it by
itself; from a source checkout it is loaded with `-p clausec.pytest_plugin` (not both: the
module would be registered twice).
"""

from __future__ import annotations

import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

AGREEMENT = """
agreement deal "Deal" {
  dated 2020-01-01
  party buyer "Buyer"
  party seller "Seller"
}

fact price: money

section 1 "Price" {
  define total "Total": money = price * 2
  condition big = price > $100
}
"""

TESTS = """
tests for deal

test "a big price" {
  given { price = $200 }
  expect big = true
  expect total = $400
}

test "a small price, wrongly expected" {
  given { price = $50 }
  expect total = $1,000
}
"""


INSTALLED = any(ep.name == "clausec" for ep in entry_points(group="pytest11"))
LOAD = () if INSTALLED else ("-p", "clausec.pytest_plugin")


def plugin(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(*LOAD, "-p", "no:cacheprovider", *args)


@pytest.fixture()
def deal(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".clause", deal=textwrap.dedent(AGREEMENT))
    pytester.makefile(".tests.clause", deal=textwrap.dedent(TESTS))
    return pytester


def test_one_item_per_test_named_by_its_description(deal: pytest.Pytester) -> None:
    result = plugin(deal, "--collect-only", "-q")
    result.stdout.fnmatch_lines(["deal.tests.clause::a big price",
                                 "deal.tests.clause::a small price, wrongly expected"])


def test_pass_and_readable_failure(deal: pytest.Pytester) -> None:
    result = plugin(deal, "-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*deal.tests.clause::a big price PASSED*",
        '*test "a small price, wrongly expected"*',
        "*deal.tests.clause:11:3: expect total = $1,000",
        "*expected: $1,000.00",
        "*actual:   $100.00",
        "*why:",
        "*total (Total) = $100.00*deal.clause:10*",
        "*price = $50.00*",
    ])
    assert "Traceback" not in result.stdout.str()


def test_compile_errors_are_a_collection_error(pytester: pytest.Pytester) -> None:
    pytester.makefile(".clause", deal=textwrap.dedent(AGREEMENT).replace("price * 2",
                                                                         "price * totl"))
    pytester.makefile(".tests.clause", deal=textwrap.dedent(TESTS))
    result = plugin(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*deal.clause:10:*: error: 'totl' is not defined*",
                                 "*error*in clause files*"])
    assert "Traceback" not in result.stdout.str()


def test_errors_in_tests_are_a_collection_error(pytester: pytest.Pytester) -> None:
    pytester.makefile(".clause", deal=textwrap.dedent(AGREEMENT))
    pytester.makefile(".tests.clause", deal=textwrap.dedent(TESTS).replace("price = $200",
                                                                          "prise = $200"))
    result = plugin(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*'prise' is not a fact of the agreement*",
                                 "*did you mean 'price'?*"])


def test_clause_files_without_tests_are_ignored(pytester: pytest.Pytester) -> None:
    # Like tests/data: clause files with deliberate errors and no test blocks.
    pytester.makefile(".clause", broken="agreement x {{{ this is not clause")
    pytester.makepyfile(test_plain="def test_ok():\n    assert True\n")
    result = plugin(pytester)
    result.assert_outcomes(passed=1)


def test_the_seed_contracts_pass_under_pytest(pytester: pytest.Pytester) -> None:
    clauses = Path(__file__).resolve().parent.parent / "clauses"
    result = plugin(pytester, "-q", str(clauses))
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 130 and "failed" not in outcomes, result.stdout.str()
