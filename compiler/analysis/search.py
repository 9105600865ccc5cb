"""The counterexample search of `clausec verify` and `clausec diff`, and how an example it
(or z3) finds is made small.

Both commands ask a question of one name that the compiled module answers for given
facts: does the invariant fail (verify), do the two versions give different answers
(diff). An example is (facts, arguments): the facts by clause name, as Python values,
and the arguments of a parametrised term (none for an invariant). The caller's `test`
or `accept` answers the question for an example; nothing here evaluates a clause.

Searching (`find`). The inputs are the facts the name depends on (through the names it
uses, transitively, in each program given) and its parameters (`inputs`). Nine tenths of
the examples are drawn around the constants of that logic (`constants`: the amounts,
percentages, counts and dates the clauses state, one step either side, the dates a day
count away from a stated date, and the agreement's own dates): first nothing given,
then each input alone at each of its values, then mixtures of those and of values at
random. The last tenth come from factgen's hypothesis strategies, without shrinking.
Both are drawn from `seed`, so a search is reproducible. A choice takes its members; a
list of records is a list of 0 to 4 records, each field drawn as a fact of its type; an
optional fact is sometimes left out.

Facts that the agreement does not allow are not examples: a fact's `where` (its
constraint) is checked, with `allowed` (`Allowed`: the compiled Facts classes, which
refuse such facts), on every value drawn, and a value it refuses is drawn again (a
bounded number of times; where no allowed value turns up, `find` says so in its
`notes`).

Minimising (`minimise`), one rule for every counterexample, searched or z3's:
1. leave out each fact, in name order, where the example is still accepted without it:
   the fewest facts given (what a fact left out means is the caller's: the diff
   evaluates without it, verify gives a required fact its simplest value);
2. then give each fact left, in name order, the first of its simpler values (`simpler`,
   simplest first) with which the example is still accepted:
   - a number: 0, 1, itself rounded down to one or two significant digits, 10, 100,
     and an amount rounded to a whole number, never one of greater magnitude; a
     percentage: 0%, 50%, 100%, itself in whole percents or to a tenth of a percent,
     where that is smaller or shorter to write;
   - a date: the nearest of the logic's own dates (a deadline, the agreement's date, a
     day either side), unless it is one already; a moment: the same moment to the hour,
     or to the minute;
   - a text: ""; a list: no items, its first item, all but its last; a yes/no, a
     party, a choice or a record stays as it is (neither value is simpler);
3. then the arguments in the same way.
One pass: every value tried costs an evaluation. The values are those a reader takes in
at a glance, and a date is simplest at an edge of the logic, where a reader can check it
against the clause (hypothesis's shrinking, which verify used, moves values towards its
strategies' defaults instead, and only where a search found them).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import attrs

from clausec import ir
from clausec.ir import types as T
from clausec.passes.check import CheckedProgram, constrained, union_of_facts

Example = tuple[dict[str, Any], tuple[Any, ...]]
Pools = Mapping[str, Sequence[Any]]
# How often a value a fact's `where` refuses is drawn again.
_TRIES = 50


# ------------------------------------------------------------------ inputs


@attrs.frozen
class Input:
    """A fact (or a parameter) the search gives a value: its kind, and whether it may be
    left out (an optional fact, or one with a default)."""

    name: str
    kind: str
    optional: bool
    currency: str = "USD"
    parties: tuple[str, ...] = ()
    is_param: bool = False
    # A choice, a list or a record: the values tried first (a choice's members, a list
    # of no items or of one simplest record), and how to draw one at random.
    members: tuple[Any, ...] = ()
    make: Callable[[random.Random, Pools], Any] | None = attrs.field(
        default=None, eq=False, repr=False)


def uses(checked: CheckedProgram, name: str) -> set[str]:
    """The names the declaration `name` (and its exceptions) uses directly."""
    decl = checked.declarations[name]
    used = ir.names_used(decl)
    for exception in checked.exceptions.get(name, ()):
        used |= ir.names_used(exception)
    if isinstance(decl, ir.Definition):
        used -= {p.name for p in decl.params}
    return (used & set(checked.declarations)) - {name}


def _relevant(programs: Sequence[CheckedProgram], name: str) -> set[str]:
    """Every name `name` depends on, in any of the programs (transitively)."""
    found: set[str] = set()
    for checked in programs:
        seen: set[str] = set()
        stack = [name]
        while stack:
            current = stack.pop()
            if current in seen or current not in checked.declarations:
                continue
            seen.add(current)
            stack.extend(uses(checked, current))
        found |= seen
    return found


def inputs(programs: Sequence[CheckedProgram], name: str) -> list[Input]:
    """The facts the name depends on in any of the programs, and its parameters (those
    of the last program)."""
    relevant = _relevant(programs, name)
    found: dict[str, Input] = {}
    for checked in programs:
        parties = tuple(p.name for p in checked.header.parties)
        currency = checked.header.currency
        for fact in sorted(relevant):
            decl = checked.declarations.get(fact)
            if isinstance(decl, ir.Fact) and fact not in found:
                # A series fact is a mapping of periods to values (factgen draws them).
                members, make = _structured(decl.type, checked, parties, currency)
                found[fact] = Input(fact, "series" if decl.per is not None else decl.type.kind,
                                    decl.type.optional or decl.default is not None,
                                    decl.type.currency or currency, parties, members=members,
                                    make=make)
    params: list[Input] = []
    decl = programs[-1].declarations.get(name)
    if isinstance(decl, (ir.Obligation, ir.Power)) and decl.recurrence is not None:
        # One instance of a recurring provision: its period, as a date inside it.
        header = programs[-1].header
        params = [Input(decl.recurrence.variable, "date", False, header.currency,
                        tuple(x.name for x in header.parties), is_param=True)]
    if isinstance(decl, ir.Definition):
        header = programs[-1].header
        # A period is given as a date inside it.
        params = [Input(p.name, _argument_kind(p.type), False,
                        p.type.currency or header.currency,
                        tuple(x.name for x in header.parties), is_param=True)
                  for p in decl.params]
    return [found[k] for k in sorted(found)] + params


def _structured(type_: T.Type, checked: CheckedProgram, parties: tuple[str, ...],
                currency: str) -> tuple[tuple[Any, ...], Callable[[random.Random, Pools], Any]
                                        | None]:
    """The values to try first and the random draw of a choice, list or record fact
    (Input.members, Input.make); none for the other kinds."""
    from clausec.backends import smt

    decls = checked.declarations
    if type_.kind not in ("choice", "list", "record"):
        return (), None

    def simplest(t: T.Type) -> Any:
        return smt.simple_value(ir.Fact("", None, t, None, None, None, checked.header.span),
                                checked.header, decls)

    def draw(t: T.Type, rng: random.Random, pools: Pools) -> Any:
        if t.kind == "choice":
            choice = decls.get(t.name or "")
            names = [m.name for m in choice.members] if isinstance(choice, ir.Choice) else []
            return rng.choice(names) if names else ""
        if t.kind == "list":
            return [draw(t.element or T.ERROR, rng, pools) for _ in range(rng.randint(0, 4))]
        if t.kind == "record":
            record = decls.get(t.name or "")
            fields = record.fields if isinstance(record, (ir.Record, ir.Table)) else ()
            return {f.name: draw(f.type, rng, pools) for f in fields}
        scalar = Input("", t.kind, False, t.currency or currency, parties)
        value = rng.choice(_choices(scalar, pools)) if rng.random() < 0.5 else \
            _random_value(scalar, pools, rng)
        return simplest(t) if value is None else value

    if type_.kind == "choice":
        choice = decls.get(type_.name or "")
        members: tuple[Any, ...] = tuple(m.name for m in choice.members) \
            if isinstance(choice, ir.Choice) else ()
    elif type_.kind == "list":
        members = ([], [simplest(type_.element or T.ERROR)])
    else:
        members = (simplest(type_),)
    return members, lambda rng, pools: draw(type_, rng, pools)


def _argument_kind(type_: T.Type) -> str:
    """The kind of value the search gives a parameter: a date for a period (the period
    containing it)."""
    return "date" if type_.kind == "period" else type_.kind


def constants(programs: Sequence[CheckedProgram], name: str) -> dict[str, list[Any]]:
    """The literals of the logic `name` depends on (in every program), by kind, with the
    values just around them: where thresholds and deadlines put their edges."""
    relevant = _relevant(programs, name)
    literals: list[ir.Literal] = []
    for checked in programs:
        for dep in sorted(relevant):
            decl = checked.declarations.get(dep)
            if decl is None:
                continue
            literals.extend(_literals([decl, *checked.exceptions.get(dep, ())]))
    pools: dict[str, set[Any]] = {}
    days = sorted({lit.value for lit in literals if type(lit.value) is int
                   and 0 < lit.value <= 400})
    for lit in literals:
        value, kind = lit.value, (lit.type.kind if lit.type else "")
        if isinstance(value, (bool, str)):
            continue
        if isinstance(value, datetime):
            pools.setdefault("datetime", set()).update(
                value + timedelta(seconds=s) for s in (-1, 0, 1))
        elif isinstance(value, date):
            near = {value + timedelta(days=d) for n in [0, 1, *days] for d in (-n, n)}
            pools.setdefault("date", set()).update(near)
        elif isinstance(value, int):
            pools.setdefault("integer", set()).update({value - 1, value, value + 1})
            pools.setdefault("days", set()).update({max(value + d, 0) for d in (-1, 0, 1)})
        elif isinstance(value, Decimal):
            step = {"percent": Decimal("0.0001"), "money": Decimal("0.01")}.get(
                kind, Decimal("0.01"))
            pools.setdefault(kind or "decimal", set()).update(
                {value - step, value, value + step})
    for checked in programs:  # the agreement's own dates read better than random ones
        header = checked.header
        pools.setdefault("date", set()).update(d for d in (header.dated, header.effective)
                                                if d is not None)
    pools["datetime"] = pools.get("datetime", set()) | _moments(programs[-1].header,
                                                               pools["date"])
    pools["business_days"] = pools.get("days", set())
    pools["months"] = pools.get("days", set())
    return {k: sorted(v) for k, v in sorted(pools.items())}


def _moments(header: ir.Header, days: Iterable[date]) -> set[datetime]:
    """The moments where "close of business on D" flips, on the dates of the logic: a
    minute before and at close of business, and midnight, in the agreement's time zone."""
    from zoneinfo import ZoneInfo

    if not header.time_zone:
        return set()
    zone = ZoneInfo(header.time_zone)
    hour, minute = (int(x) for x in header.close_of_business.split(":"))
    close = datetime(2000, 1, 1, hour, minute)
    times = [(close - timedelta(minutes=1)).time(), close.time(), datetime.min.time()]
    return {datetime.combine(d, t, tzinfo=zone) for d in days for t in times}


