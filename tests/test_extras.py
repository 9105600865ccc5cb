"""The optional extras (pyproject.toml): the core needs lark, attrs, jinja2 and holidays
(the built-in business-day calendars, computed when compiling) only;
`clausec[verify]` brings z3 and hypothesis (verify, diff, the "Same results?" column of
summaries), `clausec[lsp]` brings pygls (the language server).

Each command runs here in a fresh interpreter where the extras cannot be imported (their
modules are None in sys.modules, so `import z3` raises ImportError as if z3 were not
installed): the commands of the core work, those that need an extra say which and exit 1,
never with a traceback. And `clausec check` imports none of them, nor the summaries.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[1]
PATENT = ROOT / "clauses" / "patent_purchase"
FACTS = ROOT / "clauses" / "examples" / "patent_board_approval.json"
EXTRAS = ("z3", "hypothesis", "pygls", "lsprotocol")

# Runs clausec.cli.main(ARGV) with the modules BLOCKED unimportable, and writes the
# top-level packages imported by then to REPORT.
RUNNER = textwrap.dedent("""
    import json, sys
    blocked, argv, report = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
    for name in blocked:
        sys.modules[name] = None
    from clausec.cli import main
    try:
        code = main(argv)
    finally:
        with open(report, "w", encoding="utf-8") as handle:
            json.dump(sorted({name.split(".")[0] for name, module in sys.modules.items()
                              if module is not None}), handle)
    sys.exit(code)
""")


class Run:
    def __init__(self, done: subprocess.CompletedProcess[str], imported: list[str]):
        self.code, self.out, self.err = done.returncode, done.stdout, done.stderr
        self.imported = set(imported)


def run(tmp_path: Path, cli_env, *argv: object, blocked: tuple[str, ...] = EXTRAS) -> Run:
    report = tmp_path / "imported.json"
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, json.dumps(list(blocked)),
         json.dumps([str(a) for a in argv]), str(report)],
        capture_output=True, text=True, cwd=tmp_path, env=cli_env(), timeout=300,
        check=False)
    imported = json.loads(report.read_text(encoding="utf-8")) if report.exists() else []
    return Run(done, imported)


# =============================================================================
# Without the extras
# =============================================================================

CORE_COMMANDS = {
    "check": ["check", PATENT],
    "compile": ["compile", PATENT, "-o", "out"],
    "eval": ["eval", PATENT, "closing_payment_due", "--facts", FACTS, "--explain"],
    "test": ["test", PATENT],
    "fmt": ["fmt", "--check", PATENT],
    "schema": ["schema", PATENT],
    "summarize": ["summarize", PATENT, "--format", "text"],
}


@pytest.mark.parametrize("command", list(CORE_COMMANDS))
def test_core_commands_work_without_the_extras(tmp_path, cli_env, command):
    done = run(tmp_path, cli_env, *CORE_COMMANDS[command])
    assert done.code == 0, done.err
    assert "Traceback" not in done.err and "internal error" not in done.err
    assert not done.imported & set(EXTRAS)


NEEDS = {
    "verify": ("verify", [PATENT], "z3-solver and hypothesis", "verify"),
    "diff": ("diff", [PATENT], "z3-solver and hypothesis", "verify"),
    "lsp": ("lsp", [], "pygls", "lsp"),
}


@pytest.mark.parametrize("command", list(NEEDS))
def test_commands_that_need_an_extra_say_which_and_exit_1(tmp_path, cli_env, command):
    name, args, packages, extra = NEEDS[command]
    done = run(tmp_path, cli_env, name, *args)
    assert done.code == 1
    assert done.err == (f"clausec: error: clausec {name} needs {packages}: "
                        f"pip install 'clausec[{extra}]'\n")
    assert done.out == ""


def test_a_missing_extra_is_named_even_when_the_other_half_is_there(tmp_path, cli_env):
    done = run(tmp_path, cli_env, "verify", PATENT, blocked=("hypothesis",))
    assert done.code == 1
    assert "needs z3-solver and hypothesis: pip install 'clausec[verify]'" in done.err
    assert "Traceback" not in done.err


def test_summarize_says_its_column_needs_clausec_verify(tmp_path, cli_env):
    text = run(tmp_path, cli_env, "summarize", PATENT, "--format", "text")
    assert text.code == 0, text.err
    assert "same results? not compared: this column needs clausec[verify]" in text.out
    markdown = run(tmp_path, cli_env, "summarize", PATENT)
    assert markdown.code == 0, markdown.err
    table = markdown.out[markdown.out.index("#### What it changed in the logic"):]
    assert "| Same results? |" in table
    assert "not compared: this column needs clausec[verify]" in \
        MarkdownIt("commonmark").enable("table").render(table)
    page = run(tmp_path, cli_env, "summarize", PATENT, "--format", "html")
    assert "<td>not compared: this column needs clausec[verify]</td>" in page.out
    # Everything else is there, as with the extra: only the verdicts are missing.
    assert "equivalent (proved with z3)" not in markdown.out
    assert markdown.out.count("\n") > 200


def test_the_python_api_summarizes_without_the_extras(tmp_path, cli_env):
    script = textwrap.dedent(f"""
        import sys
        for name in {EXTRAS!r}:
            sys.modules[name] = None
        import clausec
        from clausec import api
        from clausec.source import SourceFile
        ((agreement, amendments),) = api.group([{str(PATENT)!r}])
        result = clausec.analyse(SourceFile.read(agreement),
                                 [SourceFile.read(a) for a in amendments])
        print(clausec.summarize(result, "text"))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=cli_env(), timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "this column needs clausec[verify]" in done.stdout


