"""Contact sheets, plots, HTML pages and frame selections, each on its own."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from synthgen.errors import UserError
from synthgen.viz import html, plots
from synthgen.viz.images import data_uri, encode_png
from synthgen.viz.select import parse_spec, ranges, select
from synthgen.viz.sheet import contact_sheet


def decode(png: bytes) -> np.ndarray:
    return np.array(Image.open(io.BytesIO(png)).convert("RGB"))


def near(pixels: np.ndarray, hex_colour: str, tolerance: int = 6) -> int:
    target = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(pixels.astype(int) - target).max(axis=2) <= tolerance).sum())


def test_contact_sheet_holds_every_image():
    tints = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)]
    images = [np.full((30, 40, 3), t, np.uint8) for t in tints]
    sheet = contact_sheet(images, [f"frame {i}" for i in range(5)], columns=3, side=80)
    assert sheet.shape[1] == 3 * (80 + 4) + 4
    for tint in tints:  # each thumbnail, 80 x 60, whole
        assert (sheet == tint).all(axis=2).sum() == 80 * 60


def test_plots_are_pngs_with_both_series():
    one = decode(plots.histogram([0, 1, 2, 3], {"a": [1, 5, 2]}, "t", "x"))
    assert one.shape == (360, 640, 3) and len(np.unique(one.reshape(-1, 3), axis=0)) > 10
    two = decode(plots.histogram([0, 1, 2, 3], {"a": [1, 5, 2], "b": [3, 1, 0]}, "t", "x"))
    bars = decode(plots.bar_chart(["cube", "ball"], {"a": [3, 4], "b": [1, 2]}, "classes"))
    for picture in (two, bars):
        assert near(picture, "#1f77b4") > 50 and near(picture, "#ff7f0e") > 50
    heat = decode(plots.heatmap({"a": np.eye(4), "b": np.ones((4, 4))}, "centres"))
    assert heat.shape[1] > heat.shape[0] and len(np.unique(heat.reshape(-1, 3), axis=0)) > 10


def test_html_escapes_text_and_embeds_only_data_uris():
    text = html.page("<title>", [html.table(["<b>"], [["<script>alert(1)</script>", 3, 0.5, None]]),
                                 html.image(encode_png(np.zeros((2, 2, 3), np.uint8)), "a", "c & d")])
    assert "<script>" not in text and "&lt;script&gt;" in text and "c &amp; d" in text
    assert 'src="data:image/png;base64,' in text and "Content-Security-Policy" in text
    assert "<td class=n>3</td><td class=n>0.5</td><td></td>" in text
    with pytest.raises(ValueError):
        html.image("https://example.org/a.png", "remote")
    assert data_uri(b"\x00\x01").startswith("data:image/png;base64,AAE")


def test_frame_selections():
    assert parse_spec("0-3,15, 2,7-7") == [0, 1, 2, 3, 15, 7]
    assert ranges([5, 0, 1, 2, 9, 10]) == "0-2,5,9-10"
    assert select([10, 11, 12, 20], "20,10-11") == [0, 1, 3]
    assert select([10, 11], None) == [0, 1]
    for spec, message in (("3-1", "runs backwards"), ("a", "expected"), ("", "expected"), ("1,,2", "expected"),
                          ("-1", "expected"), ("9-12", "no frame 12 in"), ("11-13", "no frames 12-13 in")):
        with pytest.raises(UserError, match=message):
            select(list(range(12)), spec)
