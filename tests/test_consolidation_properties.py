"""Properties of consolidation, on random agreements and random (valid) amendments.

The agreements are small: a few facts (integers and booleans), a top-level term `base`,
and numbered sections of one to three sentences, each sentence its own text block
followed by the definitions that encode it (over the facts and `base` only, so that no
operation can leave a name dangling). The amendments are drawn against a model of the
agreement as amended so far -- which sections are in force and how many sentences each
has -- so every operation is valid: replace or delete a section, replace or delete a
sentence (by its ordinal or "the last"), append to a section, add a section, and the
amendment's own sections. One to three amendments, at distinct effective dates, given
to the compiler in a random order.

Properties:
1. Consolidating with no amendments is the identity, and an amendment that changes
   nothing yields versions that evaluate like the plain file.
2. Applying the amendments one by one (each consolidated onto the program of the version
   the previous one produced) gives the same versions as applying them together; also
   when an amendment adds a section under the number of one an earlier amendment deleted.
3. Evaluating at any date equals evaluating the agreement compiled with only the
   amendments effective on or before that date; names not in force raise
   NotInForceError.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from types import ModuleType

import attrs
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from clausec import api, ir
from clausec.backends.python import codegen
from clausec.diagnostics import Diagnostics
from clausec.front import parser, transform
from clausec.passes import check as check_pass
from clausec.passes.consolidate import Version, consolidate
from clausec.source import SourceFile

INT_FACTS = ("f0", "f1", "f2")
BOOL_FACTS = ("b0", "b1")
AGREEMENT_DATE = date(2004, 1, 1)
# No shrinking: a failing case is printed whole (it is small: at most four sections and
# three amendments of at most four operations), and shrinking a compile-heavy property
# takes minutes. Add Phase.shrink locally to minimise a failure.
SETTINGS = settings(max_examples=50, deadline=None,
                    phases=(Phase.explicit, Phase.reuse, Phase.generate),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ====================================================================== the generator


@attrs.define
class Block:
    """One sentence (a text block of its own) and the definitions after it."""

    sentence: str
    decls: list[tuple[str, str]]  # (name, clause source of the declaration)

    def source(self) -> list[str]:
        lines = ['  text """', f"    {self.sentence}", '  """']
        lines += [f"  {code}" for _, code in self.decls]
        return lines


@attrs.define
class Case:
    agreement: str
    amendments: list[tuple[date, str]]  # in effective-date order
    order: list[int]  # the order the amendments are given in

    def given(self) -> list[tuple[int, str]]:
        """(index in effective-date order, text) of each amendment, in the order given."""
        return [(i, self.amendments[i][1]) for i in self.order]

    def first(self, count: int) -> list[tuple[int, str]]:
        """The `count` amendments effective first."""
        return [(i, text) for i, (_, text) in enumerate(self.amendments[:count])]


class _Names:
    def __init__(self) -> None:
        self.count = 0

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"


def _int_expr(draw, depth: int) -> str:
    leaves = [*INT_FACTS, "base"]
    if depth <= 0:
        return draw(st.one_of(st.sampled_from(leaves),
                              st.integers(0, 20).map(str)))
    kind = draw(st.sampled_from(["leaf", "literal", "+", "-", "*", "if"]))
    if kind == "leaf":
        return draw(st.sampled_from(leaves))
    if kind == "literal":
        return str(draw(st.integers(0, 20)))
    if kind == "if":
        return (f"(if {_bool_expr(draw, depth - 1)} then {_int_expr(draw, depth - 1)} "
                f"else {_int_expr(draw, depth - 1)})")
    return f"({_int_expr(draw, depth - 1)} {kind} {_int_expr(draw, depth - 1)})"


def _bool_expr(draw, depth: int) -> str:
    if depth <= 0:
        return draw(st.sampled_from(BOOL_FACTS))
    kind = draw(st.sampled_from(["leaf", "compare", "not", "and", "or"]))
    if kind == "leaf":
        return draw(st.sampled_from(BOOL_FACTS))
    if kind == "compare":
        op = draw(st.sampled_from([">", "<", "==", "is at least"]))
        return f"({_int_expr(draw, depth - 1)} {op} {_int_expr(draw, depth - 1)})"
    if kind == "not":
        return f"(not {_bool_expr(draw, depth - 1)})"
    return f"({_bool_expr(draw, depth - 1)} {kind} {_bool_expr(draw, depth - 1)})"


def _declaration(draw, name: str) -> str:
    if draw(st.booleans()):
        return f"define {name}: integer = {_int_expr(draw, 2)}"
    return f"condition {name} = {_bool_expr(draw, 2)}"


def _block(draw, names: _Names, reuse: list[str] = (), max_decls: int = 2) -> Block:
    """A sentence and 0..max_decls definitions; `reuse` are names it may re-declare."""
    sentence_id = names.fresh("s")
    sentence = draw(st.sampled_from([
        f"Provision {sentence_id} applies to the parties.",
        f"The parties agree to term {sentence_id} under Sections 3.3 and 3.4 hereof.",
        f"Each party shall observe rule {sentence_id}.",
    ]))
    count = draw(st.integers(0, max_decls))
    chosen: list[str] = []
    for _ in range(count):
        candidates = [n for n in reuse if n not in chosen]
        if candidates and draw(st.booleans()):
            chosen.append(draw(st.sampled_from(candidates)))
        else:
            chosen.append(names.fresh("t"))
    return Block(sentence, [(n, _declaration(draw, n)) for n in chosen])


def _blocks(draw, names: _Names, low: int, high: int, reuse: list[str] = ()) -> list[Block]:
    blocks: list[Block] = []
    for _ in range(draw(st.integers(low, high))):
        taken = {n for b in blocks for n, _ in b.decls}
        blocks.append(_block(draw, names, [n for n in reuse if n not in taken]))
    return blocks


def _body(blocks: list[Block]) -> str:
    return "\n".join(line for b in blocks for line in b.source())


_ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
             "ninth", "tenth"]


def _section_numbers(draw) -> list[str]:
    style = draw(st.sampled_from(["plain", "dotted", "lettered"]))
    count = draw(st.integers(2, 4))
    if style == "plain":
        return [str(i) for i in range(1, count + 1)]
    if style == "dotted":
        return [f"3.{i}" for i in range(1, count + 1)]
    return [f"1({chr(ord('a') + i)})" for i in range(count)]


def _new_number(draw, used: set[str], numbers: list[str]) -> str:
    """A section number not used yet: of the agreement's style (1(e), 3.5, 5) or not."""
    first = numbers[0]
    if "(" in first:
        family = [f"1({chr(ord('a') + i)})" for i in range(26)]
    elif "." in first:
        family = [f"3.{i}" for i in range(1, 30)]
    else:
        family = [str(i) for i in range(1, 30)]
    free = [n for n in family if n not in used][:4]
    free += [n for n in ("7", "9(a)", "12.1") if n not in used]
    return draw(st.sampled_from(free))


