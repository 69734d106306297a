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


def open_tab(page, name: str) -> None:
    """Click a tab, through the "More tabs" menu where the screen is too narrow to show them all."""
    page.get_by_role("tab").first.wait_for(timeout=60_000)  # the tab bar is drawn
    tab = page.get_by_role("tab", name=name)
    if not tab.count():
        page.get_by_role("button", name="More tabs").click(timeout=60_000)
        tab = page.locator(".overflow-dropdown button", has_text=name)
    tab.first.click(timeout=60_000)


# Every digit a gallery shows, whole: inside the gallery's box and as square as the image.
CUT_DIGITS = """() => {
    const cut = [];
    for (const gallery of document.querySelectorAll('.digit-gallery')) {
        const box = gallery.getBoundingClientRect();
        for (const img of gallery.querySelectorAll('img')) {
            const r = img.getBoundingClientRect();
            if (!r.width || !img.complete || !img.naturalWidth) continue;
            const squashed = Math.abs(r.width / r.height - img.naturalWidth / img.naturalHeight) > 0.05;
            if (r.left < box.left - 1 || r.right > box.right + 1 || squashed) cut.push(img.src.slice(-24));
        }
    }
    return cut;
}"""


@pytest.mark.parametrize("width, height", [(1366, 768), (1920, 1080), (390, 844)], ids=["laptop", "wide", "phone"])
def test_digit_galleries_show_every_digit_whole(app_url, width, height):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(app_url, wait_until="load")
            for tab in ("Unconditional", "What D learned", "Conditional digits", "InfoGAN attributes"):
                open_tab(page, tab)
                page.get_by_role("tabpanel").get_by_role("button", name="Generate").first.click(timeout=60_000)
                page.wait_for_function(  # sixteen digits shown
                    "() => [...document.querySelectorAll('.digit-gallery img')]"
                    ".filter(i => i.complete && i.naturalWidth && i.getBoundingClientRect().width).length >= 16",
                    timeout=60_000,
                )
                assert page.evaluate(CUT_DIGITS) == [], f"{tab} at {width} px cuts digits"
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


def test_a_digit_drawn_with_the_mouse_is_read(page, tmp_path):
    open_tab(page, "What D learned")
    page.get_by_role("button", name="Brush").click(timeout=60_000)  # as a visitor picks the brush first
    canvas = page.locator("canvas").first
    canvas.wait_for(timeout=60_000)
    box = canvas.bounding_box()
    x, top, bottom = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.2, box["y"] + box["height"] * 0.8
    page.mouse.move(x, top)
    page.mouse.down()
    for i in range(1, 21):  # a vertical stroke: a "1"
        page.mouse.move(x, top + (bottom - top) * i / 20)
    page.mouse.up()
    page.get_by_role("button", name="Read the drawing").click(timeout=60_000)
    page.wait_for_function("() => document.body.innerText.includes('Ink found')", timeout=60_000)
    page.screenshot(path=str(tmp_path.parent / "what-d-learned.png"), full_page=True)
    text = page.locator("table").filter(has_text="reads").inner_text()
    assert text.count("\t1\t") >= 2, text  # most readers see a one


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
