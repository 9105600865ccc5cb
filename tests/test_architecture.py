"""The package's layering: each layer imports only from its own layer and those before it.

    source, diagnostics  text, positions and messages
    ir                   the syntax tree every pass and backend shares
    front                parser, transformer to the IR, incremental re-parsing
    passes               consolidation of amendments, checking
    backends             Python (codegen and its runtime), English, z3, the interpreter
    api                  the pipeline as a library: analyse, compile, load
    analysis             verification, the semantic diff, fact generation
    tools                formatter, test runner and coverage, pytest plugin, language server
    cli                  the command line

No module uses a private name (`_x`) of another, and there are no import cycles. The
check reads the source with `ast`, so it also sees imports made inside functions.

`KNOWN` lists the exceptions that remain, each to be removed, never added to: a test
fails when one is fixed (so the list shrinks) and when a new one appears.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "compiler"
LAYERS = ["source", "ir", "front", "passes", "backends", "api", "analysis", "tools", "cli"]
RANK = {name: i for i, name in enumerate(LAYERS)} | {"diagnostics": 0}

# The runtime is pasted into every generated module in parts (runtime, runtime_eval,
# runtime_periods, runtime_time, runtime_lists): the later parts' imports of the earlier are dropped
# there (`# prelude: skip`), so they are one module and share private names.
_RUNTIME = "clausec.backends.python.runtime"
ONE_MODULE = {(f"{_RUNTIME}_eval", _RUNTIME), (f"{_RUNTIME}_time", _RUNTIME),
              (f"{_RUNTIME}_time", f"{_RUNTIME}_eval"), (f"{_RUNTIME}_time", f"{_RUNTIME}_periods"),
              (f"{_RUNTIME}_lists", _RUNTIME), (f"{_RUNTIME}_lists", f"{_RUNTIME}_eval")}

KNOWN: set[str] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["clausec", *parts])


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "clausec" or len(parts) == 1:
        return None  # the package itself: __init__ re-exports the API, __main__ runs the CLI
    return parts[1] if parts[1] in RANK else None


def _exists(module: str) -> bool:
    parts = module.split(".")[1:]
    base = PACKAGE.joinpath(*parts) if parts else PACKAGE
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def _imports(path: Path) -> Iterator[tuple[str, list[str]]]:
    """(imported module, names imported from it) for each import of a clausec module."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("clausec"):
                for alias in node.names:
                    # `from clausec.front import parser` imports the module clausec.front.parser
                    candidate = f"{target}.{alias.name}"
                    yield (candidate, []) if _exists(candidate) else (target, [alias.name])
        elif isinstance(node, ast.Import):
            yield from ((a.name, []) for a in node.names if a.name.startswith("clausec"))


def _module_aliases(tree: ast.AST) -> set[str]:
    """Local names bound to clausec modules (`from clausec.front import parser` binds
    `parser`)."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("clausec"):
            bound |= {a.asname or a.name for a in node.names if _exists(f"{node.module}.{a.name}")}
        elif isinstance(node, ast.ImportFrom) and node.level and node.module is None:
            bound |= {a.asname or a.name for a in node.names}
    return bound


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


SOURCES = sorted(PACKAGE.rglob("*.py"))


def _violations() -> set[str]:
    found: set[str] = set()
    graph: dict[str, set[str]] = {}
    for path in SOURCES:
        module = _module_name(path)
        here = _layer(module)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[module] = set()
        for target, names in _imports(path):
            if target != module:
                graph[module].add(target)
            there = _layer(target)
            if here and there and RANK[there] > RANK[here]:
                found.add(f"layer: {module} -> {target}")
            if any(_private(n) for n in names) and (module, target) not in ONE_MODULE:
                found.add(f"private: {module} -> {target}")
        modules = _module_aliases(tree)
        found |= {f"private: {module} -> {node.value.id}.{node.attr}" for node in ast.walk(tree)
                  if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                  and node.value.id in modules and _private(node.attr)}
    found |= _cycles(graph)
    return found


def _cycles(graph: dict[str, set[str]]) -> set[str]:
    """Each pair of modules that import each other, directly or through others."""
    reach: dict[str, set[str]] = {}

    def reachable(start: str) -> set[str]:
        if start not in reach:
            seen: set[str] = set()
            stack = [start]
            while stack:
                for nxt in graph.get(stack.pop(), ()):
                    if nxt not in seen:
                        seen.add(nxt)
                        stack.append(nxt)
            reach[start] = seen
        return reach[start]

    return {f"cycle: {a} -> {b}" for a in graph for b in graph[a]
            if a < b and b != "clausec" and a in reachable(b)}


def test_no_new_layering_violations_private_names_or_cycles() -> None:
    new = sorted(_violations() - KNOWN)
    assert not new, "new violations of the package's layering:\n" + "\n".join(new)


def test_fixed_violations_leave_the_known_list() -> None:
    fixed = sorted(KNOWN - _violations())
    assert not fixed, "no longer violations: remove them from KNOWN:\n" + "\n".join(fixed)


@pytest.mark.parametrize("layer", LAYERS[1:])
def test_each_layer_is_a_package_or_module_of_its_own(layer: str) -> None:
    assert (PACKAGE / layer).is_dir() or (PACKAGE / f"{layer}.py").exists()
