"""Property-based tests of the compiler (hypothesis).

- The front end never raises, whatever the text, and puts every diagnostic inside the file.
- Mutated contracts never make the command line fail with an internal error.
- Compiled arithmetic, logic and list operations agree with a reference evaluation in
  Python (exact fractions, with the README's rules for division, powers and rounding:
  tests/exact_reference.py).
- Compiled date shifts agree with a plain business-day reference built on the `holidays`
  package (U.S. federal holidays as observed).
- Money literals written with thousands separators are exact.
"""

from __future__ import annotations

import contextlib
import io
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from exact_reference import reference_power, reference_quotient, reference_round
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from clausec import api, cli
from clausec.front.parser import keywords
from clausec.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "data" / "all_constructs.clause"
BASES = [FIXTURE, *sorted((ROOT / "clauses").rglob("*.clause"))]
BASE_TEXTS = {p.name: SourceFile.read(p).text for p in BASES}

FAST = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
MEDIUM = settings(max_examples=100, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SLOW = settings(max_examples=15, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ---------------------------------------------------------------------------
# The front end never raises
# ---------------------------------------------------------------------------

PUNCTUATION = ["{", "}", "(", ")", "[", "]", ",", ";", ":", "=", "+", "-", "*", "/", "^",
               "==", "!=", "<", "<=", ">", ">=", '"', '"""', "#", "$", "%", ".", "'", "\\"]
LITERALS = [
    "0", "1", "42", "27_037_814", "2.5", "15%", "7.5 %", "$1,800,000", "$.01", "$",
    "USD 5", "EUR 10.50", "2004-03-30", "2004-02-30", "0000-01-01", "9999-12-31",
    "March 30, 2004", "February 30, 2004", "2011-06-14 5:00 PM America/New_York",
    "2011-06-14 17:00", "2011-06-14 99:99", "2011-06-14 17:00 Nowhere/Land", "5:00 P.M.",
    "25:00", "America/New_York", "Not/AZone", "UTC", '"text"', '"a \\" b"',
    '"""block\n"""', "(a)", "(ii)", "(A)", "(12)", "3.1", "1(d)", "11(a)(ii)", "(ll)", "USD",
    "x", "y", "price", "seller", "buyer", "_hidden", "year", "round", "days_between",
]
TOKENS = sorted(keywords()) + PUNCTUATION + LITERALS

token_soup = st.lists(
    st.tuples(st.sampled_from(TOKENS), st.sampled_from([" ", " ", "\n", "", "  ", "\t"])),
    max_size=60,
).map(lambda pairs: "".join(token + sep for token, sep in pairs))

any_text = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=300).map(lambda b: b.decode("utf-8", errors="replace")),
    token_soup,
    st.text(alphabet=st.sampled_from("{}()[]\"#$%:;=,.\n 0123456789abcdefxyz_-+*/^<>!"),
            max_size=200),
)


def _assert_well_placed(source: SourceFile) -> api.Result:
    """Analyse `source` (which must not raise); every diagnostic points into the file."""
    result = api.analyse(source)
    lines = source.text.split("\n")
    for diagnostic in result.diagnostics:
        spans = [diagnostic.span] + [r.span for r in diagnostic.related]
        for span in spans:
            assert span.file == source.name, diagnostic
            assert 1 <= span.line <= len(lines), (diagnostic, len(lines))
            assert 1 <= span.column <= len(lines[span.line - 1]) + 1, \
                (diagnostic, lines[span.line - 1])
        diagnostic.render({source.name: source})  # must not raise either
        diagnostic.to_dict()
    if result.checked is None:
        assert any(d.severity == "error" for d in result.diagnostics)
    return result


# Inputs that once made the front end raise instead of reporting a diagnostic.
_CRASHERS = [
    # An integer literal longer than Python's int() accepts from a string.
    "define x: integer = " + "9" * 5000 + "\n",
    # An unknown time zone in the header, then a date and time without a zone.
    'agreement a "A" {\n  time zone Nowhere/Land\n}\ndefine x: datetime = 2004-01-01 10:00\n',
    'agreement a "A" {\n  time zone America/Argentina\n}\ndefine x = 2004-01-01 10:00\n',
]


@pytest.mark.parametrize("text", _CRASHERS, ids=["long-integer", "bad-zone", "zone-directory"])
def test_inputs_that_crashed_the_front_end(text: str) -> None:
    _assert_well_placed(SourceFile("f.clause", text))


@FAST
@given(any_text)
@example("")
@example("\n\n\n")
@example('section 1 { text """')
@example("define x = " + "(" * 3000 + "1" + ")" * 3000)
@example("condition x = " + "not " * 3000 + "true")
def test_analyse_never_raises_and_places_every_diagnostic_in_the_file(text: str) -> None:
    _assert_well_placed(SourceFile("f.clause", text))


# ---------------------------------------------------------------------------
# Mutated contracts
# ---------------------------------------------------------------------------

_TOKEN = re.compile(r"\s+|[A-Za-z_][A-Za-z0-9_]*|[0-9][0-9_.,]*|\"\"\"|.", re.DOTALL)
_INSERTABLE = sorted(keywords()) + PUNCTUATION + ["x", "1", '"s"', "\n", "(a)", "2004-01-01"]


