"""Contract: the double's `bolt apply` against the real Bolt's apply samples (shapes, exit codes).

The double applies with this machine's `puppet apply`; without Puppet these tests skip.
"""
import json
import shutil

import pytest

from .test_bolt_double_contract import NO_RERUN

pytestmark = pytest.mark.skipif(
    not shutil.which("puppet"), reason="puppet not found: apt-get install puppet-agent (Debian's Puppet 7)"
)


def keys(item):
    """The keys, in order, at each level of an apply item that Boltdeck reads."""
    report = item["value"]["report"]
    status = next(iter(report["resource_statuses"].values()))
    return {
        "item": list(item),
        "value": list(item["value"]),
        "report": list(report),
        "resource_status": list(status),
        "event": list(status["events"][0]),
        "log": list(report["logs"][-1]),
        "metrics": {name: [value[0] for value in metric["values"]] for name, metric in report["metrics"].items()
                    if name in ("resources", "events", "changes")},
    }


def the_item(stdout):
    """Apply prints one JSON array on one line, after every target finished."""
    [line] = [line for line in stdout.splitlines() if line.startswith("[{")]
    [item] = json.loads(line)
    return item


@pytest.mark.parametrize(
    "sample, code",
    [("apply_json", "notify{'hello from apply':}"), ("apply_fail_json", "exec{'/bin/false':}")],
)
def test_apply_prints_the_samples_shapes_and_exit_code(bolt, samples, sample, code):
    res = bolt("apply", "-e", code, "-t", "localhost", "--format", "json", NO_RERUN, timeout=120)
    assert res.returncode == samples.exit_code(sample)
    got, want = the_item(res.stdout), the_item(samples.stdout_text(sample))
    assert keys(got) == keys(want)
    assert got["value"]["_output"] == want["value"]["_output"]
    assert got["status"] == want["status"] and got["value"]["report"]["status"] == want["value"]["report"]["status"]
    if "_error" in want["value"]:
        assert got["value"]["_error"]["kind"] == want["value"]["_error"]["kind"]
        assert got["value"]["_error"]["msg"].replace("localhost", "me") == want["value"]["_error"]["msg"]


def test_apply_streams_the_report_as_target_output_then_prints_the_array(bolt):
    res = bolt("apply", "-e", "notify{'streamed':}", "-t", "localhost", "--format", "json", "--stream", NO_RERUN, timeout=120)
    lines = res.stdout.splitlines()
    assert lines[0] == "[localhost] out: {" and lines[-1].startswith('[{"target":"localhost"')
    assert all(line.startswith("[localhost] out: ") for line in lines[:-1])
