"""`synthgen render`: config -> scene -> Blender -> labels -> files, frame by frame."""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from synthgen import __version__
from synthgen.config.load import LoadedScene, load_scene_config
from synthgen.config.checks import check_count_and_seed, check_start
from synthgen.config.diff import differing_keys
from synthgen.dataset.coco import write_instances
from synthgen.dataset.layout import COCO_FILE, LOG, MANAGED, MANIFEST, SEQUENCE_DIR, Layout, sequence_name
from synthgen.dataset.write import (incomplete_frames_discarded, write_flow, write_frame_json, write_labels,
                                    write_pixels)
from synthgen.errors import UserError
from synthgen.io.atomic import atomic_write_json, remove_partials
from synthgen.io.console import native_output_to
from synthgen.io.memory import release_free_memory
from synthgen.io.forked import usable_cores
from synthgen.io.outdir import OutputMode, prepare_output_dir
from synthgen.io.stopping import deferred_stop, raise_if_stopped
from synthgen.io.workers import ATTEMPTS, Outcome, one_line, run_tasks
from synthgen.labels.extract import FrameOutputs, extract
from synthgen.render.scratch import remove_own_scratch
from synthgen.scene.build import build_scene
from synthgen.scene.model import invert_rigid
from synthgen.scene.motion import sequence_motion
from synthgen.sensors.lidar_files import MANAGED as LIDAR_MANAGED, write_lidar_frame
from synthgen.sensors.occupancy import (MANAGED as OCCUPANCY_MANAGED, frame_occupancy, lidar_rays, occupancy_path,
                                        write_occupancy)


@dataclass
class RenderRequest:
    config: str
    out: Path
    frames: int
    start: int = 0
    seed: int | None = None
    overrides: list[str] | None = None
    mode: OutputMode = OutputMode.NEW
    save_geometry: bool = False
    progress: bool = True
    labels_only: bool = False  # skip shading; images/ gets flat previews (docs/dataset.md)
    workers: int = 1  # Blender processes; 1 renders in this process (unless on Ray)
    backend: str = "local"  # "local" processes or "ray" actors
    address: str | None = None  # a Ray cluster to join; None starts a local one


@dataclass
class RenderSummary:
    rendered: int
    skipped: int
    instances: int
    seconds_render: float  # posing Blender and its render operator
    seconds_labels: float  # passes out of Blender, labels, files
    annotations: int
    out: Path
    seconds_wall: float = 0.0
    seconds_scene: float = 0.0  # sampling scenes
    failed: dict[int, str] = field(default_factory=dict)  # frame -> error, after the retry


# Raised whenever the same (config, seed, frame) starts to give a different scene, so --resume never mixes
# frames of two samplers in one dataset. 2: placement by footprints (before: world bounding boxes).
SCENE_SAMPLING = 2


MAX_WORKERS = 64
TIMINGS = "timings.jsonl"  # one line per rendered frame, appended by the one process that deals frames out


def _manifest(loaded: LoadedScene, seed: int, labels_only: bool) -> dict:
    """What the run is: enough to check a --resume and to render it again. No timings (those go to
    timings.jsonl), so two runs of the same config give the same bytes."""
    return {"synthgen": __version__, "bpy": metadata.version("bpy"), "python": platform.python_version(),
            "scene_sampling": SCENE_SAMPLING, "config_file": str(loaded.source.path),
            "config_digest": loaded.digest, "seed": seed, "labels_only": labels_only,
            "categories": loaded.config.categories(), "config": loaded.source.data,
            "resolved_config": loaded.config.model_dump(mode="json", fallback=_plain,
                                                        exclude=None if loaded.config.sequence else {"sequence"})}


def _plain(value: object) -> object:
    """JSON for what pydantic cannot serialise itself (numpy arrays in a resolved config)."""
    return value.tolist() if hasattr(value, "tolist") else str(value)


def _finished_manifest(manifest: dict, layouts: dict[str, Layout], failed: dict[int, str],
                       length: int | None = None) -> dict:
    """The manifest at the end of a run: complete frames as [first, last] runs, read from the frame files
    (every camera's), and the frames that failed twice with their errors. In a sequence run of `length`
    frames per sequence, frame f of sequence s is s * length + f."""
    complete = None
    for name, layout in layouts.items():
        found = set(layout.frame_indices()) if length is None else {
            s * length + f for s in _sequences_in(_out_of(name, layout)) for f in
            sequence_layouts({name: layout}, s)[name].frame_indices()}
        complete = found if complete is None else complete & found
    return {**manifest, "frames": {"complete": _runs(sorted(complete or ())), "timings": TIMINGS,
                                   "failed": {str(frame): error for frame, error in sorted(failed.items())}}}


