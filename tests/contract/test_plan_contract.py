"""Contract: the Bolt double's plans (`bolt plan run`, `bolt plan show`) against the real Bolt 4.0.1.

REAL below is what the real Bolt printed, captured once, for plans of the scenario project
(tests/realbolt/project), of the double's project (tests/bolt_double/project) and of EXTRA_PLANS
written into a temporary project; project paths, durations and the host name are normalised.
Each test runs the double and compares with the capture: exit code, the stderr log line by line,
each target's stream lines, and the last stdout line (the plan's value or error) as JSON. With
BOLTDECK_TEST_REAL_BOLT set, the same argv also runs the real Bolt and the two are compared live.

Real Bolt writes two kinds of log lines from its executor threads, in no fixed order with the rest:
`Running ... on ["T"]` lines and the result lines of one step. Those are compared as sets.
"""

from __future__ import annotations

import collections
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

from ..conftest import BOLT_SAMPLES, SCENARIO_PROJECT, TEST_PROJECT
from .test_bolt_double_contract import STREAM_RE

REPO = Path(__file__).resolve().parents[2]
DOUBLE = REPO / "tests" / "bolt_double" / "bolt"
RUN_FLAGS = ["--format", "json", "--stream", "--no-save-rerun", "--log-level", "info"]
SHOW_FLAGS = ["--format", "json"]
QUIET_FLAGS = ["--format", "json", "--no-save-rerun"]  # no stream lines, no log

# Plans the scenario project lacks: more of the language and of Bolt's behaviour.
EXTRA_PLANS = {
    "xboom.pp": """plan demo::xboom(String $why = 'x') {
  fail_plan('boom', 'demo/custom', { 'why' => $why }, 'BOOM')
}
""",
    "xcatch.pp": """plan demo::xcatch(TargetSpec $targets) {
  $err = run_plan('demo::xboom', '_catch_errors' => true, why => 'caught')
  out::message($err)
    $r = run_task('demo::fail', $targets, '_catch_errors' => true)
  run_plan('demo::xboom')
  return $r
}
""",
    "xdocs.pp": """# A free text docstring
# over two lines.
#
# @summary Docs summary
# @param x The x
# @param nothere Not in the signature
# @param a Some array
plan demo::xdocs($x, Optional[String] $y = undef, Integer $n = 7, Array[String] $a = ['a', "b"], Hash $h = {'a' => 1}, Sensitive[String] $s = 'pw', Boolean $b = true) {
  return [$x, 'two', true, undef, {'k' => $n}, $a]
}
""",
    "xmsgs.pp": """plan demo::xmsgs(TargetSpec $targets, Integer $n = 2) {
  $r = run_command('echo hi', $targets)
  out::message(5)
  out::message("n is ${n}, r is $r")
  out::message([1, 'a', { 'k' => $n }])
  return 42
}
""",
    "xtaskfail.pp": """plan demo::xtaskfail(TargetSpec $targets) {
  $r = run_task('demo::fail', $targets)
  return $r
}
""",
    "xtaskparams.pp": """plan demo::xtaskparams(TargetSpec $targets) {
  run_task('demo::slow', $targets, 'interval' => 0.1, 'count' => 1)
  run_task('demo::slow', [], count => 1)
  run_task('demo::json', $targets)
}
""",
    "xcont.pp": """# @summary A summary
#   that goes on
# @param targets Where
#   it runs, and
#   more
#
# Text after the tags.
plan demo::xcont(TargetSpec $targets) {
  return 1
}
""",
    "xstream.pp": """plan demo::xstream(TargetSpec $targets) {
  run_command('echo first; sleep 2; echo second', $targets)
  return 'streamed'
}
""",
}

Capture = collections.namedtuple("Capture", "project argv flags code stdout stderr")

