"""Issue 17 in real Chromium: the plans page's form from the plan's metadata, and the step tree growing live.

The plans are the scenario project's (tests/realbolt/project), run by the Bolt double and, when
BOLTDECK_TEST_REAL_BOLT names one, by the real Bolt too.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.conftest import SCENARIO_PROJECT, LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def double_server(tmp_path_factory):
    """A live server running the Bolt double in the scenario project (where demo::steps is)."""
    live = LiveServer(tmp_path_factory.mktemp("plans-ui"), bolt_project=SCENARIO_PROJECT, sse_heartbeat_seconds=1).start()
    yield live
    live.stop()


@pytest.fixture(params=["double", "real"])
def plan_server(request):
    """The scenario project's server with the double, then with the real Bolt (which skips without one)."""
    return request.getfixturevalue("double_server" if request.param == "double" else "real_bolt_server")


def choose(page, param: str, *names: str) -> None:
    """Tick inventory names in the target picker of a TargetSpec parameter."""
    picker = page.locator(f"[data-field='params.{param}']")
    for name in names:
        picker.get_by_label(name, exact=True).check()


def tree_sequence(page) -> list[str]:
    """What the top plan step holds, in order: `message: TEXT` or `KIND OBJECT STATUS`."""
    return page.evaluate(
        """() => [...document.querySelectorAll('bd-plan-steps .plan-step[data-kind=plan] > .plan-tree > li')]
            .map((li) => li.classList.contains('plan-message')
                ? `message: ${li.textContent.replace('Message: ', '')}`
                : `${li.dataset.kind} ${li.querySelector('.step-object').textContent.split(' ')[0]} ${li.dataset.status}`)"""
    )


def test_plan_form_runs_demo_steps_and_the_tree_grows_before_the_plan_ends(make_ui, plan_server):
    ui = make_ui(live=plan_server, expert=False)  # steps, messages and the return value are for every viewer
    page = ui.page
    ui.goto("/plans")
    page.get_by_role("link", name="demo::steps").click()
    greeting = page.locator("input[name=param-greeting]")
    greeting.wait_for()
    assert greeting.get_attribute("placeholder") == "default 'world'"
    assert greeting.get_attribute("aria-required") is None
    # the plan's page fetches the list again: only once it is in does "not listed" say anything
    expect(page.locator(".plan-list a[aria-current=page]")).to_have_text("demo::steps")
    assert page.locator(".plan-list a", has_text="demo::hidden").count() == 0  # private
    choose(page, "targets", "localhost", "local2")
    choose(page, "failing", "refused")
    greeting.fill("browser")
    with page.expect_request(re.compile(r"/api/plans/run$")) as request:
        page.get_by_role("button", name="Run plan").click()
    assert json.loads(request.value.post_data) == {
        "plan": "demo::steps",
        "params": {"targets": ["localhost", "local2"], "failing": ["refused"], "greeting": "browser"},
        "expertMode": False,
    }
    execution_id = ui.execution_id()

    # The first step prints for 1.5 s, and the task after it for 3 s: the tree shows both live.
    first = page.locator("bd-plan-steps .plan-step[data-kind=command]").first
    first.wait_for()
    assert plan_server.api("GET", f"/api/executions/{execution_id}").json()["status"] == "running"
    assert page.locator("bd-plan-steps .plan-message").first.text_content() == "Message: starting with browser"
    page.wait_for_selector("bd-plan-steps .plan-step[data-kind=command][data-status=success]", timeout=30_000)
    assert page.locator("bd-plan-steps .plan-step[data-kind=plan]").get_attribute("data-status") == "running"
    assert page.locator("bd-plan-steps .plan-step[data-kind=task]").get_attribute("data-status") == "running"
    assert plan_server.api("GET", f"/api/executions/{execution_id}").json()["status"] == "running"
    assert first.locator(".step-results tr[data-target=local2] .badge").text_content() == "Success"
    ui.screenshot("plan-steps-running.png")

    page.wait_for_selector("bd-plan-steps .plan-result:not([hidden])", timeout=30_000)
    page.wait_for_selector(".exec-state .badge[data-status=failed]")  # the ResultSet returned holds a failure
    expected = [
        "message: starting with browser",
        "command for success",
        "task demo::hello success",
        "command echo failure",
        "message: done",
    ]
    assert tree_sequence(page) == expected
    last = page.locator("bd-plan-steps .plan-step[data-kind=command]").nth(1)
    assert "1 failure" in last.locator(".step-meta").text_content()
    assert last.locator(".step-results tr[data-target=refused] .badge").text_content() == "Failed"
    returned = json.loads(page.locator("bd-plan-steps .plan-value").text_content())
    assert {(item["target"], item["status"]) for item in returned} == {
        ("localhost", "success"), ("local2", "success"), ("refused", "failure"),
    }
    ui.screenshot("plan-steps-finished.png")

    # Opened after the end, the page replays the events into the same tree.
    later = make_ui(live=plan_server, expert=False)
    later.goto(f"/executions/{execution_id}")
    later.page.wait_for_selector("bd-plan-steps .plan-result:not([hidden])")
    assert tree_sequence(later.page) == expected
    assert json.loads(later.page.locator("bd-plan-steps .plan-value").text_content()) == returned


