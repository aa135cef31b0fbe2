"""Every example in docs/scripting.md runs against a live server and does what the page shows."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from ..conftest import ROOT

DOC = ROOT / "docs" / "scripting.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)
EXPECTED_EXIT = re.compile(r"\s+#\s*exits ([0-9]+)\s*$")


def _examples(language: str) -> list[str]:
    return [body for found, body in FENCE.findall(DOC.read_text()) if found == language]


def test_docs_have_the_sync_async_and_cli_examples():
    assert len(_examples("python")) >= 4 and len(_examples("console")) >= 3
    assert {language for language, _ in FENCE.findall(DOC.read_text())} == {"python", "console"}, (
        "a fenced block in another language would not be run: write it as python or console"
    )


@pytest.mark.parametrize("index", range(len(_examples("python"))))
def test_docs_python_example_runs(index, cli_env, tmp_path):
    script = tmp_path / f"example{index}.py"
    script.write_text(_examples("python")[index])
    done = subprocess.run([sys.executable, str(script)], env=cli_env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip(), "an example prints what it shows"


@pytest.mark.parametrize("index", range(len(_examples("console"))))
def test_docs_console_example_runs_and_prints_the_lines_shown(index, cli_env, tmp_path):
    block = _examples("console")[index]
    done = subprocess.run(
        ["bash", "-c", _shell_script(block)], env={**cli_env, "PYTHON": sys.executable}, cwd=tmp_path,
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    shown = [line for line in block.splitlines() if line.startswith("[")]  # output lines: `[target] out: ...`
    missing = [line for line in shown if line not in done.stdout.splitlines()]
    assert missing == [], done.stdout


def _shell_script(block: str) -> str:
    """The block's `$ ` lines as a bash script; a line ending `# exits N` must exit with N."""
    lines = ["set -eo pipefail", 'boltdeck() { "$PYTHON" -m boltdeck "$@"; }']
    for line in block.splitlines():
        if not line.startswith("$ "):
            continue
        command, expected = line[2:], EXPECTED_EXIT.search(line)
        if expected is None:
            lines.append(command)
            continue
        command = command[: EXPECTED_EXIT.search(command).start()]
        code = expected.group(1)
        lines.append(
            f'set +e; {command}; rc=$?; set -e; [ "$rc" -eq {code} ] || '
            f'{{ echo "exit status $rc, not {code}: {command}" >&2; exit 99; }}'
        )
    return "\n".join(lines)
