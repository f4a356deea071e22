"""`synthgen preview` as typed: overlays whose masks sit exactly on the instance-mask pixels, a contact sheet
a browser shows, and bad input refused in one line with nothing written."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from synthgen.labels.model import frame_from_json
from synthgen.viz.overlay import stroke_layer
from synthgen.viz.palette import colour
from tests.browser import check_page
from tests.conftest import one_line_error, run_cli

WEIGHT = round(0.45 * 256)


def test_preview_draws_the_chosen_frames_with_exact_masks(minimal_dataset, tmp_path):
    out = tmp_path / "preview"
    result = run_cli("preview", minimal_dataset, "--frames", "0-2,5", "--out", out)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["contact.png", "frames"]
    assert sorted(p.name for p in (out / "frames").iterdir()) == ["000000.png", "000001.png", "000002.png",
                                                                  "000005.png"]
    for index in (0, 1, 2, 5):
        frame = frame_from_json(json.loads((minimal_dataset / "frames" / f"{index:06d}.json").read_text()))
        overlay = np.array(Image.open(out / "frames" / f"{index:06d}.png").convert("RGB"))
        scale = overlay.shape[0] // 72
        assert overlay.shape == (72 * scale, 96 * scale, 3) and scale > 1
        image = np.array(Image.open(minimal_dataset / "images" / f"{index:06d}.png").convert("RGB"))
        ids = np.array(Image.open(minimal_dataset / "masks" / "instance" / f"{index:06d}.png")).astype(np.int64)
        image = image.repeat(scale, 0).repeat(scale, 1).astype(np.int64)
        ids = ids.repeat(scale, 0).repeat(scale, 1)
        expected = image.copy()
        for position, instance in enumerate(frame.instances):
            on = ids == instance.instance_id
            expected[on] = (image[on] * (256 - WEIGHT) + np.array(colour(position)) * WEIGHT + 128) // 256
        _, strokes = stroke_layer(frame.instances, *overlay.shape[:2], scale, frame.keypoint_layouts)
        assert strokes.mean() < 0.25
        # off the box and name strokes, every pixel is the image, blended with its instance's colour on its mask
        assert np.array_equal(overlay[~strokes], expected[~strokes].astype(np.uint8))
        assert ((ids > 0) & ~strokes).sum() > 1000


def test_contact_sheet_and_an_overlay_show_in_a_browser(minimal_dataset, tmp_path):
    out = tmp_path / "preview"
    assert run_cli("preview", minimal_dataset, "--out", out).returncode == 0
    assert len(list((out / "frames").glob("*.png"))) == 8
    sheet = np.array(Image.open(out / "contact.png").convert("RGB"))
    assert sheet.shape[0] > 200 and sheet.shape[1] > 400
    assert check_page(out / "contact.png") == []
    assert check_page(out / "frames" / "000003.png") == []


def test_overwrite_replaces_only_the_previews(minimal_dataset, tmp_path):
    out = tmp_path / "preview"
    assert run_cli("preview", minimal_dataset, "--out", out, "--frames", "0-3").returncode == 0
    (out / "notes.txt").write_text("mine")
    refused = run_cli("preview", minimal_dataset, "--out", out, "--frames", "4")
    assert refused.returncode == 2 and "--overwrite" in refused.stderr
    assert run_cli("preview", minimal_dataset, "--out", out, "--frames", "4", "--overwrite").returncode == 0
    assert sorted(p.name for p in out.iterdir()) == ["contact.png", "frames", "notes.txt"]
    assert [p.name for p in (out / "frames").iterdir()] == ["000004.png"]


def test_bad_input_is_one_line_and_writes_nothing(minimal_dataset, tmp_path):
    out = tmp_path / "preview"
    assert "not a rendered synthgen dataset" in one_line_error(run_cli("preview", tmp_path / "nowhere", "--out", out))
    message = one_line_error(run_cli("preview", minimal_dataset, "--frames", "6-12", "--out", out))
    assert "--frames: no frames 8-12 in the dataset (it has frames 0-7)" in message
    assert "--frames" in one_line_error(run_cli("preview", minimal_dataset, "--frames", "3-", "--out", out))
    assert "invalid choice" in one_line_error(run_cli("preview", minimal_dataset, "--from", "nope", "--out", out))
    assert not out.exists()


def test_imported_labels_without_their_images_are_refused(minimal_dataset, tmp_path):
    exported = tmp_path / "export"
    assert run_cli("export", minimal_dataset, "--format", "coco", "--out", exported).returncode == 0
    out = tmp_path / "preview"
    assert run_cli("preview", exported / "coco", "--from", "coco", "--frames", "1", "--out", out).returncode == 0
    assert (out / "frames" / "000001.png").is_file()
    for image in (exported / "coco" / "images").iterdir():
        image.unlink()
    message = one_line_error(run_cli("preview", exported / "coco", "--from", "coco", "--out", tmp_path / "p2"))
    assert "image file not found" in message
    assert not (tmp_path / "p2").exists()