def _runs(indices: list[int]) -> list[list[int]]:
    """[0, 1, 2, 5, 6] -> [[0, 2], [5, 6]]: a million frames in a few bytes when there are no gaps."""
    runs: list[list[int]] = []
    for index in indices:
        if runs and runs[-1][1] == index - 1:
            runs[-1][1] = index
        else:
            runs.append([index, index])
    return runs


def _check_resume(layout: Layout, manifest: dict) -> None:
    path = layout.root / MANIFEST
    if not path.is_file():
        return
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        raise UserError("is unreadable; cannot check that --resume continues the same run", file=path) from None
    for key in ("config_digest", "seed", "labels_only", "scene_sampling"):
        if previous.get(key, 1 if key == "scene_sampling" else False) != manifest[key]:
            what = {"config_digest": "config (after --set overrides)", "seed": "seed",
                    "labels_only": "--labels-only setting",
                    "scene_sampling": "scene sampling (this synthgen places objects differently)"}[key]
            differing = differing_keys(previous.get("config"), manifest["config"]) if key == "config_digest" else []
            shown = ", ".join(differing[:10]) + (f" and {len(differing) - 10} more" if len(differing) > 10 else "")
            detail = f"; these keys differ: {shown}" if differing else ""
            raise UserError(f"--resume needs the same {what} as the run that made this directory{detail}", file=path)


def render_dataset(request: RenderRequest) -> RenderSummary:
    check_count_and_seed(request.frames, request.seed)
    check_start(request.start, request.frames)
    if not 1 <= request.workers <= MAX_WORKERS:
        raise UserError(f"--workers must be between 1 and {MAX_WORKERS}, got {request.workers}")
    if request.backend == "ray" and importlib.util.find_spec("ray") is None:
        raise UserError("--backend ray needs Ray: pip install -e '.[ray]'")
    if request.backend == "ray" and request.address is not None:
        from synthgen.io.ray_tasks import check_reachable

        check_reachable(request.address)
    loaded = load_scene_config(request.config, request.overrides)  # mesh files included
    seed = loaded.config.render.seed if request.seed is None else request.seed
    # built before anything is written: fixed poses that overlap, regions a layout lacks fail here
    first = build_scene(loaded.config, seed, request.start, loaded.mesh_paths)
    manifest = _manifest(loaded, seed, request.labels_only)
    layouts = camera_layouts(loaded, request.out)
    length = loaded.config.sequence.length if loaded.config.sequence is not None else None
    units = range(request.start, request.start + request.frames)  # frames, or sequences in a sequence run
    if request.mode is OutputMode.RESUME:
        _check_resume(Layout(request.out), manifest)
    prepare_output_dir(request.out, request.mode, MANAGED + [TIMINGS] + [name for name in layouts if name] + [RIG_FILE]
                       + LIDAR_MANAGED + OCCUPANCY_MANAGED + [sequence_name(s) for s in _sequences_in(request.out)])
    datasets = _all_layouts(layouts, units, length)  # every camera folder, of every sequence in a sequence run
    for layout in datasets:
        layout.create(request.save_geometry, loaded.config.labels.normals, flow=length is not None)
    atomic_write_json(request.out / MANIFEST, manifest)
    if loaded.config.rig is not None:
        atomic_write_json(request.out / RIG_FILE, rig_calibration(loaded, first))

    tasks = list(units) if length is None else [s * length + f for s in units for f in range(length)]
    todo = [i for i in tasks if not (request.mode is OutputMode.RESUME and _complete(layouts, i, length))]
    summary = RenderSummary(0, len(tasks) - len(todo), 0, 0.0, 0.0, 0, request.out)
    with native_output_to(request.out / LOG) as (terminal_out, terminal_err):
        if todo:
            # SIGINT, SIGTERM: stop after the frame in flight; any error: remove the frame it cut short
            with deferred_stop(cleanup=remove_own_scratch), incomplete_frames_discarded(datasets):
                _render_frames(loaded, seed, todo, layouts, request, summary, terminal_err)
            remove_partials(request.out)  # what workers killed mid-frame left; every writer has stopped
        for layout in datasets:
            summary.annotations += write_instances(layout.read_frames(), loaded.config.categories(),
                                                   layout.root / COCO_FILE, _keypoint_layouts(loaded))
    atomic_write_json(request.out / MANIFEST, _finished_manifest(manifest, layouts, summary.failed, length))
    return summary