# What the real Bolt 4.0.1 printed. <0m> stands for ESC[0m, <33m> for ESC[33m.
REAL = {
    "steps": Capture(
        "scenario", ["plan", "run", "demo::steps", "targets=localhost", "failing=refused", "greeting=1"], RUN_FLAGS, 0,
        r"""
[localhost] out: line 1
[localhost] out: line 2
[localhost] out: line 3
[localhost] out: line 1
[localhost] err: starting on HOST name=1
[localhost] out: line 2
[localhost] out: line 3
[localhost] out: {"greeting": "hello 1", "n": 3}
[localhost] out: checked
[{"target":"localhost","action":"command","object":"echo checked","status":"success","value":{"stdout":"checked\n","stderr":"","merged_output":"checked\n","exit_code":0}},{"target":"refused","action":"command","object":null,"status":"failure","value":{"_error":{"details":{"file":"{project}/plans/steps.pp","line":9},"kind":"puppetlabs.tasks/connect-error","msg":"Failed to connect to refused: Connection refused - connect(2) for 127.0.0.1:1","issue_code":"CONNECT_ERROR"}}}]
""",
        r"""
Loaded project from '{project}'<0m>
Starting: plan demo::steps<0m>
starting with 1
starting with 1<0m>
Running command 'for i in 1 2 3; do echo "line $i"; sleep 0.5; done' on ["localhost"]<0m>
Starting: command 'for i in 1 2 3; do echo "line $i"; sleep 0.5; done' on localhost<0m>
{"target":"localhost","action":"command","object":"for i in 1 2 3; do echo \"line $i\"; sleep 0.5; done","status":"success","value":{"stdout":"line 1\nline 2\nline 3\n","stderr":"","merged_output":"line 1\nline 2\nline 3\n","exit_code":0}}<0m>
Finished: command 'for i in 1 2 3; do echo "line $i"; sleep 0.5; done' with 0 failures in S sec<0m>
Starting: task demo::hello on localhost<0m>
Running task demo::hello with '{"name":"1","_task":"demo::hello"}' on ["localhost"]<0m>
{"target":"localhost","action":"task","object":"demo::hello","status":"success","value":{"_output":"line 1\nline 2\nline 3\n{\"greeting\": \"hello 1\", \"n\": 3}\n"}}<0m>
Finished: task demo::hello with 0 failures in S sec<0m>
Starting: command 'echo checked' on localhost, refused<0m>
Running command 'echo checked' on ["localhost"]<0m>
{"target":"localhost","action":"command","object":"echo checked","status":"success","value":{"stdout":"checked\n","stderr":"","merged_output":"checked\n","exit_code":0}}<0m>
Running command 'echo checked' on ["refused"]<0m>
{"target":"refused","action":"command","object":null,"status":"failure","value":{"_error":{"details":{"file":"{project}/plans/steps.pp","line":9},"kind":"puppetlabs.tasks/connect-error","msg":"Failed to connect to refused: Connection refused - connect(2) for 127.0.0.1:1","issue_code":"CONNECT_ERROR"}}}<0m>
Finished: command 'echo checked' with 1 failure in S sec<0m>
done
done<0m>
Finished: plan demo::steps in S sec<0m>
"""),
    "outer": Capture(
        "scenario", ["plan", "run", "demo::outer", "targets=localhost,local2"], RUN_FLAGS, 0,
        r"""
[local2] out: inner
[localhost] out: inner
[localhost] out: outer
[local2] out: outer
"finished"
""",
        r"""
Loaded project from '{project}'<0m>
Starting: plan demo::outer<0m>
Starting: plan demo::inner<0m>
Running command 'echo inner' on ["local2"]<0m>
Starting: command 'echo inner' on localhost, local2<0m>
Running command 'echo inner' on ["localhost"]<0m>
{"target":"local2","action":"command","object":"echo inner","status":"success","value":{"stdout":"inner\n","stderr":"","merged_output":"inner\n","exit_code":0}}<0m>
{"target":"localhost","action":"command","object":"echo inner","status":"success","value":{"stdout":"inner\n","stderr":"","merged_output":"inner\n","exit_code":0}}<0m>
Running command 'echo outer' on ["localhost"]<0m>
Finished: command 'echo inner' with 0 failures in S sec<0m>
Running command 'echo outer' on ["local2"]<0m>
Finished: plan demo::inner in S sec<0m>
Starting: command 'echo outer' on localhost, local2<0m>
{"target":"localhost","action":"command","object":"echo outer","status":"success","value":{"stdout":"outer\n","stderr":"","merged_output":"outer\n","exit_code":0}}<0m>
{"target":"local2","action":"command","object":"echo outer","status":"success","value":{"stdout":"outer\n","stderr":"","merged_output":"outer\n","exit_code":0}}<0m>
Finished: command 'echo outer' with 0 failures in S sec<0m>
Finished: plan demo::outer in S sec<0m>
"""),
    "fails": Capture(
        "scenario", ["plan", "run", "demo::fails"], RUN_FLAGS, 1,
        r"""
{"kind":"demo/custom","msg":"boom","details":{"why":"because","file":"{project}/plans/fails.pp","line":4,"column":3}}
""",
        r"""
Loaded project from '{project}'<0m>
Starting: plan demo::fails<0m>
Finished: plan demo::fails in S sec<0m>
"""),
    "unknown": Capture(
        "scenario", ["plan", "run", "demo::nope"], RUN_FLAGS, 1,
        r"""
{"kind":"bolt/unknown-plan","msg":"Could not find a plan named 'demo::nope'. For a list of available plans, run 'bolt plan show'.","details":{}}
""",
        r"""
Loaded project from '{project}'<0m>
"""),
    "missing": Capture(
        "scenario", ["plan", "run", "demo::steps", "targets=localhost"], RUN_FLAGS, 1,
        r"""
{"kind":"bolt/pal-error","msg":"demo::steps: expects a value for parameter 'failing'","details":{}}
""",
        r"""
Loaded project from '{project}'<0m>
Starting: plan demo::steps<0m>
Finished: plan demo::steps in S sec<0m>
"""),
    "bad_params": Capture(
        "scenario", ["plan", "run", "demo::slow", "targets=localhost", "bogus=1", "seconds=x"], RUN_FLAGS, 1,
        r"""
{"kind":"bolt/pal-error","msg":"demo::slow:\n  has no parameter named 'bogus'\n  parameter 'seconds' expects an Integer value, got String","details":{}}
""",
        r"""
Loaded project from '{project}'<0m>
Starting: plan demo::slow<0m>
Finished: plan demo::slow in S sec<0m>
"""),
    "out_of_range": Capture(
        "scenario", ["plan", "run", "demo::slow", "--params", '{"targets":"localhost","seconds":0}'], RUN_FLAGS, 1,
        r"""
{"kind":"bolt/pal-error","msg":"demo::slow: parameter 'seconds' expects an Integer[1, 3600] value, got Integer[0, 0]","details":{}}
""",
        r"""
Loaded project from '{project}'<0m>
Starting: plan demo::slow<0m>
Finished: plan demo::slow in S sec<0m>
"""),
    "not_a_targetspec": Capture(
        "scenario", ["plan", "run", "demo::slow", "--params", '{"targets":5,"seconds":"3"}'], RUN_FLAGS, 1,
        r"""
{"kind":"bolt/pal-error","msg":"demo::slow:\n  parameter 'targets' expects a Boltlib::TargetSpec = Variant[String[1], Object[{name => 'Target', attributes => {'uri' => {type => Optional[String[1]], kind => given_or_derived}, 'name' => {type => Optional[String[1]], kind => given_or_derived}, 'safe_name' => {type => Optional[String[1]], kind => given_or_derived}, 'target_alias' => {type => Optional[Variant[String[1], Array[String[1]]]], kind => given_or_derived}, 'config' => {type => Optional[Hash[String[1], Data]], kind => given_or_derived}, 'vars' => {type => Optional[Hash[String[1], Data]], kind => given_or_derived}, 'facts' => {type => Optional[Hash[String[1], Data]], kind => given_or_derived}, 'features' => {type => Optional[Array[String[1]]], kind => given_or_derived}, 'plugin_hooks' => {type => Optional[Hash[String[1], Data]], kind => given_or_derived}, 'resources' => {type => Optional[Hash[String[1], ResourceInstance]], kind => given_or_derived}}, functions => {'host' => Callable[[0, 0], Optional[String]], 'password' => Callable[[0, 0], Optional[String[1]]], 'port' => Callable[[0, 0], Optional[Integer]], 'protocol' => Callable[[0, 0], Optional[String[1]]], 'transport' => Callable[[0, 0], String[1]], 'transport_config' => Callable[[0, 0], Hash[String[1], Data]], 'user' => Callable[[0, 0], Optional[String[1]]]}}], Array[Boltlib::TargetSpec]] value, got Integer\n  parameter 'seconds' expects an Integer value, got String","details":{}}
""",
        r"""
Loaded project from '{project}'<0m>
Starting: plan demo::slow<0m>
Finished: plan demo::slow in S sec<0m>
"""),
    "run_failure": Capture(
        "scenario", ["plan", "run", "demo::steps", "targets=refused", "failing=local2"], RUN_FLAGS, 1,
        r"""
{"kind":"bolt/run-failure","msg":"run_command 'for i in 1 2 3; do echo \"line $i\"; sleep 0.5; done' failed on 1 target","details":{"action":"run_command","object":"for i in 1 2 3; do echo \"line $i\"; sleep 0.5; done","result_set":[{"target":"refused","action":"command","object":null,"status":"failure","value":{"_error":{"details":{"file":"{project}/plans/steps.pp","line":7},"kind":"puppetlabs.tasks/connect-error","msg":"Failed to connect to refused: Connection refused - connect(2) for 127.0.0.1:1","issue_code":"CONNECT_ERROR"}}}],"file":"{project}/plans/steps.pp","line":7,"column":3}}
""",
        r"""
Loaded project from '{project}'<0m>
Starting: plan demo::steps<0m>
starting with world
starting with world<0m>
Starting: command 'for i in 1 2 3; do echo "line $i"; sleep 0.5; done' on refused<0m>
Running command 'for i in 1 2 3; do echo "line $i"; sleep 0.5; done' on ["refused"]<0m>
{"target":"refused","action":"command","object":null,"status":"failure","value":{"_error":{"details":{"file":"{project}/plans/steps.pp","line":7},"kind":"puppetlabs.tasks/connect-error","msg":"Failed to connect to refused: Connection refused - connect(2) for 127.0.0.1:1","issue_code":"CONNECT_ERROR"}}}<0m>
Finished: command 'for i in 1 2 3; do echo "line $i"; sleep 0.5; done' with 1 failure in S sec<0m>
Finished: plan demo::steps in S sec<0m>
"""),
    "nested_failure": Capture(
        "scenario", ["plan", "run", "demo::outer", "targets=localhost,refused"], RUN_FLAGS, 1,
        r"""
[localhost] out: inner
{"kind":"bolt/run-failure","msg":"run_command 'echo inner' failed on 1 target","details":{"action":"run_command","object":"echo inner","result_set":[{"target":"localhost","action":"command","object":"echo inner","status":"success","value":{"stdout":"inner\n","stderr":"","merged_output":"inner\n","exit_code":0}},{"target":"refused","action":"command","object":null,"status":"failure","value":{"_error":{"details":{"file":"{project}/plans/inner.pp","line":4},"kind":"puppetlabs.tasks/connect-error","msg":"Failed to connect to refused: Connection refused - connect(2) for 127.0.0.1:1","issue_code":"CONNECT_ERROR"}}}],"file":"{project}/plans/inner.pp","line":4,"column":3}}
""",
        r"""
Loaded project from '{project}'<0m>
Starting: plan demo::outer<0m>
Starting: plan demo::inner<0m>
Starting: command 'echo inner' on localhost, refused<0m>
Running command 'echo inner' on ["localhost"]<0m>
{"target":"localhost","action":"command","object":"echo inner","status":"success","value":{"stdout":"inner\n","stderr":"","merged_output":"inner\n","exit_code":0}}<0m>
Running command 'echo inner' on ["refused"]<0m>
{"target":"refused","action":"command","object":null,"status":"failure","value":{"_error":{"details":{"file":"{project}/plans/inner.pp","line":4},"kind":"puppetlabs.tasks/connect-error","msg":"Failed to connect to refused: Connection refused - connect(2) for 127.0.0.1:1","issue_code":"CONNECT_ERROR"}}}<0m>
Finished: command 'echo inner' with 1 failure in S sec<0m>
Finished: plan demo::inner in S sec<0m>
Finished: plan demo::outer in S sec<0m>
"""),
    "returns_one": Capture(
        "scenario", ["plan", "run", "demo::hidden"], RUN_FLAGS, 0,
        r"""
1
""",
        r"""
Loaded project from '{project}'<0m>
Starting: plan demo::hidden<0m>
Finished: plan demo::hidden in S sec<0m>
"""),
    "no_return": Capture(
        "scenario", ["plan", "run", "demo::inner", "targets=localhost"], RUN_FLAGS, 0,
        r"""
[localhost] out: inner
null
""",
        r"""
Loaded project from '{project}'<0m>
Starting: plan demo::inner<0m>
Running command 'echo inner' on ["localhost"]<0m>
Starting: command 'echo inner' on localhost<0m>
{"target":"localhost","action":"command","object":"echo inner","status":"success","value":{"stdout":"inner\n","stderr":"","merged_output":"inner\n","exit_code":0}}<0m>
Finished: command 'echo inner' with 0 failures in S sec<0m>
Finished: plan demo::inner in S sec<0m>
"""),
    "quiet": Capture(
        "scenario", ["plan", "run", "demo::slow", "targets=localhost", "seconds=1"], QUIET_FLAGS, 0,
        r"""
null
""",
        r"""
sleeping
"""),
    "array_with_a_number": Capture(
        "scenario", ["plan", "run", "demo::inner", "--params", '{"targets":["localhost",5]}'], QUIET_FLAGS + ["--log-level", "info"], 1,
        r"""
{"kind":"bolt/pal-error","msg":"undefined method `name' for nil:NilClass\n\n          target_array.flatten.uniq(&:name)\n                              ^^^^^","details":{}}
""",
        r"""
Loaded project from '{project}'<0m>
"""),
    "show_steps": Capture(
        "scenario", ["plan", "show", "demo::steps"], SHOW_FLAGS, 0,
        r"""
{"name":"demo::steps","description":"Three steps: a slow command, a task, then a check that fails on the failing targets","parameters":{"targets":{"type":"TargetSpec","sensitive":false,"description":"The targets every step runs on"},"failing":{"type":"TargetSpec","sensitive":false,"description":"More targets for the last step only (it catches their failures)"},"greeting":{"type":"String[1]","sensitive":false,"default_value":"'world'","description":"Who the hello task greets"}},"private":false,"summary":"Three steps: a slow command, a task, then a check that fails on the failing targets","docstring":null,"module_dir":"{project}"}
""",
        r"""
"""),
    "show_private": Capture(
        "scenario", ["plan", "show", "demo::hidden"], SHOW_FLAGS, 0,
        r"""
{"name":"demo::hidden","description":null,"parameters":{},"private":true,"summary":null,"docstring":null,"module_dir":"{project}"}
""",
        r"""
"""),
    "show_slow": Capture(
        "scenario", ["plan", "show", "demo::slow"], SHOW_FLAGS, 0,
        r"""
{"name":"demo::slow","description":"One long command (for cancelling)","parameters":{"targets":{"type":"TargetSpec","sensitive":false,"description":"The targets to run on"},"seconds":{"type":"Integer[1, 3600]","sensitive":false,"default_value":"60","description":"How long the command sleeps"}},"private":false,"summary":"One long command (for cancelling)","docstring":null,"module_dir":"{project}"}
""",
        r"""
"""),
    "show_unknown": Capture(
        "scenario", ["plan", "show", "demo::nope"], SHOW_FLAGS, 1,
        r"""
{"kind":"bolt/unknown-plan","msg":"Could not find a plan named 'demo::nope'. For a list of available plans, run 'bolt plan show'.","details":{}}
""",
        r"""
"""),
    "sensitive_unwrapped": Capture(
        "scenario", ["plan", "run", "demo::secret", "targets=localhost", "token=abc"], RUN_FLAGS, 0,
        r"""
[localhost] out: token=abc
"abc"
""",
        r"""
Loaded project from '{project}'<0m>
Starting: plan demo::secret<0m>
Starting: command 'echo token=abc' on localhost<0m>
Running command 'echo token=abc' on ["localhost"]<0m>
{"target":"localhost","action":"command","object":"echo token=abc","status":"success","value":{"stdout":"token=abc\n","stderr":"","merged_output":"token=abc\n","exit_code":0}}<0m>
Finished: command 'echo token=abc' with 0 failures in S sec<0m>
token abc
token abc<0m>
Finished: plan demo::secret in S sec<0m>
"""),
    "show_sensitive": Capture(
        "scenario", ["plan", "show", "demo::secret"], SHOW_FLAGS, 0,
        r"""
{"name":"demo::secret","description":"Hands a Sensitive token to a command and returns it (it must never show in Boltdeck)","parameters":{"targets":{"type":"TargetSpec","sensitive":false,"description":"The targets to run on"},"token":{"type":"Sensitive[String]","sensitive":true,"description":"The secret"}},"private":false,"summary":"Hands a Sensitive token to a command and returns it (it must never show in Boltdeck)","docstring":null,"module_dir":"{project}"}
""",
        r"""
"""),
    "checkup": Capture(
        "double", ["plan", "run", "demo::checkup", "targets=localhost"], RUN_FLAGS, 0,
        r"""
[localhost] out: step 1
[localhost] out: step 2
[localhost] out: step 3
[localhost] err: starting on HOST name=world
[localhost] out: line 1
[localhost] out: line 2
[localhost] out: line 3
[localhost] out: {"greeting": "hello world", "n": 3}
[{"target":"localhost","action":"task","object":"demo::hello","status":"success","value":{"_output":"line 1\nline 2\nline 3\n{\"greeting\": \"hello world\", \"n\": 3}\n"}}]
""",
        r"""
Loaded project from '{project}'<0m>
Starting: plan demo::checkup<0m>
checking up, greeting world
checking up, greeting world<0m>
Starting: command 'for i in 1 2 3; do echo "step $i"; sleep 1; done' on localhost<0m>
Running command 'for i in 1 2 3; do echo "step $i"; sleep 1; done' on ["localhost"]<0m>
{"target":"localhost","action":"command","object":"for i in 1 2 3; do echo \"step $i\"; sleep 1; done","status":"success","value":{"stdout":"step 1\nstep 2\nstep 3\n","stderr":"","merged_output":"step 1\nstep 2\nstep 3\n","exit_code":0}}<0m>
Finished: command 'for i in 1 2 3; do echo "step $i"; sleep 1; done' with 0 failures in S sec<0m>
Starting: task demo::hello on localhost<0m>
Running task demo::hello with '{"name":"world","_task":"demo::hello"}' on ["localhost"]<0m>
{"target":"localhost","action":"task","object":"demo::hello","status":"success","value":{"_output":"line 1\nline 2\nline 3\n{\"greeting\": \"hello world\", \"n\": 3}\n"}}<0m>
Finished: task demo::hello with 0 failures in S sec<0m>
all steps done
all steps done<0m>
Finished: plan demo::checkup in S sec<0m>
"""),
    "messages": Capture(
        "extra", ["plan", "run", "demo::xmsgs", "targets=localhost,local2"], RUN_FLAGS, 0,
        r"""
[localhost] out: hi
[local2] out: hi
42
""",
        r"""
Loaded project from '{project}'<0m>
Starting: plan demo::xmsgs<0m>
Starting: command 'echo hi' on localhost, local2<0m>
Running command 'echo hi' on ["localhost"]<0m>
Running command 'echo hi' on ["local2"]<0m>
{"target":"localhost","action":"command","object":"echo hi","status":"success","value":{"stdout":"hi\n","stderr":"","merged_output":"hi\n","exit_code":0}}<0m>
{"target":"local2","action":"command","object":"echo hi","status":"success","value":{"stdout":"hi\n","stderr":"","merged_output":"hi\n","exit_code":0}}<0m>
Finished: command 'echo hi' with 0 failures in S sec<0m>
5
<Integer> 5<0m>
n is 2, r is [{"target":"localhost","action":"command","object":"echo hi","status":"success","value":{"stdout":"hi\n","stderr":"","merged_output":"hi\n","exit_code":0}},{"target":"local2","action":"command","object":"echo hi","status":"success","value":{"stdout":"hi\n","stderr":"","merged_output":"hi\n","exit_code":0}}]
n is 2, r is [{"target":"localhost","action":"command","object":"echo hi","status":"success","value":{"stdout":"hi\n","stderr":"","merged_output":"hi\n","exit_code":0}},{"target":"local2","action":"command","object":"echo hi","status":"success","value":{"stdout":"hi\n","stderr":"","merged_output":"hi\n","exit_code":0}}]<0m>
[
  1,
  "a",
  {
    "k": 2
  }
]
[
  1,
  "a",
  {
    "k": 2
  }
]<0m>
Finished: plan demo::xmsgs in S sec<0m>
"""),
    "caught_errors": Capture(
        "extra", ["plan", "run", "demo::xcatch", "targets=localhost,refused"], RUN_FLAGS, 1,
        r"""
[localhost] out: partial out
[localhost] err: bad thing
{"kind":"demo/custom","msg":"boom","details":{"why":"x","file":"{project}/plans/xboom.pp","line":2,"column":3},"issue_code":"BOOM"}
""",
        r"""
Loaded project from '{project}'<0m>
Starting: plan demo::xcatch<0m>
Starting: plan demo::xboom<0m>
Finished: plan demo::xboom in S sec<0m>
Error({'msg' => 'boom', 'kind' => 'demo/custom', 'details' => {'why' => 'caught'}, 'issue_code' => 'BOOM'})
Error({'msg' => 'boom', 'kind' => 'demo/custom', 'details' => {'why' => 'caught'}, 'issue_code' => 'BOOM'})<0m>
Starting: task demo::fail on localhost, refused<0m>
Running task demo::fail with '{"_task":"demo::fail"}' on ["localhost"]<0m>
{"target":"localhost","action":"task","object":"demo::fail","status":"failure","value":{"_output":"partial out\n","_error":{"kind":"puppetlabs.tasks/task-error","issue_code":"TASK_ERROR","msg":"The task failed with exit code 5","details":{"file":"{project}/plans/xcatch.pp","line":4,"exit_code":5}}}}<0m>
Running task demo::fail with '{"_task":"demo::fail"}' on ["refused"]<0m>
{"target":"refused","action":"task","object":null,"status":"failure","value":{"_error":{"details":{"file":"{project}/plans/xcatch.pp","line":4},"kind":"puppetlabs.tasks/connect-error","msg":"Failed to connect to refused: Connection refused - connect(2) for 127.0.0.1:1","issue_code":"CONNECT_ERROR"}}}<0m>
Finished: task demo::fail with 2 failures in S sec<0m>
Starting: plan demo::xboom<0m>
Finished: plan demo::xboom in S sec<0m>
Finished: plan demo::xcatch in S sec<0m>
"""),
    "task_failure": Capture(
        "extra", ["plan", "run", "demo::xtaskfail", "targets=localhost"], RUN_FLAGS, 1,
        r"""
[localhost] out: partial out
[localhost] err: bad thing
{"kind":"bolt/run-failure","msg":"run_task 'demo::fail' failed on 1 target","details":{"action":"run_task","object":"demo::fail","result_set":[{"target":"localhost","action":"task","object":"demo::fail","status":"failure","value":{"_output":"partial out\n","_error":{"kind":"puppetlabs.tasks/task-error","issue_code":"TASK_ERROR","msg":"The task failed with exit code 5","details":{"file":"{project}/plans/xtaskfail.pp","line":2,"exit_code":5}}}}],"file":"{project}/plans/xtaskfail.pp","line":2,"column":8}}
""",
        r"""
Loaded project from '{project}'<0m>
Starting: plan demo::xtaskfail<0m>
Starting: task demo::fail on localhost<0m>
Running task demo::fail with '{"_task":"demo::fail"}' on ["localhost"]<0m>
{"target":"localhost","action":"task","object":"demo::fail","status":"failure","value":{"_output":"partial out\n","_error":{"kind":"puppetlabs.tasks/task-error","issue_code":"TASK_ERROR","msg":"The task failed with exit code 5","details":{"file":"{project}/plans/xtaskfail.pp","line":2,"exit_code":5}}}}<0m>
Finished: task demo::fail with 1 failure in S sec<0m>
Finished: plan demo::xtaskfail in S sec<0m>
"""),
    "task_params": Capture(
        "extra", ["plan", "run", "demo::xtaskparams", "targets=localhost"], RUN_FLAGS, 1,
        r"""
[localhost] out: step 1 of 1
[localhost] err: done after 1 steps
{"kind":"bolt/pal-error","msg":"Task demo::json:\n expects a value for parameter 'name' (file: {project}/plans/xtaskparams.pp, line: 4)","details":{"file":"{project}/plans/xtaskparams.pp","line":4}}
""",
        r"""
Loaded project from '{project}'<0m>
Starting: plan demo::xtaskparams<0m>
Starting: task demo::slow on localhost<0m>
Running task demo::slow with '{"count":1,"interval":0.1,"_task":"demo::slow"}' on ["localhost"]<0m>
{"target":"localhost","action":"task","object":"demo::slow","status":"success","value":{"_output":"step 1 of 1\n"}}<0m>
Finished: task demo::slow with 0 failures in S sec<0m>
Finished: plan demo::xtaskparams in S sec<0m>
"""),
    "show_docs": Capture(
        "extra", ["plan", "show", "demo::xdocs"], SHOW_FLAGS, 0,
        r"""
{"name":"demo::xdocs","description":"Docs summary","parameters":{"x":{"type":"Any","sensitive":false,"description":"The x"},"a":{"type":"Array[String]","sensitive":false,"default_value":"['a', \"b\"]","description":"Some array"},"y":{"type":"Optional[String]","sensitive":false,"default_value":"undef"},"n":{"type":"Integer","sensitive":false,"default_value":"7"},"h":{"type":"Hash","sensitive":false,"default_value":"{'a' => 1}"},"s":{"type":"Sensitive[String]","sensitive":true,"default_value":"'pw'"},"b":{"type":"Boolean","sensitive":false,"default_value":"true"}},"private":false,"summary":"Docs summary","docstring":"A free text docstring\nover two lines.","module_dir":"{project}"}
""",
        r"""
<33m>The documented parameter 'nothere' does not exist in signature for plan 'demo::xdocs' [ID: missing_plan_parameter]<0m>
<0m>"""),
    "show_continued_docs": Capture(
        "extra", ["plan", "show", "demo::xcont"], SHOW_FLAGS, 0,
        r"""
{"name":"demo::xcont","description":"A summary\nthat goes on","parameters":{"targets":{"type":"TargetSpec","sensitive":false,"description":"Where\nit runs, and\nmore"}},"private":false,"summary":"A summary\nthat goes on","docstring":"Text after the tags.","module_dir":"{project}"}
""",
        r"""
"""),
    "sensitive": Capture(
        "extra", ["plan", "run", "demo::xdocs", "--params", '{"x":1,"s":5}'], QUIET_FLAGS, 1,
        r"""
{"kind":"bolt/pal-error","msg":"demo::xdocs: parameter 's' expects a Sensitive[String] value, got Sensitive[Integer]","details":{}}
""",
        r"""
<33m>The documented parameter 'nothere' does not exist in signature for plan 'demo::xdocs' [ID: missing_plan_parameter]<0m>
<0m>"""),
    "values": Capture(
        "extra", ["plan", "run", "demo::xdocs", "x=1", "s=pw"], QUIET_FLAGS, 0,
        r"""
[1,"two",true,null,{"k":7},["a","b"]]
""",
        r"""
<33m>The documented parameter 'nothere' does not exist in signature for plan 'demo::xdocs' [ID: missing_plan_parameter]<0m>
<0m>"""),

}
# What the real Bolt listed (`bolt plan show --format json`) for the scenario project, less the
# plans of the modules it bundles (aggregate, canary, facts...), which the double does not list.
REAL_PLAN_LIST = {
    "plans": [
        ["demo::fails", "Fails at once with fail_plan"],
        ["demo::inner", "One command, run by demo::outer"],
        ["demo::outer", "Runs the inner plan, then a command of its own"],
        ["demo::slow", "One long command (for cancelling)"],
        ["demo::steps", "Three steps: a slow command, a task, then a check that fails on the failing targets"],
    ],
    "modulepath": ["{project}/modules", "{project}/.modules"],
}

