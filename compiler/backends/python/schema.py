"""A JSON Schema of an agreement's facts, for applications that validate their inputs."""

from __future__ import annotations

from typing import Any

from clausec import ir
from clausec.passes.check import CheckedProgram

_NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"
_MONEY = r"^(-?\$?|[A-Z]{3} ?-?)[0-9]{1,3}(,?[0-9]{3})*(\.[0-9]+)?( ?[A-Z]{3})?$"
_PERCENT = r"^-?[0-9]+(\.[0-9]+)? ?%$"

_KINDS: dict[str, dict[str, Any]] = {
    "bool": {"type": "boolean"},
    "integer": {"type": "integer"},
    "decimal": {"type": ["number", "string"], "pattern": _NUMBER},
    "money": {"type": ["number", "string"], "pattern": _MONEY},
    "percent": {
        "type": ["number", "string"], "pattern": _PERCENT,
        "$comment": "a string such as \"15%\", or a number that is the fraction (0.15)",
    },
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time",
                 "$comment": "with a UTC offset: 2011-06-14T17:00:00-04:00"},
    "days": {"type": "integer", "minimum": 0},
    "business_days": {"type": "integer", "minimum": 0},
    "months": {"type": "integer", "minimum": 0,
               "$comment": "a number of months (a number of years times 12)"},
    "text": {"type": "string"},
}


def _json_default(expr: ir.Expr, kind: str) -> Any:
    """A fact's default as the facts file would write it."""
    if isinstance(expr, ir.Negate):
        value = _json_default(expr.operand, kind)
        return f"-{value}" if isinstance(value, str) else -value
    if isinstance(expr, ir.Duration):
        amount = _json_default(expr.amount, "integer")
        return amount * expr.per_unit
    if isinstance(expr, ir.Name):  # a party
        return expr.name
    assert isinstance(expr, ir.Literal)
    value = expr.value
    if kind == "percent":
        return f"{value * 100:f}".rstrip("0").rstrip(".") + "%"  # type: ignore[operator]
    if kind in ("bool", "integer", "days", "business_days", "months"):
        return value
    if kind in ("date", "datetime"):
        return value.isoformat()  # type: ignore[union-attr]
    return str(value)


def facts_schema(checked: CheckedProgram) -> dict[str, Any]:
    header = checked.header
    properties: dict[str, Any] = {}
    required: list[str] = []
    for fact in checked.program.declarations:
        if not isinstance(fact, ir.Fact):
            continue
        kind = fact.type.kind
        if kind == "party":
            prop: dict[str, Any] = {"enum": [p.name for p in header.parties]}
        else:
            prop = dict(_KINDS[kind])
        if fact.type.optional or fact.default is not None:
            if "enum" in prop:
                prop["enum"] = prop["enum"] + [None]
            else:
                types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
                prop["type"] = types + ["null"]
        else:
            required.append(fact.name)
        words = [w for w in (fact.term, fact.description) if w]
        if fact.section:
            words.append(f"(Section {fact.section})")
        if words:
            prop["description"] = " ".join(words)
        if fact.default is not None:
            prop["default"] = _json_default(fact.default, kind)
        properties[fact.name] = prop
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Facts of the {header.title}",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
