"""Contract tests: the Bolt double (tests/bolt_double/bolt) against real Bolt samples.

They compare SHAPES (line structure, key order and key sets, error forms, exit
codes) with tests/bolt_samples, and exact values where the double ran the same
thing the sample did. Every test runs the double as a real subprocess.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROJECT = REPO / "tests" / "bolt_double" / "project"

HEADER = '{ "items": ['
FOOTER_RE = re.compile(r'^"target_count": \d+, "elapsed_time": \d+ }$')
STREAM_RE = re.compile(r"^\[([^\]]+)\] (out|err): (.*)$")
NO_RERUN = "--no-save-rerun"


def classify(line):
    if line == HEADER:
        return "header"
    if line == ",":
        return "sep"
    if line == "],":
        return "items_end"
    if FOOTER_RE.match(line):
        return "footer"
    if line == '"_error": ':
        return "error_key"
    if line == "}":
        return "close"
    if STREAM_RE.match(line):
        return "stream"
    if line.startswith("{"):
        json.loads(line)
        return "item"
    return "other:" + line


def classes(text):
    return [classify(line) for line in text.splitlines()]


def shape(value):
    """Structure of a JSON value: key order for objects, element shapes for lists."""
    if isinstance(value, dict):
        return {"__keys__": list(value.keys()), **{k: shape(v) for k, v in value.items()}}
    if isinstance(value, list):
        return ["list"]
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return "string"


def items(text):
    return [json.loads(line) for line in text.splitlines() if classify(line) == "item"]


def sample_items(samples, name):
    return items(samples.stdout_text(name))


def retarget(item, name):
    out = dict(item)
    out["target"] = name
    return out


# --------------------------------------------------------------------------- CLI basics

def test_version_matches_sample_and_can_be_overridden(bolt, samples):
    res = bolt("--version", project=False)
    assert res.returncode == samples.exit_code("version") == 0
    assert res.stdout_bytes == samples.stdout("version") == b"4.0.1-rc.001\n"
    res = bolt("--version", project=False, env={"BOLT_DOUBLE_VERSION": "9.8.7"})
    assert res.stdout == "9.8.7\n"


def test_unknown_flag_is_plain_text_like_bolt(bolt, samples):
    res = bolt("command", "run", "echo hi", "-t", "localhost", "--format", "json", "--bogus")
    assert res.returncode == samples.exit_code("err_bad_flag_json") == 1
    assert res.stdout_bytes == samples.stdout("err_bad_flag_json")
    assert res.stderr_bytes == samples.stderr("err_bad_flag_json") == b""


def test_missing_targets_is_plain_text_like_bolt(bolt, samples):
    res = bolt("command", "run", "echo hi", "--format", "json")
    assert res.returncode == samples.exit_code("err_no_targets_json") == 1
    assert res.stdout_bytes == samples.stdout("err_no_targets_json")


def test_bad_format_is_plain_text_like_bolt(bolt, samples):
    res = bolt("command", "run", "echo hi", "-t", "localhost", "--format", "yaml")
    assert res.returncode == samples.exit_code("err_bad_format") == 1
    assert res.stdout_bytes == samples.stdout("err_bad_format")


def test_invocations_are_logged_when_asked(bolt, tmp_path):
    log = tmp_path / "calls.jsonl"
    bolt("--version", project=False, env={"BOLT_DOUBLE_LOG": str(log)})
    bolt("command", "run", "true", "-t", "localhost", "--format", "json", NO_RERUN, env={"BOLT_DOUBLE_LOG": str(log)})
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert [c["argv"] for c in calls] == [
        ["--version"],
        ["command", "run", "true", "-t", "localhost", "--format", "json", NO_RERUN, "--project", str(PROJECT)],
    ]


# --------------------------------------------------------------------------- command run

def test_command_success_matches_sample(bolt, samples):
    res = bolt("command", "run", "echo hi; echo err >&2", "-t", "localhost,local2", "--format", "json", NO_RERUN)
    expected = samples.stdout_text("cmd_success_json")
    assert res.returncode == samples.exit_code("cmd_success_json") == 0
    assert classes(res.stdout) == classes(expected)
    got = sorted(items(res.stdout), key=lambda i: i["target"])
    want = sample_items(samples, "cmd_success_json")
    assert [shape(i) for i in got] == [shape(i) for i in want]
    assert got == [retarget(want[0], "local2"), retarget(want[0], "localhost")]
    assert res.stderr_bytes == samples.stderr("cmd_success_json") == b""


def test_command_nonzero_exit_matches_sample(bolt, samples):
    res = bolt("command", "run", "echo hi; echo err >&2; exit 3", "-t", "localhost,l2", "--format", "json", NO_RERUN)
    assert res.returncode == samples.exit_code("cmd_fail_json") == 1
    expected = samples.stdout_text("cmd_fail_json")
    assert classes(res.stdout) == classes(expected)
    want = sample_items(samples, "cmd_fail_json")[0]
    got = {i["target"]: i for i in items(res.stdout)}
    assert set(got) == {"localhost", "local2"}  # the alias l2 resolves to local2
    for name, item in got.items():
        assert item == retarget(want, name)
        assert item["value"]["stdout"] == "hi\n"
        assert item["value"]["stderr"] == "err\n"
        assert item["value"]["exit_code"] == 3


STREAM_CMD = 'for i in 1 2; do echo "out $i"; echo "err $i" >&2; sleep 1; done'


def test_stream_json_two_targets_lines_arrive_while_running(timed_bolt, samples):
    run = timed_bolt("command", "run", STREAM_CMD, "-t", "localhost,local2", "--format", "json", "--stream",
                     NO_RERUN)
    assert run.wait(timeout=20) == 0
    assert run.stderr == b""  # the project disables stream_experimental
    lines = run.lines
    texts = [t for _, t in lines]
    sample_rows = samples.timed("cmd_stream_json_timed")
    # Same line structure as the sample: header, stream lines, item , item, footer.
    def collapse(cls):
        out = []
        for c in cls:
            if not (out and out[-1] == c == "stream"):
                out.append(c)
        return out
    assert collapse([classify(t) for t in texts]) == collapse([classify(t) for _, t in sample_rows])
    assert collapse([classify(t) for t in texts]) == ["header", "stream", "item", "sep", "item", "items_end",
                                                        "footer"]
    # The same stream lines as the sample, per target and in order.
    def per_target(rows, mapping):
        out = {}
        for t in rows:
            m = STREAM_RE.match(t)
            if m:
                out.setdefault(mapping.get(m.group(1), m.group(1)), []).append((m.group(2), m.group(3)))
        return out
    want_stream = per_target([t for _, t in sample_rows], {})
    got_stream = per_target(texts, {})
    assert got_stream == {"localhost": want_stream["me"], "local2": want_stream["127.0.0.1"]}
    # Items exactly like the sample's (same command), target renamed.
    want_items = {i["target"]: i for i in items("\n".join(t for _, t in sample_rows))}
    got_items = {i["target"]: i for i in items("\n".join(texts))}
    assert got_items == {"localhost": retarget(want_items["me"], "localhost"),
                         "local2": retarget(want_items["127.0.0.1"], "local2")}
    # Timing: the header at once, the first stream lines long before the items.
    t_header = lines[0][0]
    t_first_out = min(t for t, x in lines if x.endswith("out: out 1"))
    t_second_out = min(t for t, x in lines if x.endswith("out: out 2"))
    t_first_item = min(t for t, x in lines if classify(x) == "item")
    assert t_header < t_first_item - 1.5
    assert t_first_out < t_first_item - 1.5, "stream lines must appear while the command runs"
    assert t_second_out - t_first_out > 0.7, "lines must be flushed as they arrive, not at the end"
    last_stream = max(i for i, x in enumerate(texts) if classify(x) == "stream")
    first_item = min(i for i, x in enumerate(texts) if classify(x) == "item")
    assert last_stream < first_item
    # The sample shows the same gap between the first stream line and the first item.
    s_first_out = min(t for t, x in sample_rows if x.endswith("out: out 1"))
    s_first_item = min(t for t, x in sample_rows if classify(x) == "item")
    assert abs((t_first_item - t_first_out) - (s_first_item - s_first_out)) < 0.6


def test_stream_warning_on_stderr_unless_disabled(bolt, samples, noisy_project):
    inv = str(PROJECT / "inventory.yaml")
    res = bolt("command", "run", "echo hi", "-t", "localhost", "--format", "json", "--stream", NO_RERUN,
               "-i", inv, "--project", str(noisy_project), project=False)
    assert res.returncode == 0
    assert res.stderr_bytes == samples.stderr("cmd_stream_json")
    # --no-color drops the colour but keeps Bolt's trailing ESC[0m on the line
    res = bolt("command", "run", "echo hi", "-t", "localhost", "--format", "json", "--stream", "--no-color",
               NO_RERUN, "-i", inv, "--project", str(noisy_project), project=False)
    assert res.stderr_bytes == samples.stderr("cmd_nocolor_warn")
    assert classes(res.stdout) == classes(samples.stdout_text("cmd_nocolor_warn"))
    assert items(res.stdout) == [retarget(i, "localhost") for i in items(samples.stdout_text("cmd_nocolor_warn"))]


def test_stream_splits_long_lines_and_keeps_a_last_partial_line(bolt):
    cmd = "python3 -c \"print('x' * 5000)\"; printf tail"
    res = bolt("command", "run", cmd, "-t", "localhost", "--format", "json", "--stream", NO_RERUN)
    assert res.returncode == 0
    stream = [STREAM_RE.match(line).group(3) for line in res.lines if classify(line) == "stream"]
    assert stream == ["x" * 4096, "x" * 904, "tail"]
    assert items(res.stdout)[0]["value"]["stdout"] == "x" * 5000 + "\ntail"


# --------------------------------------------------------------------------- unreachable targets

def test_unreachable_inventory_target_fails_like_bolt(bolt, samples):
    res = bolt("command", "run", "echo hi", "-t", "down01,localhost", "--format", "json", NO_RERUN)
    assert res.returncode == samples.exit_code("cmd_unreachable_json") == 1
    want = sample_items(samples, "cmd_unreachable_json")
    want_fail = next(i for i in want if i["object"] is None)
    got = {i["target"]: i for i in items(res.stdout)}
    assert shape(got["down01"]) == shape(want_fail)
    assert got["down01"]["object"] is None and got["down01"]["status"] == "failure"
    assert got["down01"]["value"]["_error"] == {
        "details": {}, "kind": "puppetlabs.tasks/connect-error",
        "msg": "Failed to connect to down01: Connection refused - connect(2) for down01:22",
        "issue_code": "CONNECT_ERROR"}
    want_ok = next(i for i in want if i["object"] is not None)
    assert got["localhost"] == retarget(want_ok, "localhost")
    assert classes(res.stdout) == ["header", "item", "sep", "item", "items_end", "footer"]


def test_unknown_name_is_an_adhoc_ssh_host(bolt, samples):
    res = bolt("command", "run", "echo hi", "-t", "nosuchgroup", "--format", "json", NO_RERUN)
    assert res.returncode == samples.exit_code("err_unknown_group_json") == 1
    assert classes(res.stdout) == classes(samples.stdout_text("err_unknown_group_json"))
    assert items(res.stdout) == sample_items(samples, "err_unknown_group_json")


def test_auth_failure_like_sample(bolt, samples):
    res = bolt("command", "run", "echo hi", "-t", "auth01", "--format", "json", NO_RERUN)
    assert res.returncode == samples.exit_code("cmd_authfail_json") == 1
    want = sample_items(samples, "cmd_authfail_json")[0]
    got = items(res.stdout)[0]
    assert shape(got) == shape(want)
    assert got["value"]["_error"]["issue_code"] == "AUTH_ERROR"
    assert got["value"]["_error"]["msg"] == "Authentication failed for user deploy@auth01"
    assert res.stderr_bytes == samples.stderr("cmd_authfail_json")


# --------------------------------------------------------------------------- task run

def test_task_with_json_output_matches_sample(bolt, samples):
    res = bolt("task", "run", "demo::json", "name=x", "-t", "localhost", "--format", "json", NO_RERUN)
    assert res.returncode == samples.exit_code("task_json_json") == 0
    assert classes(res.stdout) == classes(samples.stdout_text("task_json_json"))
    assert items(res.stdout) == [retarget(i, "localhost") for i in sample_items(samples, "task_json_json")]
    assert res.stderr == ""  # task stderr is dropped from the result and not logged


def test_task_with_plain_output_matches_sample_and_streams_stderr(bolt, samples):
    res = bolt("task", "run", "demo::hello", "name=world", "-t", "localhost,local2", "--format", "json",
               "--stream", NO_RERUN)
    assert res.returncode == samples.exit_code("task_run_json") == 0
    want = sample_items(samples, "task_run_json")[0]
    got = {i["target"]: i for i in items(res.stdout)}
    assert got == {"localhost": retarget(want, "localhost"), "local2": retarget(want, "local2")}
    stream = [line for line in res.lines if classify(line) == "stream"]
    host = socket.gethostname()
    for name in ("localhost", "local2"):
        mine = [line for line in stream if line.startswith("[%s] " % name)]
        # Order holds within each pipe; between stdout and stderr it is whichever read came first
        # (both Bolts read the two pipes concurrently), so each stream is compared on its own.
        assert [line for line in mine if line.startswith("[%s] err: " % name)] == [
            "[%s] err: starting on %s name=world" % (name, host)]
        assert [line for line in mine if line.startswith("[%s] out: " % name)] == [
            "[%s] out: line 1" % name, "[%s] out: line 2" % name, "[%s] out: line 3" % name,
            '[%s] out: {"greeting": "hello world", "n": 3}' % name]
        assert len(mine) == 5
    assert "stderr" not in json.dumps(got)


def test_task_failure_matches_sample(bolt, samples):
    res = bolt("task", "run", "demo::fail", "-t", "localhost", "--format", "json", NO_RERUN)
    assert res.returncode == samples.exit_code("task_fail_json") == 1
    assert items(res.stdout) == [retarget(i, "localhost") for i in sample_items(samples, "task_fail_json")]


def test_unknown_task_matches_sample(bolt, samples):
    res = bolt("task", "run", "nosuch::task", "-t", "localhost", "--format", "json", NO_RERUN)
    assert res.returncode == samples.exit_code("err_unknown_task_json") == 1
    assert res.stdout_bytes == samples.stdout("err_unknown_task_json")
    assert classes(res.stdout) == ["header", "items_end", "error_key", "item", "close"]


def test_missing_parameter_matches_sample(bolt, samples):
    res = bolt("task", "run", "demo::hello", "-t", "localhost", "--format", "json", NO_RERUN)
    assert res.returncode == samples.exit_code("err_bad_param_json") == 1
    assert res.stdout_bytes == samples.stdout("err_bad_param_json")


def test_params_json_and_type_checks(bolt):
    res = bolt("task", "run", "demo::slow", "--params", '{"count": 2, "interval": 0.1}', "-t", "localhost",
               "--format", "json", NO_RERUN)
    assert res.returncode == 0
    assert items(res.stdout)[0]["value"] == {"_output": "step 1 of 2\nstep 2 of 2\n"}
    res = bolt("task", "run", "demo::slow", "count=many", "-t", "localhost", "--format", "json", NO_RERUN)
    assert res.returncode == 1
    err = json.loads(res.lines[3])
    assert err["kind"] == "bolt/pal-error" and "parameter 'count' expects" in err["msg"]


def test_params_from_a_file_like_bolt(bolt, tmp_path):
    """Boltdeck hands parameters over as `--params @FILE`; the unreadable-file text is the real Bolt 4.0.1's."""
    params = tmp_path / "params.json"
    params.write_text('{"count": 1, "interval": 0.1}')
    res = bolt("task", "run", "demo::slow", "--params", f"@{params}", "-t", "localhost", "--format", "json", NO_RERUN)
    assert res.returncode == 0 and items(res.stdout)[0]["value"] == {"_output": "step 1 of 1\n"}
    gone = tmp_path / "gone.json"
    res = bolt("task", "run", "demo::slow", "--params", f"@{gone}", "-t", "localhost", "--format", "json", NO_RERUN)
    assert res.returncode == 1
    assert res.stdout == f"Error attempting to read {gone}: No such file or directory @ rb_sysopen - {gone}\n"