Output = collections.namedtuple("Output", "code stdout stderr")


def normalise(text, project):
    text = text.replace(str(project), "{project}").replace("\x1b[0m", "<0m>").replace("\x1b[33m", "<33m>")
    text = re.sub(r"in \d+(\.\d+)? sec", "in S sec", text)
    return text.replace("starting on %s name" % socket.gethostname(), "starting on HOST name")


def expected(capture):
    return Output(capture.code, capture.stdout[1:], capture.stderr[1:])  # the captures start with a newline


def bolt_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("BOLT_DOUBLE_")}


def run(bolt, capture, projects):
    project = projects[capture.project]
    argv = [str(bolt), *capture.argv, *capture.flags, "--project", str(project)]
    done = subprocess.run(argv, capture_output=True, env=bolt_env(), timeout=120, cwd=str(project))
    return Output(done.returncode, normalise(done.stdout.decode(), project), normalise(done.stderr.decode(), project))


def same_step(group, action, thing):
    """A result joins the group before it when their actions match and their objects do (null matches any)."""
    return group[0] == action and (None in (group[1], thing) or group[1] == thing)


def log_shape(stderr):
    """(the other lines in order, each step's result lines as a sorted tuple, the `Running ...` lines sorted).

    Bolt logs `Running ...` and the result lines from its executor's threads, while `Starting:`,
    `Finished:` and the rest come in order from its event thread: a result line can come before its
    step's `Starting:` line, and a `Running` line of the next step before the last one's `Finished:`.
    Only each flow's own order counts, and one step's results (same action and object) in any order."""
    ordered, results, running = [], [], []
    for line in stderr.splitlines():
        if line.startswith("Running "):
            running.append(line)
        elif line.startswith('{"target"'):
            result = json.loads(line.removesuffix("<0m>"))
            action, thing = result["action"], result["object"]  # null for a target Bolt could not reach
            if results and same_step(results[-1], action, thing):
                results[-1] = (action, results[-1][1] or thing, results[-1][2] + (line,))
            else:
                results.append((action, thing, (line,)))
        else:
            ordered.append(line)
    return ordered, [(action, thing, sorted(lines)) for action, thing, lines in results], sorted(running)