def _literals(node: object) -> Iterator[ir.Literal]:
    return (n for n in ir.walk(node) if isinstance(n, ir.Literal))


def fact_decls(programs: Sequence[CheckedProgram]) -> dict[str, ir.Fact]:
    """The facts as the compiled Facts class has them, and the parameters of the terms as
    facts (so that factgen and smt.facts_json take them)."""
    decls = union_of_facts(list(programs))
    for checked in programs:
        for decl in checked.program.declarations:
            if isinstance(decl, (ir.Obligation, ir.Power)) and decl.recurrence is not None:
                r = decl.recurrence
                decls.setdefault(r.variable, ir.Fact(r.variable, None, T.DATE, None, None,
                                                     None, r.span))
            if isinstance(decl, ir.Definition):
                for p in decl.params:
                    type_ = T.DATE if p.type.kind == "period" else p.type
                    decls.setdefault(p.name, ir.Fact(p.name, None, type_, None, None, None,
                                                     p.span))
    return decls


# ------------------------------------------------------------------ allowed facts


class Allowed:
    """Which values of the facts the agreement allows: a fact's `where` holds for it, as
    the compiled Facts classes (`modules`: one per Facts class the versions have) check
    it. A value is tried with every other fact at its simplest allowed value
    (smt.complete), so that only the fact tried can be refused."""

    def __init__(self, modules: Sequence[Any], programs: Sequence[CheckedProgram]):
        self.modules = list(modules)
        self.names = frozenset(d.name for checked in programs
                               for d in checked.program.declarations
                               if isinstance(d, ir.Fact) and
                               constrained(d, checked.declarations))
        self.base: dict[str, Any] = {}
        if self.names:
            try:
                from clausec.backends import smt
            except ImportError:  # z3 is a dependency; a broken install still searches
                pass
            else:
                self.base = smt.complete({}, union_of_facts(list(programs)),
                                         programs[-1].header, programs[-1])
        self._known: dict[tuple[str, str], bool] = {}

    def __call__(self, name: str, value: Any) -> bool:
        """Whether the fact `name` may have `value` (None: left out, always allowed)."""
        if name not in self.names or value is None:
            return True
        key = (name, repr(value))
        if key not in self._known:
            self._known[key] = all(self._allows(module, name, value)
                                   for module in self.modules)
        return self._known[key]

    def facts(self, data: Mapping[str, Any]) -> bool:
        """Whether every fact given is allowed."""
        return all(self(name, value) for name, value in data.items())

    def _allows(self, module: Any, name: str, value: Any) -> bool:
        known = module.FACT_TYPES
        if name not in known:
            return True
        data = {k: v for k, v in self.base.items() if k in known}
        data[name] = value
        try:
            module.Facts.from_dict(data)
        except module.FactError as error:
            # Refused for another fact (one whose `where` refuses its simplest value):
            # this one cannot be told, and counts as allowed.
            return _fact_root(error.fact) != name
        except (module.ClauseError, ArithmeticError, ValueError):
            return False  # the constraint raised an error for the value
        return True


