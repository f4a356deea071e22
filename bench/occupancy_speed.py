"""Seconds per frame of the occupancy grid on scenes/street.yaml.

    .venv/bin/python bench/occupancy_speed.py [--frames 5] [--stride 4] [--repeats 3]

For each frame: build the scene, then time (a) the voxelisation alone (every triangle of
every rendered object), (b) the file write, and (c) the grid with the camera's rays at
`--stride`, from two depth maps that bound the cost: the road plane seen from the camera
(rays end on the ground, sky rays reach the grid's edge), and every ray hitting nothing
(each one crosses the grid to its edge: the worst case). Depth comes from the camera
model, not a render, so no Blender is needed. Prints the best of `--repeats` per frame
and voxels per second, and the resident memory after each frame (flat: nothing is kept
between frames; `--quick` times only the voxelisation, for long runs).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from synthgen.config.load import load_scene_config  # noqa: E402
from synthgen.config.scene_config import Occupancy  # noqa: E402
from synthgen.scene.build import build_scene  # noqa: E402
from synthgen.sensors.occupancy import GridSpec, camera_rays, occupancy_bytes, occupancy_grid  # noqa: E402


def ground_depth(camera) -> np.ndarray:
    """Depth along the optical axis to the plane z = 0, inf where a pixel's ray never reaches it."""
    v, u = np.mgrid[0:camera.height, 0:camera.width]
    rays = np.stack([u + 0.5, v + 0.5, np.ones(u.shape)], axis=-1) @ np.linalg.inv(camera.K).T
    down = rays @ camera.cam_to_world[2, :3]
    with np.errstate(divide="ignore"):
        depth = -camera.cam_to_world[2, 3] / down
    return np.where(down < 0, depth, np.inf)


def rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def best(repeats: int, work) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--stride", type=int, default=Occupancy().camera_stride)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="voxelisation only, once per frame")
    args = parser.parse_args()
    loaded = load_scene_config(REPO / "scenes" / "street.yaml")
    spec = GridSpec.from_config(Occupancy())
    voxels = int(np.prod(spec.shape))
    print(f"grid {spec.shape[0]}x{spec.shape[1]}x{spec.shape[2]} = {voxels} voxels of {spec.voxel_size} m; "
          f"camera rays every {args.stride}th pixel")
    if args.quick:
        print("frame  triangles  voxelise s  rss MiB")
    else:
        print("frame  triangles  voxelise s  write s  +ground rays s  +sky rays s  rays  voxels/s (voxelise)  rss MiB")
    totals = []
    for frame in range(args.frames):
        scene = build_scene(loaded.config, 0, frame, loaded.mesh_paths)
        triangles = sum(len(o.mesh.faces) for o in scene.rendered())
        if args.quick:
            seconds = best(1, lambda: occupancy_grid(scene, spec))
            totals.append((seconds, 0.0, 0.0, 0.0))
            print(f"{frame:5d}  {triangles:9d}  {seconds:10.3f}  {rss_mib():7.1f}")
            continue
        camera = scene.camera
        ground = camera_rays(camera, ground_depth(camera), args.stride)
        sky = camera_rays(camera, np.full((camera.height, camera.width), np.inf), args.stride)
        grid = occupancy_grid(scene, spec)
        alone = best(args.repeats, lambda: occupancy_grid(scene, spec))
        write = best(args.repeats, lambda: io.BytesIO(occupancy_bytes(grid)))
        with_ground = best(args.repeats, lambda: occupancy_grid(scene, spec, camera_rays=ground))
        with_sky = best(args.repeats, lambda: occupancy_grid(scene, spec, camera_rays=sky))
        totals.append((alone, write, with_ground, with_sky))
        print(f"{frame:5d}  {triangles:9d}  {alone:10.3f}  {write:7.3f}  {with_ground:14.3f}  {with_sky:11.3f}  "
              f"{len(ground.origins):5d}  {voxels / alone:19,.0f}  {rss_mib():7.1f}")
    mean = np.mean(totals, axis=0)
    print(f"mean   {'':9s}  {mean[0]:10.3f}  {mean[1]:7.3f}  {mean[2]:14.3f}  {mean[3]:11.3f}")


if __name__ == "__main__":
    main()