def test_plan_form_shows_a_missing_required_parameter_at_its_field(make_ui, plan_server):
    ui = make_ui(live=plan_server)
    page = ui.page
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    ui.goto("/plans/demo::steps")
    run = page.get_by_role("button", name="Run plan")
    run.click()
    for param in ("targets", "failing"):
        error = page.locator(f"[data-field='params.{param}'] > .field-error")
        assert error.text_content() == "choose at least one target or group"
    assert posts == [], "missing required parameters are caught in the browser first"

    choose(page, "targets", "localhost")
    choose(page, "failing", "refused")

    def without_failing(route):  # a request the browser's check would not let through
        body = json.loads(route.request.post_data)
        del body["params"]["failing"]
        route.continue_(post_data=json.dumps(body))

    page.route(re.compile(r"/api/plans/run$"), without_failing)
    with page.expect_response(re.compile(r"/api/plans/run$")) as answer:
        run.click()
    assert answer.value.status == 400
    message = answer.value.json()["error"]["details"]["params.failing"][0]
    error = page.locator("[data-field='params.failing'] > .field-error")
    error.wait_for()
    assert error.text_content() == message
    assert page.locator("[data-field='params.targets'] > .field-error").is_hidden()
    assert page.url.endswith("/plans/demo::steps")


def test_node_page_runs_a_plan_on_that_node_and_nests_its_sub_plan(make_ui, plan_server):
    ui = make_ui(live=plan_server)
    page = ui.page
    ui.goto("/targets/local2")
    page.get_by_role("tab", name="Plan").click()
    plan = page.locator("select[name=plan]")
    plan.select_option("demo::fails")
    page.locator(".plan-params .params").wait_for()
    page.get_by_role("button", name="Run plan").click()
    assert page.locator("[data-field=plan] .field-error").text_content().startswith("takes no TargetSpec parameter")

    plan.select_option("demo::outer")
    page.get_by_text("The run's targets above are the plan's targets.").wait_for()
    with page.expect_request(re.compile(r"/api/plans/run$")) as request:
        page.get_by_role("button", name="Run plan").click()
    assert json.loads(request.value.post_data) == {"targets": ["local2"], "plan": "demo::outer", "params": {}, "expertMode": True}
    ui.execution_id()
    inner = page.locator("bd-plan-steps .plan-step[data-kind=plan] .plan-step[data-kind=plan]")
    inner.locator(".plan-step[data-kind=command][data-status=success]").wait_for(timeout=30_000)
    assert inner.locator(":scope > .step-line .step-object").text_content() == "demo::inner"
    assert inner.locator(".step-output pre").text_content() == "inner\n"
    page.wait_for_selector("bd-plan-steps .plan-result:not([hidden])", timeout=30_000)
    assert json.loads(page.locator("bd-plan-steps .plan-value").text_content()) == "finished"
    assert page.locator("bd-plan-steps .plan-step[data-kind=plan]").first.get_attribute("data-status") == "success"


def test_a_plan_that_calls_fail_plan_shows_its_error(make_ui, plan_server):
    ui = make_ui(live=plan_server, expert=False)
    page = ui.page
    ui.goto("/plans/demo::fails")
    why = page.locator("input[name=param-why]")
    assert why.get_attribute("placeholder") == "default 'because'"
    why.fill("<b>no markup</b>")
    page.get_by_role("button", name="Run plan").click()
    ui.execution_id()
    page.wait_for_selector("bd-plan-steps .plan-result[data-outcome=error]", timeout=30_000)
    assert page.locator("bd-plan-steps .plan-error").text_content() == "Error: boom (demo/custom)"
    assert json.loads(page.locator("bd-plan-steps .plan-value").text_content())["why"] == "<b>no markup</b>"  # as text
    page.wait_for_selector(".exec-state .badge[data-status=failed]")
    assert page.locator("bd-plan-steps .plan-step[data-kind=plan]").get_attribute("data-status") == "failure"
