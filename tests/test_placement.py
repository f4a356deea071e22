"""Placement decided by geometry: oriented footprints and height ranges, fixed poses never dropped."""

from __future__ import annotations

import numpy as np
import pytest

from synthgen.config.load import load_scene_config
from synthgen.errors import UserError
from synthgen.scene.build import build_scene
from synthgen.scene.placement import Footprints, convex_hull, posed_box_corners
from synthgen.scene.poses import euler_xyz_degrees
from tests.conftest import run_cli


def _write(tmp_path, text: str):
    path = tmp_path / "scene.yaml"
    path.write_text(text)
    return path


def _gap_along_x(a, b) -> float:
    """Distance between two meshes' vertex sets along x (positive: apart)."""
    return max(b[:, 0].min() - a[:, 0].max(), a[:, 0].min() - b[:, 0].max())


def test_two_fixed_cars_0_3_m_apart_both_stand(tmp_path):
    path = _write(tmp_path, """
camera: {resolution: [64, 48], position: [0, -12, 3], look_at: [0, 0, 0.7]}
objects:
  - {category: car, shape: cube, scale: [4.5, 1.8, 1.45], position: [0, 0, 0], placement: fixed}
  - {category: car, shape: cube, scale: [4.5, 1.8, 1.45], position: [4.8, 0, 0], placement: fixed}
""")
    scene = build_scene(load_scene_config(path).config, 0, 0)
    assert len(scene.instances) == 2 and scene.dropped == 0
    a, b = (i.world_vertices() for i in scene.instances)
    assert _gap_along_x(a, b) == pytest.approx(0.3)
    assert a[:, 2].min() == pytest.approx(0.0) and b[:, 2].min() == pytest.approx(0.0)


def test_overlapping_fixed_poses_are_an_error_or_allowed_explicitly(tmp_path):
    text = """
objects:
  - {category: car, shape: cube, scale: [4.5, 1.8, 1.45], position: [0, 0, 0], placement: fixed}
  - {category: car, shape: cube, scale: [4.5, 1.8, 1.45], position: [4.0, 0, 0], placement: fixed%s}
"""
    with pytest.raises(UserError, match=r"objects\.1: a copy placed at its fixed pose overlaps"):
        build_scene(load_scene_config(_write(tmp_path, text % "")).config, 0, 0)
    scene = build_scene(load_scene_config(_write(tmp_path, text % ", overlap: allow")).config, 0, 0)
    assert len(scene.instances) == 2


def test_overlapping_fixed_poses_fail_the_cli_in_one_line_and_write_nothing(tmp_path):
    path = _write(tmp_path, """
camera: {resolution: [32, 24]}
objects:
  - {category: a, shape: cube, position: [0, 0, 0], placement: fixed}
  - {category: b, shape: cube, position: [0.5, 0, 0], placement: fixed}
""")
    result = run_cli("render", path, "--out", tmp_path / "out", "-n", 1)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "frames").exists() or not any((tmp_path / "out" / "frames").iterdir())


def test_turned_footprints_may_share_a_bounding_box():
    """Two long boxes turned 45 degrees, side by side: their world boxes overlap, their volumes do not."""
    turned = euler_xyz_degrees([0, 0, 45])
    bounds = np.array([[-0.5, -0.5, -0.5], [0.5, 0.5, 0.5]])
    scale = np.array([4.0, 0.5, 1.0])
    first = posed_box_corners(bounds, scale, turned, np.array([0.0, 0.0, 0.5]))
    beside = posed_box_corners(bounds, scale, turned, np.array([-0.6, 0.6, 0.5]))  # 0.85 m across the long axis
    lo = np.maximum(first.min(axis=0), beside.min(axis=0))
    hi = np.minimum(first.max(axis=0), beside.max(axis=0))
    assert np.all(lo < hi)  # the axis-aligned boxes overlap
    footprints = Footprints()
    footprints.add(first)
    assert not footprints.collides(beside)
    crossing = posed_box_corners(bounds, scale, euler_xyz_degrees([0, 0, -45]), np.array([0.0, 0.0, 0.5]))
    assert footprints.collides(crossing)


