"""The page of `symbolic serve` in a real browser: Debian's chromium driven by Playwright.

Open the page, generate a tune, see its score (an SVG with notes), play its audio (duration > 0),
download ABC, MIDI and WAV with the right content types, edit the ABC and render it again, and
see a syntax error at its line and column. A screenshot of the page goes to build/test-artifacts/,
which the README shows. Playwright never downloads a browser here: it is pointed at the
chromium that scripts/system_deps.sh installs.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the web extra is not installed: pip install -e '.[web]'")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install -e '.[dev]'")

from symbolic.web.app import create_app  # noqa: E402
from symbolic.web.server import background_server  # noqa: E402

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
# The test artifact goes to build/ (ignored); SYMBOLIC_UPDATE_SCREENSHOT=1 refreshes the README's copy.
ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ROOT / ("docs" if os.environ.get("SYMBOLIC_UPDATE_SCREENSHOT") else "build/test-artifacts") / "screenshot.png"
# Headless without a GPU; the rest stop chromium's own calls home, which a closed network refuses
# (many at a time) and which a test has no business making.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--autoplay-policy=no-user-gesture-required"]
WAIT_MS = 60_000

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                                                         "(scripts/system_deps.sh installs it; run `make system-deps`)")


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sync_api.Page]:
    with background_server(create_app()) as base_url, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1100, "height": 1300}, accept_downloads=True,
                                      base_url=base_url)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        # The 4xx answers the test provokes are logged by chromium as "Failed to load resource"; only
        # script errors count.
        page.on("console", lambda message: problems.append(message.text)
                if message.type == "error" and not message.text.startswith("Failed to load resource") else None)
        page.goto("/")
        yield page
        browser.close()
        assert not problems, f"the page reported errors: {problems}"


def test_generate_play_download_edit_and_rerender(page: sync_api.Page) -> None:
    # The form is filled from /api/options; choose a jig in D with a seed.
    page.wait_for_selector("#tune_type option[value='jig']", state="attached")
    page.select_option("#tune_type", "jig")
    page.select_option("#key", "D")
    page.fill("#seed", "11")
    page.select_option("#instrument", "flute")
    page.click("#generate")
    page.locator("article.tune[data-state='ready']").wait_for()
    card = page.locator("article.tune").first
    assert page.locator("article.tune").count() == 1

    # The score: abcm2ps's SVG, drawn by the browser, with note heads in it.
    score = card.locator("img.score")
    page.wait_for_function("() => { const s = document.querySelector('img.score');"
                           " return s && s.complete && s.naturalWidth > 0; }")
    svg = page.request.get(score.get_attribute("src") or "")
    assert svg.headers["content-type"] == "image/svg+xml"
    assert svg.text().count('xlink:href="#hd"') >= 16  # at least two notes a bar in 8 bars

    # The audio element loads the WAV and knows how long it is.
    duration = page.wait_for_function("() => { const a = document.querySelector('audio.player');"
                                      " return a && a.duration > 0 && isFinite(a.duration) ? a.duration : 0; }")
    assert float(duration.json_value()) > 5

    # Downloads: the links point into the store and answer with the right types.
    for selector, content_type, start in ((".dl-abc", "text/vnd.abc", b"X:"), (".dl-mid", "audio/midi", b"MThd"),
                                          (".dl-wav", "audio/wav", b"RIFF")):
        answer = page.request.get(card.locator(selector).get_attribute("href") or "")
        assert answer.ok and answer.headers["content-type"].startswith(content_type)
        assert answer.body().startswith(start)
    with page.expect_download() as download:
        card.locator(".dl-mid").click()
    assert download.value.suggested_filename == "tune-1.mid"

    # Edit the ABC (a new title and a new last note) and render again: score and audio change.
    old_score = score.get_attribute("src")
    textarea = card.locator("textarea.abc")
    abc = textarea.input_value()
    textarea.fill(abc.replace("T:", "T:Edited ", 1))
    card.locator("button.render").click()
    page.wait_for_function("(old) => { const s = document.querySelector('img.score');"
                           " return s.getAttribute('src') !== old && s.complete && s.naturalWidth > 0; }",
                           arg=old_score)
    assert card.locator("h2.title").inner_text().startswith("Edited ")
    page.wait_for_function("() => document.querySelector('audio.player').duration > 0")
    textarea.evaluate("element => { element.scrollTop = 0; element.blur(); }")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    # A syntax error is shown at its line and column, and the cursor is put there.
    lines = textarea.input_value().splitlines()
    body_line = next(i for i, line in enumerate(lines) if line.startswith("K:")) + 2  # 1-based, after K:
    lines[body_line - 1] = "ab}c " + lines[body_line - 1]
    textarea.fill("\n".join(lines))
    card.locator("button.render").click()
    error = page.locator("article.tune[data-state='error'] .abc-error")
    error.wait_for()
    assert error.inner_text() == f"Line {body_line}, column 3: unexpected character '}}'"
    at = page.evaluate("() => document.querySelector('textarea.abc').selectionStart")
    assert textarea.input_value()[at] == "}"


def test_bad_input_is_shown_not_thrown(page: sync_api.Page) -> None:
    page.fill("#prime", "|:GAB c}BA|")
    page.click("#generate")
    error = page.locator("#form-error")
    error.wait_for()
    assert "opening bars" in error.inner_text()
    page.fill("#prime", "")
