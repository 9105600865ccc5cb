"""`clausec test --coverage`: which conditions and items the tests saw true and false.

The fixture is small enough to count by hand: two conditions, two items each, so 12
outcomes (true and false of each condition and each item).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from clausec.tools import coverage, testing

CONTRACT = """
agreement small "Small" { dated 2020-01-01 }

fact x: integer
fact y: bool default false

section 1 "Both" {
  condition both = all of [
    (a) x > 1,
    (b) y
  ]
}

section 2 "Either" {
  condition either = x > 5 or y
}

# (a) true, (b) true: both is true.
test "t1" {
  given {
    x = 2
    y = true
  }
  expect both = true
}

# (a) false: both is false, and (b) is not evaluated (already decided).
test "t2" {
  given { x = 0 }
  expect both = false
}
"""


@pytest.fixture()
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.clause"
    path.write_text(textwrap.dedent(CONTRACT).lstrip("\n"), encoding="utf-8")
    return path


def report(path: Path) -> coverage.Report:
    [suite] = testing.discover([path]).suites
    prepared = testing.prepare(suite)
    tracker = coverage.Tracker()
    observer = tracker.observer(prepared)
    for located in prepared.tests:
        assert testing.run_test(prepared, located, observer).passed
    return tracker.report()


def test_counts_by_hand(small: Path) -> None:
    result = report(small)
    # both: true and false (2); (a): true and false (2); (b): true only (1). either: never
    # reached (0 of 2), nor its operands (0 of 4). 5 of 12.
    assert (result.seen, result.total) == (5, 12)
    assert round(result.percent, 1) == 41.7
    both, either = sorted(result.conditions, key=lambda c: c.span.line)
    assert both.seen == {True, False}
    assert [sorted(i.seen) for i in both.items] == [[False, True], [True]]
    assert either.seen == set() and [i.seen for i in either.items] == [set(), set()]


def test_report_text(small: Path) -> None:
    text = report(small).render()
    assert "  Section 1\n    both    true: yes  false: yes  items: 1/2" in text
    assert "  Section 2\n    either  true: no   false: no   items: 0/2" in text
    assert f"not reached:\n  {small}:14: either (Section 2)" in text
    assert f"seen one way only:\n  {small}:9: (b) y, in both: only true" in text
    assert text.endswith("coverage: 5/12 outcomes, 41.7%")


def test_another_test_completes_the_coverage(small: Path) -> None:
    small.write_text(small.read_text() + textwrap.dedent("""
        test "t3" {
          given {
            x = 9
          }
          expect both = false
          expect either = true
        }

        test "t4" {
          given { x = 0 }
          expect either = false
        }
        """))
    result = report(small)
    # t3: (a) true, (b) false; either: x > 5 true, y not evaluated. t4: both operands false.
    # Only y's true outcome in 'either' is missing.
    assert (result.seen, result.total) == (11, 12)
    assert "(b) y, in both" not in result.render()
    assert f"{small}:14: y, in either: only false" in result.render()


def test_cli_coverage_and_fail_under(small: Path, run_cli) -> None:
    done = run_cli("test", small, "--coverage")
    assert done.returncode == 0, done.stderr
    assert "coverage: 5/12 outcomes, 41.7%" in done.stdout
    assert done.stdout.splitlines()[-1] == "2 passed, 0 failed"
    below = run_cli("test", small, "--coverage", "--fail-under", "50")
    assert below.returncode == 1
    assert "coverage 41.7% is below --fail-under 50%" in below.stdout
    assert run_cli("test", small, "--coverage", "--fail-under", "40").returncode == 0


def test_cli_coverage_json(small: Path, run_cli) -> None:
    done = run_cli("test", small, "--coverage", "--format", "json")
    data = json.loads(done.stdout)["coverage"]
    assert (data["seen"], data["total"]) == (5, 12)
    both = data["conditions"][0]
    assert both["name"] == "both" and both["true"] and both["false"]
    assert [(i["label"], i["true"], i["false"]) for i in both["items"]] == [
        ("(a) x > 1", True, True), ("(b) y", True, False)]


def test_seed_contracts_coverage_is_high() -> None:
    clauses = Path(__file__).resolve().parent.parent / "clauses"
    tracker = coverage.Tracker()
    for suite in testing.discover([clauses]).suites:
        prepared = testing.prepare(suite)
        observer = tracker.observer(prepared)
        for located in prepared.tests:
            assert testing.run_test(prepared, located, observer).passed
    assert tracker.report().percent >= 85
