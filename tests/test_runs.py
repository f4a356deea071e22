"""Whole runs: determinism, prefixes, resume, killed runs, refusing to clobber, huge frame numbers."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest

from tests.conftest import MINIMAL, REPO, run_cli

LABEL_FILES = ("masks/instance", "masks/semantic", "frames", "depth")


def files(root: Path, sub: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / sub).iterdir())}


def render(out: Path, *extra) -> subprocess.CompletedProcess:
    return run_cli("render", MINIMAL, "--out", out, "--no-progress", *extra, check=True)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    render(base / "a", "-n", 8, "--seed", 3)
    render(base / "b", "-n", 8, "--seed", 3)
    render(base / "long", "-n", 16, "--seed", 3)
    return base


def test_same_config_and_seed_give_identical_labels(runs):
    for sub in LABEL_FILES:
        assert files(runs / "a", sub) == files(runs / "b", sub), sub
    coco = "annotations/instances.json"
    assert (runs / "a" / coco).read_bytes() == (runs / "b" / coco).read_bytes()


def test_more_frames_leave_earlier_frames_unchanged(runs):
    for sub in LABEL_FILES + ("images",):
        long = files(runs / "long", sub)
        short = files(runs / "a", sub)
        assert len(long) == 2 * len(short)
        assert {name: long[name] for name in short} == short, sub


def test_another_seed_gives_other_frames(tmp_path, runs):
    render(tmp_path / "c", "-n", 2, "--seed", 4)
    assert files(tmp_path / "c", "frames")["000000.json"] != files(runs / "a", "frames")["000000.json"]


def test_non_empty_output_is_refused_and_left_alone(runs):
    before = files(runs / "a", "frames")
    result = run_cli("render", MINIMAL, "--out", runs / "a", "-n", 2)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "--overwrite" in result.stderr
    assert files(runs / "a", "frames") == before


def test_resume_renders_only_missing_frames(tmp_path, runs):
    work = tmp_path / "work"
    shutil.copytree(runs / "a", work)
    (work / "frames" / "000003.json").unlink()  # a frame whose other files exist but never completed
    for sub in ("images", "masks/instance", "frames"):
        (work / sub / "000005.json").unlink(missing_ok=True)
        (work / sub / "000005.png").unlink(missing_ok=True)
    (work / "images" / ".000006.png.999.partial").write_bytes(b"half a png")  # what a killed run leaves
    untouched = (work / "frames" / "000001.json").stat().st_mtime_ns
    result = render(work, "-n", 8, "--seed", 3, "--resume")
    assert "2 frames rendered, 6 already complete" in " ".join(result.stdout.split())
    assert (work / "frames" / "000001.json").stat().st_mtime_ns == untouched
    for sub in LABEL_FILES:
        assert files(work, sub) == files(runs / "a", sub), sub
    assert not list(work.rglob("*.partial"))
    coco = "annotations/instances.json"
    assert (work / coco).read_bytes() == (runs / "a" / coco).read_bytes()


def test_resume_refuses_a_different_seed_or_config(tmp_path, runs):
    work = tmp_path / "work"
    shutil.copytree(runs / "a", work)
    for extra in (["--seed", "4"], ["--seed", "3", "--set", "render.samples=2"]):
        result = run_cli("render", MINIMAL, "--out", work, "-n", 8, "--resume", *extra)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
        assert "--resume needs the same" in result.stderr


def test_resume_refuses_a_run_sampled_by_an_older_synthgen(tmp_path, runs):
    """Frames of a run whose manifest predates the current scene sampling would be placed differently."""
    work = tmp_path / "work"
    shutil.copytree(runs / "a", work)
    manifest = json.loads((work / "synthgen.json").read_text())
    del manifest["scene_sampling"]  # what manifests written before placement by footprints hold
    (work / "synthgen.json").write_text(json.dumps(manifest))
    result = run_cli("render", MINIMAL, "--out", work, "-n", 8, "--resume", "--seed", "3")
    assert result.returncode == 2 and "scene sampling" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_overwrite_replaces_only_what_synthgen_wrote(tmp_path):
    out = tmp_path / "out"
    render(out, "-n", 3)
    (out / "notes.txt").write_text("mine")
    render(out, "-n", 1, "--overwrite")
    assert sorted(p.name for p in (out / "frames").iterdir()) == ["000000.json"]
    assert (out / "notes.txt").read_text() == "mine"
    assert [i["id"] for i in json.loads((out / "annotations" / "instances.json").read_text())["images"]] == [0]


def test_frame_numbers_past_a_million(tmp_path):
    out = tmp_path / "out"
    render(out, "--start", 1234567, "-n", 1)
    assert (out / "images" / "1234567.png").is_file()
    assert (out / "masks" / "instance" / "1234567.png").is_file()
    coco = json.loads((out / "annotations" / "instances.json").read_text())
    assert [i["file_name"] for i in coco["images"]] == ["images/1234567.png"]
    assert all(a["id"] > 0 and a["image_id"] == 1234567 for a in coco["annotations"])


def test_console_is_quiet_and_blender_output_is_logged(tmp_path):
    out = tmp_path / "out"
    result = render(out, "-n", 2)
    assert result.stderr == ""
    assert len(result.stdout.strip().splitlines()) == 2  # the summary
    assert "frames rendered" in result.stdout and "s/frame" in result.stdout
    assert "with Blender 5.0.1" in (out / "render.log").read_text()


def test_native_output_goes_to_the_log(tmp_path):
    """What C code writes to fds 1 and 2 (as Blender does) lands in the log, not on the terminal."""
    log = tmp_path / "log.txt"
    code = ("import os, sys\n"
            "from pathlib import Path\n"
            "from synthgen.io.console import native_output_to\n"
            f"with native_output_to(Path({str(log)!r})) as (out, err):\n"
            "    os.write(1, b'noise on fd 1\\n'); os.write(2, b'noise on fd 2\\n')\n"
            "    print('ours', file=out)\n"
            "print('after')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ours\nafter\n" and result.stderr == ""
    assert log.read_text() == "noise on fd 1\nnoise on fd 2\n"


def test_a_killed_run_leaves_no_complete_looking_partial_files(tmp_path):
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "synthgen.cli", "render", MINIMAL, "--out", out, "-n", "400",
                                "--no-progress"], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "frames").glob("*.json")) if (out / "frames").is_dir() else []) < 5:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    complete = sorted(p.stem for p in (out / "frames").glob("*.json"))
    assert 5 <= len(complete) < 400
    for name in complete:  # every frame that looks complete is complete
        json.loads((out / "frames" / f"{name}.json").read_text())
        for sub in ("images", "masks/instance", "masks/semantic", "depth"):
            assert cv2.imread(str(out / sub / f"{name}.png"), cv2.IMREAD_UNCHANGED) is not None
    for png in out.rglob("*.png"):  # and no file under a final name is truncated
        assert cv2.imread(str(png), cv2.IMREAD_UNCHANGED) is not None, png
    result = render(out, "-n", len(complete) + 2, "--resume")
    assert f"{len(complete) + 2 - len(complete)} frames rendered" in " ".join(result.stdout.split())
