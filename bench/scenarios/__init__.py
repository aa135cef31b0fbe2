"""The benchmark scenarios; each is `run(profile, ctx) -> ScenarioResult`."""

from . import fanout, first_output, fleet_page, history, idle, latency, overhead, scaleout, storage, throughput

SCENARIOS = {
    "latency": latency,
    "throughput": throughput,
    "fanout": fanout,
    "idle": idle,
    "overhead": overhead,
    "history": history,
    "first_output": first_output,
    "scaleout": scaleout,
    "storage": storage,
    "fleet_page": fleet_page,
}