# --------------------------------------------------------------------------- show commands

def test_inventory_show_detail_shape(bolt, samples):
    res = bolt("inventory", "show", "--targets", "all", "--detail", "--format", "json")
    assert res.returncode == samples.exit_code("inventory_detail_json") == 0
    got = json.loads(res.stdout)
    want = json.loads(samples.stdout_text("inventory_detail_json"))
    assert list(got) == list(want)
    assert list(got["inventory"]) == list(want["inventory"])
    assert got["inventory"]["file"] == str(PROJECT / "inventory.yaml") == got["inventory"]["default"]
    assert got["count"] == got["inventory"]["count"] == 4 and got["adhoc"] == {"count": 0, "targets": []}
    by_name = {t["name"]: t for t in got["targets"]}
    assert list(by_name) == ["localhost", "local2", "down01", "auth01"]
    w_local = next(t for t in want["targets"] if t["config"]["transport"] == "local")
    w_ssh = next(t for t in want["targets"] if t["config"]["transport"] == "ssh")
    for t in got["targets"]:
        assert list(t) == list(w_local)
        assert t["groups"][-1] == "all"
    loc, l2 = by_name["localhost"], by_name["local2"]
    assert shape(loc) == shape(w_local)
    assert loc["alias"] == [] and l2["alias"] == "l2"  # list or string, as given
    assert loc["config"] == w_local["config"] | {"local": loc["config"]["local"]}
    assert list(loc["config"]["local"]) == list(w_local["config"]["local"])
    assert loc["features"] == w_local["features"] and loc["plugin_hooks"] == w_local["plugin_hooks"]
    assert loc["vars"] == {"env": "dev"} and loc["facts"] == {"role": "controller"}
    assert loc["groups"] == ["local", "all"] and l2["uri"] == "localhost"
    down = by_name["down01"]
    assert list(down["config"]) == ["transport", "ssh"] and down["config"]["transport"] == "ssh"
    defaults = [k for k in w_ssh["config"]["ssh"] if k not in ("host-key-check", "private-key", "user")]
    assert list(down["config"]["ssh"])[:len(defaults)] == defaults
    for k in defaults:
        if k != "connect-timeout":  # the sample's inventory set 5
            assert down["config"]["ssh"][k] == w_ssh["config"]["ssh"][k]
    assert down["config"]["ssh"]["user"] == "deploy"
    assert down["vars"] == {"bolt_double_error": "connect"} and down["groups"] == ["unreachable", "all"]
    assert down["features"] == [] and down["facts"] == {}


