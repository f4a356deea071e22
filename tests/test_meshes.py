"""synthgen's own primitives, closedness test and Euler angles against trimesh and scipy."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from scipy.spatial.transform import Rotation

from synthgen.scene.meshes import PRIMITIVE_BUILDERS, Mesh, primitive_mesh
from synthgen.scene.poses import euler_xyz_degrees

TRIMESH_PRIMITIVES = {
    "cube": lambda: trimesh.creation.box(extents=(1.0, 1.0, 1.0)),
    "sphere": lambda: trimesh.creation.icosphere(subdivisions=3, radius=0.5),
    "cylinder": lambda: trimesh.creation.cylinder(radius=0.5, height=1.0, sections=32),
    "cone": lambda: trimesh.creation.cone(radius=0.5, height=1.0, sections=32),
    "torus": lambda: trimesh.creation.torus(major_radius=0.35, minor_radius=0.15, major_sections=32, minor_sections=16),
}


@pytest.mark.parametrize("shape", sorted(TRIMESH_PRIMITIVES))
def test_primitives_match_trimeshs(shape):
    ours, theirs = primitive_mesh(shape), TRIMESH_PRIMITIVES[shape]()
    theirs.apply_translation(-theirs.bounds.mean(axis=0))
    assert ours.vertices.shape == theirs.vertices.shape and ours.faces.shape == theirs.faces.shape
    assert np.allclose(ours.bounds, theirs.bounds, atol=1e-12)
    assert ours.volume == pytest.approx(theirs.volume, rel=1e-9)
    converted = ours.to_trimesh()
    assert converted.is_watertight and converted.is_winding_consistent and converted.volume > 0
    assert converted.area == pytest.approx(theirs.area, rel=1e-9)
    assert ours.is_closed


def _variants():
    """Closed and not closed meshes of every kind the closedness test must tell apart."""
    for shape in sorted(PRIMITIVE_BUILDERS):
        mesh = primitive_mesh(shape)
        yield f"{shape}", mesh.vertices, mesh.faces
        yield f"{shape}-inside-out", mesh.vertices, mesh.faces[:, ::-1]
        yield f"{shape}-one-face-missing", mesh.vertices, mesh.faces[1:]
        flipped = mesh.faces.copy()
        flipped[0] = flipped[0, ::-1]
        yield f"{shape}-one-face-flipped", mesh.vertices, flipped
        yield f"{shape}-face-twice", mesh.vertices, np.concatenate([mesh.faces, mesh.faces[:1]])
    sphere = trimesh.creation.icosphere(subdivisions=2)
    split = trimesh.Trimesh(sphere.vertices[sphere.faces].reshape(-1, 3), np.arange(3 * len(sphere.faces)).reshape(-1, 3),
                            process=False)
    yield "sphere-split-vertices", split.vertices, split.faces  # as glTF files split them
    two = trimesh.util.concatenate([trimesh.creation.box(), trimesh.creation.box().apply_translation([3, 0, 0])])
    yield "two-boxes", two.vertices, two.faces


@pytest.mark.parametrize("name,vertices,faces", list(_variants()), ids=[v[0] for v in _variants()])
def test_closedness_agrees_with_trimesh(name, vertices, faces):
    theirs = trimesh.Trimesh(np.array(vertices), np.array(faces), process=False)
    expected = bool(theirs.is_watertight and theirs.is_winding_consistent and theirs.volume > 0)
    assert Mesh(vertices, faces).is_closed == expected


def test_euler_angles_match_scipy():
    rng = np.random.default_rng(0)
    for angles in [*rng.uniform(-720, 720, size=(500, 3)), [90, 0, 0], [0, 90, 0], [0, 0, 90], [90, 90, 90]]:
        expected = Rotation.from_euler("xyz", angles, degrees=True).as_matrix()
        assert np.allclose(euler_xyz_degrees(np.array(angles)), expected, atol=1e-12)


def test_euler_angles_mean_what_blender_makes_of_them():
    """A config's `rotation: [x, y, z]` is Blender's XYZ Euler (extrinsic x, then y, then z): a real Blender
    object with those angles must end with the world matrix our poses give it. (The renderer sets
    matrix_world from our matrix, so this is the only place Blender's own reading of the angles is asked.)"""
    import bpy

    rng = np.random.default_rng(3)
    probe = bpy.data.objects.new("synthgen-euler-probe", None)
    bpy.context.scene.collection.objects.link(probe)
    try:
        probe.rotation_mode = "XYZ"
        for angles in rng.uniform(-180, 180, (50, 3)):
            probe.rotation_euler = np.radians(angles).tolist()
            bpy.context.view_layer.update()
            blender = np.array(probe.matrix_world)[:3, :3]
            assert np.allclose(euler_xyz_degrees(angles), blender, atol=1e-6), angles
    finally:
        bpy.data.objects.remove(probe, do_unlink=True)