@st.composite
def mutated_files(draw: st.DrawFn) -> tuple[str, str]:
    name = draw(st.sampled_from(sorted(BASE_TEXTS)))
    text = BASE_TEXTS[name]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["char", "line", "token", "duplicate", "swap", "insert"]))
        lines = text.split("\n")
        if kind == "char" and text:
            i = draw(st.integers(0, len(text) - 1))
            text = text[:i] + text[i + 1:]
        elif kind == "line":
            i = draw(st.integers(0, len(lines) - 1))
            text = "\n".join(lines[:i] + lines[i + 1:])
        elif kind == "token":
            tokens = [m.span() for m in _TOKEN.finditer(text) if not m.group(0).isspace()]
            if tokens:
                a, b = draw(st.sampled_from(tokens))
                text = text[:a] + text[b:]
        elif kind == "duplicate":
            i = draw(st.integers(0, len(lines) - 1))
            text = "\n".join(lines[:i + 1] + lines[i:])
        elif kind == "swap":
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        else:
            i = draw(st.integers(0, len(text)))
            word = draw(st.sampled_from(_INSERTABLE))
            text = text[:i] + " " + word + " " + text[i:]
    return name, text


@MEDIUM
@given(mutated_files())
def test_mutated_contracts_never_crash_the_front_end(case: tuple[str, str]) -> None:
    name, text = case
    _assert_well_placed(SourceFile(name, text))


@SLOW
@given(mutated_files())
def test_mutated_contracts_never_crash_the_command_line(case: tuple[str, str]) -> None:
    name, text = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(text, encoding="utf-8")
        out = Path(tmp) / "out"
        streams = io.StringIO()
        with contextlib.redirect_stderr(streams), contextlib.redirect_stdout(streams):
            checked = cli.main(["check", str(path)])
            compiled = cli.main(["compile", str(path), "-o", str(out)])
        assert checked in (0, 1), streams.getvalue()
        assert compiled in (0, 1), streams.getvalue()
        assert "internal error" not in streams.getvalue()
        assert (checked == 0) == (compiled == 0), streams.getvalue()
        if compiled == 0:
            code = (out / (path.stem + ".py")).read_text(encoding="utf-8")
            compile(code, str(out), "exec")  # valid Python


# ---------------------------------------------------------------------------
# Expressions: the compiled module agrees with a reference evaluation
# ---------------------------------------------------------------------------

NUMERIC = ("integer", "decimal", "percent")
DECIMAL_KINDS = ("decimal", "percent", "money")
FACTS = {  # name -> kind
    "i1": "integer", "i2": "integer", "d1": "decimal", "p1": "percent",
    "m1": "money", "m2": "money", "b1": "bool", "b2": "bool",
}
FACT_DECLARATIONS = "".join(f"fact {name}: {kind}\n" for name, kind in FACTS.items())


@dataclass(frozen=True)
class Node:
    """An expression of the test's own, with its type as the checker should infer it."""

    kind: str  # integer decimal percent money bool
    op: str
    args: tuple[Any, ...] = ()
    optional: bool = False  # may have no value (a list with guards, an if of such)
    text: str = ""  # the spelling of a literal

    def __repr__(self) -> str:
        return render(self)


def arithmetic_kind(op: str, a: str, b: str) -> str | None:
    """The result kind of `a op b` (types.arithmetic), None when it is a type error."""
    if op in ("+", "-"):
        if a in NUMERIC and b in NUMERIC:
            return a if a == b else "decimal"
        if a == b == "money":
            return "money"
    elif op == "*":
        if a in NUMERIC and b in NUMERIC:
            return a if a == b else "decimal"
        if (a == "money" and b in NUMERIC) or (a in NUMERIC and b == "money"):
            return "money"
    elif op == "/":
        if a in NUMERIC and b in NUMERIC:
            return "decimal"
        if a == b == "money":
            return "decimal"
        if a == "money" and b in NUMERIC:
            return "money"
    return None


def join_kind(a: str, b: str) -> str | None:
    if a == b:
        return a
    if a in NUMERIC and b in NUMERIC:
        return "decimal"
    return None


# ---- literals and facts

def _scaled(low: int, high: int, places: int) -> st.SearchStrategy[Decimal]:
    """Decimals with exactly `places` decimals (cheaper to draw than st.decimals)."""
    return st.integers(low, high).map(lambda n: Decimal(n).scaleb(-places))


def _int_literal(parts: tuple[int, bool]) -> Node:
    n, grouped = parts
    return Node("integer", "lit", (n,), text=f"{n:_}" if grouped else str(n))


def _percent_literal(parts: tuple[Decimal, bool]) -> Node:
    d, spaced = parts
    return Node("percent", "lit", (Decimal(f"{d:f}") / 100,),
                text=f"{d:f} %" if spaced else f"{d:f}%")


def _money_literal(parts: tuple[Decimal, int]) -> Node:
    d, style = parts
    whole, _, fraction = f"{d:f}".partition(".")
    cents = f".{fraction}" if fraction else ""
    text = [f"${int(whole):,}{cents}", f"${whole}{cents}", f"USD {int(whole):,}{cents}",
            f"${cents}" if whole == "0" and cents else f"${whole}{cents}"][style]
    return Node("money", "lit", (d,), text=text)


int_literals = st.tuples(st.integers(0, 10**6), st.booleans()).map(_int_literal)
decimal_literals = _scaled(0, 10**7, 3).map(
    lambda d: Node("decimal", "lit", (d,), text=f"{d:f}"))
percent_literals = st.tuples(_scaled(0, 20000, 2), st.booleans()).map(_percent_literal)
money_literals = st.tuples(st.one_of(_scaled(0, 10**11, 2), _scaled(0, 10**4, 0)),
                           st.integers(0, 3)).map(_money_literal)
bool_literals = st.booleans().map(lambda b: Node("bool", "lit", (b,), text=str(b).lower()))


def _fact(name: str) -> Node:
    return Node(FACTS[name], "fact", (name,))