def test_objects_may_rest_on_others():
    bounds = np.array([[-0.5, -0.5, -0.5], [0.5, 0.5, 0.5]])
    footprints = Footprints()
    footprints.add(posed_box_corners(bounds, np.ones(3), np.eye(3), np.array([0.0, 0.0, 0.5])))
    on_top = posed_box_corners(bounds, np.full(3, 0.5), np.eye(3), np.array([0.1, 0.0, 1.25]))
    sunk = posed_box_corners(bounds, np.full(3, 0.5), np.eye(3), np.array([0.1, 0.0, 1.2]))
    assert not footprints.collides(on_top) and footprints.collides(sunk)


def test_random_copies_never_interpenetrate(tmp_path):
    """Crowded random placement: every pair of placed boxes is separated in plan or in height."""
    path = _write(tmp_path, """
objects:
  - {category: crate, shape: cube, count: 40, scale: [{uniform: [0.2, 0.6]}, {uniform: [0.2, 0.6]}, 0.4],
     position: {uniform: [[-2, -2, 0], [2, 2, 0]]}}
""")
    config = load_scene_config(path).config
    for frame in range(3):
        scene = build_scene(config, 0, frame)
        corners = [posed_box_corners(i.mesh.bounds, i.scale, i.rotation, i.translation) for i in scene.instances]
        for k, mine in enumerate(corners):
            others = Footprints()
            for j, theirs in enumerate(corners):
                if j != k:
                    others.add(theirs)
            assert not others.collides(mine)
        assert len(scene.instances) + scene.dropped == 40 and len(scene.instances) > 20


def test_convex_hull_of_a_turned_rectangle_is_its_four_corners():
    corners = posed_box_corners(np.array([[-1, -0.5, 0], [1, 0.5, 1]]), np.ones(3), euler_xyz_degrees([0, 0, 30]),
                                np.zeros(3))
    hull = convex_hull(corners[:, :2])
    assert len(hull) == 4
    area = 0.5 * abs(np.dot(hull[:, 0], np.roll(hull[:, 1], -1)) - np.dot(hull[:, 1], np.roll(hull[:, 0], -1)))
    assert area == pytest.approx(2.0)


def test_an_upright_box_footprint_is_its_turned_rectangle_in_counter_clockwise_order():
    from synthgen.scene.placement import footprint

    for yaw in (0, 30, 90, 200, -45):
        corners = posed_box_corners(np.array([[-2, -1, 0], [2, 1, 1.5]]), np.ones(3), euler_xyz_degrees([0, 0, yaw]),
                                    np.array([3.0, -1.0, 0.0]))
        quick = footprint(corners)
        hull = convex_hull(corners[:, :2])
        assert len(quick) == 4
        signed = 0.5 * (np.dot(quick[:, 0], np.roll(quick[:, 1], -1)) - np.dot(quick[:, 1], np.roll(quick[:, 0], -1)))
        assert signed == pytest.approx(8.0)  # positive: counter-clockwise, and the rectangle's area
        assert {tuple(np.round(p, 9)) for p in quick} == {tuple(np.round(p, 9)) for p in hull}


def test_a_flat_object_still_collides():
    """A plane stood on its edge has a footprint of zero width: it must still collide with what it crosses."""
    bounds = np.array([[-0.5, -0.5, 0.0], [0.5, 0.5, 0.0]])  # a plane's bounds
    standing = posed_box_corners(bounds, np.ones(3), euler_xyz_degrees([90, 0, 0]), np.array([0.0, 0.0, 0.5]))
    cube = posed_box_corners(np.array([[-0.5, -0.5, -0.5], [0.5, 0.5, 0.5]]), np.ones(3), np.eye(3),
                             np.array([0.2, 0.0, 0.5]))
    for first, second in ((standing, cube), (cube, standing)):
        footprints = Footprints()
        footprints.add(first)
        assert footprints.collides(second)
    beside = Footprints()
    beside.add(standing)
    assert not beside.collides(cube + np.array([0.0, 0.6, 0.0]))  # 0.1 m clear of the plane
