"""The command line: `clausec check | compile | eval | schema`, run in-process through
`clausec.cli.main` and, where the process boundary matters (exit codes, tracebacks,
`python -m clausec`, importing a compiled module without clausec), in a subprocess."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import clausec
from clausec.cli import main

CONTRACT = """
agreement patent_purchase "Patent Purchase Agreement" {
  dated December 30, 2003
  party purchaser "Purchaser"
  party seller "Seller"
}

fact first_year: integer default 2004
fact deposit "Deposit": money "The deposit paid on signing."
fact ownership: percent default 15%
fact signed_on: date
fact closing_on: date optional
fact terminating_party: party optional
fact approved: bool
fact shares: integer default 1

section 3.4 "Closing" {
  text \"\"\"
    Two business days after signing, Purchaser shall pay to Seller the Closing Payment.
  \"\"\"
  define closing_date "Closing Date": date = 2 business days after signed_on
  define closing_payment: money = $1,800,000 - deposit
  define revenue_limitation(year: integer): money = $10,000,000 * (1 + 7.5%) ^ (year - first_year)
  define share_price: money = closing_payment / shares
  condition ready = all of [(a) approved, (b) ownership is at least 15%]
  condition terminated = terminating_party is seller
  define wait: days = closing_on - signed_on
  define threshold: percent = ownership
  obligation closing_payment_due: purchaser must pay closing_payment to seller
    on closing_date when ready
}
"""

FACTS = {"deposit": "$100,000", "signed_on": "2004-01-01", "approved": True}

BROKEN = """
fact price: money
define total: money = prise + price
"""


def line_of(text: str, needle: str) -> int:
    lines = textwrap.dedent(text).lstrip("\n").split("\n")
    return next(i for i, line in enumerate(lines, start=1) if needle in line)


@pytest.fixture
def contract(tmp_path, write_clause):
    return write_clause(tmp_path, CONTRACT)


@pytest.fixture
def facts_file(tmp_path):
    def write(data=None, name="facts.json"):
        path = tmp_path / name
        path.write_text(json.dumps(FACTS if data is None else data), encoding="utf-8")
        return path
    return write


def run_main(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


# =============================================================================
# --help and --version
# =============================================================================


def test_top_level_help_subprocess(run_cli):
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("check", "compile", "eval", "schema"):
        assert command in result.stdout
    assert result.stdout.startswith("usage: clausec")


@pytest.mark.parametrize("command", ["check", "compile", "eval", "schema"])
def test_subcommand_help(capsys, command):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: clausec {command}")


def test_subcommand_help_subprocess(run_cli):
    result = run_cli("eval", "--help")
    assert result.returncode == 0
    assert "usage: clausec eval" in result.stdout
    assert "--facts" in result.stdout and "--explain" in result.stdout


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"clausec {clausec.__version__}"


# =============================================================================
# check
# =============================================================================


def test_check_clean_file_subprocess(run_cli, contract):
    result = run_cli("check", contract)
    assert result.returncode == 0
    assert "ok: 1 file checked, 0 errors, 0 warnings" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_check_errors_subprocess(run_cli, tmp_path, write_clause):
    path = write_clause(tmp_path, BROKEN)
    result = run_cli("check", path)
    assert result.returncode == 1
    assert f"{path}:2:23: error: 'prise' is not defined" in result.stderr
    assert "failed: 1 file checked, 1 error, 0 warnings" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_clean_file(capsys, contract):
    code, out, err = run_main(capsys, "check", contract)
    assert code == 0
    assert "ok" in (out + err)
    assert "error:" not in err


def test_check_several_files(capsys, tmp_path, write_clause, contract):
    bad = write_clause(tmp_path, BROKEN, "bad.clause")
    code, _, err = run_main(capsys, "check", contract, bad)
    assert code == 1
    assert "2 files checked, 1 error" in err
    assert f"{bad}:2:23: error:" in err


WARNING_ONLY = """
fact used: integer
fact unused_fact: bool optional
define x = used
"""


def test_check_warnings_and_werror(capsys, tmp_path, write_clause):
    path = write_clause(tmp_path, WARNING_ONLY)
    code, _, err = run_main(capsys, "check", path)
    assert code == 0
    assert f"{path}:2:1: warning: fact 'unused_fact' is never used" in err
    assert "ok: 1 file checked, 0 errors, 1 warning" in err
    code, _, err = run_main(capsys, "check", "--werror", path)
    assert code == 1
    assert "failed: 1 file checked, 0 errors, 1 warning" in err


def test_check_werror_clean_file(capsys, contract):
    code, _, _ = run_main(capsys, "check", "--werror", contract)
    assert code == 0


def test_check_missing_file(capsys, tmp_path):
    code, _, err = run_main(capsys, "check", tmp_path / "nope.clause")
    assert code == 1
    assert err.strip() == f"clausec: error: {tmp_path / 'nope.clause'}: no such file or folder"


# =============================================================================
# compile
# =============================================================================


def test_compile_writes_module(capsys, tmp_path, contract):
    out_dir = tmp_path / "build"
    code, out, _ = run_main(capsys, "compile", contract, "-o", out_dir)
    assert code == 0
    target = out_dir / "contract.py"
    assert target.is_file()
    assert f"wrote {target}" in out
    assert target.read_text(encoding="utf-8") == clausec.compile_file(contract)
    # Nothing else in the directory: no temporary files left behind.
    assert sorted(p.name for p in out_dir.iterdir()) == ["contract.py"]


def test_compile_several_files(capsys, tmp_path, write_clause, contract):
    other = write_clause(tmp_path, WARNING_ONLY, "other.clause")
    out_dir = tmp_path / "build"
    code, _, _ = run_main(capsys, "compile", contract, other, "--output", out_dir)
    assert code == 0
    assert sorted(p.name for p in out_dir.iterdir()) == ["contract.py", "other.py"]


STANDALONE_SCRIPT = """
import sys
# Nothing beyond the standard library may be imported by the generated module.
for blocked in ("clausec", "lark", "attrs", "jinja2"):
    sys.modules[blocked] = None
