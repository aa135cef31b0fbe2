"""Server-side search and line ranges of the viewer's panes (GET /api/executions/<id>/search, /lines).

The browser keeps the newest 200,000 lines of a pane; older ones it finds and fetches here, so
the server must number lines exactly as the browser does (tests/unit/test_panes.py has the
rules; tests/browser/test_output_tools.py compares the two numberings in Chromium).
"""

from __future__ import annotations

import re

import pytest

COMMAND = (
    "printf 'alpha\\nneedle one\\n'; sleep 0.2; printf 'err Needle\\n' >&2; sleep 0.2; "
    "printf '\\033[31mneedle red\\033[0m\\n'; seq 1 3"
)


def _run(server, expert_mode: bool = True) -> str:
    body = {"targets": ["localhost"], "command": COMMAND, "expertMode": expert_mode}
    execution = server.run("/api/commands", body, wait=True).json()
    assert execution["status"] == "success", execution
    return execution["id"]


def _get(server, execution_id: str, what: str, query: str, **kwargs):
    return server.api("GET", f"/api/executions/{execution_id}/{what}?{query}", **kwargs)


@pytest.mark.parametrize("expert_mode", [True, False], ids=["expert", "results-only"])
def test_search_finds_each_matching_line_numbered_as_the_lines_read_back(server, expert_mode):
    execution_id = _run(server, expert_mode)
    found = _get(server, execution_id, "search", "target=localhost&q=NEEDLE").json()
    assert found["count"] == 3 and len(found["matches"]) == 3
    assert sorted(m["text"] for m in found["matches"]) == ["err Needle", "needle one", "needle red"]  # escape codes left out
    assert [m["n"] for m in found["matches"]] == sorted(m["n"] for m in found["matches"])

    everything = _get(server, execution_id, "lines", "target=localhost&count=5000").json()
    lines = everything["lines"]
    assert everything["total"] == found["lines"] == len(lines) == 7
    assert [line["n"] for line in lines] == list(range(7))
    shown = [re.sub(r"\x1b\[[0-9;]*m", "", line["text"]) for line in lines]
    assert sorted(shown) == sorted(["alpha", "needle one", "err Needle", "needle red", "1", "2", "3"])
    assert "\x1b[31mneedle red\x1b[0m" in [line["text"] for line in lines], "lines come back raw, colours kept"
    for match in found["matches"]:
        (line,) = _get(server, execution_id, "lines", f"target=localhost&from={match['n']}&count=1").json()["lines"]
        assert {k: line[k] for k in ("n", "seq", "idx", "stream", "time")} == {k: match[k] for k in ("n", "seq", "idx", "stream", "time")}
        assert match["text"] in line["text"]
    assert [m["stream"] for m in found["matches"] if m["text"] == "err Needle"] == ["stderr"]


def test_search_narrows_by_stream_by_line_number_and_keeps_the_last_matches(server):
    execution_id = _run(server)
    everything = _get(server, execution_id, "search", "target=localhost&q=needle").json()["matches"]
    stderr = _get(server, execution_id, "search", "target=localhost&q=needle&stream=stderr").json()
    assert stderr["count"] == 1 and [m["text"] for m in stderr["matches"]] == ["err Needle"]
    below = _get(server, execution_id, "search", f"target=localhost&q=needle&before={everything[1]['n']}").json()
    assert below["count"] == 1 and below["matches"] == everything[:1]
    last = _get(server, execution_id, "search", "target=localhost&q=needle&limit=1").json()
    assert last["count"] == 3 and last["matches"] == everything[-1:]
    assert _get(server, execution_id, "search", "target=localhost&q=absent").json() == {"matches": [], "count": 0, "lines": 7}


def test_bolts_log_pane_holds_the_command_line(server):
    execution_id = _run(server)
    found = _get(server, execution_id, "search", "log=true&q=command run").json()
    assert found["count"] >= 1 and found["matches"][0]["text"].startswith("$ ")
    assert _get(server, execution_id, "lines", "log=true&count=1").json()["lines"][0]["text"].startswith("$ ")


def test_a_viewer_may_search(server):
    execution_id = _run(server)
    answer = _get(server, execution_id, "search", "target=localhost&q=alpha", headers=server.headers_for("viewer"))
    assert answer.status_code == 200 and answer.json()["count"] == 1


BAD_QUERIES = [
    ("search", "target=localhost", "q"),
    ("search", "target=localhost&q=", "q"),
    ("search", "q=x", "target"),
    ("search", "q=x&target=localhost&log=true", "target"),
    ("search", "q=x&target=localhost&stream=both", "stream"),
    ("search", "q=x&target=localhost&limit=0", "limit"),
    ("search", "q=x&target=localhost&before=-1", "before"),
    ("search", "q=x&target=localhost&colour=red", "colour"),
    ("lines", "target=localhost&from=-3", "from"),
    ("lines", "target=localhost&count=5001", "count"),
    ("lines", "log=maybe", "log"),
]


def test_bad_queries_are_400_naming_the_field(server):
    execution_id = _run(server)
    for what, query, field in BAD_QUERIES:
        answer = _get(server, execution_id, what, query)
        assert answer.status_code == 400, (query, answer.text)
        assert field in answer.json()["error"]["details"], (query, answer.json())


def test_unknown_target_or_execution_is_404(server):
    execution_id = _run(server)
    answer = _get(server, execution_id, "search", "target=web99&q=x")
    assert answer.status_code == 404 and "target" in answer.json()["error"]["details"]
    assert _get(server, "deadbeef", "lines", "target=localhost").status_code == 404
