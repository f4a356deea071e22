"""The on-disk cache of built assets gives back exactly what the builders make."""

from __future__ import annotations

import numpy as np
import pytest

from synthgen.scene.assets import asset_mesh
from synthgen.scene.assets.cache import cache_folder

KINDS = ("sedan", "pedestrian", "bicycle_rider", "building", "traffic_light")


@pytest.fixture
def cache_at(monkeypatch, tmp_path):
    def use(setting: str):
        monkeypatch.setenv("SYNTHGEN_CACHE", setting)
        cache_folder.cache_clear()
        asset_mesh.cache_clear()
    yield use
    monkeypatch.undo()
    cache_folder.cache_clear()
    asset_mesh.cache_clear()


def _arrays(mesh) -> list[np.ndarray]:
    s = mesh.surfaces
    return [mesh.vertices, mesh.faces, s.color, s.roughness, s.metallic, s.own, s.emission,
            mesh.keypoints if mesh.keypoints is not None else np.zeros(0)]


def test_meshes_read_back_are_the_built_ones_exactly(cache_at, tmp_path):
    cache_at("off")
    built = {kind: asset_mesh(kind, 3) for kind in KINDS}
    cache_at(str(tmp_path))
    stored = {kind: asset_mesh(kind, 3) for kind in KINDS}  # built again and written
    files = sorted(p.name for p in cache_folder().glob("*.npz"))
    assert files == sorted(f"{kind}-3.npz" for kind in KINDS)
    cache_at(str(tmp_path))
    read = {kind: asset_mesh(kind, 3) for kind in KINDS}
    for kind in KINDS:
        for a, b, c in zip(_arrays(built[kind]), _arrays(stored[kind]), _arrays(read[kind])):
            assert a.dtype == c.dtype and np.array_equal(a, b) and np.array_equal(a, c), kind
        assert read[kind].is_closed


def test_a_damaged_file_is_rebuilt(cache_at, tmp_path):
    cache_at(str(tmp_path))
    first = asset_mesh("sedan", 1)
    path = cache_folder() / "sedan-1.npz"
    path.write_bytes(b"not an npz")
    cache_at(str(tmp_path))
    again = asset_mesh("sedan", 1)
    assert np.array_equal(first.vertices, again.vertices)


def test_off_writes_nothing(cache_at, tmp_path):
    cache_at("off")
    assert cache_folder() is None
    asset_mesh("sedan", 2)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("damage", [b"", b"PK\x03\x04 truncated"])
def test_empty_or_truncated_files_are_rebuilt(cache_at, tmp_path, damage):
    cache_at(str(tmp_path))
    first = asset_mesh("pole", 1)
    (cache_folder() / "pole-1.npz").write_bytes(damage)
    cache_at(str(tmp_path))
    assert np.array_equal(asset_mesh("pole", 1).vertices, first.vertices)
    assert not list(cache_folder().glob("*.tmp"))