def test_inventory_show_plain_and_adhoc(bolt, samples):
    res = bolt("inventory", "show", "--format", "json")
    got, want = json.loads(res.stdout), json.loads(samples.stdout_text("inventory_show_json"))
    assert shape(got) == shape(want)
    assert got["targets"] == ["localhost", "local2", "down01", "auth01"]
    res = bolt("inventory", "show", "-t", "nosuchgroup", "--format", "json")
    got = json.loads(res.stdout)
    want = json.loads(samples.stdout_text("err_inventory_show_unknown_json"))
    assert res.returncode == samples.exit_code("err_inventory_show_unknown_json") == 0
    path = str(PROJECT / "inventory.yaml")
    want["inventory"].update(file=path, default=path)
    assert got == want


def test_bad_inventory_is_a_bare_error_object(bolt, samples, tmp_path):
    bad = tmp_path / "bad_inventory.yaml"
    bad.write_text("groups:\n  - name: x\n    targets: [a, b\n")
    res = bolt("command", "run", "echo hi", "-t", "a", "-i", str(bad), "--format", "json", NO_RERUN)
    want = json.loads(samples.stdout_text("err_bad_inventory_json"))
    assert res.returncode == samples.exit_code("err_bad_inventory_json") == 1
    got = json.loads(res.stdout)
    assert shape(got) == shape(want)
    assert got["kind"] == "bolt/file-error" and got["details"] == {"path": str(bad)}
    assert got["msg"].startswith("Could not parse inventory file at %s, line " % bad)


