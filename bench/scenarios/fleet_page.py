"""10. The execution page in Chromium while a command on 200 targets streams in (issue 16): the
page's longest task and the fleet view's longest frame, beside the same page replaying the run.

The 200 targets are local-transport targets of a temporary Bolt project, so the Bolt double
really runs the command on each, concurrently; every target sleeps a few seconds first (by its
shell's pid), so the page is open before the results come, and numbered lock directories let
exactly three runs print something else than the others (the fleet view diffs them). The run
is started without expert mode, as the page shows it by default: lifecycle events only.

Streamed: a fresh page opens the execution right after the run request and is watched until the
run finished and the fleet view counts no target running. Baseline, in the same run: the same
execution page opened again once the run is over, which replays the stored events of the same
results at once. Chromium reports tasks over 50 ms to a PerformanceObserver ('longtask'), so a
longest task of 0 means none reached 50 ms; the fleet view's `draw` is wrapped and timed.
Each figure is the worst over the runs, not the best: the goals bound every stall a user can
meet, and a best-of would hide the very outlier they are about.

The browser is logged in with the bench admin's API token as an extra header on every request
(the page's /api calls and its EventSource accept it, like any API client); the run needs
Playwright and Debian's Chromium, and is skipped with a note naming what is missing otherwise.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..result import Row, ScenarioResult
from ..server import TEST_PROJECT, BenchServer

TITLE = "Execution page while a run on 200 targets streams in (Chromium)"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
RESPONSIVE_MS = 200  # issue 16: the longest task while 200 targets stream
FLEET_FRAME_MS = 100  # the fleet view's own share of a frame: at most half of the task goal
PAGE_TIMEOUT_MS = 120_000
# Each target sleeps SLEEP to SLEEP + SPREAD - 1 s, then takes one of three locks (an outlier)
# or prints the common output.
COMMAND = (
    "sleep $(({sleep} + $$ % {spread})); echo begin; "
    "for i in 1 2 3; do mkdir {locks}/$i 2>/dev/null && {{ echo outlier $i; echo end; exit 3; }}; done; "
    "echo same; echo end"
)
# Installed before the page loads: its longest task, the fleet view's longest draw, and its draws.
MEASURES = """
window.__longestTask = 0;
window.__longTasks = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    window.__longestTask = Math.max(window.__longestTask, entry.duration);
    window.__longTasks += 1;
  }
}).observe({ type: 'longtask', buffered: true });
window.__longestFleetFrame = 0;
window.__fleetDraws = 0;
customElements.whenDefined('bd-fleet-view').then(() => {
  const view = customElements.get('bd-fleet-view').prototype;
  const draw = view.draw;
  view.draw = function timedDraw() {
    const began = performance.now();
    try { return draw.call(this); } finally {
      window.__longestFleetFrame = Math.max(window.__longestFleetFrame, performance.now() - began);
      window.__fleetDraws += 1;
    }
  };
});
"""
COUNTS = """() => Object.fromEntries([...document.querySelectorAll('bd-fleet-view .fleet-filter')]
    .map((button) => [button.dataset.filter, Number(button.querySelector('.fleet-count').textContent)]))"""
SETTLED = """(targets) => {
  const count = (key) => document
    .querySelector(`bd-fleet-view .fleet-filter[data-filter=${key}] .fleet-count`)?.textContent;
  return document.querySelector('bd-output-viewer .connection[data-state=finished]') !== null
    && count('running') === '0' && Number(count('success')) + Number(count('failure')) === targets;
}"""
# Long-task entries reach the observer in a later task: let them land before reading.
READ_MEASURES = """async () => {
  await new Promise((done) => setTimeout(done, 100));
  return { longestTaskMs: window.__longestTask, longTasks: window.__longTasks,
           longestFleetFrameMs: window.__longestFleetFrame, fleetDraws: window.__fleetDraws };
}"""


def missing() -> str | None:
    """What the scenario needs and is not here (Playwright, Debian's Chromium), with how to get it."""
    if importlib.util.find_spec("playwright") is None:  # a test dependency
        return "playwright not installed: pip install -e '.[test]'"
    if not CHROMIUM.exists():
        return f"chromium not found ({CHROMIUM}): apt-get install chromium"
    return None


def fleet_project(folder: Path, targets: list[str]) -> Path:
    """A Bolt project whose inventory has `targets`, each localhost on the local transport."""
    project = folder / "project"
    project.mkdir()
    shutil.copy(TEST_PROJECT / "bolt-project.yaml", project)
    entry = "  - uri: localhost\n    name: {}\n    config:\n      transport: local\n"
    entries = "".join(entry.format(name) for name in targets)
    (project / "inventory.yaml").write_text(f"targets:\n{entries}")
    return project


@contextmanager
def chromium(token: str) -> Iterator:
    """A headless Chromium context whose every request carries the API token, with MEASURES installed."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US", timezone_id="UTC",
                                          extra_http_headers={"Authorization": f"Bearer {token}"})
            context.add_init_script(MEASURES)
            yield context
        finally:
            browser.close()


def watch(context, url: str, targets: int) -> dict:
    """Open the execution page and wait until it shows every result and the run's end; its figures."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        began = time.perf_counter()
        page.goto(url)
        page.locator("bd-fleet-view .fleet").wait_for()
        running_at_open = page.evaluate(COUNTS)["running"]
        page.wait_for_function(SETTLED, arg=targets)
        seconds = time.perf_counter() - began
        figures = page.evaluate(READ_MEASURES)
        counts = page.evaluate(COUNTS)
    finally:
        page.close()
    if errors:
        raise RuntimeError(f"uncaught errors in the page: {errors}")
    return {**figures, "running_at_open": running_at_open, "results_counted": counts["success"] + counts["failure"],
            "failures_counted": counts["failure"], "seconds": round(seconds, 2)}


def one_run(server: BenchServer, context, targets: int, p: dict) -> tuple[dict, dict]:
    """A command on every target watched live, then its page opened again: (streamed, replayed)."""
    locks = Path(tempfile.mkdtemp(prefix="boltdeck-bench-locks-"))
    try:
        command = COMMAND.format(sleep=p["sleep_seconds"], spread=p["sleep_spread"], locks=locks)
        execution = server.run_command(command, ["all"], expertMode=False)["executionId"]
        url = f"http://127.0.0.1:{server.port}/executions/{execution}"
        streamed = watch(context, url, targets)
        final = server.wait_final(execution)
        replayed = watch(context, url, targets)
    finally:
        shutil.rmtree(locks, ignore_errors=True)
    if len(final["results"]) != targets:
        raise RuntimeError(f"the run has {len(final['results'])} results, not {targets}")
    return streamed, replayed


def worst(runs: list[dict]) -> dict:
    """Each figure's highest over the runs (the goals bound the worst stall, see above)."""
    return {key: max(figures[key] for figures in runs) for key in ("longestTaskMs", "longestFleetFrameMs", "longTasks")}


def run(profile: dict, ctx) -> ScenarioResult:
    p = profile["fleet_page"]
    result = ScenarioResult("fleet_page", TITLE)
    absent = missing()
    if absent:
        result.notes.append(f"skipped: {absent}")
        result.figures["skipped"] = absent
        return result
    names = [f"n{i:03d}" for i in range(1, p["targets"] + 1)]
    folder = Path(tempfile.mkdtemp(prefix="boltdeck-bench-fleet-"))
    streamed: list[dict] = []
    replayed: list[dict] = []
    try:
        fleet = BenchServer(bolt_project=fleet_project(folder, names))
        with ctx.server(fleet) as server, chromium(server.token) as context:
            for _ in range(p["runs"]):
                mine, theirs = one_run(server, context, len(names), p)
                streamed.append(mine)
                replayed.append(theirs)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return _report(result, p, streamed, replayed)


def _report(result: ScenarioResult, p: dict, streamed: list[dict], replayed: list[dict]) -> ScenarioResult:
    mine, base = worst(streamed), worst(replayed)
    result.figures.update({"targets": p["targets"], "runs": streamed, "worst": mine})
    result.baseline.update({"what": "the same execution page opened again after the run: its stored events replayed",
                            "runs": replayed, "worst": base})
    if not all(figures["running_at_open"] for figures in streamed):
        result.notes.append("a streamed page opened after every result was in: it measured a replay")
    of = f"worst of {p['runs']}" if p["runs"] > 1 else "1 run"
    task, frame = round(mine["longestTaskMs"], 1), round(mine["longestFleetFrameMs"], 1)
    result.rows += [
        Row(f"longest task while {p['targets']} targets stream ({of})", task, round(base["longestTaskMs"], 1), "ms",
            f"< {RESPONSIVE_MS} ms", task < RESPONSIVE_MS),
        Row(f"fleet view's longest frame ({of})", frame, round(base["longestFleetFrameMs"], 1), "ms",
            f"< {FLEET_FRAME_MS} ms", frame < FLEET_FRAME_MS),
        Row("tasks over 50 ms (most in a run)", mine["longTasks"], base["longTasks"], "tasks"),
    ]
    return result
