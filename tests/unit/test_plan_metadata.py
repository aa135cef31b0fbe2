"""Plan metadata from `bolt plan show` and parameter checks as `bolt plan run --params` makes them (issue 17).

The JSON below is real Bolt 4.0.1 output (module_dir left out): `STEPS` and `SLOW` from the
plans of tests/realbolt/project, `MIXED` from a plan written to probe Bolt's checks,
`plan demo::mixed(Optional[TargetSpec] $nodes, $untyped, Sensitive[String] $secret,
Array[Integer] $documented = [1, 2], Hash $h = {'a' => [1]})`. What Bolt answered to each
value is quoted where a test relies on it.
"""

from __future__ import annotations

import json
import os

import pytest

from boltdeck.bolt import argv as bolt_argv
from boltdeck.bolt.cli import BoltCli
from boltdeck.bolt.plans import PlanMetadata, plan_list
from boltdeck.errors import NotFoundError

from ..conftest import BOLT_SAMPLES, REAL_BOLT_MISSING, REAL_BOLT_SETTING, SCENARIO_PROJECT

STEPS = PlanMetadata.from_show(
    {
        "name": "demo::steps",
        "description": "Three steps: a slow command, a task, then a check that fails on the failing targets",
        "parameters": {
            "targets": {"type": "TargetSpec", "sensitive": False, "description": "The targets every step runs on"},
            "failing": {
                "type": "TargetSpec",
                "sensitive": False,
                "description": "More targets for the last step only (it catches their failures)",
            },
            "greeting": {
                "type": "String[1]",
                "sensitive": False,
                "default_value": "'world'",
                "description": "Who the hello task greets",
            },
        },
        "private": False,
        "summary": "Three steps: a slow command, a task, then a check that fails on the failing targets",
        "docstring": None,
    }
)
SLOW = PlanMetadata.from_show(
    {
        "name": "demo::slow",
        "description": "One long command (for cancelling)",
        "parameters": {
            "targets": {"type": "TargetSpec", "sensitive": False, "description": "The targets to run on"},
            "seconds": {
                "type": "Integer[1, 3600]",
                "sensitive": False,
                "default_value": "60",
                "description": "How long the command sleeps",
            },
        },
        "private": False,
        "summary": "One long command (for cancelling)",
        "docstring": None,
    }
)
MIXED = PlanMetadata.from_show(
    {
        "name": "demo::mixed",
        "description": "Undocumented params",
        "parameters": {
            "documented": {
                "type": "Array[Integer]",
                "sensitive": False,
                "default_value": "[1, 2]",
                "description": "A documented one",
            },
            "nodes": {"type": "Optional[TargetSpec]", "sensitive": False},
            "untyped": {"type": "Any", "sensitive": False},
            "secret": {"type": "Sensitive[String]", "sensitive": True},
            "h": {"type": "Hash", "sensitive": False, "default_value": "{'a' => [1]}"},
        },
        "private": False,
        "summary": "Undocumented params",
        "docstring": None,
    }
)
HIDDEN = PlanMetadata.from_show(
    {"name": "demo::hidden", "description": None, "parameters": {}, "private": True, "summary": None, "docstring": None}
)


def _sample(name: str) -> dict:
    return json.loads((BOLT_SAMPLES / name).read_text())


def test_plan_metadata_body_of_get_plan():
    """GET /api/plans/<name>: a default is the Puppet expression Bolt shows; TargetSpec parameters are flagged."""
    assert STEPS.to_dict() == {
        "name": "demo::steps",
        "description": "Three steps: a slow command, a task, then a check that fails on the failing targets",
        "summary": "Three steps: a slow command, a task, then a check that fails on the failing targets",
        "parameters": [
            {
                "name": "targets",
                "type": "TargetSpec",
                "description": "The targets every step runs on",
                "required": True,
                "sensitive": False,
                "targetSpec": True,
            },
            {
                "name": "failing",
                "type": "TargetSpec",
                "description": "More targets for the last step only (it catches their failures)",
                "required": True,
                "sensitive": False,
                "targetSpec": True,
            },
            {
                "name": "greeting",
                "type": "String[1]",
                "description": "Who the hello task greets",
                "required": False,
                "sensitive": False,
                "default": "'world'",
                "targetSpec": False,
            },
        ],
    }
    assert (STEPS.private, HIDDEN.private) == (False, True)


def test_plan_metadata_every_parameter_without_default_is_required():
    """Bolt: `demo::mixed: expects a value for parameter 'nodes'` although it is Optional; null will do."""
    required = {p["name"]: p["required"] for p in MIXED.to_dict()["parameters"]}
    assert required == {"documented": False, "nodes": True, "untyped": True, "secret": True, "h": False}
    problems = MIXED.check({"secret": "x"})
    assert problems == {
        "nodes": ["missing required parameter (type Optional[TargetSpec])"],
        "untyped": ["missing required parameter (type Any)"],
    }
    assert MIXED.check({"secret": "x", "nodes": None, "untyped": None}) == {}


def test_plan_metadata_a_default_is_never_evaluated():
    """A null value takes the default, whatever its expression: Bolt accepted `documented: null`."""
    assert MIXED.check({"secret": "x", "nodes": None, "untyped": 1, "documented": None, "h": None}) == {}
    assert SLOW.check({"targets": "localhost"}) == {}
    assert SLOW.parameters["seconds"].default == "60"