def test_task_show_list(bolt, samples):
    res = bolt("task", "show", "--format", "json")
    assert res.returncode == samples.exit_code("task_show_json") == 0
    got, want = json.loads(res.stdout), json.loads(samples.stdout_text("task_show_json"))
    assert list(got) == list(want) == ["tasks", "modulepath"]
    assert got["modulepath"] == [str(PROJECT / "modules"), str(PROJECT / ".modules")]
    names = [t[0] for t in got["tasks"]]
    assert names == sorted(names)
    assert names == ["demo::fail", "demo::hello", "demo::json", "demo::slow", "facts", "package"]
    assert all(isinstance(t, list) and len(t) == 2 for t in got["tasks"])
    want_pairs = {t[0]: t for t in want["tasks"]}
    got_pairs = {t[0]: t for t in got["tasks"]}
    for name in ("demo::hello", "facts", "package"):
        assert got_pairs[name] == want_pairs[name]


def test_task_show_one(bolt, samples):
    res = bolt("task", "show", "demo::hello", "--format", "json")
    got, want = json.loads(res.stdout), json.loads(samples.stdout_text("task_show_hello_json"))
    assert res.returncode == 0 and list(got) == list(want)
    assert got["metadata"] == want["metadata"]
    assert got["files"] == [{"name": "hello.sh", "path": str(PROJECT / "tasks" / "hello.sh")}]
    assert got["module_dir"] == str(PROJECT)
    res = bolt("task", "show", "package", "--format", "json")
    got, want = json.loads(res.stdout), json.loads(samples.stdout_text("task_show_package_json"))
    assert list(got) == list(want) and got["name"] == "package"
    assert got["metadata"] == want["metadata"]
    assert [f["name"] for f in got["files"]] == [f["name"] for f in want["files"]]
    res = bolt("task", "show", "nosuch::task", "--format", "json")
    assert res.returncode == 1
    assert json.loads(res.stdout) == {
        "kind": "bolt/unknown-task",
        "msg": "Could not find a task named 'nosuch::task'. For a list of available tasks, run 'bolt task show'.",
        "details": {}}