RIG_FILE = "rig.json"


def _out_of(name: str, layout: Layout) -> Path:
    return layout.root.parent if name else layout.root


def sequence_layouts(layouts: dict[str, Layout], sequence: int) -> dict[str, Layout]:
    """Each camera's folder inside sequence `sequence`: OUT/seq_NNNNNN/ (OUT/seq_NNNNNN/NAME/ in a rig),
    given the run's camera layouts; each is a complete dataset (docs/sequences.md)."""
    return {name: Layout(_out_of(name, layout) / sequence_name(sequence) / name) if name
            else Layout(layout.root / sequence_name(sequence)) for name, layout in layouts.items()}


def _sequences_in(out: Path) -> list[int]:
    if not out.is_dir():
        return []
    return sorted(int(m.group(1)) for m in (SEQUENCE_DIR.match(p.name) for p in out.iterdir()) if m and (out / m.group(0)).is_dir())


def _complete(layouts: dict[str, Layout], task: int, length: int | None) -> bool:
    """Whether every camera has written frame `task` (in a sequence run: frame task % length of sequence
    task // length)."""
    if length is None:
        return all(layout.is_complete(task) for layout in layouts.values())
    sequence, frame = divmod(task, length)
    return all(layout.is_complete(frame) for layout in sequence_layouts(layouts, sequence).values())


def camera_layouts(loaded: LoadedScene, out: Path) -> dict[str, Layout]:
    """Where each camera's files go: `out` itself without a rig, `out/NAME/` for each rig camera (each a
    complete dataset that every reader and exporter takes)."""
    if loaded.config.rig is None:
        return {"": Layout(out)}
    return {camera.name: Layout(out / camera.name) for camera in loaded.config.rig.cameras}


def rig_calibration(loaded: LoadedScene, scene) -> dict:
    """rig.json: every camera's intrinsics and its pose in the ego frame, from `scene`, the first frame
    rendered. `per_frame` is true when some camera pose or lens is drawn from a distribution: each frame
    JSON then holds its own (`cam_to_ego`, `K`)."""
    from synthgen.config.distributions import Constant

    rig = loaded.config.rig
    drawn = [getattr(c, k) for c in rig.cameras for k in ("position", "yaw", "pitch", "roll", "fov", "focal_length")]
    drawn += [loaded.config.camera.fov, loaded.config.camera.focal_length]
    per_frame = any(d is not None and not isinstance(d, Constant) for d in drawn)
    cameras = []
    for (name, spec), (_, cam_to_ego) in zip(scene.rig_cameras, scene.rig):
        cameras.append({"name": name, "folder": name, "width": spec.width, "height": spec.height,
                        "K": spec.K.tolist(), "cam_to_ego": cam_to_ego.tolist()})
    return {"ego_frame": "x forward, y left, z up, metres; origin on the road under the rear axle",
            "camera_frame": "OpenCV: x right, y down, z forward", "per_frame": per_frame, "cameras": cameras}


def _keypoint_layouts(loaded: LoadedScene) -> dict:
    """Categories whose copies carry keypoints (procedural pedestrians and riders), with their layout."""
    from synthgen.labels.keypoints import COCO_PERSON
    from synthgen.labels.model import KeypointLayout

    chosen = loaded.config.labels.keypoints
    return {name: KeypointLayout(tuple(chosen[name].names), tuple(map(tuple, chosen[name].skeleton)))
            if name in chosen else COCO_PERSON
            for group in loaded.config.objects for name in group.skeleton_categories()}