def output_shape(stdout):
    """({(target, out|err): its stream lines in order}, the last line as JSON).

    Bolt reads a target's stdout and stderr pipes concurrently, so only each stream's own order counts."""
    lines = stdout.splitlines()
    streams = {}
    for line in lines[:-1]:
        m = STREAM_RE.match(line)
        assert m, "not a stream line before the plan's value: %r" % line
        streams.setdefault((m.group(1), m.group(2)), []).append(m.group(3))
    return streams, json.loads(lines[-1]) if lines else None


def assert_same(got, want):
    assert got.code == want.code, got
    assert output_shape(got.stdout) == output_shape(want.stdout)
    assert log_shape(got.stderr) == log_shape(want.stderr)


@pytest.fixture(scope="session")
def projects(tmp_path_factory):
    """The projects the captures ran in; `extra` is a copy of the scenario project with EXTRA_PLANS."""
    extra = tmp_path_factory.mktemp("plans") / "project"
    (extra / "plans").mkdir(parents=True)
    for name in ("bolt-project.yaml", "inventory.yaml"):
        shutil.copy(SCENARIO_PROJECT / name, extra / name)
    (extra / "tasks").symlink_to(REPO / "bolt-project" / "tasks")
    for name, text in EXTRA_PLANS.items():
        (extra / "plans" / name).write_text(text)
    return {"scenario": SCENARIO_PROJECT, "double": TEST_PROJECT, "extra": extra}