LEAVES = {
    "integer": st.one_of(int_literals, st.sampled_from([_fact("i1"), _fact("i2")])),
    "decimal": st.one_of(decimal_literals, st.just(_fact("d1"))),
    "percent": st.one_of(percent_literals, st.just(_fact("p1"))),
    "money": st.one_of(money_literals, st.sampled_from([_fact("m1"), _fact("m2")])),
    "bool": st.one_of(bool_literals, st.sampled_from([_fact("b1"), _fact("b2")])),
}
KINDS = tuple(LEAVES)
SCALARS = ("integer", "decimal", "percent", "money")

COMPARISONS = {
    "==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=",
    "is": "==", "is not": "!=", "is at least": ">=", "is at most": "<=",
    "is more than": ">", "is less than": "<", "is before": "<", "is after": ">",
    "is on or before": "<=", "is on or after": ">=",
}
EQUALITIES = ("==", "!=", "is", "is not")
LABEL_SETS = [("(a)", "(b)", "(c)"), ("(i)", "(ii)", "(iii)"), ("(A)", "(B)", "(C)"),
              ("(1)", "(2)", "(3)"), (None, None, None), ("(a)", None, "(c)")]


@dataclass(frozen=True)
class Options:
    guards: bool  # `when` on the items of lesser/greater/sum of (values that may be missing)
    rounding: bool  # round(X, n)


def _comparable(a: str, b: str) -> bool:
    return (a in NUMERIC and b in NUMERIC) or a == b == "money"


def _operations(a: Node, b: Node, c: Node, extra: int, opts: Options) -> list[Node]:
    """Every well-typed operation on (some of) the expressions a, b, c."""
    ka, kb, kc = a.kind, b.kind, c.kind
    labels = LABEL_SETS[extra % len(LABEL_SETS)]
    out: list[Node] = []
    if ka == "bool":
        out.append(Node("bool", "not", (a,)))
    if ka in SCALARS:
        out.append(Node(ka, "neg", (a,), optional=a.optional))
        if opts.rounding:
            # round() gives a decimal; rounding money or a percent keeps its kind.
            out.append(Node("decimal" if ka == "integer" else ka, "round", (a, extra % 4)))
    if ka in NUMERIC:
        out.append(Node("decimal", "^", (a, extra % 6 - 2), optional=a.optional))
    for op in ("+", "-", "*", "/"):
        kind = arithmetic_kind(op, ka, kb)
        if kind is not None:
            out.append(Node(kind, op, (a, b), optional=a.optional or b.optional))
    words = list(COMPARISONS)[extra % len(COMPARISONS)]
    if _comparable(ka, kb):
        out.append(Node("bool", "compare", (words, a, b)))
    if ka == kb == "bool":
        out.append(Node("bool", "compare", (EQUALITIES[extra % 4], a, b)))
        out += [Node("bool", op, (a, b)) for op in ("and", "or", "unless")]
        guard = (c,) if kc == "bool" and extra % 2 else (None,)
        for kind in ("all", "any", "none"):
            out.append(Node("bool", "list", (kind, ((labels[0], a, None),))))
            out.append(Node("bool", "list", (kind, ((labels[0], a, None),
                                                    (labels[1], b, guard[0])))))
    joined = join_kind(ka, kb)
    if kc == "bool" and joined is not None:
        out.append(Node(joined, "if", (c, a, b), optional=a.optional or b.optional))
    if ka in SCALARS:
        for kind in ("least", "greatest", "total"):
            guard = c if opts.guards and kc == "bool" and extra % 2 else None
            out.append(Node(ka, "list", (kind, ((labels[0], a, guard),)),
                            optional=kind != "total" and (a.optional or guard is not None)))
            if joined in SCALARS:
                guard = c if opts.guards and kc == "bool" and extra % 3 else None
                optional = kind != "total" and (a.optional or b.optional or guard is not None)
                out.append(Node(joined, "list", (kind, ((labels[0], a, None),
                                                        (labels[1], b, guard))),
                                optional=optional))
    return out


