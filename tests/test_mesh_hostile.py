"""Corrupt and adversarial mesh files are refused by `synthgen validate` with one line, before Blender sees
them; the odd but drawable ones (zero-area faces among others, non-manifold edges) render."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
import trimesh

from synthgen.config.mesh_files import MAX_FACES, MAX_VERTICES
from tests.conftest import load_frame, one_line_error, run_cli

TETRA_VERTICES = [(0, 0, 0), (0.4, 0, 0), (0, 0.4, 0), (0, 0, 0.4)]
TETRA_FACES = [(1, 3, 2), (1, 2, 4), (1, 4, 3), (2, 3, 4)]  # 1-based, as OBJ counts


def obj(vertices: list, faces: list) -> str:
    return "".join(f"v {x} {y} {z}\n" for x, y, z in vertices) + "".join(f"f {a} {b} {c}\n" for a, b, c in faces)


def exported(mesh: trimesh.Trimesh, file_type: str) -> bytes:
    buffer = io.BytesIO()
    mesh.export(buffer, file_type=file_type)
    return buffer.getvalue()


def ply_header(vertices: int, faces: int, form: str) -> bytes:
    return (f"ply\nformat {form} 1.0\nelement vertex {vertices}\nproperty float x\nproperty float y\n"
            f"property float z\nelement face {faces}\nproperty list uchar int vertex_indices\nend_header\n").encode()


BOX = trimesh.creation.box(extents=(0.4, 0.4, 0.4))
STL = exported(BOX, "stl")
GLB = exported(BOX, "glb")
PLY = exported(BOX, "ply")

REFUSED = {
    "garbage.obj": (bytes(range(256)) * 3, "no triangles"),
    "garbage.ply": (b"ply\n" + bytes(range(255, 0, -1)) * 2, "cannot read mesh"),
    "garbage.stl": (bytes(range(7, 250)) * 2, "triangles"),  # its bytes 80-84 read as a huge triangle count
    "garbage.glb": (b"glTF" + bytes(range(256)), "cannot read mesh"),
    "truncated.glb": (GLB[:len(GLB) // 2], "cannot read mesh"),
    "truncated.ply": (PLY[:-20], "cannot read mesh"),
    "truncated.stl": (STL[:-30], "no triangles"),
    "empty.obj": ("# no geometry\n", "no triangles"),
    "points.obj": ("v 0 0 0\nv 1 0 0\nv 0 1 0\n", "no triangles"),
    "nan.obj": (obj([("nan", 0, 0)] + TETRA_VERTICES[1:], TETRA_FACES), "vertex 1 has a coordinate that is not a finite"),
    "inf.obj": (obj(TETRA_VERTICES[:2] + [(0, "-inf", 0)] + TETRA_VERTICES[3:], TETRA_FACES), "vertex 3 has a coordinate"),
    "far.obj": (obj(TETRA_VERTICES[:3] + [(0, 0, 1e30)], TETRA_FACES), "vertex 4 lies beyond"),
    "past_end.obj": (obj(TETRA_VERTICES, TETRA_FACES + [(1, 2, 99)]), "cannot read mesh"),
    "flat.obj": (obj([(0, 0, 0), (1, 0, 0), (2, 0, 0)], [(1, 2, 3)]), "every triangle has zero area"),
    "billion.ply": (ply_header(10 ** 9, 1, "binary_little_endian") + b"\0" * 64,
                    f"declares 1000000000 vertices; meshes are limited to {MAX_VERTICES}"),
    "billion_ascii.ply": (ply_header(10 ** 9, 1, "ascii") + b"0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n", "declares 1000000000 vertices"),
    "billion_faces.ply": (ply_header(3, 10 ** 9, "ascii") + b"0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n",
                          f"declares 1000000000 faces; meshes are limited to {MAX_FACES}"),
    "billion.stl": (STL[:80] + struct.pack("<I", 10 ** 9) + STL[84:], "declares 1000000000 triangles"),
}


def scene(folder: Path, mesh: str) -> Path:
    config = folder / "scene.yaml"
    config.write_text("render: {samples: 1}\n"
                      "camera: {resolution: [48, 36], fov: 50, position: [0, -2, 1.2], look_at: [0, 0, 0.2]}\n"
                      f"objects:\n  - {{category: part, mesh: {mesh}, position: [0, 0, 0], rotation: [0, 0, 0]}}\n")
    return config


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_hostile_mesh_is_refused_by_validate(name, tmp_path):
    data, expected = REFUSED[name]
    (tmp_path / name).write_bytes(data if isinstance(data, bytes) else data.encode())
    message = one_line_error(run_cli("validate", scene(tmp_path, name)))
    assert f"objects.0.mesh: {name}: " in message and expected in message, message


def test_refused_mesh_stops_render_before_blender(tmp_path):
    (tmp_path / "nan.obj").write_text(REFUSED["nan.obj"][0])
    out = tmp_path / "out"
    message = one_line_error(run_cli("render", scene(tmp_path, "nan.obj"), "--out", out, "-n", 1))
    assert "not a finite number" in message and not out.exists()


def test_odd_but_drawable_meshes_validate_and_render(tmp_path):
    """Zero-area faces beside real ones, and an edge shared by three faces (a fin: not manifold), are
    drawn as they are: one frame of each renders and labels the part."""
    degenerate = obj(TETRA_VERTICES + [(0.2, 0.2, 0.2)], TETRA_FACES + [(1, 1, 5), (2, 3, 3), (1, 2, 2)])
    fin = obj(TETRA_VERTICES + [(0.2, -0.3, 0.2)], TETRA_FACES + [(1, 2, 5)])
    fin_mesh = trimesh.load(io.StringIO(fin), file_type="obj", process=False)
    _, uses = np.unique(fin_mesh.edges_sorted, axis=0, return_counts=True)
    assert uses.max() == 3  # the fin's edge belongs to three faces
    for name, text in (("degenerate.obj", degenerate), ("fin.obj", fin)):
        (tmp_path / name).write_text(text)
        config = scene(tmp_path, name)
        assert run_cli("validate", config).returncode == 0
        out = tmp_path / f"out-{name}"
        run_cli("render", config, "--out", out, "-n", 1, check=True)
        frame = load_frame(out, 0)
        assert [i["category"] for i in frame["instances"]] == ["part"]
        assert frame["instances"][0]["visible_pixels"] > 20
        assert np.isfinite(frame["instances"][0]["bbox"]).all()
