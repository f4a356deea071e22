"""Near-plane clipping against a plain Sutherland-Hodgman clip of each triangle: the pieces cover the
same area, keep the triangle's facing, lie in front of the plane and carry their triangle's owner."""

from __future__ import annotations

import numpy as np
import pytest

from synthgen.labels.projection import clip_near, project
from synthgen.scene.poses import intrinsics

NEAR = 0.5


def clipped_polygon(triangle: np.ndarray, near: float) -> list[np.ndarray]:
    """The part of the triangle with z >= near, as a polygon (Sutherland-Hodgman against one plane)."""
    out = []
    for k in range(3):
        a, b = triangle[k], triangle[(k + 1) % 3]
        a_in, b_in = a[2] >= near, b[2] >= near
        if a_in:
            out.append(a)
        if a_in != b_in:
            out.append(a + (near - a[2]) / (b[2] - a[2]) * (b - a))
    return out


def vector_area(polygon) -> np.ndarray:
    """Half the sum of edge cross products: its length is the area, its direction the facing."""
    if len(polygon) < 3:
        return np.zeros(3)
    p = np.asarray(polygon)
    return 0.5 * np.cross(p, np.roll(p, -1, axis=0)).sum(axis=0)


def random_triangles(seed: int, count: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    triangles = rng.uniform([-2, -2, -1], [2, 2, 2], size=(count, 3, 3))
    return triangles


def check(triangles: np.ndarray, owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pieces, piece_owner = clip_near(triangles, NEAR, owner)
    assert len(pieces) == len(piece_owner)
    assert np.all(pieces[:, :, 2] >= NEAR - 1e-12)
    for index, triangle in enumerate(triangles):
        mine = pieces[piece_owner == owner[index]]
        expected = vector_area(clipped_polygon(triangle, NEAR))
        got = sum((vector_area(list(p)) for p in mine), np.zeros(3))
        np.testing.assert_allclose(got, expected, atol=1e-12)
        for piece in mine:  # every piece faces the way its triangle does
            assert vector_area(list(piece)) @ vector_area(list(triangle)) >= -1e-15
    return pieces, piece_owner


def test_random_triangles_match_polygon_clipping() -> None:
    triangles = random_triangles(5, 150)
    check(triangles, np.arange(150) + 10)


@pytest.mark.parametrize("inside", [1, 2])
def test_triangles_cut_the_same_way_only(inside: int) -> None:
    """A batch where every cut triangle keeps the same number of corners."""
    rng = np.random.default_rng(inside)
    triangles = []
    while len(triangles) < 50:
        t = rng.uniform([-2, -2, -1], [2, 2, 2], size=(3, 3))
        if np.sum(t[:, 2] >= NEAR) in (inside, 3):
            triangles.append(t)
    triangles = np.array(triangles)
    pieces, _ = check(triangles, np.arange(50))
    whole = int(np.sum(np.all(triangles[:, :, 2] >= NEAR, axis=1)))
    assert len(pieces) == whole + (50 - whole) * inside


def test_a_corner_on_the_plane_is_in_front() -> None:
    on_plane = np.array([[[0.0, 0.0, NEAR], [1.0, 0.0, 2.0], [0.0, 1.0, 2.0]]])
    pieces, owner = clip_near(on_plane, NEAR, np.array([7]))
    np.testing.assert_array_equal(pieces, on_plane)
    assert owner.tolist() == [7]
    mixed = np.array([[[0.0, 0.0, NEAR], [1.0, 0.0, 2.0], [0.0, 1.0, 0.0]]])
    pieces, _ = clip_near(mixed, NEAR, np.array([0]))
    assert len(pieces) == 2  # two corners count as in front: a quad


def test_without_owners_every_piece_belongs_to_triangle_zero() -> None:
    triangles = random_triangles(9, 30)
    pieces, owner = clip_near(triangles, NEAR)
    assert owner.dtype == np.int64 and len(owner) == len(pieces) and not owner.any()
    in_front = triangles + [0.0, 0.0, 3.0]
    same, owner = clip_near(in_front, NEAR)
    assert same is in_front and owner.tolist() == [0] * 30


def test_an_empty_batch_stays_empty() -> None:
    pieces, owner = clip_near(np.zeros((0, 3, 3)), NEAR, np.zeros(0, dtype=np.int64))
    assert pieces.shape[0] == 0 and owner.shape == (0,)


def test_project_is_the_pinhole_model() -> None:
    K = intrinsics(64, 48, 50.0)
    points = np.array([[0.0, 0.0, 2.0], [1.0, -0.5, 4.0], [-2.0, 1.0, 0.5]])
    expected = (points @ K.T)[:, :2] / points[:, 2:3]
    np.testing.assert_allclose(project(points, K), expected, atol=1e-12)
    assert project(points.reshape(1, 3, 3), K).shape == (1, 3, 2)
