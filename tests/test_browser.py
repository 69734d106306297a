"""Real-browser checks: headless Chromium opens the app, generates digits and plays the theory lab."""

import base64
import shutil

import pytest

import ganapps
from ganapps.ui.theory import TICK_SECONDS

pytestmark = pytest.mark.slow  # the launched app in Chromium: `pytest -m "not slow"` leaves it out while you work
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")

# The theory lab's gr.Timer asks for frames with setInterval while it is active and clears it when paused.
# The page keeps count of those intervals (window.tickTimers: the ones running; window.ticks: how many frames they
# asked for), so that a test waits on what the page does rather than on the clock.
COUNT_TICK_TIMERS = f"""(() => {{
    const set = window.setInterval, clear = window.clearInterval, running = new Set();
    window.tickTimers = running;
    window.ticks = 0;
    window.setInterval = function (callback, delay, ...rest) {{
        if (typeof callback !== 'function' || delay !== {round(TICK_SECONDS * 1000)} || !String(callback).includes('tick')) {{
            return set.call(this, callback, delay, ...rest);
        }}
        const id = set.call(this, function () {{ window.ticks += 1; return callback.apply(this, arguments); }}, delay, ...rest);
        running.add(id);
        return id;
    }};
    window.clearInterval = function (id) {{ running.delete(id); return clear.call(this, id); }};
}})();"""


@pytest.fixture
def page(app_url):
    """A fresh headless Chromium page with the app loaded (and its tick timers counted)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page()
            page.add_init_script(COUNT_TICK_TIMERS)
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


# The digits a gallery shows (served 4x enlarged: 112 pixels wide), once each.
SHOWN_DIGITS = """() => [...new Set([...document.querySelectorAll('.digit-gallery img')]
    .filter(i => i.complete && i.naturalWidth === 112).map(i => i.src))]"""


def test_conditional_tab_shows_sixteen_different_hands_of_the_digit_asked_for(page, tmp_path):
    open_tab(page, "Conditional digits")
    page.get_by_role("tabpanel").get_by_role("button", name="Generate").first.click(timeout=60_000)
    page.wait_for_function(f"() => ({SHOWN_DIGITS})().length >= 16", timeout=60_000)
    page.screenshot(path=str(tmp_path.parent / "conditional.png"))
    sources = page.evaluate(SHOWN_DIGITS)
    files = [base64.b64decode(src.partition(",")[2]) if src.startswith("data:") else page.request.get(src).body()
             for src in sources]
    assert len(files) == 16 and len(set(files)) == 16  # the slider's default count, each a different hand
    read = [reading.digit for reading in ganapps.classify(files, model="mnist-classifier")]
    assert read.count(7) >= 15, read  # the tab asks for a 7 by default; the classifier reads cgan-mnist's 99% right


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
    const cell = [...document.querySelectorAll('td')].find(td => td.innerText.trim().startsWith('step (D / G updates)'));
    return cell ? parseInt(cell.nextElementSibling.innerText) : -1;
}"""
UPDATES_SHOWN = """() => {
    const cell = [...document.querySelectorAll('td')].find(td => td.innerText.trim().startsWith('step (D / G updates)'));
    return cell ? cell.nextElementSibling.innerText.trim() : '';
}"""


def test_theory_lab_trains_on_a_drawing_and_steps_each_player_by_hand(page, tmp_path):
    open_tab(page, "Theory lab")
    page.get_by_text("Draw the data").click(timeout=60_000)
    page.get_by_role("button", name="Brush").last.click(timeout=60_000)
    canvas = page.locator("canvas").last
    canvas.wait_for(timeout=60_000)
    box = canvas.bounding_box()
    left, right, y = box["x"] + box["width"] * 0.25, box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.5
    page.mouse.move(left, y)
    page.mouse.down()
    for i in range(1, 21):  # a horizontal stroke across the middle: data along y = 0
        page.mouse.move(left + (right - left) * i / 20, y)
    page.mouse.up()
    page.get_by_role("button", name="Train on my drawing").click(timeout=60_000)
    page.wait_for_function(f"() => ({UPDATES_SHOWN})() === '0 (0 / 0)'", timeout=60_000)
    page.get_by_role("button", name="Step D").click(timeout=60_000)
    page.wait_for_function(f"() => ({UPDATES_SHOWN})() === '0 (1 / 0)'", timeout=60_000)
    page.get_by_role("button", name="Step G").click(timeout=60_000)
    page.wait_for_function(f"() => ({UPDATES_SHOWN})() === '0 (1 / 1)'", timeout=60_000)
    page.screenshot(path=str(tmp_path.parent / "theory-lab-drawing.png"), full_page=True)
    page.get_by_role("button", name="Reset", exact=True).click(timeout=60_000)  # keeps the drawing: no error, counters at 0
    page.wait_for_function(f"() => ({UPDATES_SHOWN})() === '0 (0 / 0)'", timeout=60_000)
    assert "there is no drawing yet" not in page.inner_text("body")


def test_theory_lab_plays_frame_by_frame_until_paused(page):
    assert page.evaluate("() => window.tickTimers.size") == 0  # nothing plays before Play
    page.get_by_role("button", name="▶ Play").click(timeout=60_000)
    page.wait_for_function("() => window.tickTimers.size === 1", timeout=60_000)  # one timer asks for frames
    # The step count climbs over several frames: each comes from a tick of that timer.
    page.wait_for_function(f"() => ({STEP_SHOWN})() >= 10 && window.ticks >= 2", timeout=60_000)
    first = page.evaluate(STEP_SHOWN)
    page.wait_for_function(f"() => ({STEP_SHOWN})() > {first}", timeout=60_000)
    page.get_by_role("button", name="⏸ Pause").click()
    # Pause clears the timer: no frame is asked for after it (one already asked for may still arrive).
    page.wait_for_function("() => window.tickTimers.size === 0", timeout=60_000)
    asked = page.evaluate("() => window.ticks")
    page.get_by_role("button", name="▶ Play").click(timeout=60_000)  # and Play starts it again
    page.wait_for_function(f"() => window.tickTimers.size === 1 && window.ticks > {asked}", timeout=60_000)
    page.get_by_role("button", name="⏸ Pause").click()
    page.wait_for_function("() => window.tickTimers.size === 0", timeout=60_000)
