"""The hostile-input corpus: every broken scenario exits 2 with an error naming the problem.

``tests/data/bad/expected.toml`` pairs each file with the words its error must
contain. Each file is run through ``validate`` and ``run``; neither may print a
traceback or leave an output folder behind.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from sim.cli import main
from sim.model import ScenarioError, load_scenario
from sim.model.loader import MAX_BYTES

BAD = Path(__file__).parent / "data" / "bad"
EXPECTED = tomllib.loads((BAD / "expected.toml").read_text())


def test_corpus_is_complete():
    files = {p.stem for p in BAD.glob("*.toml")} - {"expected"}
    assert files == set(EXPECTED), "every corpus file needs expected words, and every entry a file"
    assert len(files) >= 25
    load_scenario(BAD / "parts" / "base.toml")  # the base is valid: each failure is the file's own


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_file_exits_2_naming_the_problem(name, command, tmp_path, capsys):
    path = BAD / f"{name}.toml"
    out = tmp_path / "out"
    args = [command, str(path)] + (["--out", str(out), "-r", "1", "-q"] if command == "run" else [])
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), captured.err
    assert "Traceback" not in captured.err
    for word in EXPECTED[name]:
        assert word.lower() in captured.err.lower(), f"{name}: {word!r} not in {captured.err!r}"
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_oversized_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.toml"
    path.write_text("# padding\n" * (MAX_BYTES // 10 + 1))
    with pytest.raises(ScenarioError, match="more than"):
        load_scenario(path)


def test_extends_through_a_symlink_cannot_escape(tmp_path):
    outside = tmp_path / "outside.toml"
    outside.write_text((BAD / "parts" / "base.toml").read_text())
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "link.toml").symlink_to(outside)
    (folder / "child.toml").write_text('extends = "link.toml"\n')
    with pytest.raises(ScenarioError, match="outside the scenario folder"):
        load_scenario(folder / "child.toml")


@pytest.mark.parametrize("name", ["extends_escape", "not_utf8", "bomb_deep_arrays"])
def test_real_process_prints_no_traceback(name, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(BAD / f"{name}.toml"), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("error: ")
    assert not (tmp_path / "o").exists()
