"""The output viewer's tools in real Chromium: search (also in lines not on the page, also while
output arrives), per-line timestamps, keyboard shortcuts (issue 16)."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from playwright.sync_api import expect

from .helpers import assert_stored_up_to, start

pytestmark = pytest.mark.browser

PANEL = "[role=tabpanel]:not([hidden])"  # the pane shown (the Bolt log's has its own tools)
SCROLLER = f"{PANEL} .output-scroll"
CURRENT_IN_VIEW = """() => {
    const line = document.querySelector('[role=tabpanel]:not([hidden]) .ln.current-match');
    if (!line) return null;
    const box = line.getBoundingClientRect();
    const view = line.closest('.output-scroll').getBoundingClientRect();
    return box.top >= view.top && box.bottom <= view.bottom ? line.textContent : `out of view: ${line.textContent}`;
}"""


def run(ui, server, command: str) -> str:
    execution = start(server, "/api/commands", {"targets": ["localhost"], "command": command, "expertMode": True})
    ui.goto(f"/executions/{execution}")
    return execution


def test_search_finds_lines_among_50000_that_are_not_rendered_and_goes_to_each(ui, server):
    page = ui.page
    execution = run(ui, server, "seq 1 50000")
    ui.wait_finished(timeout=60_000)
    assert_stored_up_to(ui, execution, 50000)
    page.get_by_text("50000", exact=True).wait_for(timeout=60_000)
    assert "4999" not in ui.pane_lines("localhost"), "line 4999 was rendered: nothing to find off the page"

    search = page.locator(PANEL).get_by_label("Search output")
    search.fill("4999")
    count = page.locator(f"{PANEL} .search-count")
    expect(count).to_have_text("15 matching lines")  # 4999, 14999 … 44999 and 49990 … 49999
    visited = []
    for step in range(1, 16):
        search.press("Enter")
        expect(count).to_have_text(re.compile(r"^\d+ of 15 matching lines$"))
        shown = page.evaluate(CURRENT_IN_VIEW)
        assert shown and "4999" in shown, f"step {step}: {shown!r}"
        visited.append(int(shown))
    expected = [4999, 14999, 24999, 34999, 44999, *range(49990, 50000)]
    assert sorted(visited) == expected, "each match once, in a round"
    assert page.locator(f"{PANEL} .current-match mark").all_text_contents() == ["4999"]

    for _ in range(15):  # back round to line 4999
        search.press("Shift+Enter")
        if page.evaluate(CURRENT_IN_VIEW) == "4999":
            break
    lines = [int(n) for n in ui.pane_lines("localhost")]
    assert lines == list(range(lines[0], lines[-1] + 1)) and lines[0] <= 4999 <= lines[-1] and len(lines) <= 1000
    later = page.get_by_role("button", name=re.compile(r"^Show later output \(\d[\d,]* lines\)$"))
    expect(later).to_be_visible()

    page.get_by_role("button", name="Jump to live ↓").click()
    expect(later).to_be_hidden()
    tail = [int(n) for n in ui.pane_lines("localhost")]
    assert tail[-1] == 50000 and tail == list(range(tail[0], 50001)) and len(tail) <= 5000
    assert page.locator(SCROLLER).evaluate("el => el.scrollHeight - el.scrollTop - el.clientHeight") < 8


def test_search_counts_matches_as_output_arrives_and_in_the_streams_shown(ui, server, tmp_path):
    page = ui.page
    gate = tmp_path / "go-on"
    run(
        ui,
        server,
        f"echo 'needle one'; echo other; echo 'needle in stderr' >&2;"
        f" while [ ! -e '{gate}' ]; do sleep 0.05; done; echo 'needle two'; echo 'needle three'",
    )
    page.get_by_text("needle in stderr", exact=True).wait_for()
    search = page.locator(PANEL).get_by_label("Search output")
    search.fill("NEEDLE")  # not case-sensitive
    count = page.locator(f"{PANEL} .search-count")
    expect(count).to_have_text("2 matching lines")
    gate.touch()
    expect(count).to_have_text("4 matching lines")  # counted as the lines arrived
    ui.wait_finished()

    page.get_by_role("radio", name="stderr", exact=True).check()
    expect(count).to_have_text("1 matching line")
    page.get_by_role("radio", name="stdout", exact=True).check()
    expect(count).to_have_text("3 matching lines")
    marks = page.locator(f"{PANEL} .ln-out mark")
    assert marks.all_text_contents() == ["needle"] * 3
    search.fill("no such text")
    expect(count).to_have_text("No matches")
    expect(marks).to_have_count(0)


def test_timestamps_show_the_time_of_each_lines_event(ui, server):
    page = ui.page
    execution = run(ui, server, "echo first; sleep 1.1; echo second")
    ui.wait_finished()
    assert ui.pane_lines("localhost") == ["first", "second"]
    events = ui.server.api("GET", f"/api/executions/{execution}/events?after=0&limit=100").json()["events"]
    stamps = [event["timestamp"] for event in events if event["type"] == "stdout"]

    times = page.locator(PANEL).get_by_label("Timestamps")
    times.check()
    lines = ui.pane_lines("localhost")
    expected = [datetime.fromisoformat(stamp.replace("Z", "+00:00")).strftime("%H:%M:%S.%f")[:12] for stamp in stamps]
    assert lines == [f"{expected[0]} first", f"{expected[-1]} second"], (lines, stamps)  # the page runs in UTC
    assert expected[0] != expected[-1]
    times.uncheck()
    assert ui.pane_lines("localhost") == ["first", "second"]


def test_keyboard_shortcuts_work_from_the_output_and_never_while_typing(ui, server):
    page = ui.page
    run(ui, server, "seq -f 'row %g' 1 200")
    ui.wait_finished()
    scroller = page.locator(SCROLLER)
    scroller.focus()
    pane = page.locator(f"{PANEL} .output-pane")

    page.keyboard.press("t")
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3} row 1", ui.pane_lines("localhost")[0])
    page.keyboard.press("w")
    expect(pane).to_have_attribute("data-wrap", "off")

    page.keyboard.press("/")
    search = page.locator(PANEL).get_by_label("Search output")
    expect(search).to_be_focused()
    page.keyboard.type("row 3")  # "t" and "w" typed here are text, not shortcuts
    expect(search).to_have_value("row 3")
    expect(pane).to_have_attribute("data-wrap", "off")
    assert re.match(r"\d\d:", ui.pane_lines("localhost")[0]), "typing a t turned the timestamps off"
    count = page.locator(f"{PANEL} .search-count")
    expect(count).to_have_text("11 matching lines")  # row 3, row 30 … row 39

    page.keyboard.press("Escape")
    expect(count).to_have_text("")
    expect(scroller).to_be_focused()
    search.fill("row 3")
    scroller.focus()
    page.keyboard.press("n")  # the first match from the top of the view (at the end): round to row 3
    expect(count).to_have_text("1 of 11 matching lines")
    assert page.evaluate(CURRENT_IN_VIEW).endswith(" row 3")
    jump = page.get_by_role("button", name="Jump to live ↓")
    expect(jump).to_be_visible()  # going to a match stops following
    page.keyboard.press("Shift+N")
    page.keyboard.press("Shift+N")
    page.keyboard.press("n")
    expect(count).to_have_text("11 of 11 matching lines")  # two back round the end, one on
    assert page.evaluate(CURRENT_IN_VIEW).endswith(" row 39")
    page.keyboard.press("f")
    expect(jump).to_be_hidden()

    page.get_by_text("Keyboard shortcuts").click()
    help_text = page.locator(".shortcut-help dl").inner_text()
    for key in ["/", "N", "Shift+N", "T", "W", "F"]:
        assert key in help_text.split(), help_text


TRICKY = (
    "printf 'plain\\n'; printf 'part-'; sleep 0.3; printf 'joined\\n'; printf 'err one\\n' >&2; "
    "printf '10%%\\r50%%\\r100%%\\n'; printf '\\033[31mred\\033[0m\\n'; printf '\\n'; sleep 0.2; printf 'err two\\n' >&2; "
    "printf 'no line feed at the end'"
)
KEPT_RECORDS = """() => [...document.querySelector('bd-output-viewer').panes.get('localhost').kept]
    .map((r) => [r.n, r.seq, r.idx, r.stream, r.runs.map((run) => run.text).join('')])"""


@pytest.mark.parametrize("expert", [True, False], ids=["expert", "results-only"])
def test_the_server_numbers_a_panes_lines_as_the_browser_does(make_ui, server, expert):
    """The server-side search and line ranges stand for lines the browser forgot: same n, seq, idx, text."""
    ui = make_ui(expert=expert)
    execution = start(server, "/api/commands", {"targets": ["localhost"], "command": TRICKY, "expertMode": expert})
    ui.goto(f"/executions/{execution}")
    ui.wait_finished()
    browser = ui.page.evaluate(KEPT_RECORDS)
    answer = ui.page.request.get(f"{server.url}/api/executions/{execution}/lines?target=localhost&count=5000").json()
    shown = [[ln["n"], ln["seq"], ln["idx"], ln["stream"], _shown(ln["text"])] for ln in answer["lines"]]
    assert answer["total"] == len(browser) == 8  # plain, part-joined, 100%, red, an empty line, err one, err two, the last
    assert shown == browser
    assert "100%" in [row[4] for row in browser] and "red" in [row[4] for row in browser]


def _shown(raw: str) -> str:
    """What the viewer shows of a raw line: after the last carriage return, no escape sequences."""
    segments = [s for s in re.sub(r"\x1b\[[0-9;]*m", "", raw).split("\r") if s]
    return segments[-1] if segments else ""


def _run_keeping_1000_lines(make_ui, make_server, command: str):
    """A page on a server whose viewer keeps 1,000 lines a pane, watching `command` run."""
    live = make_server(ui_kept_lines=1000)
    ui = make_ui(live=live)
    execution = start(live, "/api/commands", {"targets": ["localhost"], "command": command, "expertMode": True})
    ui.goto(f"/executions/{execution}")
    return ui, ui.page


def test_search_past_the_lines_the_browser_keeps_asks_the_server_and_goes_there(make_ui, make_server):
    ui, page = _run_keeping_1000_lines(make_ui, make_server, "echo needle-early; seq 1 5000; echo needle-late")
    ui.wait_finished(timeout=60_000)
    page.get_by_text("needle-late", exact=True).wait_for()
    kept = page.evaluate("() => document.querySelector('bd-output-viewer').panes.get('localhost').kept.length")
    assert 1000 <= kept <= 1100, "the pane keeps what the server's setting says"

    search = page.locator(PANEL).get_by_label("Search output")
    search.fill("needle")
    count = page.locator(f"{PANEL} .search-count")
    expect(count).to_have_text("2 matching lines")  # needle-early only the server still has
    search.press("Enter")
    expect(count).to_have_text("2 of 2 matching lines")
    assert page.evaluate(CURRENT_IN_VIEW) == "needle-late"
    search.press("Enter")  # round to the first line of the run, fetched from the server
    expect(count).to_have_text("1 of 2 matching lines")
    expect(page.locator(f"{PANEL} .current-match")).to_have_text("needle-early")
    assert page.evaluate(CURRENT_IN_VIEW) == "needle-early"
    assert page.locator(f"{PANEL} .current-match mark").all_text_contents() == ["needle"]
    window = ui.pane_lines("localhost")
    assert window[0] == "needle-early" and window[1:] == [str(n) for n in range(1, len(window))]

    page.locator(f"{PANEL} .load-later").click()  # the next page comes from the server too
    expect(page.locator(f"{PANEL} .ln").last).to_have_text(str(len(window) - 1 + 1000))
    lines = ui.pane_lines("localhost")
    assert lines[1:] == [str(n) for n in range(1, len(lines))], "later lines follow on without a gap"

    page.locator(PANEL).get_by_role("radio", name="stderr", exact=True).check()
    expect(count).to_have_text("No matches")  # the server's search keeps to the streams shown


def test_search_count_stays_whole_while_a_running_output_outgrows_what_the_browser_keeps(make_ui, make_server):
    command = "sleep 1; for i in $(seq 1 30); do echo needle-$i; seq 1 300; sleep 0.1; done"
    ui, page = _run_keeping_1000_lines(make_ui, make_server, command)
    page.locator("bd-output-viewer [role=tab][data-key=localhost][aria-selected=true]").wait_for(timeout=20_000)
    search = page.locator(PANEL).get_by_label("Search output")
    search.fill("needle")  # early: matches come in live, then move out of memory to the server
    count = page.locator(f"{PANEL} .search-count")
    seen = set()
    for _ in range(1200):  # at most a minute
        if page.locator("bd-output-viewer .connection[data-state=finished]").count():
            break
        seen.add(count.text_content())
        page.wait_for_timeout(50)
    assert any(re.match(r"^([1-9]|1\d|2[0-9]) matching lines?", text or "") for text in seen), f"no count while it ran: {seen}"
    forgotten = page.evaluate("() => document.querySelector('bd-output-viewer').panes.get('localhost').forgotten")
    assert forgotten > 5000, "most lines went out of the browser's memory"
    expect(count).to_have_text("30 matching lines")