# --------------------------------------------------------------------------- the captures

@pytest.mark.parametrize("name", list(REAL))
def test_double_prints_what_real_bolt_printed(name, projects):
    assert_same(run(DOUBLE, REAL[name], projects), expected(REAL[name]))


@pytest.mark.parametrize("name", list(REAL))
def test_real_bolt_still_prints_the_capture_and_the_double_agrees(name, projects, real_bolt):
    real = run(real_bolt, REAL[name], projects)
    assert_same(real, expected(REAL[name]))
    assert_same(run(DOUBLE, REAL[name], projects), real)


def list_plans(bolt):
    listed = run(bolt, Capture("scenario", ["plan", "show"], SHOW_FLAGS, 0, "", ""), {"scenario": SCENARIO_PROJECT})
    assert listed.code == 0 and listed.stderr == ""
    return json.loads(listed.stdout)


def test_plan_list_is_sorted_and_hides_private_plans():
    shown = list_plans(DOUBLE)
    names = [name for name, _ in shown["plans"]]
    assert list(shown) == ["plans", "modulepath"] and shown["modulepath"] == REAL_PLAN_LIST["modulepath"]
    assert names == sorted(names) and "demo::hidden" not in names
    assert [p for p in shown["plans"] if p in REAL_PLAN_LIST["plans"]] == REAL_PLAN_LIST["plans"]


