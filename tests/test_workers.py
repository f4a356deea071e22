"""`synthgen render --workers K`: K Blender processes, one dataset byte for byte the same as one process
writes; failed frames tried once more, then listed; no worker outlives a killed run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from synthgen.io.workers import run_tasks
from tests.conftest import MINIMAL, REPO, dataset_tree, one_line_error, run_cli
from tests.processes import alive, children

TINY = ("--set", "camera.resolution=[32,24]")


def render(out: Path, *extra) -> subprocess.CompletedProcess:
    return run_cli("render", MINIMAL, "--out", out, "--no-progress", *TINY, *extra)


@pytest.fixture(scope="module")
def one_process(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("one") / "data"
    result = render(out, "-n", 6, "--workers", 1)
    assert result.returncode == 0, result.stderr
    return out


def test_two_workers_write_the_same_files_as_one_process(one_process, tmp_path):
    result = render(tmp_path / "two", "-n", 6, "--workers", 2)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "6 frames rendered" in result.stdout
    assert dataset_tree(tmp_path / "two") == dataset_tree(one_process)
    log = (tmp_path / "two" / "render.log").read_text()
    assert log.count("1 Cycles threads") == 2  # two workers, cores // 2 threads each on two cores
    timed = [json.loads(line)["frame"] for line in (tmp_path / "two" / "timings.jsonl").read_text().splitlines()]
    assert sorted(timed) == list(range(6)) and {0, 1} <= {json.loads(line)["worker"] for line in
                                                       (tmp_path / "two" / "timings.jsonl").read_text().splitlines()}


def test_manifest_names_the_run_and_its_complete_frames(one_process):
    manifest = json.loads((one_process / "synthgen.json").read_text())
    assert manifest["bpy"] == "5.0.1" and manifest["python"].startswith("3.11.")
    assert manifest["seed"] == 0 and len(manifest["config_digest"]) == 64
    assert manifest["resolved_config"]["camera"]["resolution"] == [32, 24]
    assert manifest["resolved_config"]["render"]["quality"] == "draft"
    assert manifest["frames"]["complete"] == [[0, 5]] and manifest["frames"]["failed"] == {}


@pytest.mark.parametrize("workers", ["0", "65"])
def test_worker_counts_out_of_range_are_refused(tmp_path, workers):
    assert "--workers must be between 1 and 64" in one_line_error(render(tmp_path / "x", "--workers", workers))


def test_the_dealing_process_never_imports_blender(tmp_path):
    code = ("import sys\n"
            "from pathlib import Path\n"
            "from synthgen.pipeline import RenderRequest, render_dataset\n"
            f"render_dataset(RenderRequest(config={str(MINIMAL)!r}, out=Path({str(tmp_path / 'out')!r}), frames=2,\n"
            "              overrides=['camera.resolution=[32,24]'], progress=False, workers=2))\n"
            "print('bpy' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
    assert len(list((tmp_path / "out" / "frames").iterdir())) == 2


def test_killing_the_run_outright_leaves_no_worker_behind(tmp_path):
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "synthgen.cli", "render", MINIMAL, "--out", out, "-n", "400",
                                *TINY, "--workers", "2", "--no-progress"], cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "frames").glob("*.json")) if (out / "frames").is_dir() else []) < 2:
        time.sleep(0.05)
    workers = children(process.pid)  # the two workers and multiprocessing's resource tracker
    assert len(_workers_of(process.pid)) == 2, "the workers should be running"
    process.kill()
    process.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(alive(pid) for pid in workers):
        time.sleep(0.05)
    assert not any(alive(pid) for pid in workers)


# ---- the process pool itself, with plain Python tasks (spawned workers import this module by name) ----

@contextmanager
def _marker_dir(path: str):
    yield Path(path)


def _flaky(marks: Path, task: int) -> int:
    """Task 3 raises once, task 4 kills its worker once, task 5 always raises; the others square."""
    first = not (marks / str(task)).exists()
    (marks / str(task)).touch()
    if task == 3 and first:
        raise ValueError("first try of 3")
    if task == 4 and first:
        os.kill(os.getpid(), signal.SIGKILL)
    if task == 5:
        raise ValueError("5 never works")
    return task * task


def test_failed_and_dead_tasks_are_tried_once_more_then_reported(tmp_path):
    outcomes = list(run_tasks(list(range(8)), 2, _marker_dir, str(tmp_path), _flaky))
    done = {o.task: o.value for o in outcomes if o.ok}
    assert done == {t: t * t for t in range(8) if t != 5}
    retried = [(o.task, o.value) for o in outcomes if not o.ok and not o.final]
    assert sorted(retried) == [(3, "ValueError: first try of 3"), (4, "worker process died (killed by signal 9)"),
                               (5, "ValueError: 5 never works")]
    assert [(o.task, o.value) for o in outcomes if o.final and not o.ok] == [(5, "ValueError: 5 never works")]


# ---- frames that fail, and resuming ----

@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_frame_that_fails_twice_is_listed_and_the_rest_complete(one_process, tmp_path, workers):
    out = tmp_path / "out"
    assert render(out, "-n", 2, "--workers", workers).returncode == 0
    (out / "images" / "000003.png").mkdir()  # frame 3's image cannot be written: a real error, every try
    result = render(out, "-n", 6, "--workers", workers, "--resume")
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert "1 frames failed twice" in lines[0] and lines[1].startswith("  frame 3: ")
    assert "Error" in lines[1] and len(lines) == 2 and "Traceback" not in result.stderr
    manifest = json.loads((out / "synthgen.json").read_text())
    assert manifest["frames"]["complete"] == [[0, 2], [4, 5]]
    assert list(manifest["frames"]["failed"]) == ["3"]
    assert (out / "render.log").read_text().count("frame 3 failed, trying it once more") == 1
    (out / "images" / "000003.png").rmdir()
    result = render(out, "-n", 6, "--workers", workers, "--resume")
    assert result.returncode == 0 and "1 frames rendered, 5 already complete" in result.stdout
    assert dataset_tree(out) == dataset_tree(one_process)


def test_resume_with_another_config_names_the_keys_that_differ(one_process, tmp_path):
    result = run_cli("render", MINIMAL, "--out", one_process, "-n", 6, "--resume", "--set", "camera.resolution=[32,32]",
                     "--set", "render.samples=2", "--set", "objects.1.count=3")
    message = one_line_error(result)
    assert "these keys differ: render.samples, camera.resolution, objects.1.count" in message


# ---- killed outright at random moments, then resumed: the same bytes as a run never interrupted ----

def _start(out: Path, *extra) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "synthgen.cli", "render", MINIMAL, "--out", out, "-n", "6", *TINY,
                             "--workers", "2", "--no-progress", *extra], cwd=REPO, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _workers_of(pid: int) -> list[int]:
    """Live worker processes of the run `pid` (not multiprocessing's resource tracker)."""
    return [child for child in children(pid) if alive(child) and b"spawn_main" in _cmdline(child)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""


def test_killing_workers_at_random_moments_loses_nothing(one_process, tmp_path):
    import random

    seed = random.randrange(2**32)
    chance = random.Random(seed)
    out = tmp_path / "out"
    process = _start(out)
    kills = 0
    while process.poll() is None and kills < 3:
        time.sleep(chance.uniform(0.5, 2.5))
        running = _workers_of(process.pid)
        if running and process.poll() is None:
            os.kill(chance.choice(running), signal.SIGKILL)
            kills += 1
    assert process.wait(timeout=300) in (0, 1), f"seed {seed}"  # 1: the same frame was killed twice
    result = render(out, "-n", 6, "--workers", "2", "--resume")
    assert result.returncode == 0, (seed, result.stderr)
    assert dataset_tree(out) == dataset_tree(one_process), f"seed {seed}, {kills} workers killed"


def test_killing_the_whole_run_at_random_moments_then_resuming_loses_nothing(one_process, tmp_path):
    import random

    seed = random.randrange(2**32)
    chance = random.Random(seed)
    out = tmp_path / "out"
    for attempt in range(3):
        process = _start(out, *(["--resume"] if attempt else []))
        time.sleep(chance.uniform(0.5, 6.0))
        os.killpg(process.pid, signal.SIGKILL)  # the run and its workers at once
        process.wait()
    result = render(out, "-n", 6, "--workers", "2", "--resume")
    assert result.returncode == 0, (seed, result.stderr)
    assert dataset_tree(out) == dataset_tree(one_process), f"seed {seed}"


def test_sigterm_stops_the_run_and_its_workers_at_once(tmp_path):
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "synthgen.cli", "render", MINIMAL, "--out", out, "-n", "400",
                                *TINY, "--workers", "2", "--no-progress"], cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "frames").glob("*.json")) if (out / "frames").is_dir() else []) < 2:
        time.sleep(0.05)
    workers = _workers_of(process.pid)
    assert len(workers) == 2
    stopped = time.time()
    process.terminate()
    process.wait(timeout=30)
    assert time.time() - stopped < 10 and process.returncode != 0
    assert not any(alive(pid) for pid in workers)
    assert "Traceback" not in process.stderr.read()


