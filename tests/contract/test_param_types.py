"""Task parameter checks: the double refuses exactly what the real Bolt refuses, in its words.

param_types_real_bolt.json records what the real Bolt answered when one task run gave 30 JSON
values to parameters of 49 Puppet types. The double must print the same error; with a real Bolt
at hand (the `real_bolt` fixture in tests/conftest.py), the record is checked against it too.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest


REPO = Path(__file__).resolve().parents[2]
DOUBLE = REPO / "tests" / "bolt_double" / "bolt"
RECORD = json.loads(Path(__file__).with_name("param_types_real_bolt.json").read_text())


def _probe_project(root: Path) -> Path:
    """A project whose task probe::types has a parameter p_T_V of type T for each value V; returns the params file."""
    (root / "tasks").mkdir(parents=True)
    (root / "bolt-project.yaml").write_text(
        "name: probe\nlog:\n  bolt-debug.log: disable\ndisable-warnings:\n  - stream_experimental\n"
    )
    (root / "inventory.yaml").write_text("targets:\n  - uri: localhost\n    config:\n      transport: local\n")
    script = root / "tasks" / "types.sh"
    script.write_text("#!/bin/sh\ncat\n")
    script.chmod(0o755)
    names = {
        f"p_{t}_{v}": (ptype, value)
        for t, ptype in enumerate(RECORD["types"])
        for v, value in enumerate(RECORD["values"])
    }
    metadata = {"input_method": "stdin", "parameters": {name: {"type": ptype} for name, (ptype, _) in names.items()}}
    (root / "tasks" / "types.json").write_text(json.dumps(metadata))
    params = root / "given.json"
    params.write_text(json.dumps({name: value for name, (_, value) in names.items()}))
    return params


def _refusal(bolt: Path, root: Path, params: Path) -> list[str]:
    """The lines of the error a Bolt prints for the probe run."""
    argv = [str(bolt), "task", "run", "probe::types", "--params", f"@{params}", "--targets", "localhost",
            "--format", "json", "--no-save-rerun", "--project", str(root)]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=root)
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    error = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"kind"')]
    assert error and error[0]["kind"] == "bolt/pal-error", done.stdout[-2000:]
    return error[0]["msg"].splitlines()


def test_param_types_double_refuses_what_real_bolt_refuses_in_its_words(tmp_path):
    """Regression: the double accepted values real Bolt refuses (any value for Sensitive[...] types,
    Struct/Tuple/Hash contents and sizes, Array minimum sizes, quoted Pattern strings)."""
    lines = _refusal(DOUBLE, tmp_path, _probe_project(tmp_path))
    assert lines == RECORD["message"]


def test_param_types_record_is_what_real_bolt_says(tmp_path, real_bolt):
    lines = _refusal(real_bolt, tmp_path, _probe_project(tmp_path))
    assert lines == RECORD["message"]


def test_param_types_record_agrees_with_its_table():
    """The `accepted` table is the message read back: a cell is refused when a line names its parameter."""
    named = {line.split("'")[1] for line in RECORD["message"][1:]}
    for t, ptype in enumerate(RECORD["types"]):
        row = [int(f"p_{t}_{v}" not in named) for v in range(len(RECORD["values"]))]
        assert row == RECORD["accepted"][ptype], ptype


@pytest.mark.parametrize("which", ["double", "real"])
@pytest.mark.parametrize(
    "params, expected",
    [
        ({"req": 1, "text": "abc", "ratio": 2.0, "name": None}, None),
        ({"req": 1, "text": "abc"}, "Task probe::defaults:\n parameter 'ratio' expects a Float value, got Integer"),
        (
            {"text": "abc", "bogus": 1, "ratio": 3},
            "Task probe::defaults:\n has no parameter named 'bogus'\n"
            " parameter 'ratio' expects a Float value, got Integer\n expects a value for parameter 'req'",
        ),
    ],
    ids=["null-takes-the-default", "integer-default-of-a-float", "unknown-wrong-and-missing"],
)
def test_param_defaults_replace_null_and_are_checked_like_bolt(tmp_path, request, which, params, expected):
    """Regression: the double kept a null instead of the default and never checked a default
    (real Bolt fills in defaults first, then checks: a Float parameter with default 1 always fails).
    The expected texts are what the real Bolt 4.0.1 printed for these runs."""
    bolt = DOUBLE if which == "double" else request.getfixturevalue("real_bolt")
    (tmp_path / "tasks").mkdir()
    (tmp_path / "bolt-project.yaml").write_text("name: probe\nlog:\n  bolt-debug.log: disable\n")
    (tmp_path / "inventory.yaml").write_text("targets:\n  - uri: localhost\n    config:\n      transport: local\n")
    spec = {
        "name": {"type": "String", "default": "x"},
        "ratio": {"type": "Float", "default": 1},
        "req": {"type": "Integer"},
        "text": {"type": "String", "sensitive": True},
    }
    (tmp_path / "tasks" / "defaults.json").write_text(json.dumps({"input_method": "stdin", "parameters": spec}))
    (tmp_path / "tasks" / "defaults.sh").write_text("#!/bin/sh\ncat\n")
    (tmp_path / "tasks" / "defaults.sh").chmod(0o755)
    argv = [str(bolt), "task", "run", "probe::defaults", "--params", json.dumps(params), "--targets", "localhost",
            "--format", "json", "--no-save-rerun", "--project", str(tmp_path)]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    if expected is None:
        (item,) = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"target"')]
        assert item["value"] == {"name": "x", "ratio": 2.0, "req": 1, "text": "abc", "_task": "probe::defaults"}
    else:
        (error,) = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"kind"')]
        assert error["msg"] == expected
