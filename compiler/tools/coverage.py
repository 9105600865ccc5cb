"""Coverage of an agreement's conditions by its scenario tests.

What counts is what the compiled code did. For every expectation a test evaluates, the
compiled module explains the probed name for the test's facts (`Version.explain`); the
explanation tree mirrors the clause expression node for node, so walking the two together
says which conditions were evaluated, and to what, and which listed items ((a), (b), ...
of `all of` / `any of` / `none of`) and operands of `and` / `or` / `unless` were evaluated
true or false, and which were never reached ("not evaluated: already decided", an item
whose `when` did not apply, a condition no test's probe depends on).

A condition or item is covered when the tests saw it both true and false. The universe is
every condition (every `condition`, and every `define` of type bool) of the versions of the
agreement in force at the tests' dates; conditions the tests never reached count as
uncovered, and are listed with their positions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import attrs

from clausec import ir
from clausec.ir.visit import chain, operands
from clausec.passes.check import CheckedProgram
from clausec.source import SourceFile, Span, snippet
from clausec.tools.testing import Observer, Prepared, version_index

_SKIPPED = ("not evaluated: already decided", "does not apply")
_KEY = tuple[str, int, int, int, int]


def _key(span: Span) -> _KEY:
    return (span.file, span.line, span.column, span.end_line, span.end_column)


@attrs.define
class Point:
    """Something that is true or false: a condition, or an item of one."""

    label: str
    span: Span
    seen: set[bool] = attrs.field(factory=set)

    @property
    def covered(self) -> int:
        """Outcomes seen: 0, 1 or 2 (true and false)."""
        return len(self.seen)


@attrs.define
class Condition(Point):
    name: str = ""
    section: str = ""
    # The agreement's place among those tested, and the file's: the agreement first, then
    # its amendments.
    rank: tuple[int, int] = (0, 0)
    items: list[Point] = attrs.field(factory=list)


@attrs.define
class Tracker:
    """Collects what the tests' probes evaluated."""

    conditions: dict[_KEY, Condition] = attrs.field(factory=dict)
    points: dict[_KEY, Point] = attrs.field(factory=dict)
    agreements: list[str] = attrs.field(factory=list)

    def observer(self, prepared: Prepared, tests: Iterable[Any] | None = None) -> Observer:
        """Register the conditions of the versions the tests of `prepared` run in (all its
        tests, or `tests`), and return what `testing.run_test` calls to record."""
        assert prepared.result is not None and prepared.result.versions is not None
        versions = prepared.result.versions
        located = list(tests) if tests is not None else prepared.tests
        if prepared.name not in self.agreements:
            self.agreements.append(prepared.name)
        for index in sorted({version_index(versions, t.test.as_of) for t in located}):
            self._register(versions[index][1], prepared.sources)
        module = prepared.module

        def observe(index: int, name: str, args: tuple[object, ...], facts: object) -> None:
            assert module is not None
            try:
                explanation = module.VERSIONS[index].explain(name, facts, *args)
            except Exception:  # noqa: BLE001 - an error the test expected: nothing evaluated
                return
            _Walk(self, versions[index][1]).probe(name, explanation)

        return observe

    def _register(self, checked: CheckedProgram, sources: dict[str, SourceFile]) -> None:
        section_of = {name: s for s in checked.program.sections for name in s.declarations}
        for decl in checked.program.declarations:
            if not isinstance(decl, ir.Definition) or checked.types.get(decl.name) is None \
                    or checked.types[decl.name].kind != "bool":
                continue
            key = _key(decl.span)
            if key in self.conditions:
                continue
            section = section_of.get(decl.name)
            label = ir.cite(section.label) if section is not None else \
                ir.cite(decl.section) if decl.section else "(outside sections)"
            rank = (len(self.agreements),
                    list(sources).index(decl.span.file) if decl.span.file in sources else 0)
            condition = Condition(decl.name + (f" ({decl.term})" if decl.term else ""),
                                  decl.span, name=decl.name, section=label, rank=rank)
            for item, label_text in _items(decl.expr, sources):
                point = self.points.setdefault(_key(item), Point(label_text, item))
                condition.items.append(point)
            self.conditions[key] = condition

    def report(self) -> Report:
        return Report(list(self.conditions.values()))