def sequence_flows(motion, view, passes, length: int):
    """(forward, backward) exact flow of one camera's frame (docs/sequences.md): to the next frame and to
    the previous one, NaN where that frame is not in the sequence."""
    from synthgen.labels.flow import exact_flows, relative_moves
    from synthgen.labels.flow_deform import deform_flow, deforming

    frame = view.frame_index
    ego, poses = motion.poses_at(frame / motion.fps)
    inside = [other for other in (frame + 1, frame - 1) if 0 <= other < length]
    targets = []
    for other in inside:
        other_ego, other_poses = motion.poses_at(other / motion.fps)
        other_cam = other_ego @ invert_rigid(ego) @ view.camera.cam_to_world  # the camera rides on the ego
        targets.append((other_cam, relative_moves(poses, other_poses)))
    computed = dict(zip(inside, exact_flows(passes.depth, passes.index, view.camera.K, view.camera.cam_to_world,
                                            targets)))  # both directions share the lifted pixels
    for other, (other_cam, _) in zip(inside, targets):
        if motion.phases:  # walkers' limbs: the surface point under each pixel, from mesh to mesh
            pairs = deforming(view.instances, motion.scene_at(other / motion.fps).instances)
            deform_flow(computed[other], passes.depth, passes.index, view.camera.K, view.camera.cam_to_world,
                        other_cam, pairs)
    flows = [computed[other] if other in computed else np.full(passes.depth.shape + (2,), np.nan, dtype=np.float32)
             for other in (frame + 1, frame - 1)]
    return flows[0], flows[1]


@dataclass(frozen=True)
class FrameTimes:
    """Where a frame's wall time went."""

    scene: float  # sampling the scene from (config, seed, index)
    render: float  # posing Blender and its render operator (Cycles, and writing the passes to a RAM disk)
    labels: float  # reading the passes back, label extraction and every file
    # parts of `labels` in sequence and sensor runs (0 when there is none), so a bench can tell them apart
    flow: float = 0.0  # both exact flows of every camera, and their files
    lidar: float = 0.0  # every lidar's sweep and files
    occupancy: float = 0.0  # the grid and its file


def render_frames(renderer, loaded: LoadedScene, seed: int, frames: Iterable[int], layouts: dict[str, Layout] | Layout,
                  save_geometry: bool, on_frame: Callable[[int, FrameTimes], None] = lambda *_: None) -> None:
    """Render, label and write `frames` in order, once per camera; `on_frame(instances, times)` is called
    after each frame."""
    for _, instances, times in rendered_frames(renderer, loaded, seed, frames, layouts, save_geometry):
        on_frame(instances, times)


def rendered_frames(renderer, loaded: LoadedScene, seed: int, frames: Iterable[int],
                    layouts: dict[str, Layout] | Layout, save_geometry: bool) -> Iterator[tuple[int, int, FrameTimes]]:
    """Render, label and write `frames` in order, once per camera; yield (frame, instances, times) as each
    is complete.

    After a render, the image and depth files are encoded on a helper thread while this one
    extracts labels: OpenCV and numpy release the GIL, and Cycles has finished, so the
    second core is free; the helper also returns freed memory to the system while the next
    scene is sampled. Nothing runs beside Cycles itself: on a machine whose cores Cycles
    fills, a worker beside it made frames slower (1.14-1.20x bare bpy against 1.04x).
    """
    if isinstance(layouts, Layout):
        layouts = {"": layouts}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="synthgen-helper") as helper:
        trimmed = motion = None
        for frame_index in frames:
            started = time.perf_counter()
            here = layouts
            if loaded.config.sequence is None:
                scene = build_scene(loaded.config, seed, frame_index, loaded.mesh_paths)
            else:  # task s * length + f: frame f of sequence s, in its own folder
                sequence, frame = divmod(frame_index, loaded.config.sequence.length)
                if motion is None or motion.sequence != sequence:  # one sequence kept: the one being rendered
                    motion = sequence_motion(loaded.config, seed, sequence, loaded.mesh_paths)
                scene = motion.scene_at(frame / motion.fps)
                here = sequence_layouts(layouts, sequence)
            if trimmed is not None:
                trimmed.result()
            sampled = time.perf_counter()
            render_time = labels_time = flow_time = lidar_time = occupancy_time = 0.0
            instances = 0
            sweeps = []
            if loaded.config.lidars:  # before the views: a frame whose JSON exists has its lidar files too
                poses_at = None if motion is None else _poses_after(motion, scene.seconds)
                sweeps = write_lidar_frame(_frame_root(here), scene, loaded.config, seed, scene.frame_index, poses_at)
                lidar_time = time.perf_counter() - sampled
                labels_time += lidar_time
            occupancy = loaded.config.occupancy
            depths, pending = {}, []  # with occupancy, frame JSONs wait until the grid is written
            for name, view in scene.views():
                layout = here[name]
                before = time.perf_counter()
                renderer.draw(view)
                rendered = time.perf_counter()
                passes = renderer.passes()
                pixels = helper.submit(write_pixels, layout, view.frame_index, passes, view.camera.world_to_cam)
                outputs = extract(view, passes, f"images/{layout.path('image', view.frame_index).name}")
                write_labels(layout, view, outputs, save_geometry, preview_image=passes.rgb is None)
                if motion is not None:
                    flow_started = time.perf_counter()
                    write_flow(layout, view.frame_index, *sequence_flows(motion, view, passes,
                                                                         loaded.config.sequence.length))
                    flow_time += time.perf_counter() - flow_started
                pixels.result()
                if occupancy is None:
                    write_frame_json(layout, outputs)
                else:
                    depths[name] = passes.depth
                    pending.append((layout, outputs.labels))
                instances += len(outputs.labels.instances)
                del passes, outputs  # image-sized arrays: free them before the next camera or frame
                render_time += rendered - before
                labels_time += time.perf_counter() - rendered
            if occupancy is not None:
                before = time.perf_counter()
                grid = frame_occupancy(scene, occupancy, depths, [lidar_rays(result) for result in sweeps])
                write_occupancy(occupancy_path(_frame_root(here), scene.frame_index), grid)
                for layout, labels in pending:
                    write_frame_json(layout, FrameOutputs(labels, None, None))
                del depths, pending, grid
                occupancy_time = time.perf_counter() - before
                labels_time += occupancy_time
            trimmed = helper.submit(release_free_memory)  # hand memory back while the next scene is sampled
            yield frame_index, instances, FrameTimes(sampled - started, render_time, labels_time, flow_time, lidar_time,
                                                     occupancy_time)


