"""Crash safety of `synthgen render`: SIGINT and SIGTERM, SIGKILL at random moments, a full disk, scratch
files, and whole-dataset files rebuilt from the per-frame files. After each, --resume must give the folder an
uninterrupted run gives, byte for byte (render.log aside)."""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import MINIMAL, REPO, dataset_tree, one_line_error, run_cli

FRAMES = 40
TINY = ("--set", "camera.resolution=[32,24]", "--seed", "5", "--no-progress")  # draft quality: 1 sample
FRAME_DIRS = ("images", "masks/instance", "masks/semantic", "depth")


def render_args(out: Path, *extra: str) -> list[str]:
    return ["render", str(MINIMAL), "--out", str(out), "-n", str(FRAMES), *TINY, *extra]


def start(out: Path, *extra: str, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "synthgen.cli", *render_args(out, *extra)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def complete_frames(out: Path) -> int:
    frames = out / "frames"
    return len([p for p in frames.iterdir() if p.suffix == ".json"]) if frames.is_dir() else 0


def wait_for_frames(process: subprocess.Popen, out: Path, count: int, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while complete_frames(out) < count and process.poll() is None:
        assert time.time() < deadline, "the render made no progress"
        time.sleep(0.005)


def assert_only_whole_frames(out: Path) -> None:
    """No hidden temporary file anywhere, and every frame file belongs to a frame whose JSON is written."""
    assert [p for p in out.rglob(".*")] == []
    complete = {p.stem for p in (out / "frames").glob("*.json")}
    for sub in FRAME_DIRS:
        stems = {p.stem for p in (out / sub).iterdir()}
        assert stems <= complete, (sub, sorted(stems - complete))


def scratch_of(pid: int) -> list[str]:
    from synthgen.render.scratch import owner_pid, scratch_dir

    return [p.name for p in scratch_dir().iterdir() if owner_pid(p) == pid]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, bytes]:
    """The folder an uninterrupted run makes."""
    out = tmp_path_factory.mktemp("reference") / "data"
    run_cli(*render_args(out), check=True)
    return dataset_tree(out)


# ---- SIGINT and SIGTERM -----------------------------------------------------------------------------------
@pytest.mark.parametrize("signum, status, message", [(signal.SIGTERM, 143, "terminated"),
                                                     (signal.SIGINT, 130, "interrupted")])
def test_a_signal_stops_cleanly_and_the_folder_resumes(tmp_path, reference, signum, status, message):
    out = tmp_path / "data"
    process = start(out)
    wait_for_frames(process, out, 2)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == status, stderr
    assert stderr == f"synthgen: {message}\n" and stdout == ""
    assert 2 <= complete_frames(out) < FRAMES  # stopped early, after the frame in flight
    assert scratch_of(process.pid) == []  # the EXR files and Blender's session folder
    assert_only_whole_frames(out)
    run_cli(*render_args(out, "--resume"), check=True)
    assert dataset_tree(out) == reference


def test_a_second_signal_stops_at_once_and_still_removes_scratch(tmp_path, reference):
    out = tmp_path / "data"
    process = start(out)
    wait_for_frames(process, out, 2)
    process.send_signal(signal.SIGTERM)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    assert process.returncode == 143
    assert scratch_of(process.pid) == []
    assert complete_frames(out) < FRAMES
    run_cli(*render_args(out, "--resume"), check=True)
    assert dataset_tree(out) == reference


# ---- SIGKILL --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [20261202, 7])
def test_sigkill_at_random_moments_then_resume_gives_the_same_folder(tmp_path, reference, seed):
    out = tmp_path / "data"
    chance = random.Random(seed)
    killed = []
    for attempt in range(5):
        process = start(out, "--resume")
        more = chance.randint(0 if attempt < 4 else 1, 4)  # the last one inside a frame, after scratch exists
        if more == 0:  # anywhere in start-up: loading, Blender's import, the first render
            before, deadline = complete_frames(out), time.time() + chance.uniform(0.0, 2.5)
            while time.time() < deadline and complete_frames(out) == before and process.poll() is None:
                time.sleep(0.005)  # a fast machine is past start-up sooner: kill it inside the first frame
        else:  # somewhere inside a frame: its render, its files, its JSON
            wait_for_frames(process, out, complete_frames(out) + more)
            time.sleep(chance.uniform(0.0, 0.06))
        process.kill()
        process.communicate()
        killed.append(process.pid)
    assert complete_frames(out) < FRAMES, "the runs finished before they were killed: nothing was tested"
    assert scratch_of(killed[-1])  # a killed run cannot clean up after itself...
    run_cli(*render_args(out, "--resume"), check=True)
    assert [pid for pid in killed if scratch_of(pid)] == []  # ...the next run does
    assert dataset_tree(out) == reference


def test_stale_scratch_of_dead_processes_only_is_removed(tmp_path):
    from synthgen.render.scratch import remove_stale_scratch

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        names = [f"synthgen-{dead.pid}-1.a.exr", f"synthgen-{dead.pid}-blender", f"synthgen-{live.pid}-1.a.exr",
                 f"synthgen-{os.getpid()}-1.b.exr", "synthgen-notes.txt", "other-1.exr"]
        for name in names:
            (tmp_path / name).mkdir() if name.endswith("blender") else (tmp_path / name).write_bytes(b"x")
        (tmp_path / names[1] / "blender_abc").mkdir()
        removed = remove_stale_scratch(tmp_path)
    finally:
        live.kill()
        live.wait()
    assert sorted(p.name for p in removed) == sorted(names[:2])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[2:])