def test_plan_list_is_real_bolts_less_its_bundled_plans(real_bolt):
    real = list_plans(real_bolt)
    assert list_plans(DOUBLE) == {"plans": [p for p in real["plans"] if p[0].startswith("demo::")],
                                  "modulepath": real["modulepath"]}


# Bolt's PAL#parse_params keeps a k=v value parsed as JSON only when it fits the type (tasks and plans alike).
KV_REFUSAL = "Task demo::slow:\n parameter 'count' expects a value of type Undef or Integer, got String"


@pytest.mark.parametrize("which", ["double", "real"])
def test_a_kv_value_that_does_not_fit_once_parsed_stays_text(which, request):
    bolt = DOUBLE if which == "double" else request.getfixturevalue("real_bolt")
    done = subprocess.run([str(bolt), "task", "run", "demo::slow", "count=0", "-t", "localhost", "--format", "json",
                           "--no-save-rerun", "--project", str(SCENARIO_PROJECT)],
                          capture_output=True, text=True, env=bolt_env(), timeout=60)
    assert done.returncode == 1
    assert json.loads(done.stdout.splitlines()[3])["msg"] == KV_REFUSAL


# --------------------------------------------------------------------------- the shared samples

@pytest.fixture
def samples_project(tmp_path):
    """A copy of the samples' project (the double writes bolt-debug.log and .rerun.json into it)."""
    root = tmp_path / "project"
    shutil.copytree(BOLT_SAMPLES / "project", root, symlinks=True)
    return root