def _all_layouts(layouts: dict[str, Layout], units: range, length: int | None) -> list[Layout]:
    """Every camera folder of the run: the run's own, or each sequence's."""
    if length is None:
        return list(layouts.values())
    return [layout for s in units for layout in sequence_layouts(layouts, s).values()]


def _frame_root(layouts: dict[str, Layout]) -> Path:
    """Where a frame's sensor files go (lidar/, calib/, occupancy/): the dataset folder without a rig, the
    folder above the camera folders with one (in a sequence run: the sequence's folder)."""
    return layouts[""].root if "" in layouts else next(iter(layouts.values())).root.parent


def _poses_after(motion, frame_seconds: float):
    """The sequence's poses `dt` seconds after the frame's time, as a lidar sweep asks for them."""
    return lambda dt: motion.poses_at(frame_seconds + dt)


def _outcomes_in_process(renderer, loaded: LoadedScene, seed: int, todo: list[int], layouts: dict[str, Layout],
                         save_geometry: bool) -> Iterator[Outcome]:
    """The frames rendered in this process, with the same policy as worker processes: a frame that raises is
    tried once more, then reported failed, and the run goes on with the next one."""
    remaining, tries = list(todo), 0
    while remaining:
        try:
            for frame, instances, times in rendered_frames(renderer, loaded, seed, list(remaining), layouts, save_geometry):
                remaining.pop(0)
                tries = 0
                yield Outcome(frame, True, (instances, times), True, 0)
        except UserError:  # bad input or a full disk: the run stops, no retry can help
            raise
        except Exception as error:  # noqa: BLE001 - recorded with the frame, the run goes on
            import traceback

            traceback.print_exc()  # fd 2 is the run's log here
            tries += 1
            final = tries >= ATTEMPTS
            yield Outcome(remaining[0], False, one_line(error), final, 0)
            if final:
                remaining.pop(0)
                tries = 0


@dataclass(frozen=True)
class WorkerJob:
    """What a worker process needs to render any frame of this run."""

    config: str
    overrides: list[str]
    out: Path
    seed: int
    save_geometry: bool
    labels_only: bool
    threads: int  # Cycles threads when the config leaves render.threads at 0


@dataclass
class _WorkerState:
    job: WorkerJob
    loaded: LoadedScene
    layouts: dict[str, Layout]
    renderer: object


