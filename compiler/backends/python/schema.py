"""A JSON Schema of an agreement's facts, for applications that validate their inputs."""

from __future__ import annotations

from typing import Any

from clausec import ir
from clausec.ir import types as T
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


def _series(value: dict[str, Any], fact: ir.Fact) -> dict[str, Any]:
    """The schema of a series fact: a mapping from the names of periods (a date inside
    each, or its label) to values, or a list of {"period": ..., "value": ...}."""
    item = {k: v for k, v in value.items() if k not in ("description", "default")}
    if isinstance(item.get("type"), list) and "null" in item["type"]:
        item["type"] = [t for t in item["type"] if t != "null"]
    family = ir.family_display(fact.per or "")
    series: dict[str, Any] = {
        "oneOf": [
            {"type": "object", "additionalProperties": item,
             "propertyNames": {"minLength": 1}},
            {"type": "array", "items": {
                "type": "object", "required": ["period", "value"],
                "additionalProperties": False,
                "properties": {"period": {"type": "string"}, "value": item}}},
        ],
        "$comment": f"one value per {family}: each named by a date inside the period "
                    "(2009-03-31) or by its label (2009-Q1)",
    }
    if "description" in value:
        series["description"] = value["description"]
    if fact.type.optional and fact.default is None:
        series["oneOf"].append({"type": "null"})
    if "default" in value:
        series["$comment"] += f"; {value['default']!r} for a period not given"
    return series


def _type_schema(type_: T.Type, checked: CheckedProgram) -> dict[str, Any]:
    """The schema of one value of a type: a party's or a choice member's name, a record
    (an object of its fields), a list (an array), or a plain value."""
    decls = checked.declarations
    if type_.kind == "party":
        return {"enum": [p.name for p in checked.header.parties]}
    if type_.kind == "choice":
        choice = decls.get(type_.name or "")
        members = choice.members if isinstance(choice, ir.Choice) else ()
        return {"enum": [m.name for m in members],
                "$comment": "; ".join(f"{m.name}: {m.display}" for m in members)}
    if type_.kind == "record":
        record = decls.get(type_.name or "")
        fields = record.fields if isinstance(record, (ir.Record, ir.Table)) else ()
        properties = {}
        for f in fields:
            prop = _type_schema(f.type, checked)
            if f.term:
                prop["description"] = f.term
            if f.constraint is not None:
                prop["$comment"] = f"the agreement requires: {_source(f.constraint)}"
            properties[f.name] = prop
        return {"type": "object", "properties": properties,
                "required": [f.name for f in fields], "additionalProperties": False}
    if type_.kind == "list":
        return {"type": "array", "items": _type_schema(type_.element or T.ERROR, checked)}
    return dict(_KINDS.get(type_.kind, {}))


def _source(expr: ir.Expr) -> str:
    """A fact's constraint in words, for the schema's comment: comparisons with literal
    values and their 'and'/'or' as the clause file wrote them, anything else by a name."""
    if isinstance(expr, ir.Binary) and expr.op in ("and", "or"):
        return f"{_source(expr.left)} {expr.op} {_source(expr.right)}"
    if isinstance(expr, ir.Compare):
        sides = []
        for side in (expr.left, expr.right):
            if isinstance(side, ir.Name):
                sides.append(side.name)
            elif isinstance(side, ir.Literal):
                sides.append(side.text or str(side.value))
            else:
                return "a condition on its value (see the clause file)"
        return f"{sides[0]} {expr.words or expr.op} {sides[1]}"
    return "a condition on its value (see the clause file)"


def facts_schema(checked: CheckedProgram) -> dict[str, Any]:
    header = checked.header
    properties: dict[str, Any] = {}
    required: list[str] = []
    for fact in checked.program.declarations:
        if not isinstance(fact, ir.Fact):
            continue
        kind = fact.type.kind
        prop = _type_schema(fact.type, checked)
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
            words.append(f"({ir.cite(fact.section)})")
        if words:
            prop["description"] = " ".join(words)
        if fact.default is not None:
            prop["default"] = _json_default(fact.default, kind)
        if fact.constraint is not None:
            prop["$comment"] = (prop.get("$comment", "") + "; " if "$comment" in prop else "") \
                + f"the agreement requires: {_source(fact.constraint)}"
        if fact.per is not None:
            prop = _series(prop, fact)
        properties[fact.name] = prop
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Facts of the {header.title}",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
