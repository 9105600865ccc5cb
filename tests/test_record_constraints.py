"""A record field's `where` (`principal: money where principal >= $0`): checked where the
record is declared, enforced for every record read from the facts by the compiled module
and the interpreter alike, shown by the schema, the summaries and the formatter, and
respected by the searches of `verify` and `diff`."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from clausec import api, cli
from clausec.analysis import factgen, search, semdiff, verify
from clausec.backends.interpret import interpret
from clausec.backends.python import runtime
from clausec.backends.python.schema import facts_schema
from clausec.source import SourceFile
from clausec.tools import formatter

HEADER = """
agreement loans "Loans" {
  dated 2024-01-01
  party agent "Administrative Agent"
}
"""

LENDERS = """
section 1 "Lenders" {
  text "Each Lender's principal is not negative, and its rate at most 100%."
  record lender "Lender" {
    name: text
    principal: money where principal >= $0
    rate: percent where rate <= 100%
  }
  fact lenders "Lenders": list of lender
  fact main "Lead Lender": lender optional
  define lent "Lent" = sum of [l.principal for each l in lenders]
}
"""


def result_of(text: str) -> api.Result:
    result = api.analyse(SourceFile("loans.clause", HEADER + text))
    assert result.ok, [d.message for d in result.diagnostics]
    return result


def errors_of(text: str) -> list[str]:
    result = api.analyse(SourceFile("loans.clause", HEADER + text))
    return [d.message for d in result.diagnostics if d.severity == "error"]


def lender(principal: str, rate: str = "1%", name: str = "A") -> dict[str, str]:
    return {"name": name, "principal": principal, "rate": rate}


# ------------------------------------------------------------------------ checker


def test_a_field_where_may_use_only_its_field() -> None:
    # Another field of the record is not in scope: a field's rule is about its own value.
    bad = LENDERS.replace("where principal >= $0", "where principal >= $0 and rate > 0%")
    assert len(errors_of(bad)) == 1 and "'rate'" in errors_of(bad)[0]


def test_a_field_where_must_be_a_condition() -> None:
    bad = LENDERS.replace("where principal >= $0", "where principal + $1")
    assert any("a field's 'where' must be true or false" in e for e in errors_of(bad))


def test_a_field_where_names_no_other_declaration() -> None:
    bad = LENDERS.replace("where principal >= $0", "where principal >= lent")
    assert any("may use only the field itself, not 'lent'" in e for e in errors_of(bad))


def test_a_table_column_takes_no_where() -> None:
    table = """
section 2 "Schedule" {
  table steps "Step-Down" {
    | year: integer where year > 0 | cap: money |
    | 1                            | $5       |
  }
}
"""
    assert any("a table's column takes no 'where'" in e for e in errors_of(table))


# ------------------------------------------------------------ the compiled module


def test_the_module_and_the_interpreter_refuse_a_field_its_where_refuses() -> None:
    result = result_of(LENDERS)
    module = semdiff.compiled(result)
    interpreter = interpret(result)
    good = {"lenders": [lender("$5"), lender("$7", name="B")]}
    assert module.evaluate("lent", module.Facts.from_dict(good)) == Decimal(12)
    assert interpreter.evaluate("lent", good) == Decimal(12)
    for facts, path, rule in [
        ({"lenders": [lender("$5"), lender("-$1", name="B")]}, "lenders[1].principal",
         "principal >= $0"),
        ({"lenders": [lender("$5", rate="101%")]}, "lenders[0].rate", "rate <= 100%"),
        ({"lenders": [], "main": lender("-$0.01")}, "main.principal", "principal >= $0"),
    ]:
        with pytest.raises(module.FactError) as compiled:
            module.Facts.from_dict(facts)
        with pytest.raises(runtime.FactError) as interpreted:
            interpreter.evaluate("lent", facts)
        assert compiled.value.fact == interpreted.value.fact == path
        assert str(compiled.value) == str(interpreted.value)
        assert f"the agreement requires {rule}" in str(compiled.value)


def test_the_cli_reports_the_item_and_field(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    clause = tmp_path / "loans.clause"
    clause.write_text(HEADER + LENDERS)
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({"lenders": [lender("$5"), lender("-5", name="B")]}))
    assert cli.main(["eval", str(clause), "lent", "--facts", str(facts)]) != 0
    err = capsys.readouterr().err
    assert "lenders[1].principal" in err and "principal >= $0" in err
    assert "Traceback" not in err


# ------------------------------------------------------------------ the consumers


def test_the_schema_says_each_fields_rule() -> None:
    checked = result_of(LENDERS).checked
    assert checked is not None
    item = facts_schema(checked)["properties"]["lenders"]["items"]
    assert item["properties"]["principal"]["$comment"] == \
        "the agreement requires: principal >= $0"
    assert item["properties"]["rate"]["$comment"] == "the agreement requires: rate <= 100%"
    assert "$comment" not in item["properties"]["name"]


def test_the_summary_says_each_fields_rule(tmp_path: Path) -> None:
    clause = tmp_path / "loans.clause"
    clause.write_text(HEADER + LENDERS)
    out = tmp_path / "summary.md"
    assert cli.main(["summarize", str(clause), "-o", str(out)]) == 0
    text = out.read_text()
    assert ("Each “Lender” has: name (a text); principal (an amount of money, which cannot "
            "be negative); and rate (a percentage, which must be at most 100%).") in text
    assert ("a list of Lenders, each with: name (a text); principal (an amount of money); "
            "rate (a percentage); each principal cannot be negative and each rate must be "
            "at most 100%.") in text


def test_the_formatter_lays_out_a_field_where() -> None:
    messy = (HEADER + LENDERS).replace("principal: money where principal >= $0",
                                       "principal :money   where principal>=$0")
    formatted = formatter.format_text(messy)
    assert "    principal: money where principal >= $0\n" in formatted
    assert formatter.format_text(formatted) == formatted


# ---------------------------------------------------------- verify and the search


SEARCHED = LENDERS.replace("  define lent", """  invariant covered "Nothing lent is negative" = lent >= $0
  define lent""")


def test_the_search_draws_only_records_the_fields_allow() -> None:
    result = result_of(SEARCHED)
    checked = result.checked
    assert checked is not None
    module = semdiff.compiled(result)
    allowed = search.Allowed([module], [checked])
    assert not allowed("lenders", [lender("-1")]) and allowed("lenders", [lender("1")])
    drawn: list[dict[str, Any]] = []
    strategy = factgen.facts_strategy(checked, allowed=allowed)
    factgen.find(strategy, lambda d: bool(drawn.append(d)) and False, 100, seed=1)
    items = [item for data in drawn for item in data.get("lenders", [])]
    assert len(items) > 50
    assert all(item["principal"] >= 0 and item["rate"] <= 1 for item in items)


def test_verify_finds_no_negative_principal_the_field_refuses() -> None:
    def outcome(text: str) -> verify.Outcome:
        found = {o.invariant: o for o in verify.verify(result_of(text), examples=200,
                                                       timeout=5)}
        return found["covered"]

    held = outcome(SEARCHED)
    assert held.status == "passed", held
    broken = outcome(SEARCHED.replace(" where principal >= $0", ""))
    assert broken.status == "failed" and broken.facts is not None
    assert any(Decimal(item["principal"]) < 0 for item in broken.facts["lenders"])
