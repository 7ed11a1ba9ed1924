"""The web view in real headless Chromium, against a mock on a free loopback port.

Each test resets the mock (M2) and drives the page as a person would: it creates
downlinks through the public API and watches them appear, moves the clock from the page,
cancels from the page, filters the journal, arms a fault. Waits are Playwright's own
(a condition polled until it holds), never a timing assertion.

Without Playwright or Chromium the module is skipped with one reason; with
DOWNLINKS_REQUIRE_BROWSER=1 (as .ci/run sets) that is a failure instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.mock_server.conftest import START, auth, body
from tests.mock_server.ui import browser

_REASON = browser.missing()
if _REASON is not None:
    if os.environ.get(browser.REQUIRE_ENV) == "1":
        pytest.fail(f"{browser.REQUIRE_ENV}=1 but {_REASON}", pytrace=False)
    pytest.skip(_REASON, allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from mock_server.config import ClockMode, MockConfig  # noqa: E402
from mock_server.domain.timefmt import parse_rfc3339  # noqa: E402
from mock_server.server import MockServer  # noqa: E402

expect.set_options(timeout=15_000)  # a loaded CI machine; a pass is usually instant


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    config = MockConfig(
        clock_mode=ClockMode.MANUAL, clock_start=parse_rfc3339(START), scenario="default"
    )
    with MockServer(config) as running:
        yield running


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with sync_playwright() as playwright:
        launched = browser.launch(playwright)
        yield launched
        launched.close()


@pytest.fixture
def api(server: MockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url) as client:
        assert client.post("/__mock/reset").status_code == 204
        yield client


@pytest.fixture
def page(chromium: Any, api: httpx.Client) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    yield opened
    context.close()
    assert errors == [], f"the page's script failed: {errors}"


def label(text: str) -> re.Pattern[str]:
    """A field by the start of its label (a select's label also reads its options)."""
    return re.compile("^" + re.escape(text))


def create(api: httpx.Client, client: str = "acme", **fields: Any) -> dict[str, Any]:
    answer = api.post("/downlinks", json=body(**fields), headers=auth(client))
    assert answer.status_code == 201, answer.text
    return answer.json()


def open_view(page: Page, api: httpx.Client, fragment: str) -> None:
    page.goto(f"{api.base_url}/__mock/ui#/{fragment}")


def row(page: Page, downlink_id: str) -> Any:
    return page.locator(f'#dl-table tr[data-id="{downlink_id}"]')


def test_created_downlinks_appear_live_with_their_owner(page, api):
    open_view(page, api, "downlinks")
    expect(page.locator("#dl-table tbody")).to_contain_text("No downlink matches.")
    made = [create(api, "acme", nid="urn:dev:DEVEUI:aaaa0001:"), create(api, "globex")]
    # No reload: the page's poll sees the store change and redraws.
    for downlink, owner in zip(made, ("acme", "globex"), strict=True):
        expect(row(page, downlink["id"])).to_contain_text(owner)
        expect(row(page, downlink["id"]).locator(".badge")).to_have_text("PENDING")
    expect(page.locator("#dl-table tbody tr")).to_have_count(2)
    # Filters: by client, by status, by q.
    view = page.locator("#view-downlinks")
    view.get_by_label(label("Client")).select_option("globex")
    expect(page.locator("#dl-table tbody tr")).to_have_count(1)
    expect(row(page, made[1]["id"])).to_be_visible()
    view.get_by_label(label("Client")).select_option("")
    view.get_by_label(label("Status")).select_option("CANCELLED")
    expect(page.locator("#dl-table tbody")).to_contain_text("No downlink matches.")
    view.get_by_label(label("Status")).select_option("PENDING")
    expect(page.locator("#dl-table tbody tr")).to_have_count(2)
    view.get_by_label(label("Search (q)")).fill("aaaa0001")
    view.get_by_label(label("Search (q)")).press("Enter")
    expect(page.locator("#dl-table tbody tr")).to_have_count(1)
    expect(row(page, made[0]["id"])).to_be_visible()


@pytest.mark.rule("M5")
def test_advancing_the_clock_from_the_page_moves_statuses(page, api):
    first = create(api)
    open_view(page, api, "downlinks")
    expect(row(page, first["id"]).locator(".badge")).to_have_text("PENDING")
    # Live while the clock moves: a step made elsewhere shows without a reload.
    api.post("/__mock/clock", json={"advance": "PT1.5S"})
    expect(row(page, first["id"]).locator(".badge")).to_have_text("EXECUTING")
    page.get_by_role("link", name="Clock").click()
    expect(page.locator("#c-mode")).to_have_text("manual")
    clock = page.locator("#view-clock")
    clock.get_by_label(label("Advance by")).fill("PT1M")
    page.get_by_role("button", name="Advance", exact=True).click()
    expect(page.locator("#c-result")).to_contain_text("200")
    expect(page.locator("#c-now")).to_have_text("2025-01-10T10:01:01.500Z")
    due = page.locator("#c-due tbody tr")
    expect(due).to_have_count(1)
    expect(due.locator(".badge")).to_have_text("DELIVERED")
    # Setting the clock backwards: the API's own 409, shown as it came.
    clock.get_by_label(label("Set to")).fill(START)
    page.get_by_role("button", name="Set", exact=True).click()
    expect(page.locator("#c-result")).to_contain_text("409")
    expect(page.locator("#c-result")).to_contain_text("backwards")
    page.get_by_role("link", name="Downlinks").click()
    expect(row(page, first["id"]).locator(".badge")).to_have_text("DELIVERED")


@pytest.mark.rule("X2")
def test_cancel_from_the_page_and_the_409_of_a_delivered_one(page, api):
    delivered = create(api, externalReference="d-1")
    api.post("/__mock/clock", json={"advance": "PT1M"})
    pending = create(api, externalReference="p-1")
    open_view(page, api, f"downlinks/{pending['id']}")
    expect(page.locator("#d-body .badge").first).to_have_text("PENDING")
    expect(page.locator("#d-body")).to_contain_text("Moves still scheduled")
    page.get_by_role("button", name="Cancel", exact=True).click()
    expect(page.locator("#d-result")).to_contain_text("202")
    expect(page.locator("#d-body .badge").first).to_have_text("CANCELLED")
    expect(page.locator("#d-body")).to_contain_text("Nothing scheduled")
    # The cancel went through the public API as the owner: the journal shows it.
    entries = api.get("/__mock/requests", params={"method": "DELETE"}).json()["items"]
    assert [(e["status"], e["request"]["client"]) for e in entries] == [(202, "acme")]
    open_view(page, api, f"downlinks/{delivered['id']}")
    expect(page.locator("#d-body .badge").first).to_have_text("DELIVERED")
    page.get_by_role("button", name="Cancel, forced").click()
    expect(page.locator("#d-result")).to_contain_text("409")
    expect(page.locator("#d-result")).to_contain_text("cannot be cancelled")
    expect(page.locator("#d-body .badge").first).to_have_text("DELIVERED")


@pytest.mark.rule("X3")
def test_an_in_flight_downlink_needs_a_forced_cancel(page, api):
    flying = create(api)
    api.post("/__mock/clock", json={"advance": "PT1.5S"})
    open_view(page, api, f"downlinks/{flying['id']}")
    expect(page.locator("#d-body .badge").first).to_have_text("EXECUTING")
    page.get_by_role("button", name="Cancel", exact=True).click()
    expect(page.locator("#d-result")).to_contain_text("409")
    expect(page.locator("#d-result")).to_contain_text("forced=true")
    page.get_by_role("button", name="Cancel, forced").click()
    expect(page.locator("#d-result")).to_contain_text("202")
    expect(page.locator("#d-body .badge").first).to_have_text("CANCELLED")


@pytest.mark.rule("M4")
def test_a_refused_move_shows_the_api_error(page, api):
    made = create(api, method={"protocol": "LORA", "fPort": 3})
    open_view(page, api, f"downlinks/{made['id']}")
    expect(page.locator("#d-body")).to_contain_text("setpoint")  # the SenML table
    expect(page.locator("#d-body")).to_contain_text("fPort")  # the method
    view = page.locator("#view-downlink")
    view.get_by_label(label("Move to")).select_option("DELIVERED")
    page.get_by_role("button", name="Move").click()
    expect(page.locator("#d-result")).to_contain_text("409")
    expect(page.locator("#d-result")).to_contain_text("cannot move to DELIVERED")
    view.get_by_label(label("Move to")).select_option("EXECUTING")
    page.get_by_role("button", name="Move").click()
    expect(page.locator("#d-result")).to_contain_text("200")
    expect(page.locator("#d-body .badge").first).to_have_text("EXECUTING")
    expect(page.locator("#d-body .timeline")).to_contain_text("DOWNLINK_STARTED")


@pytest.mark.rule("M7")
def test_filter_the_journal_and_open_a_request(page, api):
    made = create(api, "acme")
    api.get("/downlinks/nope", headers=auth("globex"))
    api.get("/downlinks", headers=auth("globex"))
    open_view(page, api, "journal")
    rows = page.locator("#j-table tbody tr")
    expect(rows).to_have_count(3)
    form = page.locator("#j-filter")
    form.get_by_label(label("Status")).fill("4xx")
    form.get_by_role("button", name="Apply").click()
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("/downlinks/nope")
    expect(rows.locator(".http")).to_have_text("404")
    form.get_by_label(label("Status")).fill("")
    form.get_by_label(label("Method")).select_option("POST")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("acme")
    form.get_by_label(label("Method")).select_option("")
    form.get_by_label(label("Client")).fill("globex")
    form.get_by_role("button", name="Apply").click()
    expect(rows).to_have_count(2)
    # New traffic shows while the view is open.
    api.get("/downlinks?limit=1", headers=auth("globex"))
    expect(rows).to_have_count(3)
    form.get_by_label(label("Client")).fill("acme")
    form.get_by_role("button", name="Apply").click()
    expect(rows).to_have_count(1)
    rows.get_by_role("link").click()
    detail = page.locator("#r-body")
    expect(detail).to_contain_text("POST /downlinks")
    expect(detail).to_contain_text("Bearer <redacted>")  # the token never shows
    expect(detail).to_contain_text(made["id"])  # the response body
    expect(detail).to_contain_text("setpoint")  # the request body
    expect(detail).not_to_contain_text("eyJ")  # no JWT, in headers or bodies


@pytest.mark.rule("M8")
def test_arm_a_fault_from_the_form_and_see_it_hit(page, api):
    open_view(page, api, "faults")
    expect(page.locator("#f-table tbody")).to_contain_text("No fault is armed.")
    form = page.locator("#f-form")
    form.get_by_label(label("Method")).select_option("GET")
    form.get_by_label(label("Path (glob)")).fill("/downlinks")
    form.get_by_label(label("Error status")).fill("503")
    form.get_by_label(label("Times")).fill("1")
    page.get_by_role("button", name="Arm").click()
    expect(page.locator("#f-result")).to_contain_text("201")
    fault = page.locator('#f-table tr[data-fault="f1"]')
    expect(fault).to_contain_text("answer 503")
    expect(fault.locator(".applied")).to_have_text("0")
    assert api.get("/downlinks", headers=auth()).status_code == 503
    expect(fault.locator(".applied")).to_have_text("1")  # live
    assert api.get("/downlinks", headers=auth()).status_code == 200  # times: 1
    # A bad fault: the API's 400 with every violation, shown as it came.
    form.get_by_label(label("Error status")).fill("200")
    page.get_by_role("button", name="Arm").click()
    expect(page.locator("#f-result")).to_contain_text("400")
    expect(page.locator("#f-result")).to_contain_text("#/status")
    page.get_by_role("link", name="Journal").click()
    rows = page.locator("#j-table tbody tr")
    expect(rows.first.locator(".http")).to_have_text("200")
    expect(rows.nth(1).locator(".http")).to_have_text("503")
    expect(rows.nth(1)).to_contain_text("f1")
    page.get_by_role("link", name="Faults").click()
    page.get_by_role("button", name="Clear all faults").click()
    expect(page.locator("#f-table tbody")).to_contain_text("No fault is armed.")


@pytest.mark.rule("M6")
def test_scenario_rules_and_a_switch(page, api):
    open_view(page, api, "scenario")
    expect(page.locator("#s-body")).to_contain_text("happy-path")
    page.locator("#view-scenario").get_by_label(label("Scenario")).select_option("fleet")
    expect(page.locator("#s-choice")).to_contain_text("mixed fleet")
    page.get_by_role("button", name="Switch").click()
    expect(page.locator("#s-result")).to_contain_text("200")
    body_ = page.locator("#s-body")
    expect(body_.locator("strong").first).to_have_text("fleet")
    expect(body_).to_contain_text("protocol: LORA")  # a rule
    expect(body_).to_contain_text("class-a")
    assert api.get("/__mock/scenario").json()["name"] == "fleet"


def test_api_page_reads_the_served_spec(page, api):
    spec = api.get("/openapi.json")
    assert spec.status_code == 200
    open_view(page, api, "api")
    content = page.locator("#a-body")
    expect(content).to_contain_text(spec.json()["info"]["title"])
    expect(content).to_contain_text("searchDownlinks")
    expect(content).to_contain_text("cancelDownlink")
    content.get_by_role("link", name="CreateDownlinkRequest").first.click()
    expect(page.locator("#schema-CreateDownlinkRequest")).to_be_focused()
    # The 404 hint points at it, and it is there.
    assert "openapi.json" in api.get("/nowhere").json()["detail"]


def test_pages_through_the_store_and_works_by_keyboard_on_a_phone(chromium, api):
    records = [
        {"owner": f"client-{i % 3}", "networkId": f"urn:dev:DEVEUI:{i:06d}:"} for i in range(120)
    ]
    assert api.post("/__mock/downlinks", json=records).status_code == 201
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        open_view(page, api, "downlinks?limit=50")
        rows = page.locator("#dl-table tbody tr")
        expect(rows).to_have_count(50)
        expect(page.locator("#dl-summary")).to_contain_text("120 stored in all, 3 client(s)")
        first_page = rows.first.get_attribute("data-id")
        page.get_by_role("button", name="Next").click()
        expect(page.locator("#dl-page")).to_have_text("page 2")
        expect(rows.first).not_to_have_attribute("data-id", first_page or "")
        page.get_by_role("button", name="Next").click()
        expect(rows).to_have_count(20)
        expect(page.get_by_role("button", name="Next")).to_be_disabled()
        page.get_by_role("button", name="Previous").click()
        expect(page.locator("#dl-page")).to_have_text("page 2")
        page.get_by_role("button", name="Previous").click()
        expect(page.locator("#dl-page")).to_have_text("page 1")
        expect(rows.first).to_have_attribute("data-id", first_page or "")
        # Nothing wider than the phone's screen but the tables' own scroll boxes.
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        # Every field of the view has a label a screen reader announces.
        unlabelled = page.evaluate(
            """[...document.querySelectorAll('input, select')]
                 .filter(e => !e.labels.length && !e.getAttribute('aria-label'))
                 .map(e => e.name)"""
        )
        assert unlabelled == []
        # By keyboard: focus a downlink's link, Enter opens it, focus lands on its heading.
        link = rows.first.get_by_role("link")
        link.focus()
        page.keyboard.press("Enter")
        expect(page.locator("#h-downlink")).to_be_focused()
        expect(page.locator("#h-downlink")).to_contain_text(re.compile(r"Downlink \S+"))
    finally:
        context.close()
