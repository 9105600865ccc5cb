"""One way to walk the IR and one way to do something different per node kind.

Every pass and backend that treats node kinds differently (the checker, the Python
generator, the interpreter, the z3 translator) subclasses `Visitor`: it names the node
classes it handles in `visits` and writes one method per kind, `_<kind>` (the class name
in lower case: `_binary`, `_listop`, `_exception`). `Visitor.missing()` lists the kinds a
visitor has no method for, and a test requires it to be empty for every visitor in the
package, so adding a node kind to the IR is a checklist the test suite reads out, not an
`AttributeError` at run time. The English backend's visitor is its template of macros
(english.j2, one macro per kind): the same test reads it.

The helpers below (`operands`, `subexpressions`, `chain`) are the only walks of
expressions; `ir.walk` visits everything, declarations included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar, cast, get_args

import attrs

from clausec import ir
from clausec.ir.types import Type


def _concrete(base: type) -> tuple[type, ...]:
    found: list[type] = []
    stack: list[type] = list(base.__subclasses__())
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return tuple(sorted(found, key=lambda c: c.__name__))


# Every kind of expression and of declaration, in name order.
EXPRESSIONS: tuple[type[ir.Expr], ...] = _concrete(ir.Expr)
DECLARATIONS: tuple[type, ...] = tuple(sorted(get_args(ir.Declaration), key=lambda c: c.__name__))

# Operations computed from all their operands, so that an operand with no value gives the
# operation no value where the contract allows it ("10 days after X" before X happened).
LIFTABLE: tuple[type[ir.Expr], ...] = (ir.Binary, ir.Negate, ir.Shift, ir.Duration,
                                       ir.CloseOfBusiness, ir.Call, ir.PeriodOf, ir.PeriodOp,
                                       ir.BusinessDayOf)


def kind(node_class: type) -> str:
    """The name of a node kind as handlers spell it: `Binary` → "binary", `Exception_` →
    "exception"."""
    return node_class.__name__.lower().rstrip("_")


class Visitor:
    """Dispatch on the class of an IR node to the subclass's method `_<kind>`."""

    visits: ClassVar[tuple[type, ...]] = EXPRESSIONS
    _handlers: ClassVar[dict[type, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._handlers = {node: f"_{kind(node)}" for node in cls.visits
                         if callable(getattr(cls, f"_{kind(node)}", None))}

    @classmethod
    def missing(cls) -> list[str]:
        """The node kinds this visitor says it visits but has no method for."""
        return [node.__name__ for node in cls.visits if node not in cls._handlers]

    def handler(self, node: object) -> Callable[..., Any]:
        """The method for `node`'s kind, bound to this visitor."""
        name = self._handlers.get(type(node))
        if name is None:
            raise TypeError(f"{type(self).__name__} does not handle {type(node).__name__}")
        method: Callable[..., Any] = getattr(self, name)
        return method


def operands(e: ir.Expr) -> list[ir.Expr]:
    """The operands an operation is computed from, in source order: all of them are
    evaluated, so an operation of `LIFTABLE` has no value when one of them has none. The
    parts of `if … then … else` and of listed items are evaluated one by one and are not
    operands."""
    if isinstance(e, ir.Call):
        return list(e.args)
    if isinstance(e, (ir.Not, ir.Negate, ir.IsGiven)):
        return [e.operand]
    if isinstance(e, (ir.Binary, ir.Compare)):
        return [e.left, e.right]
    if isinstance(e, ir.Duration):
        return [e.amount]
    if isinstance(e, ir.Shift):
        return [e.amount, e.base]
    if isinstance(e, ir.CloseOfBusiness):
        return [e.day]
    if isinstance(e, ir.PeriodOf):
        return [e.day]
    if isinstance(e, (ir.PeriodOp, ir.Field)):
        return [e.operand]
    if isinstance(e, ir.BusinessDayOf):
        return [e.period]
    if isinstance(e, (ir.Late, ir.InForce)):
        return [e.operand, e.on]
    if isinstance(e, ir.Each):
        return bounds(e.range)
    if isinstance(e, ir.ListOf):
        return list(e.items)
    if isinstance(e, ir.Case):
        return [e.subject]
    if isinstance(e, (ir.ForEach, ir.Aggregate)):
        return [e.source]
    if isinstance(e, ir.Allocate):
        return [e.amount, e.source]
    if isinstance(e, ir.PresentValue):
        return [e.source, e.rate, e.on]  # the amounts and dates are the items'

    return []  # Literal, Name, Nothing; When and IfThenElse evaluate their parts in turn


def bounds(r: ir.Range) -> list[ir.Expr]:
    """The expressions that bound a range of periods, in source order."""
    return [x for x in (r.start, r.end) if x is not None]


def subexpressions(e: ir.Expr) -> list[ir.Expr]:
    """Every direct subexpression, in source order (an item's guard after the item)."""
    if isinstance(e, ir.IfThenElse):
        return [e.condition, e.then, e.otherwise]
    if isinstance(e, ir.ListOp):
        return [x for item in e.items for x in (item.expr, item.when) if x is not None]
    if isinstance(e, ir.Each):
        return [e.body, *bounds(e.range), *([e.when] if e.when is not None else [])]
    if isinstance(e, ir.When):
        return [e.value, e.condition]
    if isinstance(e, ir.Case):
        return [e.subject, *(arm.value for arm in e.arms)]
    if isinstance(e, ir.ForEach):
        return [e.body, e.source, *([e.when] if e.when is not None else [])]
    if isinstance(e, ir.PresentValue):
        return [e.amount, e.day, e.source, *([e.when] if e.when is not None else []), e.rate,
                e.on]
    return operands(e)


def expressions(e: ir.Expr) -> Iterator[ir.Expr]:
    """`e` and every expression below it, depth first in source order, without recursion
    (expressions may be deep)."""
    stack = [e]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(subexpressions(current)))


def chain(node: ir.Binary, *, through_unless: bool = True) -> list[ir.Expr]:
    """The operands of `A and B and C` (a nested chain of one operator) as the list it
    reads as. `A unless B unless C` is a chain to a reader of English but not to coverage,
    which counts each exception to an exception as an item of its own: hence the flag."""
    flat: list[ir.Expr] = []
    stack: list[ir.Expr] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ir.Binary) and current.op == node.op and \
                (current is node or through_unless or node.op != "unless"):
            stack.extend([current.right, current.left])
        else:
            flat.append(current)
    return flat


# ------------------------------------------------------------ logic

_IGNORED = frozenset({"span", "type", "term", "description", "section", "text", "words",
                      "label"})


def shape(node: object) -> object:
    """A node as nested tuples of what matters to its logic: not its position, wording
    (terms, descriptions, a literal's spelling, "is at least" for >=), item labels, nor
    the section it sits in."""
    if isinstance(node, (tuple, list)):
        return tuple(shape(n) for n in node)
    if isinstance(node, Type):
        return (node.kind, node.currency, node.optional, node.calendar, node.family,
                node.name, shape(node.element))
    if attrs.has(type(node)):
        cls = cast("type[attrs.AttrsInstance]", type(node))
        return (cls.__name__, *(shape(getattr(node, f.name)) for f in attrs.fields(cls)
                                if f.name not in _IGNORED))
    return node