@st.composite
def cases(draw, max_amendments: int = 3, readd: bool = False) -> Case:
    """An agreement and its amendments; with `readd`, an amendment may add a section
    under the number of one an earlier amendment deleted (which consolidation allows)."""
    names = _Names()
    numbers = _section_numbers(draw)
    # The model: section number -> its blocks (None once deleted), in file order.
    sections: dict[str, list[Block] | None] = {}
    lines = [
        'agreement deal "Deal" {',
        f"  dated {AGREEMENT_DATE.isoformat()}",
        '  party buyer "Buyer"',
        '  party seller "Seller"',
        "}",
        "",
    ]
    lines += [f"fact {f}: integer" for f in INT_FACTS]
    lines += [f"fact {f}: bool" for f in BOOL_FACTS]
    lines += ["define base: integer = f0 + 1", ""]
    for number in numbers:
        blocks = _blocks(draw, names, 1, 3)
        sections[number] = blocks
        heading = draw(st.sampled_from(["", ' "Heading"']))
        lines += [f"section {number}{heading} {{", _body(blocks), "}", ""]
    agreement = "\n".join(lines)

    used = set(numbers)
    count = draw(st.integers(1, max_amendments))
    days = sorted(draw(st.lists(st.integers(1, 3000), min_size=count, max_size=count,
                                unique=True)))
    amendments = []
    for index, day in enumerate(days, 1):
        effective = AGREEMENT_DATE + timedelta(days=day)
        out = [f'amendment am{index} "Amendment No. {index}" amends deal {{',
               f"  effective {effective.isoformat()}", "}", ""]
        for _ in range(draw(st.integers(0, 4))):
            in_force = [n for n, b in sections.items() if b is not None]
            with_sentences = [n for n in in_force if sections[n]]
            kinds = ["add", "own"]
            if in_force:
                kinds += ["replace", "delete", "append"]
            if with_sentences:
                kinds += ["replace sentence", "delete sentence"]
            kind = draw(st.sampled_from(kinds))
            if kind == "replace":
                number = draw(st.sampled_from(in_force))
                old = [n for b in sections[number] or [] for n, _ in b.decls]
                blocks = _blocks(draw, names, 0, 3, reuse=old)
                heading = draw(st.sampled_from(["", ' "New heading"']))
                out += [f"replace section {number}{heading} {{", _body(blocks), "}"]
                sections[number] = blocks
            elif kind == "delete":
                chosen = draw(st.lists(st.sampled_from(in_force), min_size=1, max_size=3,
                                       unique=True))
                if len(chosen) == 1:
                    out.append(f"delete section {chosen[0]}")
                else:
                    listed = ", ".join(chosen[:-1]) + " and " + chosen[-1]
                    out.append(f"delete sections {listed}")
                for number in chosen:
                    sections[number] = None
            elif kind == "append":
                number = draw(st.sampled_from(in_force))
                blocks = _blocks(draw, names, 1, 2)
                out += [f"append to section {number} {{", _body(blocks), "}"]
                sections[number] = [*(sections[number] or []), *blocks]
            elif kind == "add":
                deleted = [n for n, b in sections.items() if b is None]
                if readd and deleted and draw(st.booleans()):
                    number = draw(st.sampled_from(deleted))
                else:
                    number = _new_number(draw, used, numbers)
                used.add(number)
                blocks = _blocks(draw, names, 1, 2)
                out += [f"add section {number} {{", _body(blocks), "}"]
                sections[number] = blocks
            elif kind == "own":
                blocks = _blocks(draw, names, 1, 2)
                out += [f"section {draw(st.integers(1, 9))}.{names.fresh('')} {{",
                        _body(blocks), "}"]
            else:
                number = draw(st.sampled_from(with_sentences))
                current = sections[number]
                assert current
                position = draw(st.integers(0, len(current) - 1))
                last = position == len(current) - 1 and draw(st.booleans())
                ordinal = "last" if last else _ORDINALS[position]
                target = f"the {ordinal} sentence of section {number}"
                if kind == "delete sentence":
                    out.append(f"delete {target}")
                    current = current[:position] + current[position + 1:]
                else:
                    reuse = [n for n, _ in current[position].decls]
                    blocks = _blocks(draw, names, 1, 2, reuse=reuse)
                    out += [f"replace {target} {{", _body(blocks), "}"]
                    current = current[:position] + blocks + current[position + 1:]
                sections[number] = current
            out.append("")
        amendments.append((effective, "\n".join(out)))
    order = draw(st.permutations(range(count)))
    return Case(agreement, amendments, list(order))