# ---- the same workers as Ray actors, on a local Ray instance started by the run ----

needs_ray = pytest.mark.skipif(__import__("importlib").util.find_spec("ray") is None,
                               reason="Ray is an optional extra: pip install -e '.[ray]'")
RAY = ("--workers", "2", "--backend", "ray")


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def _ray_actors_of(pid: int) -> list[int]:
    return [child for child in _descendants(pid) if alive(child) and _cmdline(child).startswith(b"ray::_Actor")]


@needs_ray
def test_ray_actors_write_the_same_files_as_one_process(one_process, tmp_path):
    result = render(tmp_path / "ray", "-n", 6, *RAY)
    assert result.returncode == 0, result.stderr
    assert dataset_tree(tmp_path / "ray") == dataset_tree(one_process)
    assert "on Ray" in (tmp_path / "ray" / "render.log").read_text()


@needs_ray
def test_killing_ray_actors_then_the_whole_run_loses_nothing(one_process, tmp_path):
    import random

    seed = random.randrange(2**32)
    chance = random.Random(seed)
    out = tmp_path / "out"
    process = _start(out, "--backend", "ray")
    killed = 0
    deadline = time.time() + 240
    while process.poll() is None and killed < 2 and time.time() < deadline:
        time.sleep(chance.uniform(0.2, 1.0))
        actors = _ray_actors_of(process.pid)
        if actors and process.poll() is None:
            os.kill(chance.choice(actors), signal.SIGKILL)
            killed += 1
    assert process.wait(timeout=300) in (0, 1), f"seed {seed}"
    assert killed >= 1, "an actor should have been killed while the run was going"
    for _ in range(2):  # then the whole run, Ray included, at a random moment of a resume
        for index in (out / "frames").glob("00000[024].json"):
            index.unlink()  # frames left to render, so that the kill lands mid-run
        process = _start(out, "--backend", "ray", "--resume")
        time.sleep(chance.uniform(2.0, 9.0))
        family = _descendants(process.pid)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        # Ray's own processes notice that their driver is gone by polling; on a slow, shared machine that
        # once took longer than 20 s
        deadline = time.time() + 90
        while time.time() < deadline and any(alive(pid) for pid in family):
            time.sleep(0.2)
        left = [_cmdline(pid)[:80] for pid in family if alive(pid)]
        assert not left, f"Ray processes outlived the run by 90 s (seed {seed}): {left}"
    result = render(out, "-n", 6, *RAY, "--resume")
    assert result.returncode == 0, (seed, result.stderr)
    assert dataset_tree(out) == dataset_tree(one_process), f"seed {seed}, {killed} actors killed"


def test_ray_options_that_cannot_work_are_one_line_and_write_nothing(tmp_path):
    assert "--address needs --backend ray" in one_line_error(render(tmp_path / "x", "--address", "127.0.0.1:1"))
    if __import__("importlib").util.find_spec("ray") is not None:
        message = one_line_error(render(tmp_path / "x", *RAY, "--address", "127.0.0.1:1"))
        assert "--address 127.0.0.1:1: no Ray cluster answers there" in message
    assert not (tmp_path / "x").exists()
