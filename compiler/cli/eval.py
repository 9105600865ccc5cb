"""`clausec eval`: a term, condition, obligation or power on the facts of JSON or CSV
files, and (with --explain) why, as a tree and in words. A period argument (of a
parametrised term, or of a recurring obligation or power) is given as a date inside the
period or its label, and converted by the compiled module."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from clausec import api, ir
from clausec.backends.english import summaries
from clausec.backends.python import codegen
from clausec.cli.common import EXIT_OK, UserError, analyse, load_facts
from clausec.ir import types as T


def run(args: argparse.Namespace) -> int:
    try:
        return _evaluate(args)
    except RecursionError:
        # The compiled module calls a term inside the one it defines, and explains it
        # inside that one's explanation: a chain of terms of the length check allows
        # fits Python's stack, unless the caller already stands deep in it.
        doing = "explain" if args.explain else "evaluate"
        raise UserError(f"{args.name}: defined through too long a chain of terms to {doing} "
                        "here") from None


def _evaluate(args: argparse.Namespace) -> int:
    result = analyse(args.file)
    assert result.versions is not None
    module = api.module_from_source(api.generate(result), result.source.name)
    facts_data = load_facts(args.facts)
    try:
        facts = module.Facts.from_dict(facts_data)
    except module.ClauseError as error:
        raise UserError(str(error)) from None
    # The version in force on --as-of, or now: chosen with the facts, which say whether an
    # amendment effective upon an event has taken effect.
    if args.as_of:
        version = module.at(args.as_of, facts)
    else:
        version = module.current(facts)
    checked = result.versions[module.VERSIONS.index(version)][1]
    decls = checked.declarations
    try:
        target = decls.get(args.name)
        call_args = _arguments(target, args.args, module, decls)
        value = version.evaluate(args.name, facts, *call_args)
        explanation = version.explain(args.name, facts, *call_args) if args.explain else None
    except module.ClauseError as error:
        raise UserError(str(error)) from None
    except (TypeError, ValueError) as error:
        # A period argument that names no period of its family ("2009-Q7"), as the
        # module says when it converts it.
        raise UserError(f"{args.name}: {error}") from None
    kind = _kind(target, checked.types.get(args.name))
    currency = checked.header.currency
    if value is None:
        text = "no value"
    else:
        text = module.format_value(value, kind, currency) if kind else str(value)
    label = "as originally signed" if version.label == "original" else version.label
    # The same reasons in words: which conditions decided, with their sections.
    why = summaries.render_explanation(checked, label, args.name, explanation, value) \
        if explanation is not None else ""
    if args.format == "json":
        out: dict[str, Any] = {"name": args.name, "value": text, "kind": kind,
                               "version": version.label}
        if isinstance(value, (tuple, dict)):  # a list or record: also as JSON data
            out["data"] = _data(value)
        if explanation is not None:
            out["explanation"] = explanation.to_dict()
            # One sentence per entry, unwrapped: for programs, not terminals.
            out["why"] = [" ".join(p.split()) for p in why.split("\n\n") if p.strip()]
        print(json.dumps(out, indent=2))
    else:
        print(f"{args.name}{_call_suffix(args.args)} = {text}")
        if len(module.VERSIONS) > 1:
            print(f"(the agreement {label})")
        if explanation is not None:
            print()
            print(explanation.render())
            print()
            print("Why, in words:")
            print()
            print(why, end="")
    return EXIT_OK


def _data(value: object) -> object:
    """A list or record of the module's values as JSON data: amounts and numbers as
    strings (exact), dates in ISO form."""
    if isinstance(value, dict):
        return {str(k): _data(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_data(v) for v in value]
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def _kind(target: ir.Declaration | None, type_: T.Type | None) -> str:
    if isinstance(target, ir.Obligation):
        return "obligation"
    if isinstance(target, ir.Power):
        return "power"
    return type_.kind if type_ is not None and type_.kind != "error" else ""


def _call_suffix(args: Sequence[str]) -> str:
    return f"({', '.join(args)})" if args else ""


def _parameters(target: ir.Declaration | None) -> tuple[tuple[str, T.Type], ...]:
    """The parameters of what is evaluated: a parametrised term's, or the period of a
    recurring obligation or power."""
    if isinstance(target, ir.Definition):
        return tuple((p.name, p.type) for p in target.params)
    recurrence = getattr(target, "recurrence", None)
    if isinstance(target, (ir.Obligation, ir.Power)) and recurrence is not None:
        return ((recurrence.variable, T.period(recurrence.family)),)
    return ()


def _arguments(target: ir.Declaration | None, raw: Sequence[str], module: Any,
               checked_decls: Mapping[str, ir.Declaration]) -> list[Any]:
    params = _parameters(target)
    if len(raw) != len(params):
        names = ", ".join(_describe(name, type_) for name, type_ in params) or "no arguments"
        raise UserError(f"{getattr(target, 'name', 'this name')} takes {len(params)} "
                        f"argument(s) ({names}), got {len(raw)}")
    converted: list[Any] = []
    for value, (name, type_) in zip(raw, params):
        if type_.kind == "period":
            # A date inside the period or its label ("2009-Q1"): the module converts it.
            converted.append(value)
            continue
        if type_.kind in ("record", "list", "share"):
            raise UserError(f"'{name}' is a {type_}: give it in a facts file, not on the "
                            "command line")
        if type_.kind == "choice":
            choice = checked_decls.get(type_.name or "")
            members = tuple(m.name for m in choice.members) \
                if isinstance(choice, ir.Choice) else ()
            converted.append(module._as_choice(name, value, members))
            continue
        converter = getattr(module, codegen.converter_name(type_.kind))
        extra: tuple[Any, ...] = ()
        if type_.kind == "party":
            extra = (module._PARTY_NAMES,)
        elif type_.kind == "money":
            extra = (type_.currency or module.AGREEMENT["currency"],)
        converted.append(converter(name, value, *extra))
    return converted


def _describe(name: str, type_: T.Type) -> str:
    """A parameter as the usage message shows it: `q: a royalty quarter, as a date in it
    or its label`."""
    if type_.kind == "period" and type_.family:
        family = ir.family_display(type_.family)
        article = "an" if family[0] in "aeiou" else "a"
        return f"{name}: {article} {family}, as a date in it or its label"
    return name
