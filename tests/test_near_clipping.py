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


def image_areas(xs, ys) -> np.ndarray:
    """Signed image-plane area of each triangle given as corner coordinate triples."""
    return 0.5 * ((xs[1] - xs[0]) * (ys[2] - ys[0]) - (xs[2] - xs[0]) * (ys[1] - ys[0]))


def reference_areas(instance, camera) -> tuple[float, float]:
    """(front, back) image area of an instance's triangles, posed by Instance.world_vertices, clipped by
    the plain clip above and projected by the pinhole model, culling nothing."""
    world_to_cam = np.linalg.inv(camera.cam_to_world)
    vertices = instance.world_vertices() @ world_to_cam[:3, :3].T + world_to_cam[:3, 3]
    front = back = 0.0
    for face in instance.mesh.faces:
        polygon = clipped_polygon(vertices[face], camera.clip_start)
        for k in range(1, len(polygon) - 1):
            uv = project(np.array([polygon[0], polygon[k], polygon[k + 1]]), camera.K)
            area = image_areas(uv[:, 0], uv[:, 1])
            front, back = (front - area, back) if area < 0 else (front, back + area)  # y down: front is negative
    return front, back


def test_projected_triangles_cover_what_clipping_each_face_covers() -> None:
    """Two objects crossing the near plane and one beyond it, owners kept apart: the front-facing image
    area per object is the reference's, and culling only ever removes back-facing area."""
    from synthgen.labels.projection import projected_triangles
    from synthgen.scene.meshes import primitive_mesh
    from synthgen.scene.model import CameraSpec, Instance, MaterialSpec
    from synthgen.scene.poses import euler_xyz_degrees, look_at_opencv, rigid

    position = np.array([0.0, -3.0, 0.4])
    camera = CameraSpec(64, 48, intrinsics(64, 48, 40.0), rigid(look_at_opencv(position, np.array([0.0, 0.0, 0.4])),
                        position), 0.3, 100.0, 36.0)
    grey = MaterialSpec(np.ones(3), 0.5, 0.0)
    far = Instance(1, "far", 1, "primitive:cube", primitive_mesh("cube"), np.ones(3), euler_xyz_degrees([0, 0, 30]),
                   np.array([0.5, 1.0, 0.4]), grey)
    cut = Instance(2, "cut", 1, "primitive:cube", primitive_mesh("cube"), np.array([1.2, 0.6, 0.8]),
                   euler_xyz_degrees([5, 10, 20]), np.array([-0.3, -2.8, 0.3]), grey)
    ball = Instance(3, "ball", 2, "primitive:sphere", primitive_mesh("sphere"), np.full(3, 0.5), np.eye(3),
                    np.array([0.4, -2.75, 0.5]), grey)
    instances = [far, cut, ball]
    xs, ys, owner = projected_triangles(instances, camera)
    areas = image_areas(xs, ys)
    for index, instance in enumerate(instances):
        front, back = reference_areas(instance, camera)
        mine = areas[owner == index]
        assert -mine[mine < 0].sum() == pytest.approx(front, rel=1e-9), instance.category
        culled = instance is far  # wholly beyond the near plane, camera outside: back faces dropped
        assert mine[mine > 0].sum() == pytest.approx(0.0 if culled else back, rel=1e-9, abs=1e-9), instance.category


def test_no_instances_give_empty_arrays() -> None:
    from synthgen.labels.projection import projected_triangles
    from synthgen.scene.model import CameraSpec

    camera = CameraSpec(64, 48, intrinsics(64, 48, 40.0), np.eye(4), 0.3, 100.0, 36.0)
    xs, ys, owner = projected_triangles([], camera)
    assert len(xs) == 3 and len(ys) == 3
    assert all(x.shape == (0,) and x.dtype == np.float64 for x in xs + ys)
    assert owner.shape == (0,) and owner.dtype == np.int64