def _items(expr: ir.Expr, sources: dict[str, SourceFile]) -> Iterator[tuple[Span, str]]:
    """The items of a condition: listed items and operands of and/or/unless, nested."""
    if isinstance(expr, ir.ListOp) and expr.kind in ("all", "any", "none"):
        for item in expr.items:
            label = f"{item.label} " if item.label else ""
            yield item.expr.span, label + _snippet(item.expr.span, sources)
            yield from _items(item.expr, sources)
    elif isinstance(expr, ir.Binary) and expr.op in ("and", "or", "unless"):
        for operand in chain(expr, through_unless=False):
            yield operand.span, _snippet(operand.span, sources)
            yield from _items(operand, sources)
    elif isinstance(expr, ir.Not):
        yield from _items(expr.operand, sources)
    elif isinstance(expr, ir.IfThenElse):
        for part in (expr.condition, expr.then, expr.otherwise):
            yield from _items(part, sources)


def _snippet(span: Span, sources: dict[str, SourceFile], limit: int = 60) -> str:
    source = sources.get(span.file)
    return snippet(source.text.split("\n"), span, limit) if source is not None else "..."


class _Walk:
    """Walks an explanation tree beside the clause expressions it explains."""

    def __init__(self, tracker: Tracker, checked: CheckedProgram):
        self.tracker = tracker
        self.checked = checked
        self.decls = checked.declarations

    def probe(self, name: str, node: Any) -> None:
        decl = self.decls.get(name)
        if isinstance(decl, ir.Definition):
            self.definition(decl, node)
        elif isinstance(decl, ir.Obligation):
            self.duty(decl.duty, node.children)
        elif isinstance(decl, ir.Power) and decl.condition is not None and node.children:
            self.expr(decl.condition, node.children[0])

    def duty(self, duty: ir.Duty, nodes: tuple[Any, ...]) -> None:
        parts: list[ir.Expr | None] = [duty.condition, duty.object]
        if duty.deadline is not None:
            parts += [duty.deadline.expr, duty.deadline.after]
        present = [p for p in parts if p is not None]
        for part, node in zip(present, nodes):
            self.expr(part, node)

    def definition(self, decl: ir.Definition, node: Any) -> None:
        self._record(decl.span, node, condition=True)
        exceptions = list(self.checked.exceptions.get(decl.name, ()))
        children = list(node.children)
        if node.note != "decided by an exception" and children:
            self.expr(decl.expr, children[0])
        tests = [c for c in children if str(c.label).startswith("exception ")]
        for exception, test in zip(exceptions, tests):
            if test.children:
                self.expr(exception.condition, test.children[0])

    def expr(self, expr: ir.Expr, node: Any) -> None:
        self._record(expr.span, node)
        children = list(node.children)
        if isinstance(expr, (ir.Name, ir.Call)):
            target = self.decls.get(expr.name)
            if isinstance(target, ir.Definition):
                self.definition(target, node)
                return
        if isinstance(expr, ir.ListOp):
            for item, child in zip(expr.items, children):
                if child.note not in _SKIPPED:
                    self.expr(item.expr, child)
                elif item.when is not None and child.children:
                    self.expr(item.when, child.children[0])
        elif isinstance(expr, ir.Binary) and expr.op in ("and", "or", "unless"):
            for operand, child in zip((expr.left, expr.right), children):
                if child.note not in _SKIPPED:
                    self.expr(operand, child)
        elif isinstance(expr, ir.IfThenElse):
            if len(children) == 2:
                self.expr(expr.condition, children[0])
                self.expr(expr.then if children[0].value else expr.otherwise, children[1])
        else:
            shown = [c for c in operands(expr) if not _literal(c)]
            for sub, child in zip(shown, children):
                self.expr(sub, child)

    def _record(self, span: Span, node: Any, condition: bool = False) -> None:
        if not isinstance(node.value, bool) or node.note in _SKIPPED:
            return
        key = _key(span)
        found = self.tracker.conditions.get(key) if condition else self.tracker.points.get(key)
        if found is not None:
            found.seen.add(node.value)