def _fact_root(path: str) -> str:
    """The fact of an error's path: "lenders" of "lenders[0].principal"."""
    for mark in ("[", "."):
        path = path.split(mark, 1)[0]
    return path


# ------------------------------------------------------------------ searching


def find(test: Callable[[Example], bool], programs: Sequence[CheckedProgram], name: str,
         examples: int, seed: int = 0, *, targeted_only: bool = False,
         allowed: Callable[[str, Any], bool] | None = None,
         notes: list[str] | None = None) -> Example | None:
    """The first of `examples` examples for `name` that `test` takes, or None: around the
    logic's constants (nine tenths, or all with `targeted_only`), then from factgen's
    hypothesis strategies. `programs`: the versions the name is evaluated in. With
    `allowed` (an `Allowed`), only values it allows are drawn, and a fact for which none
    turns up is named in `notes`."""
    wanted = inputs(programs, name)
    pools = constants(programs, name)
    choices = {i.name: _choices(i, pools, allowed) for i in wanted}
    if allowed is not None and notes is not None:
        notes += [f"no value of fact '{n}' that its `where` allows was found in "
                  f"{_TRIES * 4} tries"
                  for n in _unsatisfied(wanted, pools, choices, allowed, seed)]
    targeted = 0
    # Hypothesis costs some 20 ms an example with twenty facts, the own generator a
    # fraction of one: most of the budget goes to the latter.
    share = 0 if targeted_only else examples // 10
    for example in _targeted(wanted, pools, seed, examples - share, choices, allowed):
        targeted += 1
        if test(example):
            return example
    if targeted_only:
        return None
    return _random_search(programs, wanted, test, examples - targeted, seed, allowed,
                          choices)


