"""The HTML pages and the admin in a real browser: Playwright driving Debian's Chromium.

A real Daphne and a real SDK worker (the demo processes and the walking-catchments example)
serve the pages. Screenshots go to test-artifacts/browser/. Skipped where /usr/bin/chromium or
the playwright package is missing (`.ci/run` installs Chromium; Playwright never downloads a
browser of its own here).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User

from jobs.models import Job
from registry.selectors import process_list
from registry.services import credential_create
from tests.live import ROOT, DaphneServer, WorkerProcess, wait_until

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
async_api = pytest.importorskip("playwright.async_api", reason="the playwright package is not installed")
expect = async_api.expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Upper bounds of waits, never expectations of speed.
WAIT_MS = 30_000
expect.set_options(timeout=WAIT_MS)
CATCHMENTS_REQUEST = json.loads((ROOT / "examples" / "data" / "walking-catchments-request.json").read_text())


@pytest.fixture
async def browser() -> AsyncIterator[async_api.Browser]:
    # The async API: the sync one runs an event loop in the test's thread, where Django
    # refuses database calls.
    async with async_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture
def server(tmp_path) -> Iterator[DaphneServer]:
    """Daphne with a worker serving the demo processes and the walking-catchments model."""
    _, token = credential_create(name="browser-tests")
    targets = ["ums_worker.demo:worker", "examples.walking_catchments:worker"]
    with (
        DaphneServer(UMS_MEDIA_ROOT=str(tmp_path / "media")) as server,
        WorkerProcess(server, token, *targets, name="browser-tests"),
    ):
        wait_until(
            lambda: process_list().filter(pk__in=["sleep", "walking-catchments"]).count() == 2,
            30,
            "the worker's processes",
        )
        yield server


async def new_page(browser: async_api.Browser, server: DaphneServer) -> async_api.Page:
    context = await browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT_MS)
    return await context.new_page()


@pytest.fixture
async def page(browser, server) -> AsyncIterator[async_api.Page]:
    page = await new_page(browser, server)
    yield page
    await page.context.close()


async def screenshot(page: async_api.Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def progress_shown_while_running(page: async_api.Page) -> None:
    await page.wait_for_function(
        "document.querySelector('[data-ums-field=status]').textContent === 'running'"
        " && document.querySelector('progress').value > 0",
        timeout=WAIT_MS,
    )


async def test_a_job_started_from_the_form_shows_its_progress_live(page, browser, server):
    await page.goto("/processes/sleep")
    await page.fill("#input-seconds", "6")
    await page.fill("#input-steps", "6")
    await screenshot(page, "1-execute-form")
    await page.click("button[type=submit]")
    await page.wait_for_url("**/jobs/*")
    await page.evaluate("window.sameDocument = true")  # gone if the page reloads

    # A second page watches the same job with its socket refused: it polls the JSON status.
    fallback = await new_page(browser, server)
    await fallback.route_web_socket("**/ws/jobs/**", lambda socket: socket.close())
    polls: list[str] = []
    fallback.on("request", lambda request: polls.append(request.url) if "f=json" in request.url else None)
    await fallback.goto(page.url)

    await progress_shown_while_running(page)
    await expect(page.locator("[data-ums-messages] li").last).to_contain_text("of 6")
    await screenshot(page, "2-job-running")
    await progress_shown_while_running(fallback)

    await expect(page.locator("[data-ums-field=status]")).to_have_text("successful")
    await expect(page.get_by_role("link", name="Results", exact=True)).to_be_visible()
    await expect(page.locator("form[data-ums-dismiss]")).to_be_hidden()
    assert await page.locator("progress").evaluate("bar => bar.value") == 100
    assert await page.evaluate("window.sameDocument") is True
    await screenshot(page, "3-job-successful")
    await expect(fallback.locator("[data-ums-field=status]")).to_have_text("successful")
    assert polls, "the page without a socket did not poll"
    await fallback.context.close()


async def test_a_geojson_result_is_drawn_on_a_map(page):
    inputs = CATCHMENTS_REQUEST["inputs"]
    await page.goto("/processes/walking-catchments")
    await page.fill("#input-facilities", json.dumps(inputs["facilities"]))
    await page.fill("#input-homes", json.dumps(inputs["homes"]))
    await page.fill("#input-minutes", "8")
    await page.click("button[type=submit]")
    await page.wait_for_url("**/jobs/*")

    await page.get_by_role("link", name="Results", exact=True).click()

    facilities = len(inputs["facilities"]["features"])
    areas = page.locator("[data-ums-map] path.leaflet-interactive")
    await expect(areas).to_have_count(facilities)
    summary = page.locator("[data-ums-output=summary] pre")
    await expect(summary).to_contain_text(f'"facilities": {facilities}')
    download = page.get_by_role("link", name="Download catchments")
    await expect(download).to_have_attribute("download", "catchments.geojson")
    await areas.first.click()
    await expect(page.locator(".leaflet-popup-content")).to_contain_text("radius_m")
    await expect(page.locator(".leaflet-popup")).to_have_css("opacity", "1")  # faded in
    await screenshot(page, "4-results-map")


@sync_to_async
def running_job(server: DaphneServer) -> str:
    """A long sleep job, once its worker runs it."""
    response = httpx.post(
        f"{server.url}/processes/sleep/execution",
        json={"inputs": {"seconds": 100, "steps": 100}},
        headers={"Prefer": "respond-async"},
        timeout=30,
    )
    job_id = response.json()["jobID"]
    wait_until(lambda: Job.objects.filter(pk=job_id, status="running").exists(), 30, "the job to run")
    return job_id


async def test_staff_dismiss_a_running_job_in_the_admin(page, server):
    await sync_to_async(User.objects.create_superuser)("staff", password="a browser test password")
    job_id = await running_job(server)

    await page.goto("/admin/")
    await page.fill("#id_username", "staff")
    await page.fill("#id_password", "a browser test password")
    await page.click("input[type=submit]")
    await page.goto("/admin/jobs/job/?status__exact=running")
    await page.check(f"input[name=_selected_action][value='{job_id}']")
    await page.select_option("select[name=action]", "dismiss")
    await screenshot(page, "5-admin-jobs")
    await page.click("button[name=index]")

    await expect(page.locator(".messagelist")).to_contain_text("Dismissed 1 job(s).")
    assert (await sync_to_async(Job.objects.get)(pk=job_id)).status == "dismissed"
    await page.goto(f"/admin/jobs/job/{job_id}/change/")
    await expect(page.locator(".field-status")).to_contain_text("Dismissed")
    await screenshot(page, "6-admin-job-dismissed")
