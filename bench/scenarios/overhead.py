"""5. Overhead per execution: a short command on N local targets, submit-to-complete vs bolt directly."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from ..result import Row, ScenarioResult
from ..server import BenchServer, bolt_project, direct_argv, run_direct
from ..stats import median

TITLE = "Overhead per execution (N local targets)"
LIMIT = 0.05
COMMAND = "echo hello"


def make_project(targets: int) -> tuple[Path, list[str]]:
    """A temporary Bolt project: the test project's bolt-project.yaml, N local-transport targets."""
    project = Path(tempfile.mkdtemp(prefix="bench-project-"))
    shutil.copy(Path(bolt_project()) / "bolt-project.yaml", project / "bolt-project.yaml")
    names = [f"local{i:03d}" for i in range(1, targets + 1)]
    lines = ["groups:", "  - name: bench", "    targets:"]
    for name in names:
        lines += ["      - uri: localhost", f"        name: {name}", "        config:", "          transport: local"]
    (project / "inventory.yaml").write_text("\n".join(lines) + "\n")
    return project, names


def run(profile: dict, ctx) -> ScenarioResult:
    p = profile["overhead"]
    project, names = make_project(p["targets"])
    result = ScenarioResult("overhead", TITLE)
    argv = direct_argv(COMMAND, ["bench"], str(project))
    direct: list[float] = []
    boltdeck: list[float] = []
    statuses = []
    try:
        with ctx.server(BenchServer(bolt_project=str(project))) as server:
            for _ in range(p["warmup"]):  # the first runs of a fresh server are slower (caches, pages)
                server.run_command(COMMAND, ["bench"], wait=True)
                run_direct(argv, str(project))
            cpu_before = server.cpu_seconds()
            for _ in range(p["runs"]):  # interleaved, so that drift hits both alike
                direct.append(run_direct(argv, str(project)))
                started = time.perf_counter()
                answer = server.run_command(COMMAND, ["bench"], wait=True, fresh=True)
                boltdeck.append(time.perf_counter() - started)
                statuses.append(answer["status"])
            cpu_per_run = (server.cpu_seconds() - cpu_before) / p["runs"]
    finally:
        shutil.rmtree(project, ignore_errors=True)
    d, b = median(direct), median(boltdeck)
    d_best, b_best = min(direct), min(boltdeck)
    overhead, overhead_best = b / d - 1, b_best / d_best - 1
    result.baseline.update({"what": f"the same `bolt command run` on {len(names)} targets, directly, stdout to /dev/null",
                            "wall_seconds": [round(x, 4) for x in direct], "median_s": round(d, 4),
                            "best_s": round(d_best, 4)})
    result.figures.update({"targets": len(names), "wall_seconds": [round(x, 4) for x in boltdeck],
                           "median_s": round(b, 4), "best_s": round(b_best, 4), "overhead_median": round(overhead, 4),
                           "overhead_best": round(overhead_best, 4), "statuses": statuses,
                           "server_cpu_ms_per_execution": round(cpu_per_run * 1000, 1)})
    # The verdict compares the best of N interleaved runs on each side: on a shared machine
    # the other load only ever adds time, so the minimum is the steadiest estimate of each.
    result.rows += [
        Row(f"{len(names)} targets: submit->complete (best of {len(boltdeck)})", round(b_best * 1000, 1),
            round(d_best * 1000, 1), "ms", f"<= baseline + {LIMIT:.0%}", overhead_best <= LIMIT),
        Row(f"{len(names)} targets: submit->complete (median)", round(b * 1000, 1), round(d * 1000, 1), "ms"),
        Row("overhead (best / median)", round(overhead_best * 100, 1), round(overhead * 100, 1), "%"),
        Row("server CPU per execution", round(cpu_per_run * 1000, 1), None, "ms"),
    ]
    if any(s != "success" for s in statuses):
        result.notes.append(f"some runs did not succeed: {statuses}")
    return result