# --------------------------------------------------------------------------- stand-in tasks

def _os_release():
    data = {}
    with open("/etc/os-release") as fh:
        for line in fh:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                data[k] = v.strip('"')
    return data


def test_facts_task_shape(bolt, samples):
    res = bolt("task", "run", "facts", "-t", "localhost", "--format", "json", NO_RERUN)
    assert res.returncode == samples.exit_code("facts_json") == 0
    got = items(res.stdout)[0]
    want = sample_items(samples, "facts_json")[0]
    assert list(got) == list(want) and got["object"] == "facts" and got["status"] == "success"
    value = got["value"]
    assert shape(value["os"]) == shape(want["value"]["os"])
    assert set(value) <= set(want["value"]), set(value) - set(want["value"])
    for key in ("os", "hostname", "fqdn", "kernel", "kernelrelease", "identity", "networking", "memory",
                "processors", "osfamily", "operatingsystem", "path", "timezone"):
        assert key in value
    osr = _os_release()
    assert value["os"]["distro"]["description"] == osr["PRETTY_NAME"]
    assert value["os"]["release"]["major"] == osr["VERSION_ID"].split(".")[0]
    assert value["hostname"] == socket.gethostname().split(".")[0]
    assert value["kernelrelease"] == os.uname().release
    assert value["identity"]["uid"] == os.geteuid()


