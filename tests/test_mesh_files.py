"""User meshes (.obj, .ply, .stl, .glb) render and label exactly like primitives."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from tests.conftest import load_frame, run_cli
from tests.raycast import boundary, cast
from tests.test_labels import camera, geometry, read_png


def _bracket() -> trimesh.Trimesh:
    """A non-convex L-shaped part, 0.6 m wide, 0.9 m deep and 0.3 m tall along the file's up axis."""
    base = trimesh.creation.box(extents=(0.6, 0.3, 0.3))
    arm = trimesh.creation.box(extents=(0.2, 0.6, 0.3))
    arm.apply_translation((0.2, 0.45, 0.0))
    return trimesh.util.concatenate([base, arm])


@pytest.mark.parametrize("suffix", [".obj", ".ply", ".stl", ".glb"])
def test_mesh_file_renders_with_exact_masks(tmp_path, suffix):
    mesh = _bracket()
    if suffix == ".glb":  # glTF is Y-up: store the part with its up axis along y
        mesh.apply_transform(trimesh.transformations.rotation_matrix(-np.pi / 2, [1, 0, 0]))
    mesh.export(tmp_path / f"bracket{suffix}")
    config = tmp_path / "scene.yaml"
    config.write_text(
        "render: {samples: 1}\n"
        "camera: {resolution: [64, 48], fov: 45, position: [0.4, -2.2, 1.6], look_at: [0, 0.2, 0.1]}\n"
        "objects:\n"
        f"  - {{category: bracket, mesh: bracket{suffix}, count: 2, rotation: [0, 0, 0], position: {{uniform: [[-0.6, -0.4, 0], [0.6, 0.6, 0]]}}}}\n")
    out = tmp_path / "out"
    run_cli("render", config, "--out", out, "-n", 1, "--save-geometry", check=True)
    meshes = geometry(out, 0)
    for instance_id in (1, 2):
        extent = meshes[instance_id].extents
        assert np.allclose(extent[:2], [0.6, 0.9], atol=1e-6) and extent[2] == pytest.approx(0.3)  # Z-up
        assert meshes[instance_id].bounds[0][2] == pytest.approx(0.0, abs=1e-9)  # resting on the ground
    frame = load_frame(out, 0)
    ids, _ = cast(meshes, *camera(frame))
    mask = read_png(out / "masks" / "instance" / "000000.png")
    differ = mask != ids
    assert (~differ).mean() >= 0.995
    assert np.all((boundary(ids) | boundary(mask.astype(np.int64)))[differ])
    assert {i["category"] for i in frame["instances"]} == {"bracket"}
    assert all(i["visible_pixels"] > 20 for i in frame["instances"])