# =============================================================================
# What `clausec check` imports
# =============================================================================


def test_check_imports_no_extra_nor_the_summaries(tmp_path, cli_env):
    done = run(tmp_path, cli_env, "check", PATENT, blocked=())
    assert done.code == 0, done.err
    assert "clausec" in done.imported and "lark" in done.imported
    for heavy in (*EXTRAS, "jinja2"):
        assert heavy not in done.imported


def test_help_imports_nothing_of_the_pipeline(tmp_path, cli_env):
    script = textwrap.dedent("""
        import sys
        from clausec.cli import main
        try:
            main(["--help"])
        except SystemExit:
            pass
        print(sorted(m for m in sys.modules if m.startswith(("clausec", "lark", "jinja2"))))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=cli_env(), timeout=120, check=False)
    loaded = done.stdout.strip().splitlines()[-1]
    assert "'clausec.cli'" in loaded
    for module in ("clausec.api", "clausec.front.parser", "'lark'", "jinja2"):
        assert module not in loaded


# =============================================================================
# The command line's modules and the package's metadata
# =============================================================================


def test_every_command_has_its_module():
    import importlib

    from clausec import cli

    parser = cli._parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    commands = list(sub.choices)
    assert commands == ["check", "compile", "eval", "agenda", "summarize", "schema", "test",
                        "lsp", "fmt", "verify", "diff", "sql", "batch"]
    for command in commands:
        module = importlib.import_module(f"clausec.cli.{command}")
        assert callable(module.run), command


def test_the_diff_defaults_of_the_command_line_are_the_semantic_diffs():
    from clausec import cli
    from clausec.analysis import semdiff

    assert (cli.DIFF_EXAMPLES, cli.DIFF_SEED, cli.DIFF_TIMEOUT_MS) == \
        (semdiff.DEFAULT_EXAMPLES, semdiff.DEFAULT_SEED, semdiff.DEFAULT_TIMEOUT_MS)


def test_no_module_outside_the_cli_imports_it():
    package = ROOT / "compiler"
    for path in package.rglob("*.py"):
        if "cli" in path.relative_to(package).parts or path.name == "__main__.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert "clausec.cli" not in text and "from clausec import cli" not in text, path


def test_the_extras_of_the_package():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = [d.split(">")[0].split("=")[0].split("[")[0] for d in project["dependencies"]]
    assert names == ["lark", "attrs", "jinja2", "holidays"]
    extras = project["optional-dependencies"]
    assert sorted(d.split(">")[0] for d in extras["verify"]) == ["hypothesis", "z3-solver"]
    assert [d.split(">")[0] for d in extras["lsp"]] == ["pygls"]
    assert sorted(d.split(">")[0] for d in extras["sql"]) == ["duckdb", "pyarrow", "sqlglot"]
    assert extras["spark"] == ["clausec[sql]", "pyspark>=3.5"]
    assert extras["all"] == ["clausec[verify,lsp,sql]"]
    # The tests run every command, on both engines.
    assert "clausec[all]" in extras["test"] and "clausec[spark]" in extras["test"]


def test_the_version_is_the_packages(capsys):
    import clausec
    from clausec.cli import main

    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out == f"clausec {clausec.__version__}\n"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["version"] == clausec.__version__
