"""The browser check itself: it passes a sound page and names each kind of broken one."""

from __future__ import annotations

import numpy as np

from synthgen.viz import html
from synthgen.viz.images import data_uri, encode_png
from tests.browser import check_page

NOISE = encode_png(np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8))
BLANK = encode_png(np.full((20, 30, 3), 200, np.uint8))


def test_a_sound_page_has_no_problems(tmp_path):
    page = tmp_path / "ok.html"
    html.write_page(page, "ok", [html.table(["a"], [[1]]), html.image(NOISE, "noise")])
    assert check_page(page) == []


def test_each_broken_thing_is_named(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><head><link rel=icon href='data:,'></head><body>"
                    f"<img alt=blank src='{data_uri(BLANK)}'>"
                    "<img alt=broken src='data:image/png;base64,iVBORw0KGgoAAAAN'>"
                    "<img alt=remote src='https://example.invalid/a.png'>"
                    "<script>console.error('boom'); undefinedFunction();</script></body></html>")
    problems = "\n".join(check_page(page))
    assert "<img> 0 (blank) is a single colour" in problems
    assert "<img> 1 (broken) does not decode" in problems
    assert "request leaves the page: https://example.invalid/a.png" in problems
    assert "console error: boom" in problems
    assert "uncaught exception" in problems and "undefinedFunction" in problems
    assert "<img> 0 in the HTML: a single colour" in problems  # the Python decode agrees
    assert "<img> 1 in the HTML: does not decode" in problems


def test_an_image_file_is_checked_too(tmp_path):
    (tmp_path / "noise.png").write_bytes(NOISE)
    (tmp_path / "blank.png").write_bytes(BLANK)
    assert check_page(tmp_path / "noise.png") == []
    assert any("single colour" in p for p in check_page(tmp_path / "blank.png"))