def _unsatisfied(wanted: Sequence[Input], pools: Pools, choices: Mapping[str, list[Any]],
                 allowed: Callable[[str, Any], bool], seed: int) -> list[str]:
    """The facts for which neither the values tried first nor a bounded number of random
    ones are allowed by their `where`."""
    rng = random.Random(seed)
    stuck = []
    for i in wanted:
        if i.is_param or i.kind == "series" or any(v is not None for v in choices[i.name]):
            continue
        tried = (_random_value(i, pools, rng) for _ in range(_TRIES * 4))
        if not any(v is not None and allowed(i.name, v) for v in tried):
            stuck.append(i.name)
    return stuck


def _random_search(programs: Sequence[CheckedProgram], wanted: Sequence[Input],
                   test: Callable[[Example], bool], count: int, seed: int,
                   allowed: Callable[[str, Any], bool] | None = None,
                   choices: Mapping[str, Sequence[Any]] | None = None) -> Example | None:
    """factgen's hypothesis strategies for the facts (and arguments) the result depends
    on, seeded; no shrinking: `minimise` reads better and costs less."""
    from hypothesis import strategies as st

    from clausec.analysis import factgen

    if count <= 0:
        return None
    checked = programs[-1]
    decls = fact_decls(programs)
    facts = {i.name: decls[i.name] for i in wanted if not i.is_param}
    params = [factgen.value_strategy(decls[i.name], checked) for i in wanted if i.is_param]
    seeds = {k: [v for v in vs if v is not None] for k, vs in (choices or {}).items()}
    strategy = st.tuples(factgen.facts_strategy(checked, facts, allowed=allowed, seeds=seeds),
                         st.tuples(*params))
    found = factgen.find(strategy, lambda x: test((dict(x[0]), tuple(x[1]))), count,
                         seed=seed)
    if found is None:
        return None
    data, args = found
    return dict(data), tuple(args)