def _literal(expr: ir.Expr) -> bool:
    """What the explanation leaves out of its children (a literal value)."""
    return isinstance(expr, ir.Literal) or (isinstance(expr, ir.Duration)
                                            and isinstance(expr.amount, ir.Literal))


# --------------------------------------------------------------------- report


@attrs.frozen
class Report:
    conditions: list[Condition]

    @property
    def total(self) -> int:
        """Outcomes to see: true and false of every condition and every item."""
        return sum(2 + 2 * len(c.items) for c in self.conditions)

    @property
    def seen(self) -> int:
        return sum(c.covered + sum(i.covered for i in c.items) for c in self.conditions)

    @property
    def percent(self) -> float:
        return 100.0 * self.seen / self.total if self.total else 100.0

    def _ordered(self) -> list[Condition]:
        """The agreement's conditions in file order, then each amendment's."""
        return sorted(self.conditions, key=lambda c: (c.rank, c.span.line, c.span.column))

    def render(self) -> str:
        """A table per section, what no test reached, what was seen one way only, and the
        total."""
        lines = ["coverage of conditions (true and false seen; items seen both ways):"]
        ordered = self._ordered()
        width = max((len(c.name) for c in ordered), default=0)
        section = None
        for c in ordered:
            if c.section != section:
                section = c.section
                lines.append(f"  {section}")
            items = f"{sum(i.covered == 2 for i in c.items)}/{len(c.items)}" if c.items else "-"
            lines.append(f"    {c.name.ljust(width)}  true: {_mark(True in c.seen):3}  "
                         f"false: {_mark(False in c.seen):3}  items: {items}")
        missing = list(self._not_reached())
        if missing:
            lines.append("not reached:")
            lines.extend(f"  {where}: {what}" for where, what in missing)
        partial = list(self._one_way())
        if partial:
            lines.append("seen one way only:")
            lines.extend(f"  {where}: {what}" for where, what in partial)
        lines.append(f"coverage: {self.seen}/{self.total} outcomes, {self.percent:.1f}%")
        return "\n".join(lines)

    def _not_reached(self) -> Iterator[tuple[str, str]]:
        for c in self._ordered():
            if not c.seen:
                yield f"{c.span.file}:{c.span.line}", f"{c.name} ({c.section})"
                continue
            for item in c.items:
                if not item.seen:
                    yield (f"{item.span.file}:{item.span.line}",
                           f"{item.label}, in {c.name}")

    def _one_way(self) -> Iterator[tuple[str, str]]:
        for c in self._ordered():
            for point, what in [(c, c.name), *((i, f"{i.label}, in {c.name}")
                                               for i in c.items)]:
                if point.covered == 1:
                    value = "true" if True in point.seen else "false"
                    yield f"{point.span.file}:{point.span.line}", f"{what}: only {value}"

    def to_dict(self) -> dict[str, object]:
        return {
            "percent": round(self.percent, 2), "seen": self.seen, "total": self.total,
            "conditions": [
                {"name": c.name, "section": c.section, "file": c.span.file,
                 "line": c.span.line, "true": True in c.seen, "false": False in c.seen,
                 "items": [{"label": i.label, "file": i.span.file, "line": i.span.line,
                            "true": True in i.seen, "false": False in i.seen}
                           for i in c.items]}
                for c in self._ordered()],
        }


def _mark(seen: bool) -> str:
    return "yes" if seen else "no"


