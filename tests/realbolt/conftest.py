"""A live server per Bolt: the test double, then the real Bolt CLI (when BOLTDECK_TEST_REAL_BOLT names it)."""

from __future__ import annotations

import pytest

from ..conftest import SCENARIO_PROJECT, LiveServer


@pytest.fixture(scope="session", params=["double", "real"])
def bolt_server(request, tmp_path_factory) -> LiveServer:
    """A live server in the scenario project; each test using it runs once per Bolt."""
    if request.param == "real":
        return request.getfixturevalue("real_bolt_server")
    live = LiveServer(
        tmp_path_factory.mktemp("double-scenario-server"),
        bolt_project=SCENARIO_PROJECT,
        sse_heartbeat_seconds=1,
        max_streams_per_user=500,
    ).start()
    request.addfinalizer(live.stop)
    return live
