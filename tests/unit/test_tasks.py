"""Task parameter checks against Puppet data types from task metadata."""

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
