"""Writing an agreement and its amendments to a folder, as the amendment tests need."""

from __future__ import annotations

from pathlib import Path

from clausec import ir
from clausec.diagnostics import Diagnostics
from clausec.front import parser, transform
from clausec.source import SourceFile


def write_agreement(folder: Path, name: str, agreement: str, amendments: tuple[str, ...]
                    ) -> tuple[Path, list[Path]]:
    """`agreement` as `folder/name`, and each amendment as `amendment_N.clause` beside it:
    the path of the agreement and those of the amendments."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(agreement, encoding="utf-8")
    paths = []
    for i, text in enumerate(amendments, 1):
        p = folder / f"amendment_{i}.clause"
        p.write_text(text, encoding="utf-8")
        paths.append(p)
    return path, paths


def program_of(text: str) -> ir.Program:
    """The IR of a clause file's text, as the front end builds it (no errors allowed)."""
    diagnostics = Diagnostics()
    trees = parser.parse(SourceFile("a.clause", text), diagnostics)
    assert not diagnostics.has_errors, diagnostics.items
    return transform.build("a.clause", trees, diagnostics)