def _combine(parts: tuple[Node, Node, Node, int, int], opts: Options) -> Node:
    a, b, c, which, extra = parts
    options = _operations(a, b, c, extra, opts)
    # Pick the kind of operation first, so that the many arithmetic combinations do not
    # crowd out the rest.
    groups: dict[str, list[Node]] = {}
    for option in options:
        groups.setdefault(option.op if option.op != "list" else option.args[0],
                          []).append(option)
    names = sorted(groups)
    group = groups[names[which % len(names)]]
    return group[(which // len(names)) % len(group)]


def expressions(opts: Options) -> st.SearchStrategy[Node]:
    """Well-typed expression trees (a recursive strategy); the top is always an operation,
    not a bare literal or fact."""
    leaves = st.one_of(*LEAVES.values())

    def extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
        return st.tuples(children, children, children, st.integers(0, 255),
                         st.integers(0, 255)).map(lambda parts: _combine(parts, opts))
    return extend(st.recursive(leaves, extend, max_leaves=12))

# ---- rendering

def render(node: Node) -> str:
    op, args = node.op, node.args
    if op == "lit":
        return node.text
    if op == "fact":
        return str(args[0])
    if op == "not":
        return f"(not {render(args[0])})"
    if op == "neg":
        return f"(-{render(args[0])})"
    if op in ("and", "or", "unless", "+", "-", "*", "/"):
        return f"({render(args[0])} {op} {render(args[1])})"
    if op == "^":
        return f"({render(args[0])} ^ {args[1]})"
    if op == "round":
        return f"round({render(args[0])}, {args[1]})"
    if op == "compare":
        return f"({render(args[1])} {args[0]} {render(args[2])})"
    if op == "if":
        return f"(if {render(args[0])} then {render(args[1])} else {render(args[2])})"
    assert op == "list"
    words = {"all": "all", "any": "any", "none": "none", "least": "lesser",
             "greatest": "greater", "total": "sum"}[args[0]]
    items = []
    for label, item, guard in args[1]:
        text = (f"{label} " if label else "") + render(item)
        if guard is not None:
            text += f" when {render(guard)}"
        items.append(text)
    return f"({words} of [{', '.join(items)}])"


# The grammar's precedence levels (grammar/clause.lark, lowest first), for rendering with
# only the parentheses the grammar needs.
_LEVEL = {"if": 1, "unless": 2, "or": 3, "and": 4, "not": 5, "compare": 6, "+": 8, "-": 8,
          "*": 9, "/": 9, "^": 10, "neg": 11}
_ATOM = 12


def render_minimal(node: Node, context: int = 0) -> str:
    """`node` with parentheses only where the grammar's precedence needs them."""
    op, args = node.op, node.args
    level = _LEVEL.get(op, _ATOM)
    if op == "not":
        text = f"not {render_minimal(args[0], 5)}"
    elif op == "neg":
        text = f"-{render_minimal(args[0], 11)}"
    elif op == "^":  # unary "^" power_: right-associative
        text = f"{render_minimal(args[0], 11)} ^ {args[1]}"
    elif op in ("+", "-", "*", "/", "and", "or"):  # left-associative
        text = f"{render_minimal(args[0], level)} {op} {render_minimal(args[1], level + 1)}"
    elif op == "unless":  # or_expr "unless" or_expr
        text = f"{render_minimal(args[0], 3)} unless {render_minimal(args[1], 3)}"
    elif op == "compare":  # shifted OP shifted
        text = f"{render_minimal(args[1], 7)} {args[0]} {render_minimal(args[2], 7)}"
    elif op == "if":  # the else branch is an if_expr; nested ifs elsewhere in parentheses
        text = (f"if {render_minimal(args[0], 2)} then {render_minimal(args[1], 2)} "
                f"else {render_minimal(args[2], 1)}")
    elif op == "round":
        text = f"round({render_minimal(args[0])}, {args[1]})"
    elif op == "list":
        words = {"all": "all", "any": "any", "none": "none", "least": "lesser",
                 "greatest": "greater", "total": "sum"}[args[0]]
        items = []
        for label, item, guard in args[1]:
            spelled = (f"{label} " if label else "") + render_minimal(item, 2)
            if guard is not None:
                spelled += f" when {render_minimal(guard, 2)}"
            items.append(spelled)
        text = f"{words} of [{', '.join(items)}]"
    else:
        text = render(node)
    return f"({text})" if level < context else text


# ---- the reference evaluation

class NoValue(Exception):
    """A value that may be missing is missing where one is needed."""


def _need(value: Any) -> Any:
    if value is None:
        raise NoValue
    return value


def _coerce(value: Any, source_kind: str, target_kind: str) -> Any:
    """What the generated code does: an integer where a decimal kind is expected."""
    if value is not None and source_kind == "integer" and target_kind in DECIMAL_KINDS:
        return Fraction(value)
    return value


def _exact(value: Any) -> Any:
    """Decimals become fractions: the reference computes exactly and rounds only where
    the README says the compiled code rounds."""
    return Fraction(value) if isinstance(value, Decimal) else value

# README: "`earlier of` and `later of` skip items with no value (and have none if no item
# has one ...). Using a missing value anywhere else raises" an error. An item such as
# "10 business days after X" has no value while X has none: operations on a missing value
# have none inside the items of a list ("lifted"), and are errors everywhere else.
LIFTED = ("+", "-", "*", "/", "^", "neg")


def _operands(node: Node) -> list[Node]:
    if node.op in ("neg", "^", "round"):
        return [node.args[0]]
    if node.op == "compare":
        return [node.args[1], node.args[2]]
    return list(node.args)


def _apply(node: Node, values: list[Any]) -> Any:
    op = node.op
    if op == "neg":
        return -values[0]
    if op == "^":
        return reference_power(values[0], node.args[1])  # 0 ^ -n is 1 / 0 ^ n: an error
    if op == "round":
        return reference_round(values[0], node.args[1])
    left, right = values
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op == "/":
        return reference_quotient(left, right)  # raises ZeroDivisionError for 0
    assert op == "compare"
    return {"==": left == right, "!=": left != right, "<": left < right,
            "<=": left <= right, ">": left > right,
            ">=": left >= right}[COMPARISONS[node.args[0]]]


def evaluate(node: Node, env: dict[str, Any], strict: bool = True, lift: bool = False) -> Any:
    """The value of `node`, or None if it has none (only where `strict` is false); raises
    ArithmeticError, or NoValue where a value that may be missing is missing but needed.
    Where `lift`, an operation on a missing value has no value. Operands are evaluated in
    Python's order, with the same short-circuits as the contract's words (and, or, unless,
    all of, any of, none of, if)."""
    value = _evaluate(node, env, strict, lift)
    if value is None and strict:
        raise NoValue
    return value


def _evaluate(node: Node, env: dict[str, Any], strict: bool, lift: bool) -> Any:
    op, args = node.op, node.args
    if op == "lit":
        return _exact(args[0])
    if op == "fact":
        return _exact(env[args[0]])
    if lift and op in LIFTED and node.optional:
        operands = _operands(node)
        # The operands that may be missing first; none missing, then the others.
        maybe = {i: evaluate(child, env, strict=False, lift=True)
                 for i, child in enumerate(operands) if child.optional}
        if any(value is None for value in maybe.values()):
            return None
        return _apply(node, [maybe[i] if i in maybe else evaluate(child, env)
                             for i, child in enumerate(operands)])
    if op in (*LIFTED, "round", "compare"):
        return _apply(node, [evaluate(child, env) for child in _operands(node)])
    if op == "not":
        return not evaluate(args[0], env)
    if op == "and":
        return evaluate(args[0], env) and evaluate(args[1], env)
    if op == "or":
        return evaluate(args[0], env) or evaluate(args[1], env)
    if op == "unless":
        return evaluate(args[0], env) and not evaluate(args[1], env)
    if op == "if":
        branch = args[1] if evaluate(args[0], env) else args[2]
        return _coerce(evaluate(branch, env, strict=False), branch.kind, node.kind)
    assert op == "list"
    list_kind, items = args
    if list_kind in ("all", "any", "none"):
        for _, item, guard in items:
            if guard is not None and not evaluate(guard, env):
                continue
            value = evaluate(item, env)
            if list_kind == "all" and not value:
                return False
            if list_kind in ("any", "none") and value:
                return list_kind == "any"
        return list_kind != "any"
    values = []
    for _, item, guard in items:
        if guard is not None and not evaluate(guard, env):
            continue
        values.append(_coerce(evaluate(item, env, strict=False, lift=True), item.kind,
                              node.kind))
    present = [v for v in values if v is not None]
    if list_kind == "total":
        total: Any = Fraction(0) if node.kind in DECIMAL_KINDS else 0
        for v in present:
            total = total + v
        return total
    if not present:
        return None
    return min(present) if list_kind == "least" else max(present)


PYTHON_TYPES = {"integer": int, "decimal": Decimal, "percent": Decimal, "money": Decimal,
                "bool": bool}

environments = st.fixed_dictionaries({
    "i1": st.one_of(st.integers(-3, 3), st.integers(-10**6, 10**6)),
    "i2": st.one_of(st.integers(-3, 3), st.integers(-10**4, 10**4)),
    "d1": st.one_of(_scaled(-3, 3, 0), _scaled(-10**6, 10**6, 3)),
    "p1": _scaled(-10**4, 2 * 10**4, 4),
    "m1": st.one_of(_scaled(-300, 300, 2), _scaled(-10**9, 10**9, 2)),
    "m2": _scaled(-10**7, 10**7, 2),
    "b1": st.booleans(),
    "b2": st.booleans(),
})


@cache
def _compile_module(source: str) -> ModuleType:
    code, diagnostics = api.compile_source(SourceFile("expr.clause", source))
    errors = [d.render({"expr.clause": SourceFile("expr.clause", source)})
              for d in diagnostics if d.severity == "error"]
    assert code is not None, "the expression does not compile:\n" + "\n".join(errors)
    return api.module_from_source(code, "expr.clause")


def _module_for(nodes: list[Node], minimal: bool = False) -> tuple[ModuleType, str]:
    spell = render_minimal if minimal else render
    source = FACT_DECLARATIONS + "".join(
        f"define r{i} = {spell(node)}\n" for i, node in enumerate(nodes))
    return _compile_module(source), source


def _outcome(thunk: Callable[[], Any], module: ModuleType) -> tuple[str, Any]:
    try:
        return ("value", thunk())
    except module.ClauseRuntimeError as error:
        return ("error", error)


def _reference(node: Node, env: dict[str, Any]) -> tuple[str, Any]:
    try:
        # A definition may have no value when its type says it may (strict otherwise).
        return ("value", evaluate(node, env, strict=not node.optional))
    except (ArithmeticError, NoValue) as error:
        return ("error", error)


def _check_agreement(nodes: list[Node], env: dict[str, Any], minimal: bool = False) -> None:
    module, source = _module_for(nodes, minimal)
    facts = module.Facts(**env)
    for i, node in enumerate(nodes):
        expected = _reference(node, env)
        actual = _outcome(lambda i=i: module.evaluate(f"r{i}", facts), module)
        where = f"\n{source}\nfacts: {env}\nr{i}: expected {expected}, got {actual}"
        assert actual[0] == expected[0], where
        if expected[0] == "value":
            value = actual[1]
            assert value == expected[1], where
            if expected[1] is None:
                assert value is None, where
            else:
                assert type(value) is PYTHON_TYPES[node.kind], where


# Facts for the examples below.
_ENV = {"i1": 5, "i2": 0, "d1": Decimal("2.5"), "p1": Decimal("0.1"), "m1": Decimal("100.00"),
        "m2": Decimal("3.00"), "b1": True, "b2": False}
_MAYBE_I1 = Node("integer", "list", ("least", (("(x)", _fact("i1"), _fact("b2")),)),
                 optional=True)  # no value: b2 is false


@MEDIUM
@given(st.lists(expressions(Options(guards=False, rounding=False)), min_size=1, max_size=4),
       environments)
@example([Node("decimal", "^", (_fact("i2"), -2))], _ENV)  # 0 ^ -2: a division by zero
def test_arithmetic_and_logic_agree_with_the_reference(nodes: list[Node],
                                                       env: dict[str, Any]) -> None:
    _check_agreement(nodes, env)


@MEDIUM
@given(st.lists(expressions(Options(guards=False, rounding=False)), min_size=1, max_size=4),
       environments)
def test_precedence_agrees_with_the_reference(nodes: list[Node], env: dict[str, Any]) -> None:
    # The same trees written with only the parentheses the grammar needs: the parser must
    # build them back as they were (left-associative + - * / and or, right-associative ^).
    _check_agreement(nodes, env, minimal=True)


@MEDIUM
@given(st.lists(expressions(Options(guards=True, rounding=False)), min_size=1, max_size=4),
       environments)
# An integer item with no value among decimal items: skipped, like any item with none.
@example([Node("decimal", "list", ("least", (("(a)", _MAYBE_I1, None),
                                             ("(b)", _fact("d1"), None))))], _ENV)
@example([Node("decimal", "list", ("total", (("(a)", _MAYBE_I1, None),
                                             ("(b)", _fact("d1"), None))))], _ENV)
@example([Node("decimal", "if", (_fact("b1"), _MAYBE_I1, _fact("d1")), optional=True)], _ENV)
def test_guarded_list_items_agree_with_the_reference(nodes: list[Node],
                                                     env: dict[str, Any]) -> None:
    # `(a) X when C` counts only when C holds: a lesser/greater of nothing has no value,
    # which a sum skips, an `if` passes on, and arithmetic reports as an error.
    _check_agreement(nodes, env)


def test_arithmetic_on_a_term_with_no_value_is_an_error() -> None:
    # README: using a missing value anywhere but in `earlier of` / `later of` is an error.
    _check_agreement([Node("integer", "+", (_MAYBE_I1, _fact("i1")), optional=True),
                      Node("decimal", "neg", (Node("decimal", "list", (
                          "greatest", (("(a)", _fact("d1"), _fact("b2")),)), optional=True),),
                          optional=True)], _ENV)


@MEDIUM
@given(st.lists(expressions(Options(guards=False, rounding=True)), min_size=1, max_size=4),
       environments)
@example([Node("decimal", "round", (_fact("i1"), 2))], _ENV)  # round(5, 2) is 5.00
def test_rounding_agrees_with_the_reference(nodes: list[Node], env: dict[str, Any]) -> None:
    _check_agreement(nodes, env)


@MEDIUM
@given(st.lists(expressions(Options(guards=True, rounding=False)), min_size=1, max_size=3),
       environments)
def test_explanations_agree_with_evaluation(nodes: list[Node], env: dict[str, Any]) -> None:
    module, source = _module_for(nodes)
    facts = module.Facts(**env)
    for i in range(len(nodes)):
        value = _outcome(lambda i=i: module.evaluate(f"r{i}", facts), module)
        explained = _outcome(lambda i=i: module.explain(f"r{i}", facts), module)
        where = f"\n{source}\nfacts: {env}\nr{i}: evaluate {value}, explain {explained}"
        assert value[0] == explained[0], where
        if value[0] == "value":
            assert explained[1].value == value[1], where
            str(explained[1])
            explained[1].to_dict()


def test_the_reference_itself() -> None:
    # A few expressions worked out by hand, so that the reference is not just trusted.
    env = {"i1": 7, "i2": 0, "d1": Decimal("2.5"), "p1": Decimal("0.1"),
           "m1": Decimal("100.00"), "m2": Decimal("3.00"), "b1": True, "b2": False}
    i1, i2, d1, m1, m2, b1 = (_fact(n) for n in ("i1", "i2", "d1", "m1", "m2", "b1"))
    # 100 / 3 does not terminate: 33, then 28 digits after the point, rounded half-even.
    assert evaluate(Node("money", "/", (m1, m2)), env) == Decimal("33." + "3" * 28)
    assert evaluate(Node("decimal", "/", (i1, m2)), env) == Decimal("2." + "3" * 28)
    assert evaluate(Node("decimal", "/", (m1, Node("integer", "lit", (8,), text="8"))),
                    env) == Decimal("12.5")  # terminates: exact
    assert evaluate(Node("decimal", "round", (d1, 0)), env) == 3  # half up
    assert _reference(Node("decimal", "/", (i1, i2)), env)[0] == "error"
    assert evaluate(Node("decimal", "^", (d1, 2)), env) == Decimal("6.25")
    assert evaluate(Node("decimal", "^", (d1, -2)), env) == Decimal("0.16")
    assert _reference(Node("decimal", "^", (i2, -1)), env)[0] == "error"
    guarded = Node("integer", "list", ("least", (("(a)", i1, _fact("b2")),)), optional=True)
    assert evaluate(guarded, env, strict=False) is None
    assert _reference(guarded, env) == ("value", None)
    assert evaluate(Node("integer", "list", ("total", (("(a)", guarded, None),
                                                       ("(b)", i1, None)))), env) == 7
    # Arithmetic on a missing value is an error, even where the result could be missing,
    # except in the items of a list, where the item has no value (and the other operand is
    # not evaluated at all).
    plus = Node("integer", "+", (guarded, Node("decimal", "/", (i1, i2))), optional=True)
    assert isinstance(_reference(plus, env)[1], NoValue)
    assert _reference(Node("integer", "list", ("total", (("(a)", plus, None),))), env) == \
        ("value", 0)
    assert _reference(Node("integer", "list", ("least", (("(a)", plus, None),)),
                           optional=True), env) == ("value", None)
    assert _reference(Node("integer", "if", (b1, guarded, i1), optional=True), env) == \
        ("value", None)
    assert isinstance(_reference(Node("integer", "if", (b1, plus, i1), optional=True),
                                 env)[1], NoValue)
    assert evaluate(Node("bool", "compare", ("is at least", d1, i1)), env) is False
    assert evaluate(Node("bool", "list", ("none", ((None, b1, _fact("b2")),))), env) is True
    assert render(Node("money", "*", (m1, d1))) == "(m1 * d1)"
    minus = Node("integer", "-", (i1, Node("integer", "-", (i2, i1))))
    assert render_minimal(minus) == "i1 - (i2 - i1)"
    assert render_minimal(Node("integer", "-", (minus.args[1], i1))) == "i2 - i1 - i1"
    power = Node("decimal", "^", (Node("integer", "neg", (i1,)), 2))
    assert render_minimal(power) == "-i1 ^ 2"  # the grammar's unary minus binds tighter
    assert evaluate(power, env) == 49
    assert render_minimal(Node("integer", "neg", (Node("decimal", "^", (i1, 2)),))) == \
        "-(i1 ^ 2)"


# ---------------------------------------------------------------------------
# Dates: business days against the `holidays` package
# ---------------------------------------------------------------------------

US_HOLIDAYS = holidays.US(observed=True)  # expands to any year it is asked about
ZONES = ["America/New_York", "America/Los_Angeles", "Europe/London", "Asia/Tokyo", "UTC"]


def is_business_day(day: date, calendar: str, extra: frozenset[date]) -> bool:
    if day.weekday() >= 5 or day in extra:
        return False
    return calendar != "us_federal" or day not in US_HOLIDAYS


def add_business_days(day: date, n: int, calendar: str, extra: frozenset[date]) -> date:
    """The n-th business day after `day` (before it if n < 0), `day` itself not counted."""
    step = timedelta(days=1 if n > 0 else -1)
    for _ in range(abs(n)):
        day += step
        while not is_business_day(day, calendar, extra):
            day += step
    return day


@dataclass(frozen=True)
class Shift:
    text: str
    compute: Callable[[date, int, str, frozenset[date]], date]


def _long_date(d: date) -> str:
    return f"{d:%B} {d.day}, {d.year}"


@st.composite
def shifts(draw: st.DrawFn) -> Shift:
    """A date expression built from `start` (a date fact), `n` (an integer fact), date
    literals and day counts, with what it should be."""
    if draw(st.integers(0, 3)) == 0:
        day = draw(st.dates(date(1990, 1, 1), date(2040, 12, 31)))
        spelled = draw(st.sampled_from([day.isoformat(), _long_date(day)]))
        base = Shift(spelled, lambda s, n, c, e, day=day: day)
    else:
        base = Shift("start", lambda s, n, c, e: s)
    for _ in range(draw(st.integers(1, 3))):
        business = draw(st.booleans())
        if draw(st.booleans()):
            count = draw(st.integers(0, 45))
            amount_text = str(count)
            amount: Callable[[int], int] = lambda n, count=count: count
        else:
            amount_text = "n"
            amount = lambda n: n
        unit = ("business day" if business else "day") + (
            "" if amount_text == "1" and draw(st.booleans()) else "s")
        form = draw(st.sampled_from(["after", "before", "+", "-", "duration +"]))
        backwards = form in ("before", "-")
        if form in ("after", "before"):
            text = f"({amount_text} {unit} {form} {base.text})"
        elif form in ("+", "-"):
            text = f"({base.text} {form} {amount_text} {unit})"
        else:
            text = f"({amount_text} {unit} + {base.text})"

        def compute(s: date, n: int, c: str, e: frozenset[date], base: Shift = base,
                    amount: Callable[[int], int] = amount, business: bool = business,
                    backwards: bool = backwards) -> date:
            start = base.compute(s, n, c, e)
            k = -amount(n) if backwards else amount(n)
            if business:
                return add_business_days(start, k, c, e)
            return start + timedelta(days=k)
        base = Shift(text, compute)
    return base


@st.composite
def calendars(draw: st.DrawFn) -> tuple[str, frozenset[date], str, str, time]:
    calendar = draw(st.sampled_from(["us_federal", "weekends_only", "default"]))
    extra = draw(st.lists(st.dates(date(2003, 1, 1), date(2006, 12, 31)), max_size=6))
    zone = draw(st.sampled_from(ZONES))
    hour = draw(st.integers(0, 23))
    minute = draw(st.integers(0, 59))
    if draw(st.booleans()):
        spelled = f"{hour}:{minute:02d}"
    else:
        suffix = draw(st.sampled_from(["AM", "A.M.", "am", "a.m."]))
        if hour >= 12:
            suffix = suffix.replace("A", "P").replace("a", "p")
        space = draw(st.sampled_from(["", " "]))
        spelled = f"{hour % 12 or 12}:{minute:02d}{space}{suffix}"
    header = 'agreement dates "Dates" {\n'
    if calendar != "default":
        header += f"  calendar {calendar}\n"
    if extra:
        header += "  holidays [" + ", ".join(d.isoformat() for d in extra) + "]\n"
    header += f"  time zone {zone}\n  close of business {spelled}\n}}\n"
    name = "us_federal" if calendar == "default" else calendar
    return header, frozenset(extra), name, zone, time(hour, minute)


@MEDIUM
@given(calendars(), st.lists(shifts(), min_size=1, max_size=4),
       st.dates(date(2003, 1, 1), date(2006, 12, 31)), st.integers(-30, 30))
@example(
    ('agreement dates "Dates" {\n  time zone America/New_York\n  close of business 5:00 PM\n}\n',
     frozenset(), "us_federal", "America/New_York", time(17, 0)),
    [Shift("(2 business days after start)",
           lambda s, n, c, e: add_business_days(s, 2, c, e))],
    date(2004, 7, 1), 0)
def test_date_shifts_agree_with_the_business_day_reference(
        cal: tuple[str, frozenset[date], str, str, time], exprs: list[Shift], start: date,
        n: int) -> None:
    header, extra, calendar, zone, close = cal
    source = header + "fact start: date\nfact n: integer\n" + "".join(
        f"define r{i} = {s.text}\ndefine c{i} = close of business on {s.text}\n"
        for i, s in enumerate(exprs))
    module = _compile_module(source)
    facts = module.Facts(start=start, n=n)
    for i, shift in enumerate(exprs):
        expected = shift.compute(start, n, calendar, extra)
        where = f"\n{source}\nstart={start} n={n}: r{i} expected {expected}"
        assert module.evaluate(f"r{i}", facts) == expected, where
        moment = module.evaluate(f"c{i}", facts)
        wanted = datetime.combine(expected, close, tzinfo=ZoneInfo(zone))
        assert moment == wanted, where
        assert (moment.date(), moment.time(), moment.utcoffset()) == \
            (wanted.date(), wanted.time(), wanted.utcoffset()), where


@MEDIUM
@given(st.dates(date(1975, 1, 1), date(2060, 12, 31)), st.integers(-60, 60))
def test_within_deadlines_agree_with_the_business_day_reference(start: date, n: int) -> None:
    module = _compile_module(
        'agreement a "A" {\n  party seller "Seller"\n}\n'
        "fact start: date\nfact n: business days\nfact k: days\n"
        "obligation o: seller must act within n after start\n"
        "obligation q: seller must act within k after start\n"
        "obligation w: seller must act within 10 business days after start\n")
    count = abs(n)
    facts = module.Facts(start=start, n=count, k=count)
    assert module.o(facts).due == add_business_days(start, count, "us_federal", frozenset())
    assert module.q(facts).due == start + timedelta(days=count)
    assert module.w(facts).due == add_business_days(start, 10, "us_federal", frozenset())


@MEDIUM
@given(st.datetimes(datetime(2000, 1, 1), datetime(2040, 12, 31),
                    timezones=st.sampled_from([ZoneInfo(z) for z in ZONES])),
       st.integers(-40, 40), st.booleans())
def test_datetime_shifts_keep_the_time_of_day(at: datetime, n: int, business: bool) -> None:
    unit = "business days" if business else "days"
    module = _compile_module(
        "fact at: datetime\nfact n: integer\n"
        f"define later = n {unit} after at\ndefine earlier = n {unit} before at\n"
        f"define plus = at + n {unit}\n")
    facts = module.Facts(at=at, n=n)
    for name, k in (("later", n), ("earlier", -n), ("plus", n)):
        day = add_business_days(at.date(), k, "us_federal", frozenset()) if business else \
            at.date() + timedelta(days=k)
        expected = datetime.combine(day, at.timetz())
        value = module.evaluate(name, facts)
        assert (value, value.tzinfo, value.time()) == (expected, expected.tzinfo, at.time()), \
            (name, at, n, business)


def test_the_business_day_reference_itself() -> None:
    # Independence Day 2004 was a Sunday, observed Monday July 5.
    assert add_business_days(date(2004, 7, 1), 2, "us_federal", frozenset()) == date(2004, 7, 6)
    assert add_business_days(date(2004, 7, 1), 2, "weekends_only", frozenset()) == \
        date(2004, 7, 5)
    assert add_business_days(date(2004, 7, 6), -1, "us_federal", frozenset()) == \
        date(2004, 7, 2)
    # New Year's Day 2022 was a Saturday, observed Friday December 31, 2021.
    assert add_business_days(date(2021, 12, 30), 1, "us_federal", frozenset()) == \
        date(2022, 1, 3)
    assert add_business_days(date(2004, 12, 23), 1, "us_federal",
                             frozenset({date(2004, 12, 24)})) == date(2004, 12, 27)
    assert add_business_days(date(2004, 7, 3), 0, "us_federal", frozenset()) == date(2004, 7, 3)


# ---------------------------------------------------------------------------
# Money literals with thousands separators
# ---------------------------------------------------------------------------


def _grouped(amount: Decimal) -> str:
    whole, _, fraction = f"{amount:f}".partition(".")
    return f"{int(whole):,}" + (f".{fraction}" if fraction else "")


def _canonical_money(amount: Decimal) -> str:
    """How format_money shows an amount: grouped, at least two decimals, exact."""
    whole, _, fraction = f"{amount:f}".partition(".")
    fraction = fraction.rstrip("0").ljust(2, "0")
    return f"${int(whole):,}.{fraction}"


@MEDIUM
@given(st.lists(st.one_of(st.decimals(0, 10**15, places=2), st.decimals(0, 10**6, places=0),
                          st.decimals(0, 10**3, places=4)), min_size=1, max_size=5))
@example([Decimal("1234567.89"), Decimal("0.01"), Decimal(1000000), Decimal("999.999")])
def test_money_literals_with_commas_are_exact(amounts: list[Decimal]) -> None:
    lines = ["fact paid: money"]
    for i, amount in enumerate(amounts):
        lines.append(f"define a{i}: money = ${_grouped(amount)}")
        lines.append(f"define u{i}: money = USD {_grouped(amount)}")
        lines.append(f"condition e{i} = paid is ${_grouped(amount)}")
    module = _compile_module("\n".join(lines) + "\n")
    for i, amount in enumerate(amounts):
        text = f"${_grouped(amount)}"
        facts = module.Facts(paid=text)
        assert facts.paid == amount
        assert module.Facts.from_dict({"paid": text}).paid == amount
        value = module.evaluate(f"a{i}", facts)
        assert type(value) is Decimal and value == amount, (text, value)
        assert value.as_tuple() == amount.as_tuple(), (text, value)  # digits and exponent
        assert module.evaluate(f"u{i}", facts) == amount
        assert module.evaluate(f"e{i}", facts) is True
        assert module.format_money(value) == _canonical_money(amount)
        if amount.as_tuple().exponent == -2:
            assert module.format_money(value) == text  # the round trip