sys.path.insert(0, sys.argv[1])
import json
from decimal import Decimal
from pathlib import Path
before = set(sys.modules)
import contract
facts = contract.Facts(deposit="$100,000", signed_on="2004-01-01", approved=True)
print(json.dumps({
    "closing_payment": str(contract.closing_payment(facts)),
    "limit": str(contract.revenue_limitation(facts, 2008) == Decimal("13354691.40625")),
    "closing_date": contract.closing_date(facts).isoformat(),
    "obligation": str(contract.closing_payment_due(facts)),
    "explain": contract.explain("ready", facts).render().split("\\n")[0],
    "third_party": sorted(
        name for name in set(sys.modules) - before
        if sys.modules[name] is not None
        and any(part in ("site-packages", "dist-packages")
                for part in Path(getattr(sys.modules[name], "__file__", "") or "").parts)
    ),
}))
"""


def test_compiled_module_imports_standalone(capsys, tmp_path, contract):
    out_dir = tmp_path / "build"
    assert run_main(capsys, "compile", contract, "-o", out_dir)[0] == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": os.environ.get("PATH", "")}
    if "SYSTEMROOT" in os.environ:  # Windows needs it to start Python
        env["SYSTEMROOT"] = os.environ["SYSTEMROOT"]
    result = subprocess.run(
        [sys.executable, "-I", "-c", STANDALONE_SCRIPT, str(out_dir)],
        capture_output=True, text=True, cwd=elsewhere, env=env, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data == {
        "closing_payment": "1700000",
        "limit": "True",
        "closing_date": "2004-01-05",
        "obligation": "Purchaser must pay $1,700,000.00 to Seller on January 5, 2004 "
                      "(Section 3.4)",
        "explain": f"ready = true  [Section 3.4, contract.clause:{line_of(CONTRACT, 'ready =')}]",
        "third_party": [],
    }


def test_compile_nothing_written_when_any_file_has_errors(capsys, tmp_path, write_clause,
                                                          contract):
    bad = write_clause(tmp_path, BROKEN, "bad.clause")
    out_dir = tmp_path / "build"
    code, out, err = run_main(capsys, "compile", contract, bad, "-o", out_dir)
    assert code == 1
    assert not (out_dir / "contract.py").exists()
    assert not (out_dir / "bad.py").exists()
    assert not out_dir.exists() or list(out_dir.iterdir()) == []
    assert "nothing written" in err
    assert f"{bad}:2:23: error: 'prise' is not defined" in err
    assert "wrote" not in out


def test_compile_bad_file_first_also_writes_nothing(capsys, tmp_path, write_clause, contract):
    bad = write_clause(tmp_path, BROKEN, "bad.clause")
    out_dir = tmp_path / "build"
    out_dir.mkdir()
    code, _, _ = run_main(capsys, "compile", bad, contract, "-o", out_dir)
    assert code == 1
    assert list(out_dir.iterdir()) == []


def test_compile_failure_subprocess(run_cli, tmp_path, write_clause, contract):
    bad = write_clause(tmp_path, BROKEN, "bad.clause")
    out_dir = tmp_path / "build"
    result = run_cli("compile", contract, bad, "-o", out_dir)
    assert result.returncode == 1
    assert not (out_dir / "contract.py").exists()
    assert not (out_dir / "bad.py").exists()
    assert "Traceback" not in result.stderr


def test_compile_output_is_byte_identical(capsys, tmp_path, contract):
    first, second = tmp_path / "one", tmp_path / "two"
    assert run_main(capsys, "compile", contract, "-o", first)[0] == 0
    assert run_main(capsys, "compile", contract, "-o", second)[0] == 0
    assert (first / "contract.py").read_bytes() == (second / "contract.py").read_bytes()
    # And again over an existing file.
    assert run_main(capsys, "compile", contract, "-o", first)[0] == 0
    assert (first / "contract.py").read_bytes() == (second / "contract.py").read_bytes()
    assert sorted(p.name for p in first.iterdir()) == ["contract.py"]


def test_compile_output_is_identical_across_processes(run_cli, cli_env, tmp_path, contract):
    # A separate interpreter (another hash seed) must produce the same bytes.
    out_dir = tmp_path / "sub"
    result = run_cli("compile", contract, "-o", out_dir,
                     env=cli_env(PYTHONHASHSEED="12345"))
    assert result.returncode == 0, result.stderr
    assert (out_dir / "contract.py").read_text(encoding="utf-8") == \
        clausec.compile_file(contract)


def test_compiled_file_is_readable_like_any_new_file(capsys, tmp_path, contract):
    umask = os.umask(0o022)
    os.umask(umask)
    out_dir = tmp_path / "build"
    assert run_main(capsys, "compile", contract, "-o", out_dir)[0] == 0
    mode = stat.S_IMODE((out_dir / "contract.py").stat().st_mode)
    assert mode == 0o666 & ~umask


def test_compile_output_is_a_file(capsys, tmp_path, contract):
    not_a_dir = tmp_path / "file.txt"
    not_a_dir.write_text("x")
    code, _, err = run_main(capsys, "compile", contract, "-o", not_a_dir)
    assert code == 1
    assert "not a directory" in err


def test_compile_missing_input(capsys, tmp_path):
    code, _, err = run_main(capsys, "compile", tmp_path / "missing.clause", "-o", tmp_path)
    assert code == 1
    assert "no such file" in err


# =============================================================================
# eval
# =============================================================================


@pytest.mark.parametrize("name, args, expected", [
    ("closing_payment", [], "closing_payment = $1,700,000.00"),
    ("closing_date", [], "closing_date = January 5, 2004"),
    ("revenue_limitation", ["2008"], "revenue_limitation(2008) = $13,354,691.40625"),
    ("revenue_limitation", ["2004"], "revenue_limitation(2004) = $10,000,000.00"),
    ("ready", [], "ready = true"),
    ("threshold", [], "threshold = 15%"),
    ("deposit", [], "deposit = $100,000.00"),
    ("signed_on", [], "signed_on = January 1, 2004"),
    ("closing_payment_due", [],
     ("closing_payment_due = Purchaser must pay $1,700,000.00 to Seller on January 5, 2004 "
      "(Section 3.4)")),
])
def test_eval_prints_formatted_value(capsys, contract, facts_file, name, args, expected):
    code, out, err = run_main(capsys, "eval", contract, name, *args, "--facts", facts_file())
    assert code == 0, err
    assert out == expected + "\n"


def test_eval_with_terminating_party(capsys, contract, facts_file):
    facts = facts_file({**FACTS, "terminating_party": "seller"})
    code, out, _ = run_main(capsys, "eval", contract, "terminated", "--facts", facts)
    assert code == 0
    assert out == "terminated = true\n"


def test_eval_days(capsys, contract, facts_file):
    facts = facts_file({**FACTS, "closing_on": "2004-01-11"})
    code, out, _ = run_main(capsys, "eval", contract, "wait", "--facts", facts)
    assert code == 0
    assert out == "wait = 10 days\n"


def test_eval_subprocess(run_cli, contract, facts_file):
    result = run_cli("eval", contract, "revenue_limitation", "2008", "--facts", facts_file())
    assert result.returncode == 0, result.stderr
    assert result.stdout == "revenue_limitation(2008) = $13,354,691.40625\n"


def test_eval_explain(capsys, contract, facts_file):
    code, out, _ = run_main(capsys, "eval", contract, "ready", "--facts", facts_file(),
                            "--explain")
    assert code == 0
    lines = out.rstrip("\n").split("\n")
    assert lines[0] == "ready = true"
    assert lines[1] == ""
    line = line_of(CONTRACT, "condition ready")
    assert lines[2] == f"ready = true  [Section 3.4, contract.clause:{line}]"
    assert lines[3].startswith("└── all of [(a) approved, (b) ownership is at least 15%] = true")
    assert any("(a) approved = true" in entry and "fact" in entry for entry in lines)
    assert any("ownership = 15%" in entry for entry in lines)


def test_eval_explain_money(capsys, contract, facts_file):
    code, out, _ = run_main(capsys, "eval", contract, "closing_payment", "--facts",
                            facts_file(), "--explain")
    assert code == 0
    assert "closing_payment = $1,700,000.00  [Section 3.4, contract.clause:" in out
    assert "deposit = $100,000.00" in out


def test_eval_json(capsys, contract, facts_file):
    code, out, _ = run_main(capsys, "eval", contract, "closing_payment", "--facts",
                            facts_file(), "--format", "json")
    assert code == 0
    assert json.loads(out) == {"name": "closing_payment", "value": "$1,700,000.00",
                               "kind": "money", "version": "original"}


def test_eval_json_with_explanation(capsys, contract, facts_file):
    code, out, _ = run_main(capsys, "eval", contract, "ready", "--facts", facts_file(),
                            "--format", "json", "--explain")
    assert code == 0
    data = json.loads(out)
    assert data["name"] == "ready" and data["value"] == "true" and data["kind"] == "bool"
    tree = data["explanation"]
    assert tree["label"] == "ready"
    assert tree["section"] == "3.4"
    assert tree["line"] == line_of(CONTRACT, "condition ready")
    assert tree["children"][0]["value"] == "true"


def test_eval_wrong_fact_type_subprocess(run_cli, contract, facts_file):
    facts = facts_file({**FACTS, "approved": "yes"})
    result = run_cli("eval", contract, "ready", "--facts", facts)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    message = result.stderr.strip()
    assert "\n" not in message
    assert message.startswith("clausec: error: fact 'approved': ")


@pytest.mark.parametrize("fact, value", [
    ("deposit", "lots"),
    ("signed_on", "January 1st"),
    ("signed_on", 20040101),
    ("terminating_party", "buyer"),
    ("ownership", "fifteen"),
])
def test_eval_wrong_fact_type(capsys, contract, facts_file, fact, value):
    code, out, err = run_main(capsys, "eval", contract, "ready", "--facts",
                              facts_file({**FACTS, fact: value}))
    assert code == 1
    assert out == ""
    assert err.startswith(f"clausec: error: fact '{fact}': ")
    assert err.count("\n") == 1


def test_eval_missing_required_fact(capsys, contract, facts_file):
    facts = {k: v for k, v in FACTS.items() if k != "deposit"}
    code, _, err = run_main(capsys, "eval", contract, "ready", "--facts", facts_file(facts))
    assert code == 1
    assert err.startswith("clausec: error: fact 'deposit': ")


def test_eval_unknown_fact_in_file(capsys, contract, facts_file):
    code, _, err = run_main(capsys, "eval", contract, "ready", "--facts",
                            facts_file({**FACTS, "aproved": True}))
    assert code == 1
    assert "did you mean 'approved'" in err


def test_eval_invalid_json(capsys, contract, tmp_path):
    facts = tmp_path / "facts.json"
    facts.write_text('{"deposit": "1",\n  "signed_on": 2004-01-01}\n', encoding="utf-8")
    code, out, err = run_main(capsys, "eval", contract, "ready", "--facts", facts)
    assert code == 1
    assert out == ""
    assert err.startswith(f"clausec: error: {facts}:2:20: invalid JSON")
    assert "Traceback" not in err


def test_eval_facts_not_an_object(capsys, contract, facts_file):
    code, _, err = run_main(capsys, "eval", contract, "ready", "--facts", facts_file([1, 2]))
    assert code == 1
    assert "must be a JSON object" in err


def test_eval_missing_clause_file(capsys, tmp_path, facts_file):
    missing = tmp_path / "missing.clause"
    code, _, err = run_main(capsys, "eval", missing, "ready", "--facts", facts_file())
    assert code == 1
    assert err.strip() == f"clausec: error: {missing}: no such file or folder"


def test_eval_missing_facts_file(capsys, tmp_path, contract):
    missing = tmp_path / "missing.json"
    code, _, err = run_main(capsys, "eval", contract, "ready", "--facts", missing)
    assert code == 1
    assert err.strip() == f"clausec: error: {missing}: no such file"


def test_eval_unknown_name(capsys, contract, facts_file):
    code, out, err = run_main(capsys, "eval", contract, "closing_paymnet", "--facts",
                              facts_file())
    assert code == 1
    assert out == ""
    assert "'closing_paymnet' is not a term" in err
    assert "did you mean 'closing_payment'?" in err


def test_eval_wrong_number_of_arguments(capsys, contract, facts_file):
    code, _, err = run_main(capsys, "eval", contract, "revenue_limitation", "--facts",
                            facts_file())
    assert code == 1
    assert "revenue_limitation takes 1 argument(s) (year), got 0" in err
    code, _, err = run_main(capsys, "eval", contract, "ready", "2008", "--facts", facts_file())
    assert code == 1
    assert "takes 0 argument(s)" in err


def test_eval_bad_argument(capsys, contract, facts_file):
    code, _, err = run_main(capsys, "eval", contract, "revenue_limitation", "next year",
                            "--facts", facts_file())
    assert code == 1
    assert "'year'" in err
    assert err.count("\n") == 1


def test_eval_run_time_error_points_at_clause(capsys, contract, facts_file):
    code, _, err = run_main(capsys, "eval", contract, "share_price", "--facts",
                            facts_file({**FACTS, "shares": 0}))
    assert code == 1
    line = line_of(CONTRACT, "define share_price")
    assert err.startswith(f"clausec: error: contract.clause:{line}:")
    assert "(Section 3.4)" in err and "division by zero" in err


def test_eval_missing_optional_fact(capsys, contract, facts_file):
    code, _, err = run_main(capsys, "eval", contract, "terminated", "--facts", facts_file())
    assert code == 1
    assert "'terminating_party' is not given" in err
    assert f"contract.clause:{line_of(CONTRACT, 'condition terminated')}:" in err



def test_eval_file_with_errors(capsys, tmp_path, write_clause, facts_file):
    bad = write_clause(tmp_path, BROKEN, "bad.clause")
    code, out, err = run_main(capsys, "eval", bad, "total", "--facts", facts_file({}))
    assert code == 1
    assert out == ""
    assert f"{bad}:2:23: error: 'prise' is not defined" in err
    assert f"clausec: error: {bad}: 1 error, 0 warnings" in err


def test_eval_without_facts_file(capsys, tmp_path, write_clause):
    path = write_clause(tmp_path, """
        fact n: integer default 4
        define twice = n * 2
    """)
    code, out, _ = run_main(capsys, "eval", path, "twice")
    assert code == 0
    assert out == "twice = 8\n"


# =============================================================================
# schema
# =============================================================================


def _schema(capsys, path):
    code, out, err = run_main(capsys, "schema", path)
    assert code == 0, err
    return json.loads(out)


def test_schema_required_and_optional(capsys, contract):
    schema = _schema(capsys, contract)
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["deposit", "signed_on", "approved"]
    props = schema["properties"]
    assert list(props) == ["first_year", "deposit", "ownership", "signed_on", "closing_on",
                           "terminating_party", "approved", "shares"]
    assert props["closing_on"]["type"] == ["string", "null"]
    assert props["closing_on"]["format"] == "date"
    assert props["signed_on"] == {"type": "string", "format": "date"}
    assert props["approved"] == {"type": "boolean"}
    assert "null" not in props["deposit"]["type"]
    # Facts with a default may be left out or null.
    assert "null" in props["first_year"]["type"]
    assert "Deposit" in props["deposit"]["description"]
    assert "The deposit paid on signing." in props["deposit"]["description"]


def test_schema_party_facts_are_an_enum(capsys, tmp_path, write_clause, contract):
    schema = _schema(capsys, contract)
    assert schema["properties"]["terminating_party"]["enum"] == ["purchaser", "seller", None]
    required = write_clause(tmp_path, """
        agreement a "A" {
          party purchaser "Purchaser"
          party seller "Seller"
        }
        fact who: party
        condition seller_did = who is seller
    """, "required.clause")
    schema = _schema(capsys, required)
    assert schema["properties"]["who"] == {"enum": ["purchaser", "seller"]}
    assert schema["required"] == ["who"]


def test_schema_defaults_have_the_facts_types(capsys, contract):
    props = _schema(capsys, contract)["properties"]
    assert props["first_year"]["default"] == 2004
    assert props["shares"]["default"] == 1
    ownership = props["ownership"]
    # "15%" or the fraction 0.15 as a number; a string must match the property's pattern.
    default = ownership["default"]
    assert default == 0.15 or (isinstance(default, str)
                               and re.search(ownership["pattern"], default)
                               and default.replace(" ", "") == "15%")


def test_schema_accepts_the_eval_facts(capsys, contract):
    """The facts that `eval` accepts have the shapes the schema describes."""
    schema = _schema(capsys, contract)
    props = schema["properties"]
    for name, value in FACTS.items():
        prop = props[name]
        if "pattern" in prop and isinstance(value, str):
            assert re.search(prop["pattern"], value), name
    assert set(schema["required"]) <= set(FACTS)


def test_schema_subprocess(run_cli, contract):
    result = run_cli("schema", contract)
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["required"] == ["deposit", "signed_on", "approved"]
    assert schema["title"] == "Facts of the Patent Purchase Agreement"


def test_schema_of_a_file_with_errors(capsys, tmp_path, write_clause):
    bad = write_clause(tmp_path, BROKEN, "bad.clause")
    code, out, err = run_main(capsys, "schema", bad)
    assert code == 1
    assert out == ""
    assert "'prise' is not defined" in err


def test_no_command_prints_help(capsys):
    code = main([])
    out = capsys.readouterr().out
    assert code == 1
    assert "usage: clausec" in out


def test_unknown_command(capsys):
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_subprocess_uses_the_same_package(cli_env, tmp_path):
    # The subprocess imports the same clausec as this process (source tree or installed).
    result = subprocess.run(
        [sys.executable, "-c", "import clausec, os; print(os.path.dirname(clausec.__file__))"],
        capture_output=True, text=True, env=cli_env(), cwd=tmp_path, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).resolve() == Path(clausec.__file__).parent.resolve()


def test_eval_money_argument_in_the_agreements_currency(capsys, tmp_path, write_clause,
                                                         facts_file):
    path = write_clause(tmp_path, """
        agreement demo "Demo" {
          currency EUR
        }
        fact base: money
        define fee(amount: money): money = amount * 2 + base
    """, "eur.clause")
    facts = facts_file({"base": "EUR 1"}, "eur.json")
    code, out, err = run_main(capsys, "eval", path, "fee", "EUR 10", "--facts", facts)
    assert code == 0, err
    assert out == "fee(EUR 10) = EUR 21.00\n"
    # '$' means U.S. dollars, which this agreement does not use.
    code, out, err = run_main(capsys, "eval", path, "fee", "$10", "--facts", facts)
    assert code == 1
    assert out == ""
