"""`clausec verify` on non-linear arithmetic (products of facts, divisions by them, powers
with a constant exponent): z3 proves or refutes it within the time limit of a query and
the search takes over where it does not; `--require-proof` fails the command where only
the search ran; hypothesis leaves no `.hypothesis/` folder in the working directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import cli_env, run_cli, write_clause

from clausec import api, cli
from clausec.analysis import factgen, verify
from clausec.source import SourceFile

HEADER = """
agreement deal "Deal" {
  dated 2004-01-01
  party buyer "Buyer"
  party seller "Seller"
}
"""

NON_LINEAR = HEADER + """
fact x: integer
fact y: integer
fact price: money
fact rate: percent
invariant never_391 "x times y is never 391" = x * y != 391 when x > 1 and y > 1
invariant square_not_negative "a square is never negative" = x * x >= 0
invariant share_at_most_price "a share is never more than the price" =
  price * rate is at most price when rate is at most 100% and price is at least $0
invariant ratio_at_most_one "x out of y is at most all of them" =
  x / y is at most 1 when 0 <= x and x <= y and y > 0
"""

# Three business days are three days to z3's approximation: only the search finds the
# weekends, and it finds no counterexample here.
SEARCHED = HEADER + """
fact start: date
define due: date = 3 business days after start
invariant due_within_a_week "the due date is within a week of the start" =
  due is at most start + 7 days
"""

PROVED = HEADER + """
fact x: integer
invariant square_not_negative "a square is never negative" = x * x >= 0
"""


def outcomes_of(path: Path, examples: int = 30) -> dict[str, verify.Outcome]:
    result = api.analyse(SourceFile.read(path))
    assert result.ok, [d.message for d in result.diagnostics]
    return {o.invariant: o for o in verify.verify(result, examples=examples, timeout=10)}


def test_z3_finds_what_the_search_misses_and_the_code_confirms_it(tmp_path: Path) -> None:
    outcomes = outcomes_of(write_clause(tmp_path, NON_LINEAR, "deal.clause"))
    never = outcomes["never_391"]
    # Found by z3, and reported only because the compiled module fails on it.
    assert (never.status, never.method, never.failure) == ("failed", "z3", "is false")
    assert never.facts is not None
    assert never.facts["x"] * never.facts["y"] == 391
    assert sorted((never.facts["x"], never.facts["y"])) == [17, 23]
    assert "x * y = 391" in never.explanation
    for name in ("square_not_negative", "share_at_most_price", "ratio_at_most_one"):
        assert outcomes[name].verdict == "proved (z3)", (name, outcomes[name].note)


def test_no_answer_in_time_falls_back_to_the_search(tmp_path: Path) -> None:
    # No positive cubes add up to a cube: beyond z3, within a second.
    path = write_clause(tmp_path, HEADER + """
fact x: integer
fact y: integer
fact z: integer
invariant fermat = x * x * x + y * y * y != z * z * z when x > 0 and y > 0 and z > 0
""", "deal.clause")
    result = api.analyse(SourceFile.read(path))
    (outcome,) = verify.verify(result, examples=20, timeout=1)
    assert (outcome.status, outcome.method) == ("passed", "search")
    assert outcome.note.startswith("z3 could not decide")


def test_require_proof_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    proved = write_clause(tmp_path, PROVED, "proved.clause")
    searched = write_clause(tmp_path, SEARCHED, "searched.clause")
    assert cli.main(["verify", str(proved), "--require-proof"]) == 0
    capsys.readouterr()
    assert cli.main(["verify", str(searched), "--examples", "10"]) == 0
    assert "no counterexample in 10 examples (search)" in capsys.readouterr().out
    assert cli.main(["verify", str(searched), "--examples", "10", "--require-proof"]) == 1
    err = capsys.readouterr().err
    assert "--require-proof: 1 invariant check only searched, not proved" in err
    assert "searched.clause: due_within_a_week (out of reach of z3: business-day " \
        "arithmetic)" in err
    # Both: the one that is only searched fails the command, in JSON too.
    assert cli.main(["verify", str(proved), str(searched), "--examples", "10",
                     "--require-proof", "--format", "json"]) == 1
    assert "square_not_negative" not in capsys.readouterr().err


DRAFT = HEADER + """
fact start: date
fact note: text
define due: date = 2 business days after start
condition noted = note is not "" and due is after start
invariant due_within_a_week "the due date is within a week of the start" =
  due is at most start + 7 days when note is not "x"
"""
# The same due date, reached one business day at a time: the diff searches for a
# difference (z3 cannot reach business days) and finds none.
REDRAFT = DRAFT.replace("2 business days after start",
                        "1 business day after (1 business day after start)")


def test_verify_and_diff_leave_no_hypothesis_folder(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    work = tmp_path / "work"
    work.mkdir()
    draft = write_clause(tmp_path, DRAFT, "draft.clause")
    redraft = write_clause(tmp_path, REDRAFT, "redraft.clause")
    monkeypatch.delenv("HYPOTHESIS_STORAGE_DIRECTORY", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(work)
    assert cli.main(["verify", str(draft), "--examples", "20"]) == 0
    assert "no counterexample in 20 examples (search)" in capsys.readouterr().out
    assert cli.main(["diff", str(draft), str(redraft), "--examples", "300"]) == 0
    assert "no difference found in 300 examples" in capsys.readouterr().out
    assert not (work / ".hypothesis").exists()
    assert list(work.iterdir()) == []


def test_a_search_keeps_hypothesis_storage_in_the_cache(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    # In this process hypothesis fixed its folder when it was imported, in the directory
    # the tests started in, so the test above cannot see it move: here is where it is.
    from hypothesis import configuration
    from hypothesis import strategies as st

    monkeypatch.delenv("HYPOTHESIS_STORAGE_DIRECTORY", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    before = configuration.storage_directory(intent_to_write=False).path
    during: list[Path] = []

    def where(_: int) -> bool:
        during.append(configuration.storage_directory(intent_to_write=False).path)
        return False

    assert factgen.find(st.integers(), where, 5) is None
    assert during and all(tmp_path / "cache" in path.parents for path in during)
    assert configuration.storage_directory(intent_to_write=False).path == before


def test_a_new_process_leaves_no_hypothesis_folder(tmp_path: Path) -> None:
    # In a new process, hypothesis builds its Unicode tables for a text fact and caches
    # them: in a per-user cache directory, not in the working directory.
    work = tmp_path / "work"
    work.mkdir()
    draft = write_clause(tmp_path, DRAFT, "draft.clause")
    env = cli_env(XDG_CACHE_HOME=str(tmp_path / "cache"))
    env.pop("HYPOTHESIS_STORAGE_DIRECTORY", None)
    run = run_cli("verify", draft, "--examples", "20", cwd=work, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert list(work.iterdir()) == []
    assert (tmp_path / "cache" / "clausec" / "hypothesis").is_dir()
