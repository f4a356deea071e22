"""Visibility, truncation and amodal boxes of a real render against trimesh ray casts, in the hard cases:
a labelled ground plane crossing the camera plane, an object cut by the near plane, objects cut by each
image edge, and a crowded frame."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import load_frame, run_cli
from tests.raycast import boundary, cast_objects
from tests.test_labels import camera, geometry, read_png

W, H, NEAR = 64, 48, 0.05
SCENE = f"""
render: {{quality: draft}}
camera: {{resolution: [{W}, {H}], fov: 60, position: [0, -5, 1.5], look_at: [0, 0, 1.2], clip_start: {NEAR}}}
ground: {{size: 30, category: road}}
objects:
  - {{category: left, shape: cube, scale: 1.2, placement: float, position: [-3.1, 0, 1.2], rotation: [30, 40, 0]}}
  - {{category: right, shape: sphere, scale: 1.4, placement: float, position: [3.2, 0, 1.4]}}
  - {{category: top, shape: torus, scale: 1.5, placement: float, position: [0.3, 0, 3.1], rotation: [75, 0, 0]}}
  - {{category: bottom, shape: cylinder, scale: [0.8, 0.8, 0.6], position: [0.9, -2.6, 0]}}
  - {{category: near, shape: cube, scale: [0.4, 1.0, 0.1], placement: float, position: [-0.1, -4.7, 1.15], rotation: [0, 0, 0]}}
  - category: crowd
    shape: cone
    count: 6
    scale: {{uniform: [0.3, 0.6]}}
    position: {{uniform: [[-1.5, -1, 0], [1.5, 2, 0]]}}
  - category: crowd
    shape: torus
    count: 6
    scale: {{uniform: [0.3, 0.6]}}
    rotation: [{{uniform: [0, 90]}}, 0, 0]
    position: {{uniform: [[-1.5, -1, 0], [1.5, 2, 0]]}}
"""
SPREAD = 4  # the extended ray-cast window is SPREAD times the image on each side


@pytest.fixture(scope="module")
def hard_frame(tmp_path_factory):
    root = tmp_path_factory.mktemp("hard")
    (root / "scene.yaml").write_text(SCENE)
    out = root / "out"
    run_cli("render", root / "scene.yaml", "--out", out, "-n", 1, "--save-geometry", "--no-progress", check=True)
    frame = load_frame(out, 0)
    K, cam_to_world, width, height = camera(frame)
    meshes = geometry(out, 0)
    mask = read_png(out / "masks" / "instance" / "000000.png")
    alone = {}
    for instance in frame["instances"]:
        ids, _ = cast_objects({1: meshes[instance["id"]]}, K, cam_to_world, (2 * SPREAD + 1) * W,
                              (2 * SPREAD + 1) * H, -SPREAD * W, -SPREAD * H, near=NEAR)
        alone[instance["id"]] = ids == 1
    return frame, mask, alone


def test_the_frame_holds_every_hard_case(hard_frame):
    frame, _, alone = hard_frame
    by_category = {i["category"]: i for i in frame["instances"]}
    assert {"left", "right", "top", "bottom", "near", "road"} <= set(by_category)
    assert sum(i["category"] == "crowd" for i in frame["instances"]) >= 8
    for side in ("left", "right", "top", "bottom"):
        assert 0.05 < by_category[side]["truncation"] < 0.95, side
    for name in ("left", "right", "top", "bottom", "near", "road"):
        assert by_category[name]["visible_pixels"] > 0, name
    assert by_category["road"]["truncation"] > 0.999  # billions of pixels behind and beside the image
    x, y, w, h = by_category["near"]["bbox_amodal_unclipped"]
    assert w > 5 * W and h > 5 * H  # the near plane cuts it a few centimetres from the camera
    assert by_category["near"]["truncation"] > 0.9


def test_visibility_against_ray_casts_of_each_object_alone(hard_frame):
    frame, mask, alone = hard_frame
    for instance in frame["instances"]:
        own = alone[instance["id"]][SPREAD * H:(SPREAD + 1) * H, SPREAD * W:(SPREAD + 1) * W]
        if own.sum() < 20:
            continue
        expected = instance["visible_pixels"] / own.sum()
        edge = boundary(own.astype(int)).sum()
        assert instance["visibility"] == pytest.approx(expected, abs=edge / own.sum() + 1e-6), instance["category"]
        assert np.all(own[mask == instance["id"]] | boundary(own.astype(int))[mask == instance["id"]])


def test_truncation_and_amodal_boxes_against_ray_casts(hard_frame):
    frame, _, alone = hard_frame
    checked = 0
    for instance in frame["instances"]:
        hits = alone[instance["id"]]
        inside = hits[SPREAD * H:(SPREAD + 1) * H, SPREAD * W:(SPREAD + 1) * W].sum()
        whole = hits.sum()
        fits = not (hits[[0, -1], :].any() or hits[:, [0, -1]].any())  # the window holds all of it
        edge = boundary(hits.astype(int)).sum()
        if fits and whole >= 10:
            expected = 1 - inside / whole
            assert instance["truncation"] == pytest.approx(expected, abs=edge / whole + 1e-6), instance["category"]
            checked += 1
        elif whole:  # the projection is larger than the window: the window gives a lower bound
            assert instance["truncation"] >= 1 - inside / max(whole - edge, 1) - 1e-6, instance["category"]
        # the unclipped amodal box holds every hit pixel centre, tightly when the window holds all of it
        if whole:
            rows, cols = np.nonzero(hits)
            u, v = cols - SPREAD * W + 0.5, rows - SPREAD * H + 0.5
            x, y, w, h = instance["bbox_amodal_unclipped"]
            assert x <= u.min() and y <= v.min() and x + w >= u.max() and y + h >= v.max(), instance["category"]
            if fits:
                # a corner can poke past the last covered centre, but not far at this size
                assert u.min() - x <= 2 and v.min() - y <= 2, instance["category"]
                assert x + w - u.max() <= 2 and y + h - v.max() <= 2, instance["category"]
                cx, cy, cw, ch = instance["bbox_amodal"]
                assert (cx, cy) == (max(x, 0), max(y, 0)), instance["category"]
                assert cx + cw == pytest.approx(min(x + w, W)) and cy + ch == pytest.approx(min(y + h, H))
    assert checked >= 8