dpkg = pytest.mark.skipif(not shutil.which("dpkg-query"), reason="needs dpkg-query")


def _dpkg_version(name):
    res = subprocess.run(["dpkg-query", "-W", "-f", "${Status}|${Version}", name], capture_output=True, text=True)
    if res.returncode != 0 or not res.stdout.startswith("install ok installed"):
        return None
    return res.stdout.split("|", 1)[1]


@dpkg
def test_package_status(bolt, samples):
    res = bolt("task", "run", "package", "action=status", "name=dpkg", "-t", "localhost", "--format", "json",
               NO_RERUN)
    assert res.returncode == samples.exit_code("package_status_json") == 0
    got = items(res.stdout)[0]
    want = sample_items(samples, "package_status_json")[0]
    assert list(got) == list(want)
    assert got["value"]["status"] in ("up to date", "out of date")
    assert list(got["value"])[:2] == list(want["value"])
    assert got["value"]["version"] == _dpkg_version("dpkg")
    res = bolt("task", "run", "package", "action=status", "name=nosuchpkg-xyz", "-t", "localhost", "--format",
               "json", NO_RERUN)
    assert items(res.stdout) == [retarget(sample_items(samples, "package_missing_json")[0], "localhost")]


@dpkg
def test_package_install_pretends_and_bad_version_fails(bolt, samples):
    name = next((n for n in ("tree", "cowsay", "sl", "nosuchpkg-xyz") if _dpkg_version(n) is None), None)
    assert name is not None
    res = bolt("task", "run", "package", "action=install", "name=%s" % name, "-t", "localhost", "--format",
               "json", NO_RERUN)
    want = sample_items(samples, "package_install_puppet_json")[0]
    if name == "tree":
        assert res.returncode == 0
        assert items(res.stdout) == [retarget(want, "localhost")]
    assert _dpkg_version(name) is None, "the double must never install anything"
    res = bolt("task", "run", "package", "action=uninstall", "name=dpkg", "-t", "localhost", "--format", "json",
               NO_RERUN)
    assert items(res.stdout) == [retarget(sample_items(samples, "package_uninstall_puppet_json")[0], "localhost")]
    assert _dpkg_version("dpkg") is not None
    res = bolt("task", "run", "package", "action=install", "name=tree", "version=9.9.9", "-t", "localhost",
               "--format", "json", NO_RERUN)
    assert res.returncode == samples.exit_code("package_badver_json") == 1
    got = items(res.stdout)[0]
    want = next(i for i in sample_items(samples, "package_badver_json") if i["target"] == "me")
    assert shape(got) == shape(want)
    assert got["status"] == "failure" and got["value"]["_error"]["kind"] == "puppet_error"
    assert got["value"]["_error"]["msg"].startswith(
        "Execution of '/usr/bin/apt-get -q -y -o DPkg::Options::=--force-confold --force-yes install tree=9.9.9' "
        "returned 100: ")
    assert got["value"]["_error"]["msg"].endswith("E: Version '9.9.9' for 'tree' was not found")