def sample_run(project, *argv):
    done = subprocess.run([str(DOUBLE), *argv, "--project", str(project)], capture_output=True, text=True,
                          env=bolt_env(), timeout=60)
    return done.returncode, done.stdout.replace(str(project), "/srv/bolt-project"), done.stderr


@pytest.mark.parametrize("sample, argv", [
    ("plan_fail_json", ["plan", "run", "demo::failing", "targets=me", "--format", "json"]),
    ("plan_explicitfail_json", ["plan", "run", "demo::explicitfail", "--format", "json"]),
    ("plan_noret_json", ["plan", "run", "demo::noret", "--format", "json"]),
    ("plan_show_demo_json", ["plan", "show", "demo::demo", "--format", "json"]),
])
def test_plan_matches_sample(samples, samples_project, sample, argv):
    code, out, err = sample_run(samples_project, *argv)
    assert code == samples.exit_code(sample)
    assert out == samples.stdout_text(sample)
    assert err == samples.stderr(sample).decode()


def test_plan_returning_a_result_set_matches_sample(samples, samples_project):
    """The sample ran on `me` and an ssh target the double cannot reach; the `me` item must be the same."""
    code, out, err = sample_run(samples_project, "plan", "run", "demo::demo", "targets=me", "msg=yo", "--format", "json")
    want = json.loads(samples.stdout_text("plan_run_json"))
    assert code == samples.exit_code("plan_run_json") == 0
    assert out.splitlines() == [json.dumps(want[:1], separators=(",", ":"))]
    assert err == samples.stderr("plan_run_json").decode() == "plan says yo\n"


