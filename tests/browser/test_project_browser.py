"""The Project page in Debian's chromium: a GoPro chapter folder is named, joined and used."""

from __future__ import annotations

import hashlib
from pathlib import Path

import av
import pytest

from mtbsync_core.testing.chapters import split_at_keyframes

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _frame_hashes(path: Path) -> list[str]:
    with av.open(str(path)) as c:
        return [hashlib.blake2s(f.to_ndarray().tobytes()).hexdigest() for f in c.decode(video=0)]


def test_chapter_folder_on_the_project_page(app_server, browser, sample_clips, tmp_path):
    card = tmp_path / "card" / "DCIM" / "100GOPRO"
    parts = split_at_keyframes(sample_clips / "ref.mp4", card, chapters=3, number=7)
    assert len(parts) == 3
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    page.goto(app_server.base + "/project")
    page.get_by_label("New project name").fill("chapters")
    page.get_by_role("button", name="Create project").click()
    page.locator('[data-testid="stSidebar"]', has_text="chapters").wait_for()

    # the first such field is the reference run's
    field = page.get_by_role("textbox", name="Video path on this computer").first
    field.fill(str(parts[1]))
    field.press("Enter")  # a single chapter of a longer recording is named as such
    page.get_by_text("one of 3 chapters of recording GH-0007").wait_for()

    field.fill(str(card))
    field.press("Enter")
    page.get_by_role("button", name="Use this file or chapter folder").first.click()
    caption = page.locator('[data-testid="stCaptionContainer"]', has_text="GH-0007_")
    caption.wait_for(timeout=120_000)
    text = caption.inner_text()
    joined = Path(text.split("`")[1] if "`" in text else text.split(" · ")[0].strip())
    assert joined.name.startswith("GH-0007_") and joined.parent.name == "chapters"
    assert _frame_hashes(joined) == _frame_hashes(sample_clips / "ref.mp4")  # none lost or doubled
    assert sorted(p.name for p in card.iterdir()) == [p.name for p in parts]  # the card is kept
    page.close()