# ---- a full disk --------------------------------------------------------------------------------------------
@contextmanager
def small_disk(tmp_path: Path, size_kib: int, file_limit: int) -> Iterator[tuple[Path, object, str]]:
    """A folder that runs out of room after `size_kib` KiB: a tmpfs of that size. Where mounting is not
    permitted, a limit of `file_limit` bytes a file for the child instead (writes past it fail with EFBIG,
    handled alike). Yields (folder, preexec_fn for the child or None, the message expected)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs",
                                                    str(disk)], capture_output=True).returncode == 0
    try:
        if mounted:
            yield disk, None, "cannot write: no space left on device"
        else:
            def limited() -> None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))
            yield disk, limited, "cannot write: file too large for the file size limit (ulimit -f)"
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(disk)], check=True)


def test_disk_full_leaves_whole_frames_only_and_resumes(tmp_path, reference):
    # without a tmpfs: every file fits in 32000 bytes but the EXR of ~30 KB and instances.json of ~34 KB
    with small_disk(tmp_path, 150, 32000) as (disk, preexec, expected):
        out = disk / "data"
        result = subprocess.run([sys.executable, "-m", "synthgen.cli", *render_args(out)], cwd=REPO,
                                capture_output=True, text=True, preexec_fn=preexec)
        error = one_line_error(result)
        assert error.startswith(f"synthgen: {out}/") and error.rstrip().endswith(expected), error
        if preexec is None:
            assert complete_frames(out) < FRAMES  # the disk filled up mid-run
        else:
            assert "instances.json" in error  # the limit stopped the last, largest file
        assert_only_whole_frames(out)
        made = {k: v for k, v in dataset_tree(out).items() if k.startswith(("frames/", *FRAME_DIRS))}
        assert made and made == {k: reference[k] for k in made}  # the frames before the failure are intact
        if preexec is None:
            subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)  # free space
        run_cli(*render_args(out, "--resume"), check=True)
        assert dataset_tree(out) == reference


@pytest.mark.parametrize("command", [
    ("table", "configs/loans.yaml", "-n", "200000", "--format", "csv"),
    ("table", "configs/loans.yaml", "-n", "200000", "--format", "parquet"),
    ("table", "configs/loans.yaml", "-n", "200000", "--format", "jsonl", "--jobs", "2"),
    ("text", "configs/ner_invoices.yaml", "-n", "20000", "--format", "jsonl", "conll"),
])
def test_disk_full_in_table_and_text_leaves_no_partial_file(tmp_path, command):
    with small_disk(tmp_path, 100, 50000) as (disk, preexec, expected):
        out = disk / "out"
        result = subprocess.run([sys.executable, "-m", "synthgen.cli", *command, "--out", str(out), "--no-progress"],
                                cwd=REPO, capture_output=True, text=True, preexec_fn=preexec)
        error = one_line_error(result)
        assert error.startswith(f"synthgen: {out}/") and error.rstrip().endswith(expected), error
        assert list(disk.rglob("*")) == []  # nothing half-written, not even the new folder


# ---- whole-dataset files ------------------------------------------------------------------------------------
@pytest.mark.parametrize("damage", ["delete", "truncate"])
def test_resume_with_nothing_to_render_rebuilds_instances_json(tmp_path, reference, damage):
    out = tmp_path / "data"
    for name, data in reference.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    coco = out / "annotations" / "instances.json"
    if damage == "delete":
        coco.unlink()
    else:
        coco.write_bytes(reference["annotations/instances.json"][:100])
    result = run_cli(*render_args(out, "--resume"), check=True)
    assert f"0 frames rendered, {FRAMES} already complete" in result.stdout
    assert coco.read_bytes() == reference["annotations/instances.json"]


def test_export_reads_the_frames_not_instances_json(tmp_path, reference):
    out = tmp_path / "data"
    for name, data in reference.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    (out / "annotations" / "instances.json").write_text('{"images": [], "annotations": []}')
    run_cli("export", out, "--format", "coco", "--out", tmp_path / "exported", check=True)
    exported = json.loads(next((tmp_path / "exported" / "coco").rglob("*.json")).read_text())
    rendered = json.loads(reference["annotations/instances.json"])
    assert len(exported["images"]) == FRAMES
    assert len(exported["annotations"]) == len(rendered["annotations"]) > 0


def test_scratch_that_blender_could_not_write_is_one_clear_error(tmp_path):
    """A file size limit (or a full RAM disk) cuts the EXR short: one line naming it, nothing half-made."""
    out = tmp_path / "data"

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (16000, 16000))  # the 32x24 EXR is ~30 KB, the rest fits
    process = start(out, preexec_fn=limited)
    stdout, stderr = process.communicate(timeout=60)
    error = one_line_error(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr))
    assert ".exr: cannot write: Blender's render passes are incomplete" in error, error
    assert scratch_of(process.pid) == []
    assert complete_frames(out) == 0
    assert_only_whole_frames(out)


def test_a_render_that_left_its_scratch_file_unchanged_is_caught(tmp_path):
    from synthgen.errors import UserError
    from synthgen.render.scratch import check_written, stamp

    path = tmp_path / "synthgen-1-x.a.exr"
    path.write_bytes(b"older frame")
    before = stamp(path)
    with pytest.raises(UserError, match="were not written"):
        check_written(path, before)  # still the older frame's passes
    path.unlink()
    with pytest.raises(UserError, match="were not written"):
        check_written(path, before)
    time.sleep(0.01)
    path.write_bytes(b"this frame")
    check_written(path, before)


# ---- two runs, one folder ---------------------------------------------------------------------------------
@pytest.mark.parametrize("second", [
    ("--resume",),
    ("--overwrite",),
])
def test_a_second_run_into_a_folder_being_written_is_refused_and_the_first_finishes(tmp_path, reference, second):
    """A --resume or --overwrite started while a run still writes the folder would interleave frames and
    rewrite its manifest: it is refused in one line, and the first run's folder comes out as if alone. Once
    the first run is gone (even killed outright), the folder is free again."""
    out = tmp_path / "data"
    first = start(out)
    wait_for_frames(first, out, 2)
    assert first.poll() is None, "the first run ended before the second could meet it"
    message = one_line_error(run_cli(*render_args(out, *second)))
    assert "another synthgen run is writing to this folder" in message and str(out) in message
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=60)
    run_cli(*render_args(out, "--resume"), check=True)  # the kernel dropped the lock with the process
    assert dataset_tree(out) == reference


def test_table_and_text_runs_refuse_a_folder_a_render_is_writing(tmp_path):
    out = tmp_path / "data"
    render = start(out)
    try:
        wait_for_frames(render, out, 1)
        assert render.poll() is None
        for command in (["table", "configs/loans.yaml", "-n", "5"], ["text", "configs/intent.yaml", "-n", "5"]):
            message = one_line_error(run_cli(*command, "--out", out, "--overwrite"))
            assert "another synthgen run is writing to this folder" in message
    finally:
        render.kill()
        render.wait(timeout=60)
    assert (out / "frames").is_dir()  # --overwrite removed nothing of the render's
