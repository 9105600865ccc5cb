"""The pipeline end to end, and the Python API: `compile_file`, `load`, `check_file`.

An agreement is one clause file, or a clause file and the amendment files that amend
it (a folder per agreement is natural). Parse and transform each file, consolidate the
versions (consolidate.py), check every version, generate one module.
"""

from __future__ import annotations

import hashlib
import linecache
import sys
import types
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import attrs

from clausec import ir
from clausec.backends.python import codegen
from clausec.diagnostics import CompileError, Diagnostic, Diagnostics, Related, did_you_mean
from clausec.front import parser, transform
from clausec.passes import check as check_pass
from clausec.passes.consolidate import Version, consolidate
from clausec.source import SourceFile, read_text

CheckedVersions = list[tuple[Version | None, check_pass.CheckedProgram]]


@attrs.frozen
class Result:
    """What one run of the front end found about one agreement (and its amendments)."""

    sources: dict[str, SourceFile]
    diagnostics: list[Diagnostic]
    versions: CheckedVersions | None  # None when there are errors

    @property
    def ok(self) -> bool:
        return self.versions is not None

    @property
    def source(self) -> SourceFile:
        """The agreement's file."""
        return next(iter(self.sources.values()))

    @property
    def checked(self) -> check_pass.CheckedProgram | None:
        """The agreement as in force now (its latest version)."""
        return self.versions[-1][1] if self.versions else None


def _front(source: SourceFile, diagnostics: Diagnostics) -> ir.Program:
    trees = parser.parse(source, diagnostics)
    return transform.build(source.name, trees, diagnostics)


Front = Callable[[SourceFile, Diagnostics], ir.Program]


def analyse(source: SourceFile, amendments: Sequence[SourceFile] = (), *,
            front: Front = _front) -> Result:
    """Parse, build the IR, consolidate and check an agreement and its amendments; every
    problem lands in the diagnostics. `front` turns one file into its IR (the language
    server passes one that reuses the parse of unchanged parts)."""
    diagnostics = Diagnostics()
    sources = {s.name: s for s in [source, *amendments]}
    try:
        versions = _analyse(source, amendments, diagnostics, front)
    except RecursionError:
        # Every pass is bounded (parser.MAX_NESTING, check's limits): this is a last line
        # of defence, so that the file still gets a diagnostic rather than a traceback.
        diagnostics.error(source.span(1, 1), "this file nests too deeply to compile",
                          "give deeply nested parts names of their own (define ...)",
                          code="limit")
        versions = None
    if diagnostics.has_errors:
        versions = None
    return Result(sources, diagnostics.sorted(), versions)


def _analyse(source: SourceFile, amendments: Sequence[SourceFile],
             diagnostics: Diagnostics, front: Front = _front) -> CheckedVersions | None:
    program = front(source, diagnostics)
    others = [front(a, diagnostics) for a in amendments]
    syntax_errors = any(d.code == "syntax" for d in diagnostics.items)
    header = program.header
    if header is not None and header.kind == "amendment" and not amendments:
        diagnostics.error(header.span, f"this amendment is checked with the agreement it "
                          f"amends ('{header.amends}')",
                          "check or compile the agreement's file (or its folder) with it",
                          code="amendment")
        return None
    if not others:
        checked = check_pass.check(program, diagnostics)
        versions: CheckedVersions = [(None, checked)]
    else:
        if header is None or header.kind != "agreement":
            diagnostics.error(source.span(1, 1), "amendments need the agreement they amend: "
                              "this file has no 'agreement' header", code="amendment")
            return None
        consolidated = consolidate(program, others, diagnostics)
        versions = []
        warnings: Counter[tuple[object, str]] = Counter()
        for version in consolidated:
            scratch = Diagnostics()
            versions.append((version, check_pass.check(version.program, scratch,
                                                       version.removed)))
            if len(versions) > 1:
                _type_changes(versions[-2][1], versions[-1], scratch)
                _effective_upon(version, versions[-1][1], scratch)
            for d in scratch.items:
                if d.code == "unused":
                    warnings[(d.span, d.message)] += 1
                else:
                    diagnostics.items.append(d)
        # A fact is unused only if no version uses it.
        unused = [d for d in scratch.items if d.code == "unused"
                  and warnings[(d.span, d.message)] == len(consolidated)]
        diagnostics.items.extend(unused)
    if syntax_errors:
        # A name defined in a part that did not parse would be reported as undefined.
        diagnostics.items = [d for d in diagnostics.items
                             if d.code not in ("name", "unused", "dangling")]
    return versions


def _effective_upon(version: Version, checked: check_pass.CheckedProgram,
                    diagnostics: Diagnostics) -> None:
    """An amendment effective upon an event names a date fact of the amended agreement."""
    if version.upon is None or version.amendment is None:
        return
    fact = checked.declarations.get(version.upon)
    if not isinstance(fact, ir.Fact) or fact.per is not None or \
            fact.type.kind not in ("date", "error"):
        facts = [n for n, d in checked.declarations.items() if isinstance(d, ir.Fact)
                 and d.type.kind == "date" and d.per is None]
        diagnostics.error(version.amendment.span, f"'effective upon {version.upon}': "
                          f"'{version.upon}' is not a date fact of the amended agreement",
                          did_you_mean(version.upon, facts) or "declare it: fact "
                          f"{version.upon} \"the satisfaction of the conditions\": date "
                          "optional", code="amendment")