def test_plan_human_output_matches_sample(samples, samples_project):
    code, out, _ = sample_run(samples_project, "plan", "run", "demo::demo", "targets=me", "msg=yo")
    assert code == samples.exit_code("plan_run_human")
    in_s = re.compile(r"in \d+\.\d+ sec")
    assert in_s.sub("in S sec", out) == in_s.sub("in S sec", samples.stdout_text("plan_run_human"))


def test_plan_list_matches_sample(samples, samples_project):
    code, out, _ = sample_run(samples_project, "plan", "show", "--format", "json")
    got, want = json.loads(out), json.loads(samples.stdout_text("plan_show_json"))
    assert code == 0 and list(got) == list(want)
    assert got["modulepath"] == want["modulepath"]
    demo = [p for p in want["plans"] if p[0].startswith("demo::")]
    assert demo and all(p in got["plans"] for p in demo)


# --------------------------------------------------------------------------- timing, signals, rerun

@pytest.mark.parametrize("which", ["double", "real"])
def test_stream_lines_arrive_while_the_plan_runs(which, request, projects):
    bolt = DOUBLE if which == "double" else request.getfixturevalue("real_bolt")
    argv = [str(bolt), "plan", "run", "demo::xstream", "targets=localhost", *RUN_FLAGS, "--project",
            str(projects["extra"])]
    arrivals = []
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=bolt_env()) as proc:
        start = time.monotonic()
        for raw in proc.stdout:
            arrivals.append((time.monotonic() - start, raw.decode().rstrip("\n")))
    assert proc.returncode == 0
    assert [line for _, line in arrivals] == ["[localhost] out: first", "[localhost] out: second", '"streamed"']
    assert arrivals[1][0] - arrivals[0][0] > 1.5, "each line must be printed as it comes"


def _sleep_pids(seconds):
    """Pids of `sleep SECONDS` processes."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as fh:
                argv = fh.read().split(b"\0")
        except OSError:
            continue
        if len(argv) >= 2 and os.path.basename(argv[0]) == b"sleep" and argv[1] == seconds.encode():
            found.append(int(pid))
    return found


def _wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.1)
    return predicate()


@pytest.mark.parametrize("which", ["double", "real"])
def test_sigterm_to_the_group_ends_the_plan_and_its_commands(which, request, tmp_path):
    """Boltdeck cancels a plan as it cancels a command: SIGTERM to Bolt's process group."""
    bolt = DOUBLE if which == "double" else request.getfixturevalue("real_bolt")
    seconds = str(3000 + os.getpid() % 500 + (1 if which == "real" else 0))  # a sleep to find the children by
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    argv = [str(bolt), "plan", "run", "demo::slow", "targets=localhost,local2", "seconds=" + seconds, *RUN_FLAGS,
            "--project", str(SCENARIO_PROJECT)]
    with open(out, "wb") as fout, open(err, "wb") as ferr:
        proc = subprocess.Popen(argv, stdout=fout, stderr=ferr, env=bolt_env(), start_new_session=True)
    try:
        assert _wait_for(lambda: len(_sleep_pids(seconds)) == 2, 60)
        os.killpg(proc.pid, signal.SIGTERM)
        # Real Bolt dies of the signal (-15 here, 143 in a shell: the samples' sig_TERM); so does the double.
        assert proc.wait(timeout=20) == -signal.SIGTERM
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    log = normalise(err.read_text(), SCENARIO_PROJECT).splitlines()
    assert log[:3] == ["Loaded project from '{project}'<0m>", "Starting: plan demo::slow<0m>", "sleeping"]
    # The real Bolt logs the plan's end as Ruby unwinds, unless the signal kills it first (seen in
    # CI under load): the double always logs it, which is one of the real Bolt's two endings.
    if which == "double":
        assert "Finished: plan demo::slow in S sec<0m>" in log
    assert not [line for line in log if "forcing connection closed" in line]
    assert out.read_text() == ""
    assert _wait_for(lambda: not _sleep_pids(seconds), 10), "the plan's commands outlived it"


@pytest.mark.parametrize("which", ["double", "real"])
def test_a_failed_step_is_saved_for_rerun(which, request, projects):
    """Like Bolt's Rerun#update: the ResultSet of the step that failed the plan; any other result removes the file."""
    bolt = DOUBLE if which == "double" else request.getfixturevalue("real_bolt")
    project = projects["extra"]
    rerun = project / ".rerun.json"
    base = [str(bolt), "plan", "run", "--format", "json", "--project", str(project)]
    done = subprocess.run(base + ["demo::xtaskfail", "targets=localhost"], capture_output=True, env=bolt_env(),
                          timeout=60)
    assert done.returncode == 1
    assert json.loads(rerun.read_text()) == [{"target": "localhost", "status": "failure"}]
    subprocess.run(base + ["demo::xboom"], capture_output=True, env=bolt_env(), timeout=60)
    assert not rerun.exists()