@st.composite
def facts(draw) -> dict[str, object]:
    values: dict[str, object] = {f: draw(st.integers(0, 30)) for f in INT_FACTS}
    values.update({f: draw(st.booleans()) for f in BOOL_FACTS})
    return values


# ======================================================================= helpers


def _program(name: str, text: str) -> ir.Program:
    source = SourceFile(name, text)
    diagnostics = Diagnostics()
    program = transform.build(name, parser.parse(source, diagnostics), diagnostics)
    assert not diagnostics.has_errors, diagnostics.render({name: source}) + "\n\n" + text
    return program


def _programs(case: Case) -> tuple[ir.Program, list[ir.Program]]:
    agreement = _program("deal.clause", case.agreement)
    amendments = [_program(f"am{i + 1}.clause", case.amendments[i][1]) for i in case.order]
    return agreement, amendments


def _consolidate(agreement: ir.Program, amendments: list[ir.Program],
                 sources: str = "") -> list[Version]:
    diagnostics = Diagnostics()
    versions = consolidate(agreement, amendments, diagnostics)
    errors = [d for d in diagnostics.items if d.severity == "error"]
    assert not errors, "\n".join(str(d.span) + ": " + d.message for d in errors) + sources
    return versions


def _shape(program: ir.Program) -> tuple[object, ...]:
    """What a version's program says, without positions: each section's number, heading,
    label (its note), placeholder and parts (text and the names declared after it), and
    each declaration in full (attrs equality: spans and inferred types do not count)."""
    sections = tuple((s.number, s.heading, s.note, s.deleted, s.text,
                      tuple((p.text.text if p.text else None, p.declarations)
                            for p in s.parts))
                     for s in program.sections)
    declarations = tuple(sorted(((d.name, d) for d in program.declarations),
                                key=lambda item: item[0]))
    return sections, declarations