def _type_changes(before: check_pass.CheckedProgram,
                  after: tuple[Version | None, check_pass.CheckedProgram],
                  diagnostics: Diagnostics) -> None:
    """An amendment that changes the type of a term breaks the provisions it left alone
    that use the term: say so where the type errors are, naming both positions."""
    version, checked = after
    assert version is not None and version.amendment is not None
    amendment_file = version.amendment.span.file
    errors = [d for d in diagnostics.items if d.severity == "error" and d.code == "type"]
    for name, new in checked.types.items():
        old = before.types.get(name)
        if old is None or old.kind == new.kind or new.kind == "error":
            continue
        changed = checked.declarations[name]
        for user in checked.program.declarations:
            if user.span.file == amendment_file or name not in ir.names_used(user):
                continue
            inside = [d for d in errors if d.span.file == user.span.file
                      and user.span.line <= d.span.line <= user.span.end_line]
            if inside:
                diagnostics.items.remove(inside[0])  # said better below
                diagnostics.error(
                    inside[0].span, f"the amendment changes '{name}' from {old.required()} "
                    f"to {new.required()}, which breaks '{user.name}' here",
                    f"amend '{user.name}' too, or keep '{name}' a {old.required()}",
                    code="type", related=[Related(changed.span, f"'{name}' as amended")])


def generate(result: Result) -> str:
    assert result.versions is not None
    return codegen.generate_versions(result.versions, result.sources)


def compile_source(source: SourceFile, amendments: Sequence[SourceFile] = ()
                   ) -> tuple[str | None, list[Diagnostic]]:
    """The generated Python of an agreement (and its amendments), or None and the
    diagnostics that say why not."""
    result = analyse(source, amendments)
    if result.versions is None:
        return None, result.diagnostics
    return generate(result), result.diagnostics


def group(paths: Iterable[str | Path]) -> list[tuple[Path, list[Path]]]:
    """Agreements with their amendments, from files and folders. An amendment whose
    agreement is not among them is matched with an agreement file beside it."""
    files: list[Path] = []
    for path in map(Path, paths):
        files.extend(sorted(path.rglob("*.clause")) if path.is_dir() else [path])
    agreements: dict[str, Path] = {}
    order: list[Path] = []
    amendments: list[tuple[str, Path]] = []
    for file in files:
        kind, name, amends = peek(file)
        if kind == "tests":
            continue  # scenario tests: run by `clausec test`, not compiled
        if kind == "amendment" and amends:
            amendments.append((amends, file))
        else:
            agreements.setdefault(name or str(file), file)
            order.append(file)
    attached: dict[Path, list[Path]] = {file: [] for file in order}
    for amends, file in amendments:
        agreement = agreements.get(amends)
        if agreement is None:
            for sibling in sorted(file.parent.glob("*.clause")):
                kind, name, _ = peek(sibling)
                if kind == "agreement" and name == amends:
                    agreement = agreements[amends] = sibling
                    attached.setdefault(sibling, [])
                    order.append(sibling)
                    break
        if agreement is None:
            attached[file] = []  # analysed alone: reports that its agreement is missing
            order.append(file)
        else:
            attached[agreement].append(file)
    return [(file, attached[file]) for file in dict.fromkeys(order)]


def peek(path: Path) -> tuple[str, str, str]:
    """(kind, name, amends) of a clause file's header, read without parsing the file."""
    try:
        text = read_text(path)
    except OSError:
        return ("", "", "")
    return parser.peek_header(text)


def _sources(path: str | Path, amendments: Sequence[str | Path]
             ) -> tuple[SourceFile, list[SourceFile]]:
    if Path(path).is_dir() and not amendments:
        groups = group([path])
        if len(groups) != 1:
            raise CompileError([], {}) if not groups else ValueError(
                f"{path} holds {len(groups)} agreements; name the one to compile")
        agreement, found = groups[0]
        return SourceFile.read(agreement), [SourceFile.read(a) for a in found]
    return SourceFile.read(path), [SourceFile.read(a) for a in amendments]


def compile_file(path: str | Path, amendments: Sequence[str | Path] = ()) -> str:
    """Compile an agreement (a file, with its amendment files, or a folder holding them)
    to Python source; raise CompileError if anything has errors."""
    source, others = _sources(path, amendments)
    code, diagnostics = compile_source(source, others)
    if code is None:
        raise CompileError(diagnostics, {s.name: s for s in [source, *others]})
    return code


def check_file(path: str | Path, amendments: Sequence[str | Path] = ()) -> list[Diagnostic]:
    """All diagnostics (errors and warnings) of an agreement and its amendments."""
    source, others = _sources(path, amendments)
    return analyse(source, others).diagnostics


def load(path: str | Path, amendments: Sequence[str | Path] = ()) -> types.ModuleType:
    """Compile an agreement and import the result as a module (nothing written to disk)."""
    return module_from_source(compile_file(path, amendments), path)


def module_from_source(code: str, path: str | Path) -> types.ModuleType:
    """Import generated code as a module named after its clause file."""
    stem = Path(path).stem
    digest = hashlib.sha256(code.encode()).hexdigest()[:12]
    name = f"clausec_generated.{stem}_{digest}"
    # The name shows in tracebacks and is __file__: on one line, whatever the file is called.
    filename = codegen.comment_text(f"<clausec {Path(path).name} -> {stem}.py>")
    module = types.ModuleType(name)
    module.__file__ = filename
    # Tracebacks through the module show its lines; dataclasses need it in sys.modules.
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    sys.modules[name] = module
    exec(compile(code, filename, "exec"), module.__dict__)  # noqa: S102 - load() runs it
    return module