def _targeted(wanted: Sequence[Input], pools: Pools, seed: int, count: int,
              choices: Mapping[str, Sequence[Any]],
              allowed: Callable[[str, Any], bool] | None = None) -> Iterator[Example]:
    """Facts drawn around the logic's constants (and the simplest values): nothing given
    first, then each fact given alone, then mixtures of those and of values at random
    (drawn again, a bounded number of times, where a fact's `where` refuses them)."""
    rng = random.Random(seed)

    def draw(i: Input) -> Any:
        if rng.random() < 0.5:
            return rng.choice(choices[i.name])
        for _ in range(_TRIES):
            value = _random_value(i, pools, rng)
            if allowed is None or i.is_param or allowed(i.name, value):
                return value
        return rng.choice(choices[i.name])

    def build(picked: Mapping[str, Any]) -> Example:
        data = {i.name: picked.get(i.name) for i in wanted if not i.is_param}
        args = tuple(picked.get(i.name, choices[i.name][-1]) for i in wanted if i.is_param)
        return {k: v for k, v in data.items() if v is not None}, args

    singles = [(i.name, value) for i in wanted for value in choices[i.name]]
    examples = [build({})] + [build({name: value}) for name, value in singles]
    yield from examples[:count]
    for _ in range(count - len(examples)):
        yield build({i.name: draw(i) for i in wanted})


def _random_value(i: Input, pools: Pools, rng: random.Random) -> Any:
    """A value of a fact's kind, far from the constants as often as near them."""
    if i.optional and rng.random() < 0.2:
        return None
    kind = i.kind
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "integer":
        return rng.choice([rng.randint(-10, 100), rng.randint(0, 10**6),
                           rng.randint(0, 10**9)])
    if kind in ("money", "decimal"):
        return Decimal(rng.choice([rng.randint(0, 10**4), rng.randint(0, 10**11)])) / 100
    if kind == "percent":
        return Decimal(rng.randint(0, 20_000)) / 10_000
    if kind in ("days", "business_days"):
        return rng.randint(0, 60)
    if kind == "months":
        return rng.randint(0, 36)
    if kind in ("date", "datetime"):
        day = rng.choice(pools.get("date") or [date(2000, 1, 1)]) + \
            timedelta(days=rng.randint(-800, 800))
        if kind == "date":
            return day
        zone = next((d.tzinfo for d in pools.get("datetime", ())), None)
        return datetime(day.year, day.month, day.day, rng.randint(0, 23),
                        rng.choice((0, 15, 30, 59)), tzinfo=zone) if zone else None
    if kind == "party" and i.parties:
        return rng.choice(i.parties)
    if kind == "series":
        return None  # no values: factgen's strategies draw some
    if i.make is not None:
        return i.make(rng, pools)
    return None if i.optional else ""


def _choices(i: Input, pools: Pools, allowed: Callable[[str, Any], bool] | None = None
             ) -> list[Any]:
    """The values tried first: the simplest ones, then those around the constants, but
    not those a fact's `where` refuses; None first where the fact may be left out."""
    simple: list[Any] = cast("dict[str, list[Any]]", {
        "bool": [True, False], "integer": [0, 1], "decimal": [Decimal(0), Decimal(1)],
        "money": [Decimal(0), Decimal(1)], "percent": [Decimal(0), Decimal(1)],
        "days": [0, 1], "business_days": [0, 1], "months": [0, 1, 12],
        "party": list(i.parties),
        "text": [""],
    }).get(i.kind, list(i.members))
    pool = list(pools.get(i.kind, ())) if not i.members else []
    if i.kind == "money":
        pool += list(pools.get("decimal", ()))
    values = [v for v in _unique([*simple, *pool])
              if allowed is None or i.is_param or allowed(i.name, v)]
    if i.optional:
        values.insert(0, None)
    return values or [None]


