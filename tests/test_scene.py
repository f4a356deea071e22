"""Scene sampling without Blender: determinism, frame independence, placement."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from synthgen.config.distributions import Spec, parse_distribution
from synthgen.config.load import load_scene_config
from synthgen.scene.build import build_scene
from tests.conftest import MINIMAL, REPO


def _signature(scene) -> list:
    return [(i.instance_id, i.category, i.translation.tolist(), i.scale.tolist(), i.rotation.tolist(),
             i.material.color.tolist()) for i in scene.instances] + [scene.camera.cam_to_world.tolist()]


def test_frame_depends_only_on_config_seed_and_index():
    config = load_scene_config(MINIMAL).config
    forward = [_signature(build_scene(config, 7, i)) for i in range(6)]
    backward = [_signature(build_scene(config, 7, i)) for i in reversed(range(6))][::-1]
    assert forward == backward
    assert forward[0] != forward[1]
    assert _signature(build_scene(config, 8, 0)) != forward[0]


def interpenetrate(a: trimesh.Trimesh, b: trimesh.Trimesh) -> bool:
    """Whether two closed meshes share volume, decided by trimesh alone: a vertex of one inside the other,
    or an edge of one crossing a face of the other. Each is first shrunk by 0.1% about its centre, so
    meshes that merely touch do not count."""
    a, b = (m.copy() for m in (a, b))
    for mesh in (a, b):
        mesh.vertices = mesh.centroid + (mesh.vertices - mesh.centroid) * 0.999
    # Boxes apart on some axis (by more than rounding): no vertex of one lies in the other and no edge of one
    # meets a face of the other, so the answer is no without the casts (most pairs of a frame).
    gap = 1e-9 * max(float(np.abs(a.bounds).max()), float(np.abs(b.bounds).max()), 1.0)
    if (a.bounds[0] > b.bounds[1] + gap).any() or (b.bounds[0] > a.bounds[1] + gap).any():
        return False
    for one, other in ((a, b), (b, a)):
        if other.contains(one.vertices).any():
            return True
        edges = one.vertices[one.edges_unique]
        directions = edges[:, 1] - edges[:, 0]
        locations, rays, _ = other.ray.intersects_location(edges[:, 0], directions)
        if len(rays):
            along = np.einsum("ij,ij->i", locations - edges[rays, 0], directions[rays]) / np.einsum(
                "ij,ij->i", directions[rays], directions[rays])
            if (along <= 1.0).any():
                return True
    return False


@pytest.mark.parametrize("scene_file", ["minimal.yaml", "tabletop.yaml"])
def test_objects_rest_on_ground_without_interpenetrating(scene_file):
    config = load_scene_config(REPO / "scenes" / scene_file).config
    for frame in range(8):
        scene = build_scene(config, 0, frame)
        meshes = []
        for instance in scene.instances:
            vertices = instance.world_vertices()
            assert vertices[:, 2].min() == pytest.approx(0.0, abs=1e-9)  # resting on the ground
            meshes.append(trimesh.Trimesh(vertices, instance.mesh.faces, process=False))
        for a in range(len(meshes)):
            for b in range(a + 1, len(meshes)):
                assert not interpenetrate(meshes[a], meshes[b]), f"frame {frame}: instances {a + 1} and {b + 1}"


def test_tabletop_holds_5_to_15_objects():
    config = load_scene_config(REPO / "scenes" / "tabletop.yaml").config
    counts = [len(build_scene(config, 0, i).instances) + build_scene(config, 0, i).dropped for i in range(30)]
    assert min(counts) >= 5 and max(counts) <= 15


def test_distributions_respect_their_bounds():
    rng = np.random.default_rng(0)
    unit = Spec(low=0.0, high=1.0)
    normal = parse_distribution({"normal": {"mean": 0.9, "std": 0.5}}, unit)
    samples = np.array([normal.sample(rng) for _ in range(2000)])
    assert samples.min() >= 0.0 and samples.max() <= 1.0
    assert samples.std() > 0.1
    integer = parse_distribution({"uniform": [2, 4]}, Spec(integer=True, low=0))
    values = {int(integer.sample(rng)) for _ in range(300)}
    assert values == {2, 3, 4}  # integer uniform includes both ends
    choice = parse_distribution({"choice": [1, 2], "weights": [9, 1]}, Spec())
    picks = np.array([choice.sample(rng) for _ in range(4000)])
    assert abs((picks == 1).mean() - 0.9) < 0.03
    colour = parse_distribution({"hsv": [{"uniform": [0, 1]}, 1, 1]}, Spec(shape=(3,), low=0, high=1, colour=True))
    rgb = np.array([colour.sample(rng) for _ in range(100)])
    assert rgb.shape == (100, 3) and rgb.max() <= 1.0 and np.all(rgb.max(axis=1) == pytest.approx(1.0))


def test_copies_past_the_instance_id_cap_are_dropped_and_counted(tmp_path):
    """Cycles' object index holds 1..32767: 32,800 copies (and a labelled ground) must fit in it, with
    every copy that does not get an id counted as dropped."""
    group = ("  - {category: cube, shape: cube, count: 8200, scale: 0.01, overlap: allow,\n"
             "     position: {uniform: [[-1, -1, 0], [1, 1, 0]]}}\n")
    path = tmp_path / "crowd.yaml"
    path.write_text("version: 1\ncamera: {resolution: [32, 24], fov: 50, position: [0, -3, 2], look_at: [0, 0, 0]}\n"
                    "ground: {category: floor}\nobjects:\n" + group * 4)
    scene = build_scene(load_scene_config(path).config, 0, 0)
    ids = [i.instance_id for i in scene.instances] + [scene.ground.instance_id]
    assert len(set(ids)) == len(ids) and min(ids) == 1 and max(ids) == 32767
    assert len(scene.instances) == 32766 and scene.dropped == 32800 - 32766


def test_ground_disabled_builds_no_ground_and_nothing_is_kept_above_it():
    config = load_scene_config(MINIMAL, ["ground.enabled=false"]).config
    assert config.ground.enabled is False
    for frame in range(4):
        scene = build_scene(config, 0, frame)
        assert scene.ground is None and scene.instances
        for instance in scene.instances:  # placement 'ground' still rests objects on z = 0
            assert instance.world_vertices()[:, 2].min() == pytest.approx(0.0, abs=1e-9)