def _compile(case: Case, amendments: list[tuple[int, str]]
             ) -> tuple[ModuleType, api.Result]:
    """Compile the agreement with some of its amendments, each (index, text) in the file
    am{index + 1}.clause whatever the order, so that positions agree between compiles."""
    sources = [SourceFile(f"am{i + 1}.clause", text) for i, text in amendments]
    result = api.analyse(SourceFile("deal.clause", case.agreement), sources)
    assert result.ok, "\n\n".join(d.render(result.sources) for d in result.diagnostics) + \
        "\n\n" + case.agreement + "\n\n" + "\n\n".join(t for _, t in amendments)
    return api.module_from_source(api.generate(result), "deal.clause"), result


def _names(result: api.Result, index: int = -1) -> list[str]:
    """The terms and conditions of a version."""
    assert result.versions is not None
    return [d.name for d in result.versions[index][1].program.declarations
            if isinstance(d, ir.Definition)]


def _describe(case: Case) -> str:
    return case.agreement + "\n\n" + "\n\n".join(text for _, text in case.amendments)


# ==================================================================== 1. identity


@SETTINGS
@given(cases(max_amendments=1))
def test_no_amendments_is_the_identity(case):
    agreement = _program("deal.clause", case.agreement)
    versions = _consolidate(agreement, [])
    assert len(versions) == 1
    (only,) = versions
    assert only.effective is None and only.amendment is None and only.changes == ()
    assert only.program == agreement
    assert _shape(only.program) == _shape(agreement)
    # The generated module is the plain file's, character for character.
    diagnostics = Diagnostics()
    checked = check_pass.check(agreement, diagnostics)
    assert not diagnostics.has_errors
    plain = codegen.generate(checked, SourceFile("deal.clause", case.agreement))
    consolidated = codegen.generate_versions([(only, check_pass.check(only.program,
                                                                      Diagnostics()))],
                                             {"deal.clause": SourceFile("deal.clause",
                                                                        case.agreement)})
    assert consolidated == plain
    # ... and so is the module the API compiles with an empty list of amendments.
    code, _ = api.compile_source(SourceFile("deal.clause", case.agreement), [])
    assert code == plain


@settings(SETTINGS, max_examples=25)
@given(cases(max_amendments=1), facts())
def test_an_amendment_that_changes_nothing(case, values):
    plain, result = _compile(case, [])
    empty = case.amendments[0][1].split("}\n", 1)[0] + "}\n"
    module, amended = _compile(case, [(0, empty)])
    assert len(module.VERSIONS) == 2 and module.AMENDMENTS[0]["changes"] == ()
    names = _names(result)
    assert _names(amended, 0) == _names(amended, -1) == names
    p_facts, m_facts = plain.Facts(**values), module.Facts(**values)
    for version in module.VERSIONS:
        assert version.sections == plain.SECTIONS
        for name in names:
            assert version.evaluate(name, m_facts) == plain.evaluate(name, p_facts), name


# ========================================================== 2. one by one = together


@SETTINGS
@given(cases())
def test_one_by_one_equals_together(case):
    """consolidate(agreement, [a1, a2, a3]) (given in a random order) against
    consolidate(consolidate(consolidate(agreement, [a1])[-1].program, [a2])[-1].program,
    [a3]), version by version. A version's program is the agreement as in force: its
    sections (with their notes and placeholders, so nothing needs stripping -- the chained
    run carries each earlier amendment's notes and placeholders forward in the sections
    it is given) and its declarations. Compared without positions (see _shape)."""
    agreement, given_order = _programs(case)
    text = "\n\n" + _describe(case)
    together = _consolidate(agreement, given_order, text)
    assert len(together) == len(case.amendments) + 1
    assert [v.effective for v in together[1:]] == [d for d, _ in case.amendments]

    by_date = [_program(f"am{i + 1}.clause", t) for i, (_, t) in enumerate(case.amendments)]
    current = agreement
    for index, amendment in enumerate(by_date, 1):
        step = _consolidate(current, [amendment], text)
        assert len(step) == 2
        assert step[0].program == current
        chained = step[1]
        assert chained.effective == together[index].effective
        assert chained.label == together[index].label
        assert _shape(chained.program) == _shape(together[index].program), index
        assert chained.changes == together[index].changes  # (spans do not count)
        current = chained.program