def test_plan_metadata_wrong_types_and_unknown_names():
    """Bolt: `parameter 'documented' index 0 expects an Integer value, got Float`; `has no parameter named 'bogus'`."""
    problems = MIXED.check({"secret": "x", "nodes": "t1", "untyped": 1, "documented": [1.0], "bogus": 1})
    assert problems == {
        "bogus": ["plan demo::mixed has no parameter named 'bogus'"],
        "documented": ["expects a value of type Array[Integer], got an Array"],
    }
    assert SLOW.check({"targets": "localhost", "seconds": 0})["seconds"] == [
        "expects a value of type Integer[1, 3600], got an Integer"
    ]
    assert STEPS.check({"targets": "a", "failing": "b", "greeting": ""})["greeting"] == [
        "expects a value of type String[1], got a String"
    ]


def test_plan_metadata_target_spec_values():
    """A TargetSpec from JSON is a non-empty string or nested lists of them (Bolt refused `""` and 5, took `[]`)."""
    good = ["localhost", "localhost,local2", [], ["localhost", ["local2", []]]]
    bad = ["", 5, None, {"name": "x"}, ["localhost", 1], [[""]]]
    for value in good:
        assert STEPS.check({"targets": value, "failing": "refused"}) == {}, value
    for value in bad:
        assert STEPS.check({"targets": value, "failing": "refused"})["targets"][0].startswith(
            "expects a value of type TargetSpec, got"
        ), value
    assert MIXED.check({"secret": "x", "untyped": 1, "nodes": [["t1"]]}) == {}


def test_plan_metadata_targets_parameter_and_target_spec_names():
    assert STEPS.target_spec_names() == ["targets", "failing"]
    assert STEPS.targets_parameter() == "targets"
    assert MIXED.target_spec_names() == ["nodes"]
    assert MIXED.targets_parameter() == "nodes"  # the only TargetSpec parameter
    assert HIDDEN.targets_parameter() is None
    two = PlanMetadata.from_show(
        {"name": "x", "parameters": {"a": {"type": "TargetSpec"}, "b": {"type": "Array[TargetSpec]"}}}
    )
    assert (two.target_spec_names(), two.targets_parameter()) == (["a", "b"], None)
    untyped = PlanMetadata.from_show({"name": "x", "parameters": {"targets": {"type": "Array[String]"}}})
    assert untyped.targets_parameter() is None  # a `targets` that is no TargetSpec is filled by nobody


def test_plan_metadata_sensitive_parameters():
    """Bolt wraps the value of a Sensitive[String] parameter: it took "x", refused 5 (`got Sensitive[Integer]`)."""
    assert MIXED.sensitive_names() == ["secret"]
    base = {"nodes": None, "untyped": 1}
    assert MIXED.check({**base, "secret": "x"}) == {}
    assert MIXED.check({**base, "secret": 5}) == {
        "secret": ["expects a value of type Sensitive[String], got an Integer"]
    }
    nested = PlanMetadata.from_show({"name": "x", "parameters": {"token": {"type": "Optional[Sensitive[String]]"}}})
    assert nested.sensitive_names() == ["token"]
    assert "only for a parameter typed Sensitive[...] itself" in nested.check({"token": "x"})["token"][0]
    assert nested.check({"token": None}) == {}


def test_plan_metadata_conform_makes_whole_numbers_floats():
    plan = PlanMetadata.from_show(
        {"name": "x", "parameters": {"ratio": {"type": "Optional[Float]"}, "t": {"type": "TargetSpec"}}}
    )
    assert plan.conform({"ratio": 2, "t": ["a"], "other": 1}) == {"ratio": 2.0, "t": ["a"], "other": 1}
    assert plan.check(plan.conform({"ratio": 2, "t": "a"})) == {}


def test_plan_metadata_from_real_samples():
    demo = PlanMetadata.from_show(_sample("plan_show_demo_json.stdout"))
    assert [(p["name"], p["required"], p["targetSpec"]) for p in demo.to_dict()["parameters"]] == [
        ("targets", True, True),
        ("msg", False, False),
    ]
    listed = plan_list(_sample("plan_show_json.stdout"))
    names = [plan["name"] for plan in listed]
    assert names == sorted(names) and "demo::demo" in names
    assert {"name": "demo::failing", "description": None} in listed
    assert set(listed[0]) == {"name", "description"}


def test_plan_metadata_argv():
    assert bolt_argv.plan_show("bolt", "/p") == ["bolt", "plan", "show", "--format", "json", "--project", "/p"]
    assert bolt_argv.plan_show("bolt", "/p", "demo::x")[3] == "demo::x"
    assert bolt_argv.plan_run("bolt", "demo::x", "params.json", "/p") == [
        "bolt", "plan", "run", "demo::x", "--params", "@params.json", "--format", "json", "--stream",
        "--no-save-rerun", "--log-level", "info", "--project", "/p",
    ]  # fmt: skip


@pytest.fixture(scope="module")
def real_bolt() -> BoltCli:
    path = os.environ.get(REAL_BOLT_SETTING)
    if not path:
        pytest.skip(REAL_BOLT_MISSING)
    return BoltCli(bin=path, project=str(SCENARIO_PROJECT))


def test_plan_metadata_from_the_real_bolt(real_bolt):
    """`bolt plan show`: private plans unlisted but readable; an unknown plan (`bolt/unknown-plan`) is NotFoundError."""
    names = [plan["name"] for plan in real_bolt.plan_list()]
    assert {"demo::steps", "demo::fails", "demo::outer", "demo::inner", "demo::slow"} <= set(names)
    assert "demo::hidden" not in names and names == sorted(names)
    assert real_bolt.plan("demo::steps").to_dict() == STEPS.to_dict()
    assert real_bolt.plan("demo::hidden").private is True
    with pytest.raises(NotFoundError):
        real_bolt.plan("demo::nope")
    assert real_bolt.plan("demo::steps") is real_bolt.plan("demo::steps")  # cached, as tasks are