def _unique(values: Iterable[Any]) -> list[Any]:
    """`values` without repeats (equal values: 0 and 0.00), in order; lists and records,
    which are not hashable, by how they are written."""
    values = list(values)
    try:
        return list(dict.fromkeys(values))
    except TypeError:
        pass
    seen: set[str] = set()
    out = []
    for v in values:
        key = repr((type(v).__name__, v))
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


# --------------------------------------------------------------- minimising


def simpler(kind: str, value: Any, pools: Pools) -> list[Any]:
    """Simpler values to try instead of `value` (of this kind), simplest first."""
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, (list, tuple)):
        shorter = [v for v in _unique([[], list(value[:1]), list(value[:-1])])
                   if len(v) < len(value)]
        # Then as many items, each with its values at their simplest.
        plain = [_plainest(item, pools) for item in value]
        return shorter + ([plain] if plain != list(value) else [])
    if isinstance(value, str):
        return [""] if kind == "text" and value else []
    if type(value) is date:
        if value in pools.get("date", ()):
            return []  # already at an edge of the logic
        near = sorted(pools.get("date", ()), key=lambda d: (abs((d - value).days), d))
        return [d for d in near[:12] if d != value]
    if isinstance(value, int):
        return [v for v in dict.fromkeys([0, 1, _round(value, 1), _round(value, 2), 10, 100])
                if abs(v) < abs(value)]
    if isinstance(value, Decimal):
        whole = value.to_integral_value()
        tries = [Decimal(0), Decimal(1), Decimal(_round(int(whole), 1)),
                 Decimal(_round(int(whole), 2)), whole]
        if kind == "percent":
            tries = [Decimal(0), Decimal("0.5"), Decimal(1),
                     (value * 100).to_integral_value() / 100,
                     (value * 1000).to_integral_value() / 1000]
        return [v for v in dict.fromkeys(tries) if v != value and abs(v) <= abs(value)
                or (kind == "percent" and v != value and len(str(v)) < len(str(value)))]
    if isinstance(value, datetime):
        hour = value.replace(minute=0, second=0, microsecond=0)
        minute = value.replace(second=0, microsecond=0)
        return [v for v in dict.fromkeys([hour, minute]) if v != value]
    return []


def _plainest(value: Any, pools: Pools) -> Any:
    """An item of a list with every value at its simplest (`simpler`'s first), a
    record's field by field."""
    if isinstance(value, Mapping):
        return {k: _plainest(v, pools) for k, v in value.items()}
    options = simpler("", value, pools) if not isinstance(value, (list, tuple)) else []
    return options[0] if options else value


def _round(n: int, digits: int) -> int:
    """n rounded down to `digits` significant digits: 123456 -> 100000 (1), 120000 (2)."""
    size = len(str(abs(n)))
    unit: int = 10 ** max(size - digits, 0)
    return (abs(n) // unit) * unit * (1 if n >= 0 else -1)


def minimise(accept: Callable[[Example], bool], example: Example,
             kinds: Mapping[str, str], pools: Pools) -> Example:
    """Fewest facts given, then simplest values, keeping what `accept` takes (the rule of
    the module's docstring). `kinds`: the facts' kinds by name; `pools`: `constants`."""
    data, args = example
    data = {k: v for k, v in data.items() if v is not None}
    for name in sorted(data):
        trial = {k: v for k, v in data.items() if k != name}
        if accept((trial, args)):
            data = trial
    for name in sorted(data):
        for value in simpler(kinds.get(name, ""), data[name], pools):
            trial = {**data, name: value}
            if accept((trial, args)):
                data = trial
                break
    for i, arg in enumerate(args):
        for value in simpler("", arg, pools):
            trial_args = (*args[:i], value, *args[i + 1:])
            if accept((data, trial_args)):
                args = trial_args
                break
    return data, args