@settings(SETTINGS, max_examples=30)
@given(cases(readd=True))
def test_one_by_one_equals_together_when_a_deleted_number_is_used_again(case):
    """As above, with amendments that add a section under a number an earlier one
    deleted. The chained run sees the deleted section as a placeholder section of the
    program it is given; it must still know that the section is not in force."""
    test_one_by_one_equals_together.hypothesis.inner_test(case)


def test_chaining_keeps_deletions():
    """The smallest case of the property above, spelt out: a section deleted by a1 can be
    added again by a2 (and not replaced), whether a2 is consolidated together with a1 or
    onto the program of the version a1 produced."""
    agreement = _program("deal.clause", 'agreement deal "Deal" {\n  dated 2004-01-01\n}\n'
                         'section 1 {\n  text """\n    One.\n  """\n}\n')
    a1 = _program("a1.clause", 'amendment a1 "A1" amends deal {\n  effective 2004-03-01\n'
                  '}\ndelete section 1\n')
    body = ' section 1 {\n  text """\n    New one.\n  """\n}\n'
    header = 'amendment a2 "A2" amends deal {\n  effective 2004-04-01\n}\n'
    add, replace = (_program("a2.clause", header + verb + body) for verb in ("add", "replace"))
    after_a1 = _consolidate(agreement, [a1])[-1].program
    assert after_a1.sections[0].deleted == "[Deleted by the A1 of March 1, 2004]"

    together = _consolidate(agreement, [a1, add])[-1].program
    chained = _consolidate(after_a1, [add])[-1].program
    assert _shape(together) == _shape(chained)
    assert together.sections[0].text == "New one."

    for start, amendments in ((agreement, [a1, replace]), (after_a1, [replace])):
        diagnostics = Diagnostics()
        consolidate(start, amendments, diagnostics)
        assert [d.message for d in diagnostics.items if d.severity == "error"] == [
            "Section 1 is not in force on April 1, 2004, so it cannot be amended"]


# ======================================================== 3. evaluation at a date


def _dates(case: Case, rng: random.Random) -> list[tuple[date, int]]:
    """Dates to evaluate at, each with the number of amendments in force on it: every
    effective date, the day before it, and a random day in each interval."""
    bounds = [AGREEMENT_DATE - timedelta(days=400)] + [d for d, _ in case.amendments] + \
        [date(2015, 1, 1)]
    out = []
    for k in range(len(bounds) - 1):
        start, end = bounds[k], bounds[k + 1]
        out.append((start, k))
        out.append((end - timedelta(days=1), k))
        out.append((start + timedelta(days=rng.randrange((end - start).days)), k))
    return out


@settings(SETTINGS, max_examples=40)
@given(cases(), facts(), st.randoms(use_true_random=False))
def test_evaluation_at_a_date_is_the_version_compiled_for_it(case, values, rng):
    module, result = _compile(case, case.given())
    every = {name for index in range(len(module.VERSIONS)) for name in _names(result, index)}
    m_facts = module.Facts(**values)
    alone: dict[int, tuple[ModuleType, list[str]]] = {}
    explained: set[int] = set()
    for day, k in _dates(case, rng):
        if k not in alone:
            if k == len(case.amendments):
                # Every amendment: the module itself is that compile (in the order given,
                # which property 2 shows does not matter).
                alone[k] = (module, _names(result))
            else:
                sub, sub_result = _compile(case, case.first(k))
                alone[k] = (sub, _names(sub_result))
        sub, in_force = alone[k]
        version = module.at(day)
        assert version is module.VERSIONS[k]
        sub_facts = sub.Facts(**values)
        for name in in_force:
            assert version.evaluate(name, m_facts) == sub.evaluate(name, sub_facts), \
                (day, name)
            assert getattr(version, name)(m_facts) == getattr(sub, name)(sub_facts)
        assert version.sections == sub.SECTIONS, day
        if k not in explained:
            # ... and explains it the same way: values, sections, clause lines.
            explained.add(k)
            for name in in_force:
                assert version.explain(name, m_facts).to_dict() == \
                    sub.explain(name, sub_facts).to_dict(), (day, name)
        for name in sorted(every - set(in_force)):
            try:
                version.evaluate(name, m_facts)
            except module.NotInForceError as error:
                assert f"'{name}' is not in force" in str(error)
            else:
                raise AssertionError(f"{name} is not in force on {day} but evaluates")
            assert not hasattr(version, name)