@contextmanager
def _frame_worker(job: WorkerJob) -> Iterator[_WorkerState]:
    """A worker process's Blender, kept for all the frames it is dealt."""
    # Read when Blender loads: left unset, OpenMP inside Blender starts a thread per core in every worker,
    # and K workers fight over the cores (bench/scale.py: 43 s against 25 s for 20 frames with 2 workers)
    os.environ.setdefault("OMP_NUM_THREADS", str(job.threads))
    from synthgen.render.blender import BlenderRenderer

    loaded = load_scene_config(job.config, job.overrides)
    renderer = BlenderRenderer(labels_only=job.labels_only, normals=loaded.config.labels.normals, threads=job.threads)
    print(f"worker {os.getpid()} with Blender {renderer.version}, {job.threads} Cycles threads", flush=True)
    try:
        yield _WorkerState(job, loaded, camera_layouts(loaded, job.out), renderer)
    finally:
        renderer.close()


def _render_in_worker(state: _WorkerState, frame: int) -> tuple[int, FrameTimes]:
    for _, instances, times in rendered_frames(state.renderer, state.loaded, state.job.seed, [frame], state.layouts,
                                               state.job.save_geometry):
        return instances, times
    raise RuntimeError(f"frame {frame} was not rendered")  # pragma: no cover - one frame in, one out


def threads_per_worker(workers: int) -> int:
    """Cycles threads for each of `workers` Blender processes, so that together they fill the cores once."""
    return max(1, usable_cores() // workers)


def _render_frames(loaded, seed, todo, layouts, request, summary, terminal_err) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(file=terminal_err)
    columns = [TextColumn("rendering"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]}"), TextColumn("ETA"), TimeRemainingColumn()]
    workers = min(request.workers, len(todo))
    # fds 1 and 2 point at render.log here: this header and Blender's own output land there
    print(f"synthgen {__version__} with Blender {metadata.version('bpy')}: {len(todo)} frames of "
          f"{loaded.source.path} (seed {seed})" + (f", {workers} worker processes" if workers > 1 else "")
          + (" on Ray" if request.backend == "ray" else ""),
          flush=True)
    renderer = None
    job = WorkerJob(str(loaded.source.path), list(request.overrides or []), request.out.resolve(), seed,
                    request.save_geometry, request.labels_only, threads_per_worker(workers))
    if request.backend == "ray":
        from synthgen.io.ray_tasks import run_tasks_on_ray

        outcomes = run_tasks_on_ray(todo, workers, _frame_worker, job, _render_in_worker, request.address,
                                    job.threads)
    elif workers == 1:  # one process is all there is to do: render here, without starting a worker
        from synthgen.render.blender import BlenderRenderer

        renderer = BlenderRenderer(labels_only=request.labels_only, normals=loaded.config.labels.normals)
        outcomes = _outcomes_in_process(renderer, loaded, seed, todo, layouts, request.save_geometry)
    else:
        outcomes = run_tasks(todo, workers, _frame_worker, job, _render_in_worker)
    try:
        with Progress(*columns, console=console, disable=not request.progress) as progress, \
                open(request.out / TIMINGS, "a", encoding="utf-8") as timings:
            task = progress.add_task("render", total=len(todo), rate="")
            started = time.perf_counter()
            for outcome in outcomes:
                if outcome.ok:
                    instances, times = outcome.value
                    summary.rendered += 1
                    summary.instances += instances
                    summary.seconds_scene += times.scene
                    summary.seconds_render += times.render
                    summary.seconds_labels += times.labels
                    timings.write(json.dumps({"frame": outcome.task, "worker": outcome.worker, "scene": times.scene,
                                              "render": times.render, "labels": times.labels, "flow": times.flow,
                                              "lidar": times.lidar, "occupancy": times.occupancy}) + "\n")
                    timings.flush()
                elif outcome.final:
                    summary.failed[outcome.task] = outcome.value
                else:
                    print(f"frame {outcome.task} failed, trying it once more: {outcome.value}", flush=True)
                    raise_if_stopped()
                    continue
                rate = summary.rendered / (time.perf_counter() - started)
                progress.update(task, advance=1, rate=f"{rate:.2f} frames/s")
                raise_if_stopped()  # SIGINT or SIGTERM came: stop after the frame in flight
            summary.seconds_wall = time.perf_counter() - started
    finally:
        if hasattr(outcomes, "close"):
            outcomes.close()
        if renderer is not None:
            renderer.close()
