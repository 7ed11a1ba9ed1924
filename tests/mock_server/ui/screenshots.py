"""Screenshots of the web view and its measured weight and first paint, for docs/web-view.md.

    python -m tests.mock_server.ui.screenshots [--stored 100000] [--runs 5]

Starts `downlinks-mock serve` in its own process on a free loopback port (manual clock,
the fleet scenario), stores `--stored` downlinks over five clients (M3), makes some traffic through the public API, then drives headless Chromium
(Debian's, see browser.py): a PNG per view in docs/web-view/, and the figures (bytes of
HTML + JS + CSS, first paint, first contentful paint, first rows on screen: the median of
`--runs` cold loads) written between the markers of docs/web-view.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx

from mock_server.config import REPO_ROOT
from mock_server.domain.model import Status
from mock_server.domain.timefmt import format_ms, parse_rfc3339
from mock_server.server import free_port
from tests.mock_server.conftest import auth, body
from tests.mock_server.ui import browser

__all__ = ["main"]

DOCS = REPO_ROOT / "docs" / "web-view.md"
SHOTS = REPO_ROOT / "docs" / "web-view"
START = "2025-01-10T10:00:00.000Z"
CLIENTS = ("acme", "globex", "initech", "umbrella", "hooli")
BEGIN, END = "<!-- measured:begin -->", "<!-- measured:end -->"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


def store_many(api: httpx.Client, count: int) -> None:
    """`count` downlinks over five clients and the last 30 days, in every status (M3)."""
    start = parse_rfc3339(START)
    statuses = [s.value for s in Status]
    span = 30 * 86_400_000
    records: list[dict[str, Any]] = []
    for i in range(count):
        created = start - span + (i * span) // max(count, 1)
        status = statuses[i % len(statuses)]
        nid = f"urn:dev:DEVEUI:{i:016x}:"
        record: dict[str, Any] = {
            "id": str(uuid.UUID(int=i + 1)),
            "owner": CLIENTS[i % len(CLIENTS)],
            "networkId": nid,
            "status": status,
            "createdAt": format_ms(created),
            "modifiedAt": format_ms(created + (0 if status == "PENDING" else 4000)),
            "message": f'[{{"bn":"{nid}"}},{{"n":"setpoint","v":{i % 30}}}]',
        }
        if i % 4:
            record["externalReference"] = f"order-{i}"
        records.append(record)
        if len(records) == 10_000 or i == count - 1:
            answer = api.post("/__mock/downlinks", json=records, timeout=120)
            answer.raise_for_status()
            records = []


@contextlib.contextmanager
def serve() -> Iterator[str]:
    """`downlinks-mock serve` in its own process (as a user runs it), on a free port."""
    port = free_port()
    command = [sys.executable, "-m", "mock_server.cli", "serve", "--port", str(port)]
    command += ["--clock", "manual", "--clock-start", START, "--scenario", "fleet"]
    command += ["--log-level", "warning"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(url + "/__mock/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise RuntimeError("the mock did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def traffic(api: httpx.Client) -> str:
    """Requests through the public API, as a client would; returns a downlink in flight."""
    made = []
    for n, (client, protocol) in enumerate(
        [("acme", "LORA"), ("globex", "SMS"), ("acme", "MQTT"), ("initech", "HTTP")]
    ):
        method: dict[str, Any] = {"protocol": protocol}
        if protocol == "LORA":
            method["fPort"] = 3
        answer = api.post(
            "/downlinks",
            json=body(
                nid=f"urn:dev:DEVEUI:0004a30b001c05{n:02d}:",
                method=method,
                externalReference=f"shot-{n}",
                retryLimit=2,
            ),
            headers=auth(client),
        )
        made.append(answer.json()["id"])
    api.get("/downlinks", params={"q": "0004a30b", "limit": "10"}, headers=auth("acme"))
    api.get("/downlinks/not-there", headers=auth("globex"))
    api.delete(f"/downlinks/{made[3]}", headers=auth("initech"))
    api.post("/__mock/clock", json={"advance": "PT2.5S"})
    return str(made[1])  # SMS: at the carrier, its delivery scheduled


def measure(chromium: Any, url: str, runs: int) -> dict[str, Any]:
    """Median first paint, first contentful paint and first rows over cold loads, and the
    bytes of the page's own HTML, script and style."""
    paints: dict[str, list[float]] = {"first-paint": [], "first-contentful-paint": []}
    rows: list[float] = []
    listing: list[float] = []
    weight: dict[str, int] = {}
    for _ in range(runs):
        context = chromium.new_context(viewport=DESKTOP)
        page = context.new_page()
        sizes: dict[str, int] = {}

        def seen(response: Any, sizes: dict[str, int] = sizes) -> None:
            kind = response.request.resource_type
            if kind in ("document", "script", "stylesheet"):
                sizes[kind] = len(response.body())

        page.on("response", seen)
        page.goto(url + "/__mock/ui#/downlinks")
        page.wait_for_function("performance.getEntriesByName('downlinks-rendered').length > 0")
        page.wait_for_load_state("load")
        timing = page.evaluate(
            """() => ({
              paints: performance.getEntriesByType('paint').map(e => [e.name, e.startTime]),
              rows: performance.getEntriesByName('downlinks-rendered')[0].startTime,
              list: performance.getEntriesByType('resource')
                .filter(e => e.name.includes('/__mock/ui/api/downlinks'))
                .map(e => e.responseEnd - e.requestStart)[0],
            })"""
        )
        for name, at in timing["paints"]:
            paints[name].append(at)
        rows.append(timing["rows"])
        listing.append(timing["list"])
        weight = sizes
        context.close()
    return {
        "weight": weight,
        "first-paint": statistics.median(paints["first-paint"]),
        "first-contentful-paint": statistics.median(paints["first-contentful-paint"]),
        "rows": statistics.median(rows),
        "list": statistics.median(listing),
    }


