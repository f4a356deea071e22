"""Scene features beyond the minimal scene: point lights, a sky, floating objects, a labelled ground."""

from __future__ import annotations

import numpy as np
import pytest

from synthgen.config.load import load_scene_config
from synthgen.scene.build import build_scene
from tests.conftest import load_frame, run_cli
from tests.test_labels import read_png

SCENE = """
render: {samples: 2}
camera: {resolution: [64, 48], fov: 60, position: [0, -3, 2], look_at: [0, 0, 0.3]}
world: {sky: {sun_elevation: 30, sun_rotation: 45, strength: 0.05}}
lights:
  - {type: point, energy: 200, position: [1, -1, 2], size: 0.2}
ground: {size: 8, category: floor, material: {color: [0.3, 0.3, 0.3]}}
objects:
  - {category: box, shape: cube, scale: 0.5, position: [0.5, 0, 0]}
  - {category: drone, shape: sphere, scale: 0.3, placement: float, position: [-0.6, 0, {uniform: [0.8, 1.2]}]}
  - {category: sheet, shape: plane, scale: 0.6, placement: float, position: [0, 0.8, 0.5], rotation: [70, 0, 0]}
"""


@pytest.fixture(scope="module")
def featured(tmp_path_factory):
    root = tmp_path_factory.mktemp("features")
    (root / "scene.yaml").write_text(SCENE)
    return root


def test_floating_objects_keep_their_height(featured):
    config = load_scene_config(featured / "scene.yaml").config
    for frame in range(5):
        scene = build_scene(config, 0, frame)
        drone = next(i for i in scene.instances if i.category == "drone")
        assert 0.8 <= drone.translation[2] <= 1.2
        box = next(i for i in scene.instances if i.category == "box")
        assert box.world_vertices()[:, 2].min() == pytest.approx(0.0, abs=1e-9)


def test_labelled_ground_sky_and_point_light_render(featured):
    out = featured / "out"
    run_cli("render", featured / "scene.yaml", "--out", out, "-n", 1, check=True)
    frame = load_frame(out, 0)
    assert frame["categories"] == ["box", "drone", "sheet", "floor"]
    floor = next(i for i in frame["instances"] if i["category"] == "floor")
    mask = read_png(out / "masks" / "instance" / "000000.png")
    semantic = read_png(out / "masks" / "semantic" / "000000.png")
    assert floor["id"] == 4 and floor["visible_pixels"] == (mask == 4).sum() > 0
    assert np.all(semantic[mask == 4] == 4)
    assert (mask == 0).sum() > 0  # the sky above the floor's far edge is background
    for instance in frame["instances"]:
        assert instance["visible_pixels"] > 0, instance["category"]
    image = read_png(out / "images" / "000000.png").astype(np.float64)
    assert image.mean() > 10
    # the sky shows where nothing is, and the point light lights the floor: each, switched off, darkens its part
    for off, where, margin in (("world.sky.strength=0", mask == 0, 20.0), ("lights.0.energy=0", mask == 4, 5.0)):
        dark = featured / off.split("=")[0]
        run_cli("render", featured / "scene.yaml", "--out", dark, "-n", 1, "--set", off, check=True)
        darker = read_png(dark / "images" / "000000.png").astype(np.float64)
        assert np.array_equal(read_png(dark / "masks" / "instance" / "000000.png"), mask)  # labels do not change
        assert image[where].mean() > darker[where].mean() + margin, (off, image[where].mean(), darker[where].mean())
