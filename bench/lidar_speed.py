"""Lidar points per second, with Embree and with trimesh's rtree fallback.

    .venv/bin/python bench/lidar_speed.py [--repeats 3] [--channels 64] [--columns 2048] [--moving] [--engine embree]

Builds frame 0 of scenes/street_lidar.yaml (scenes/street.yaml with a roof lidar), then sweeps a
CHANNELS x COLUMNS lidar over it with each engine, after one warm-up sweep that builds the intersectors
(kept in the bounded cache, as in a long run). Prints rays and points per second for each engine, the
best of REPEATS, and the ratio. --moving adds a poses_at that moves the ego and every instance, so every
time slice has its own poses (the motion-distortion path).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from synthgen.config.load import load_scene_config  # noqa: E402
from synthgen.scene.build import build_scene  # noqa: E402
from synthgen.scene.ego import ego_to_world  # noqa: E402
from synthgen.scene.raycast import embree_available  # noqa: E402
from synthgen.sensors.lidar import sweep  # noqa: E402


def moving(scene):
    """Ego at 10 m/s along its x, every thing at 5 m/s along world x: a pose per time slice."""
    ego0 = ego_to_world(scene)

    def poses_at(seconds: float):
        ego = ego0.copy()
        ego[:3, 3] += ego0[:3, 0] * 10.0 * seconds
        moved = {}
        for instance in scene.instances:
            matrix = np.array(instance.matrix_world)
            matrix[0, 3] += 5.0 * seconds
            moved[instance.instance_id] = matrix
        return ego, moved

    return poses_at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--columns", type=int, default=2048)
    parser.add_argument("--moving", action="store_true")
    parser.add_argument("--engine", choices=["embree", "triangle"], action="append",
                        help="only this engine (repeatable); default both")
    args = parser.parse_args()
    loaded = load_scene_config(REPO / "scenes" / "street_lidar.yaml")
    scene = build_scene(loaded.config, 0, 0, loaded.mesh_paths)
    lidar = loaded.config.lidars[0].model_copy(update={"channels": args.channels, "columns": args.columns})
    poses_at = moving(scene) if args.moving else None
    rays = args.channels * args.columns
    print(f"street frame 0: {len(scene.rendered())} objects, {len({o.mesh_key for o in scene.rendered()})} distinct "
          f"meshes, {sum(len(o.mesh.faces) for o in scene.rendered())} triangles; {args.channels} x {args.columns} "
          f"= {rays} rays{', moving' if args.moving else ''}")
    rates = {}
    for engine in args.engine or (["embree"] if embree_available() else []) + ["triangle"]:
        points = len(sweep(scene, lidar, 0, poses_at=poses_at, engine=engine).points)  # warm-up: intersectors
        best = np.inf
        for _ in range(args.repeats):
            started = time.perf_counter()
            sweep(scene, lidar, 0, poses_at=poses_at, engine=engine)
            best = min(best, time.perf_counter() - started)
        rates[engine] = points / best
        print(f"{engine:9s} {best:7.3f} s per sweep, {rays / best:11,.0f} rays/s, {points / best:11,.0f} points/s "
              f"({points} points)")
    if len(rates) == 2:
        print(f"Embree / fallback: {rates['embree'] / rates['triangle']:.1f}x")
    elif not embree_available():
        print("embreex is not installed: pip install -e '.[lidar]'")


if __name__ == "__main__":
    main()
