"""Real-browser checks: headless Chromium opens the app, generates digits and plays the theory lab."""

import shutil
import time

import pytest

from ganapps.ui.theory import TICK_SECONDS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")


@pytest.fixture
def page(app_url):
    """A fresh headless Chromium page with the app loaded."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page()
            page.goto(app_url, wait_until="load")
            yield page
        finally:
            browser.close()


def test_conditional_tab_shows_generated_digits(page, tmp_path):
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Conditional digits").click(timeout=60_000)
    panel = page.get_by_role("tabpanel")
    panel.get_by_role("button", name="Generate").click()
    images = panel.locator("[data-testid='gallery'] img, .gallery img, button img")
    expect(images.first).to_be_visible(timeout=60_000)
    # The 28x28 digits are served 4x enlarged: wait until sixteen such images have loaded.
    page.wait_for_function(
        "() => [...document.querySelectorAll('img')].filter(i => i.complete && i.naturalWidth === 112).length >= 16",
        timeout=60_000,
    )
    page.screenshot(path=str(tmp_path.parent / "conditional.png"))


STEP_SHOWN = """() => {
    const cell = [...document.querySelectorAll('td')].find(td => td.innerText.trim() === 'step');
    return cell ? Number(cell.nextElementSibling.innerText) : -1;
}"""


def test_theory_lab_plays_frame_by_frame_until_paused(page):
    page.get_by_role("button", name="▶ Play").click(timeout=60_000)
    # The page's timer asks for frames: the step count climbs over several of them.
    page.wait_for_function(f"() => ({STEP_SHOWN})() >= 10", timeout=60_000)
    first = page.evaluate(STEP_SHOWN)
    page.wait_for_function(f"() => ({STEP_SHOWN})() > {first}", timeout=60_000)
    page.get_by_role("button", name="⏸ Pause").click()
    # A frame already asked for may still arrive; then the step count stops: it keeps one value for
    # several timer periods. While the timer runs it never does, and this times out.
    settled(lambda: page.evaluate(STEP_SHOWN), quiet=4 * TICK_SECONDS, timeout=60)


def settled(read, *, quiet: float, timeout: float):
    """Poll ``read()`` until it has returned one value for ``quiet`` seconds; that value (TimeoutError: never)."""
    deadline = time.monotonic() + timeout
    value, since = read(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(quiet / 8)
        now = read()
        if now != value:
            value, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return value
    raise TimeoutError(f"still changing after {timeout} s (last {value!r})")