def shoot(chromium: Any, url: str, in_flight: str) -> list[str]:
    """One PNG per main view (and two on a phone); returns their file names."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    names: list[str] = []

    def snap(page: Any, name: str, full: bool = False) -> None:
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)
        names.append(f"{name}.png")

    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(url + "/__mock/ui#/downlinks")
    page.wait_for_selector("#dl-table tbody tr[data-id]")
    snap(page, "downlinks")
    page.goto(url + f"/__mock/ui#/downlinks/{in_flight}")
    page.wait_for_selector("#d-body .timeline")
    snap(page, "downlink", full=True)
    page.goto(url + "/__mock/ui#/clock")
    page.wait_for_selector("#c-now:not(:empty)")
    page.locator("#c-advance").get_by_role("button", name="Advance", exact=True).click()
    page.wait_for_selector("#c-due tbody tr")
    snap(page, "clock")
    page.goto(url + "/__mock/ui#/scenario")
    page.wait_for_selector("#s-body .op")
    snap(page, "scenario")
    page.goto(url + "/__mock/ui#/journal")
    page.wait_for_selector("#j-table tbody tr a")
    snap(page, "journal")
    page.locator("#j-table tbody tr a").last.click()
    page.wait_for_selector("#r-body pre")
    snap(page, "request")
    page.goto(url + "/__mock/ui#/faults")
    page.wait_for_selector("#f-table tbody tr[data-fault]")
    snap(page, "faults")
    page.goto(url + "/__mock/ui#/api")
    page.wait_for_selector("#a-body .op")
    snap(page, "api")
    context.close()
    phone = chromium.new_context(viewport=PHONE, is_mobile=True, device_scale_factor=2)
    page = phone.new_page()
    page.goto(url + "/__mock/ui#/downlinks?limit=25")
    page.wait_for_selector("#dl-table tbody tr[data-id]")
    snap(page, "phone-downlinks")
    page.goto(url + f"/__mock/ui#/downlinks/{in_flight}")
    page.wait_for_selector("#d-body .timeline")
    snap(page, "phone-downlink")
    phone.close()
    return names


def write_figures(figures: dict[str, Any], stored: int, runs: int) -> None:
    weight = figures["weight"]
    total = sum(weight.values())
    version = subprocess.run(
        [str(browser.chromium_path()), "--version"], capture_output=True, text=True
    ).stdout.strip()
    lines = [
        BEGIN,
        f"Measured by `python -m tests.mock_server.ui.screenshots --stored {stored} --runs "
        f"{runs}` with {stored:,} downlinks stored (five clients), the median of {runs} cold "
        f"loads of `/__mock/ui#/downlinks` in headless {version or 'Chromium'} "
        f"({platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}), the mock (`downlinks-mock serve`) in its own process "
        f"on the same machine ({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} "
        "when done: figures from a busy machine run higher):",
        "",
        "| what | figure |",
        "| --- | --- |",
        f"| page weight: HTML + JS + CSS, uncompressed | {total:,} bytes "
        f"({weight.get('document', 0):,} + {weight.get('script', 0):,} + "
        f"{weight.get('stylesheet', 0):,}) |",
        f"| first paint | {figures['first-paint']:.0f} ms |",
        f"| first contentful paint | {figures['first-contentful-paint']:.0f} ms |",
        f"| first page of downlinks on screen (50 rows) | {figures['rows']:.0f} ms |",
        f"| of which the list request (`/__mock/ui/api/downlinks`) | {figures['list']:.0f} ms |",
        END,
    ]
    text = DOCS.read_text()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + "\n".join(lines) + rest.split(END, 1)[1]
    else:
        text += "\n" + "\n".join(lines) + "\n"
    DOCS.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stored", type=int, default=100_000, help="downlinks to store")
    parser.add_argument("--runs", type=int, default=5, help="cold loads to take a median of")
    args = parser.parse_args(argv)
    reason = browser.missing()
    if reason is not None:
        print(reason, file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    with serve() as url, httpx.Client(base_url=url) as api:
        store_many(api, args.stored)
        in_flight = traffic(api)
        api.post("/__mock/faults", json={"method": "GET", "path": "/downlinks/*", "status": 503})
        api.get("/downlinks/anything", headers=auth("hooli"))
        with sync_playwright() as playwright:
            chromium = browser.launch(playwright)
            try:
                figures = measure(chromium, url, args.runs)
                names = shoot(chromium, url, in_flight)
            finally:
                chromium.close()
    write_figures(figures, args.stored, args.runs)
    print(f"wrote {len(names)} screenshots to {SHOTS.relative_to(REPO_ROOT)}/ and {DOCS.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
