"""Every pass and backend handles every kind of IR node.

A new kind of expression or declaration is a checklist: this test names each visitor (the
checker, the Python generator, the interpreter, the z3 translator) and each macro of the
English template that lacks a handler for it.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from datetime import date
from pathlib import Path

import attrs
import pytest

import clausec
from clausec import ir
from clausec.ir import visit
from clausec.source import Span

SPAN = Span("t.clause", 1, 1, 1, 2)


def _visitors() -> dict[str, type[visit.Visitor]]:
    for info in pkgutil.walk_packages(clausec.__path__, "clausec."):
        if not info.name.endswith("__main__"):  # running it would run the CLI
            importlib.import_module(info.name)
    found: dict[str, type[visit.Visitor]] = {}
    stack = list(visit.Visitor.__subclasses__())
    while stack:
        cls = stack.pop()
        found[f"{cls.__module__}.{cls.__qualname__}"] = cls
        stack.extend(cls.__subclasses__())
    return found


VISITORS = _visitors()


def test_the_passes_and_backends_are_visitors() -> None:
    modules = {cls.__module__ for cls in VISITORS.values()}
    assert {"clausec.passes.check", "clausec.backends.python.codegen",
            "clausec.backends.interpret", "clausec.backends.smt"} <= modules


@pytest.mark.parametrize("name", sorted(VISITORS))
def test_every_visitor_handles_every_kind_it_visits(name: str) -> None:
    cls = VISITORS[name]
    assert set(visit.EXPRESSIONS) <= set(cls.visits), f"{name} does not visit every expression"
    assert not cls.missing(), f"{name} has no method for: {', '.join(cls.missing())}"


def test_the_english_template_has_a_macro_for_every_kind() -> None:
    template = Path(clausec.__file__).parent / "backends" / "english" / "templates" / "english.j2"
    text = template.read_text(encoding="utf-8")
    macros = set(re.findall(r"macro (\w+)\(", text))
    table = text[text.index("set kinds = {"):]
    listed = dict(re.findall(r'"(\w+)": (\w+)', table[:table.index("}")]))
    for kind in (*visit.EXPRESSIONS, *visit.DECLARATIONS):
        assert kind.__name__ in macros, f"english.j2 has no macro for {kind.__name__}"
        assert listed.get(kind.__name__) == kind.__name__, \
            f"english.j2's `kinds` does not list {kind.__name__}"


def test_a_visitor_without_a_handler_is_reported_and_refuses_the_node() -> None:
    class Partial(visit.Visitor):
        def _literal(self, e: ir.Literal) -> object:
            return e.value

    assert "Literal" not in Partial.missing()
    assert "Binary" in Partial.missing()
    assert Partial().handler(ir.Literal(1, span=SPAN))(ir.Literal(1, span=SPAN)) == 1
    with pytest.raises(TypeError, match="Partial does not handle Name"):
        Partial().handler(ir.Name("x", span=SPAN))


def _sample(cls: type) -> tuple[object, list[ir.Expr]]:
    """An instance of an expression class whose subexpressions are distinct literals, and
    those literals in source order."""
    placed: list[ir.Expr] = []

    def literal() -> ir.Literal:
        lit = ir.Literal(len(placed), span=SPAN)
        placed.append(lit)
        return lit

    values: dict[str, object] = {}
    for field in attrs.fields(cls):
        annotation = str(field.type)
        if field.name in ("span", "type") or field.default is not attrs.NOTHING and \
                "Expr" not in annotation:
            continue
        if annotation == "Range":
            # `for each calendar quarter q from START through END`: its bounds are
            # subexpressions where the range is written (after the item of an Each).
            values[field.name] = ir.Range("calendar_quarter", "q", "through", literal(),
                                          literal(), span=SPAN)
        elif "tuple[Arm" in annotation:
            values[field.name] = (ir.Arm(("a",), literal(), SPAN), ir.Arm((), literal(), SPAN))
        elif "tuple[Item" in annotation:
            first = ir.Item("(a)", literal(), literal(), span=SPAN)
            values[field.name] = (first, ir.Item("(b)", literal(), None, span=SPAN))
        elif "tuple[Expr" in annotation:
            values[field.name] = (literal(), literal())
        elif "Expr" in annotation:
            values[field.name] = literal()
        elif "bool" in annotation:
            values[field.name] = False
        elif "date" in annotation:
            values[field.name] = date(2025, 1, 1)
        else:
            values[field.name] = "x"
    return cls(**values, span=SPAN), placed


@pytest.mark.parametrize("kind", visit.EXPRESSIONS, ids=lambda k: k.__name__)
def test_subexpressions_are_every_expression_field_in_source_order(kind: type) -> None:
    node, placed = _sample(kind)
    assert [id(e) for e in visit.subexpressions(node)] == [id(e) for e in placed]  # type: ignore[arg-type]
    assert list(visit.expressions(node))[1:] == placed  # type: ignore[arg-type]
    # the operands an operation is computed from are some of them, in the same order
    ops = [id(e) for e in visit.operands(node)]  # type: ignore[arg-type]
    assert ops == [i for i in map(id, placed) if i in ops]


def test_a_chain_reads_as_its_operands() -> None:
    a, b, c = (ir.Name(n, span=SPAN) for n in "abc")
    conj = ir.Binary("and", ir.Binary("and", a, b, span=SPAN), c, span=SPAN)
    assert visit.chain(conj) == [a, b, c]
    unless = ir.Binary("unless", ir.Binary("unless", a, b, span=SPAN), c, span=SPAN)
    assert visit.chain(unless) == [a, b, c]
    assert visit.chain(unless, through_unless=False) == [unless.left, c]


def test_consolidation_handles_every_kind_of_amendment_operation() -> None:
    from clausec.passes import consolidate

    appliers = [c for c in vars(consolidate).values()
                if isinstance(c, type) and callable(getattr(c, "apply", None))
                and hasattr(c, "_replace")]
    assert appliers
    for kind in ir.OPERATION_KINDS:
        assert all(callable(getattr(c, f"_{kind}", None)) for c in appliers), kind