# --------------------------------------------------------------------------- signals

def _sleep_pids(seconds):
    """Pids of `sleep SECONDS` processes."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as fh:
                argv = fh.read().split(b"\0")
        except OSError:
            continue
        if len(argv) >= 2 and os.path.basename(argv[0]) == b"sleep" and argv[1] == seconds.encode():
            found.append(int(pid))
    return found


# The samples were taken in a shell (143, 130); under a parent that is not a shell the real Bolt
# dies of SIGTERM and exits 1 on SIGINT.
@pytest.mark.parametrize("sig,code,sample", [(signal.SIGTERM, -signal.SIGTERM, "sig_TERM"), (signal.SIGINT, 1, "sig_INT")])
def test_signal_truncates_stdout_and_leaves_no_child(timed_bolt, samples, sig, code, sample):
    token = "37.%d" % (os.getpid() % 1000 + sig)  # a unique sleep length to find the child by
    run = timed_bolt("command", "run", "echo started; sleep %s" % token, "-t", "localhost,local2", "--format",
                     "json", "--stream", NO_RERUN)
    assert run.wait_for_line(lambda t: t == "[local2] out: started")
    assert run.wait_for_line(lambda t: t == "[localhost] out: started")
    deadline = time.monotonic() + 5
    while len(_sleep_pids(token)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(_sleep_pids(token)) == 2
    os.killpg(run.proc.pid, sig)
    assert run.wait(timeout=10) == code
    out = run.raw_stdout()
    assert out.startswith(samples.stdout(sample).decode())
    assert out.splitlines()[0] == HEADER
    assert sorted(out.splitlines()[1:]) == ["[local2] out: started", "[localhost] out: started"]
    assert run.stderr == samples.stderr(sample)
    deadline = time.monotonic() + 5
    while _sleep_pids(token) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _sleep_pids(token) == [], subprocess.run(["ps", "-o", "pid,ppid,pgid,stat,etime,cmd", "-p", ",".join(map(str, _sleep_pids(token)))], capture_output=True, text=True).stdout
