"""Task parameter checks against Puppet data types from task metadata."""

import json
from pathlib import Path

from boltdeck.bolt.tasks import TaskMetadata, matches, parse_type

HELLO = TaskMetadata.from_show(
    {
        "name": "demo::hello",
        "metadata": {
            "description": "Say hello slowly",
            "parameters": {
                "name": {"type": "String[1]", "description": "Who to greet"},
                "loud": {"type": "Optional[Boolean]"},
                "count": {"type": "Integer[1,10]", "default": 3},
                "secret": {"type": "Optional[Sensitive[String]]"},
            },
        },
    }
)


def test_tasks_required_and_optional_parameters():
    params = {p["name"]: p for p in HELLO.to_dict()["parameters"]}
    assert params["name"]["required"] is True
    assert params["loud"]["required"] is False
    assert params["count"]["required"] is False and params["count"]["default"] == 3
    assert params["secret"]["sensitive"] is True and params["name"]["sensitive"] is False


def test_tasks_check_reports_missing_unknown_and_wrong_types():
    problems = HELLO.check({"loud": "yes", "count": 11, "bogus": 1})
    assert set(problems) == {"name", "loud", "count", "bogus"}
    assert "missing required" in problems["name"][0]
    assert "Optional[Boolean]" in problems["loud"][0]
    assert HELLO.check({"name": "x", "loud": True, "count": 10}) == {}


def test_tasks_puppet_types():
    assert matches(parse_type("Enum[install, status]"), "status")
    assert not matches(parse_type("Enum[install, status]"), "remove")
    assert not matches(parse_type("String[1]"), "")
    assert not matches(parse_type("Integer"), True)
    assert matches(parse_type("Variant[String, Array[String]]"), ["a"])
    assert not matches(parse_type("Array[Integer]"), ["a"])
    assert matches(parse_type("Pattern[/^v\\d+$/]"), "v12")
    assert matches(parse_type("Some::Custom[Type]"), object())  # unknown types accept anything


# Fidelity to the real Bolt (issue 10) -------------------------------------------------------

RECORD = json.loads((Path(__file__).resolve().parents[1] / "contract" / "param_types_real_bolt.json").read_text())


def _task(**parameters) -> TaskMetadata:
    return TaskMetadata.from_show({"name": "demo::t", "metadata": {"parameters": parameters}})


def test_tasks_matches_agrees_with_real_bolt_on_every_recorded_case():
    """Regression: Boltdeck passed values real Bolt refuses (an Integer for Float, anything for
    Sensitive[...], Struct/Tuple/Hash contents) and refused `Integer[default, 10]`'s small numbers."""
    disagreements = [
        (ptype, value, bool(row[i]))
        for ptype, row in RECORD["accepted"].items()
        for i, value in enumerate(RECORD["values"])
        if matches(parse_type(ptype), value) != bool(row[i])
    ]
    assert disagreements == []


def test_tasks_sensitive_flag_in_metadata_marks_the_parameter():
    """Regression: `"sensitive": true` (Bolt's documented way) was ignored; only Sensitive[...] types counted."""
    task = _task(password={"type": "String", "sensitive": True}, note={"type": "String"}, key={"type": "Sensitive"})
    assert task.sensitive_names() == ["password", "key"]
    assert [p["sensitive"] for p in task.to_dict()["parameters"]] == [True, False, True]


def test_tasks_sensitive_type_takes_no_value_and_says_why():
    """Regression: an Optional[Sensitive[String]] value passed Boltdeck's check and always failed in Bolt."""
    task = _task(secret={"type": "Optional[Sensitive[String]]"})
    assert task.check({"secret": None}) == {}
    (problem,) = task.check({"secret": "hunter2"})["secret"]
    assert "Optional[Sensitive[String]]" in problem and '"sensitive": true' in problem and "hunter2" not in problem


def test_tasks_whole_number_for_a_float_is_handed_over_as_a_float():
    """Regression: 3 for a Float passed Boltdeck's check and Bolt refused it; JSON (and the UI) cannot say 3.0."""
    task = _task(
        interval={"type": "Optional[Float[0,60]]"},
        ratios={"type": "Array[Float]"},
        limits={"type": "Struct[{low => Float, high => Optional[Float]}]"},
        count={"type": "Integer"},
    )
    given = {"interval": 3, "ratios": [1, 2.5], "limits": {"low": 0, "high": None}, "count": 2}
    conformed = task.conform(given)
    assert conformed == given and task.check(conformed) == {}
    assert type(conformed["interval"]) is float and [type(r) for r in conformed["ratios"]] == [float, float]
    assert type(conformed["limits"]["low"]) is float and type(conformed["count"]) is int
    assert task.conform({"interval": 61})["interval"] == 61.0 and task.check({"interval": 61.0})  # still bounded
    (problem,) = task.check({"count": 2.0})["count"]
    assert "write 2, not 2.0" in problem


def test_tasks_defaults_fill_absent_and_null_values_and_are_checked():
    """Regression: a null went to Bolt as null although Bolt uses the default then, and a default
    that does not fit its type (demo::slow's `interval: 1` for a Float) failed only in Bolt."""
    task = _task(name={"type": "String", "default": "x"}, interval={"type": "Float", "default": 1})
    assert set(task.check({"name": None, "interval": 2.0})) == set()
    (problem,) = task.check({"name": "y"})["interval"]
    assert "default 1 is not of its type Float" in problem
    hidden = _task(token={"type": "String", "default": 7, "sensitive": True})
    assert "7" not in hidden.check({})["token"][0]
