"""Writes knot.ply: a trefoil-knot tube of 10,000 triangles, the heavy mesh of bench/scenes/crowd.yaml.

    .venv/bin/python bench/assets/make_knot.py
"""

from pathlib import Path

import numpy as np
import trimesh

ALONG, AROUND, RADIUS = 500, 10, 0.12


def trefoil(t: np.ndarray) -> np.ndarray:
    return np.column_stack([np.sin(t) + 2 * np.sin(2 * t), np.cos(t) - 2 * np.cos(2 * t), -np.sin(3 * t)]) / 3.5


def main() -> None:
    t = 2 * np.pi * np.arange(ALONG) / ALONG
    centre = trefoil(t)
    tangent = np.gradient(centre, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    normal = np.cross(tangent, [0.0, 0.0, 1.0])
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    binormal = np.cross(tangent, normal)
    angle = 2 * np.pi * np.arange(AROUND) / AROUND
    ring = np.cos(angle)[None, :, None] * normal[:, None] + np.sin(angle)[None, :, None] * binormal[:, None]
    vertices = (centre[:, None] + RADIUS * ring).reshape(-1, 3)
    i, j = np.meshgrid(np.arange(ALONG), np.arange(AROUND), indexing="ij")
    a, b = i * AROUND + j, ((i + 1) % ALONG) * AROUND + j
    c, d = ((i + 1) % ALONG) * AROUND + (j + 1) % AROUND, i * AROUND + (j + 1) % AROUND
    faces = np.concatenate([np.stack([a, b, c], -1).reshape(-1, 3), np.stack([a, c, d], -1).reshape(-1, 3)])
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    if mesh.volume < 0:
        mesh.invert()
    assert mesh.is_watertight and len(mesh.faces) == 10_000
    mesh.export(Path(__file__).with_name("knot.ply"))


if __name__ == "__main__":
    main()
