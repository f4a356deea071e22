"""Tracking exports from a rendered sequence: MOT checked with motmetrics, KITTI tracking, COCO with video fields.

The sequence is a tiny render whose ball lands somewhere else in every frame (partly out of
the image in some, wholly out in one) while instance ids stay those of the config's objects,
as a sequence render keeps them. Its frames are given the `sequence` and `seconds` keys a
sequence render writes, in a folder named as a sequence render names it (`seq_000000/`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from synthgen.formats import coco_video, kitti, kitti_tracking, mot
from synthgen.formats.losses import Losses
from tests.conftest import REPO, load_frame, run_cli
from tests.formats_helpers import assert_same_boxes, rendered, visible_instances

FRAMES = 8
FPS = 10
CONFIG = """\
version: 1
render: {quality: draft, seed: 0}
camera: {resolution: [64, 48], fov: 60, position: [0, -3.5, 2.0], look_at: [0, 0, 0.2]}
lights: [{type: sun, energy: 3, rotation: [30, 0, 30]}]
world: {color: [0.1, 0.1, 0.12]}
ground: {size: 6, material: {color: [0.5, 0.45, 0.4], roughness: 0.9}}
objects:
  - {category: cube, shape: cube, count: 2, scale: 0.5, position: {uniform: [[-1.0, -0.3, 0], [1.0, 0.3, 0]]}}
  - {category: ball, shape: sphere, count: 1, scale: 0.5, position: {uniform: [[-2.8, -1.0, 0], [2.8, 1.0, 0]]}}
"""
KITTI_CORPUS = REPO / "tests" / "corpus" / "kitti-tracking" / "ab3dmot-0001"
KITTI_SIZE = (1242, 375)  # KITTI tracking sequence 0001's images


@pytest.fixture(scope="module")
def sequence(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tracking")
    (root / "seq.yaml").write_text(CONFIG)
    out = root / "seq_000000"
    run_cli("render", root / "seq.yaml", "--out", out, "-n", FRAMES, "--no-progress", check=True)
    for k in range(FRAMES):  # what a sequence render adds to each frame
        path = out / "frames" / f"{k:06d}.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), "sequence": 0, "seconds": k / FPS}))
    return out


@pytest.fixture(scope="module")
def exported(sequence, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tracking-exports") / "out"
    run_cli("export", sequence, "--format", "mot", "--format", "kitti-tracking", "--format", "coco-video",
            "--format", "kitti", "--out", out, check=True)
    return out


def _frames(sequence: Path) -> list[dict]:
    return [load_frame(sequence, k) for k in range(FRAMES)]


def test_the_sequence_moves_and_keeps_its_ids(sequence):
    frames = _frames(sequence)
    assert all([i["id"] for i in f["instances"]] == [1, 2, 3] for f in frames)
    balls = [tuple(f["instances"][2]["bbox"]) for f in frames if f["instances"][2]["bbox"] is not None]
    assert len(set(balls)) == len(balls) >= FRAMES - 2
    truncations = [f["instances"][2]["truncation"] for f in frames]
    assert any(0 < t < 1 for t in truncations) and 1.0 in truncations  # partly out somewhere, wholly out once


def _mot_table(exported: Path):
    import motmetrics as mm

    return mm.io.loadtxt(str(exported / "mot" / "seq_000000" / "gt" / "gt.txt"), fmt="mot16")


def test_mot_of_a_sequence_is_named_after_it_and_motmetrics_reads_our_boxes_and_visibility(sequence, exported):
    seq = exported / "mot" / "seq_000000"
    info = (seq / "seqinfo.ini").read_text()
    assert "name=seq_000000\n" in info and f"frameRate={FPS}\n" in info and f"seqLength={FRAMES}\n" in info
    assert sorted(p.name for p in (seq / "img1").iterdir()) == [f"{k:06d}.png" for k in range(1, FRAMES + 1)]
    table = _mot_table(exported)
    expected = 0
    for k, frame in enumerate(_frames(sequence)):
        for instance in frame["instances"]:
            box = instance["bbox"] or instance["bbox_amodal"]  # MOT keeps hidden objects by their amodal box
            if box is None:
                assert (k + 1, instance["id"]) not in table.index  # wholly outside the image: no row
                continue
            expected += 1
            row = table.loc[(k + 1, instance["id"])]  # MOT frames count from 1; ids are our instance ids
            assert (row["X"], row["Y"], row["Width"], row["Height"]) == pytest.approx(box, abs=1e-6)
            assert row["Visibility"] == pytest.approx(instance["visibility"] if instance["bbox"] else 0.0, abs=1e-6)
            assert row["ClassId"] == instance["category_id"] and row["Confidence"] == 1
    assert len(table) == expected


def _scores(truth, hypothesis):
    import motmetrics as mm

    accumulator = mm.utils.compare_to_groundtruth(truth, hypothesis, "iou", distth=0.5)
    return mm.metrics.create().compute(accumulator, metrics=["mota", "idf1", "num_switches"]).iloc[0]


def test_motmetrics_scores_our_ground_truth_perfect_and_sees_two_swapped_tracks(exported):
    table = _mot_table(exported)
    perfect = _scores(table, table)
    assert perfect["mota"] == 1.0 and perfect["idf1"] == 1.0 and perfect["num_switches"] == 0
    swapped = table.reset_index()
    late = swapped["FrameId"] > FRAMES // 2
    for a, b in ((1, 2), (2, 1)):
        swapped.loc[late & (table.reset_index()["Id"] == a), "Id"] = b
    scores = _scores(table, swapped.set_index(["FrameId", "Id"]))
    assert scores["num_switches"] >= 2 and scores["idf1"] < 1.0


def test_mot_writes_one_sequence_folder_per_sequence_and_plain_datasets_stay_synthgen(sequence, tmp_path):
    from dataclasses import replace

    labels = rendered(sequence)
    labels.frames = [replace(f, extra={**f.extra, "sequence": f.frame_index // 4}) for f in labels.frames]
    mot.write(labels, tmp_path / "two", Losses())
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == ["seq_000000", "seq_000001"]
    assert "seqLength=4\n" in (tmp_path / "two" / "seq_000001" / "seqinfo.ini").read_text()
    back = mot.read(tmp_path / "two" / "seq_000001")
    assert_same_boxes(type(labels)(labels.categories, labels.frames[4:], labels.root), back, tolerance=1e-6)
    labels.frames = [replace(f, extra={}) for f in labels.frames]
    mot.write(labels, tmp_path / "plain", Losses())
    assert [p.name for p in (tmp_path / "plain").iterdir()] == ["synthgen"]


def _kitti_rows(path: Path) -> list[list[str]]:
    return [line.split() for line in path.read_text().splitlines()]


def test_kitti_tracking_rows_are_our_tracks_with_kitti_objects_columns(sequence, exported):
    root = exported / "kitti-tracking"
    rows = _kitti_rows(root / "label_02" / "0000.txt")
    objects = {k: _kitti_rows(exported / "kitti" / "label_2" / f"{k:06d}.txt") for k in range(FRAMES)}
    assert sorted(p.name for p in (root / "image_02" / "0000").iterdir()) == [f"{k:06d}.png" for k in range(FRAMES)]
    expected = 0
    for k, frame in enumerate(_frames(sequence)):
        mine = [r for r in rows if r[0] == str(k)]
        visible = [i for i in frame["instances"] if i["bbox"] is not None]
        assert [int(r[1]) for r in mine] == [i["id"] - 1 for i in visible]  # KITTI tracks count from 0
        for row, instance, object_row in zip(mine, visible, objects[k]):
            x, y, w, h = instance["bbox"]
            assert [float(v) for v in row[6:10]] == pytest.approx([x, y, x + w, y + h], abs=1e-6)
            assert int(row[3]) == kitti_tracking.truncation_level(instance["truncation"])
            assert int(row[4]) == kitti.occlusion_level(instance["visibility"])
            assert row[2] == object_row[0] and row[5:] == object_row[3:]  # alpha, boxes, 3D box: KITTI object's
        expected += len(visible)
    assert len(rows) == expected
    levels = {int(r[3]) for r in rows}
    assert levels == {0, 1}  # the ball is partly out of the image in two frames
    calib = (root / "calib" / "0000.txt").read_text().splitlines()
    assert [line.split()[0] for line in calib] == ["P0:", "P1:", "P2:", "P3:", "R_rect", "Tr_velo_cam", "Tr_imu_velo"]
    K = np.array(load_frame(sequence, 0)["K"])
    assert np.allclose(np.array(calib[2].split()[1:], dtype=float).reshape(3, 4)[:, :3], K, atol=1e-6)


def test_kitti_tracking_round_trip_keeps_tracks_boxes_and_levels(sequence, exported, tmp_path):
    labels = rendered(sequence)
    back = kitti_tracking.read(exported / "kitti-tracking")
    assert_same_boxes(labels, back, tolerance=1e-6)
    for fa, fb, xs, ys in zip(labels.frames, back.frames, visible_instances(labels), visible_instances(back)):
        assert np.allclose(fa.camera.K, fb.camera.K, atol=1e-6) and fb.extra["sequence"] == "0000"
        assert [x.instance_id for x in xs] == [y.instance_id for y in ys]
        for x, y in zip(xs, ys):
            assert y.attributes == {"kitti_truncated": kitti_tracking.truncation_level(x.truncation),
                                    "kitti_occluded": kitti.occlusion_level(x.visibility)}
    losses = Losses()
    kitti_tracking.write(back, tmp_path, losses)
    first, second = (_kitti_rows(root / "label_02" / "0000.txt") for root in (exported / "kitti-tracking", tmp_path))
    assert [r[:5] for r in first] == [r[:5] for r in second]
    # alpha is derived again from the location and yaw as read, which carry 6 decimals
    assert np.allclose(np.array([r[5:] for r in first], float), np.array([r[5:] for r in second], float), atol=2e-6)


def _kitti_corpus(tmp_path: Path, calib_style: str = "as shipped by AB3DMOT") -> Path:
    root = tmp_path / "kitti-tracking"
    shutil.copytree(KITTI_CORPUS, root)
    for k in range(6):  # no images are committed: placeholders of the sequence's size
        path = root / "image_02" / "0001" / f"{k:06d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", KITTI_SIZE, (96, 96, 96)).save(path)
    if calib_style == "benchmark":  # the tracking benchmark spells the last three keys without a colon
        text = (root / "calib" / "0001.txt").read_text()
        for old, new in kitti_tracking.TRACKING_KEYS.items():
            text = text.replace(f"{old}:", new)
        (root / "calib" / "0001.txt").write_text(text)
    return root


@pytest.mark.parametrize("calib_style", ["as shipped by AB3DMOT", "benchmark"])
def test_kitti_tracking_reads_the_benchmark_ground_truth(tmp_path, calib_style):
    root = _kitti_corpus(tmp_path, calib_style)
    rows = _kitti_rows(root / "label_02" / "0001.txt")
    labels = kitti_tracking.read(root)
    assert len(labels.frames) == 6 and all(f.extra["sequence"] == "0001" for f in labels.frames)
    calib = {line.split()[0].rstrip(":"): line.split()[1:] for line in (root / "calib" / "0001.txt").read_text().splitlines()
             if line.strip()}
    P2 = np.array(calib["P2"], dtype=float).reshape(3, 4)
    for k, frame in enumerate(labels.frames):
        assert np.array_equal(frame.camera.K, P2[:, :3]) and (frame.camera.width, frame.camera.height) == KITTI_SIZE
        mine = [r for r in rows if r[0] == str(k)]
        assert len(frame.instances) == len(mine)
        untracked = set(frame.extra["untracked"])
        for row, instance in zip(mine, frame.instances):
            left, top, right, bottom = (float(v) for v in row[6:10])
            assert instance.category == row[2]
            assert instance.bbox == pytest.approx((left, top, right - left, bottom - top))
            if row[1] == "-1":
                assert instance.instance_id in untracked and instance.category == "DontCare"
                assert instance.box3d is None
                continue
            assert instance.instance_id == int(row[1]) + 1 and instance.instance_id not in untracked
            assert instance.attributes == {"kitti_truncated": int(row[3]), "kitti_occluded": int(row[4])}
            h, w, length, x, y, z = (float(v) for v in row[10:16])
            bottom_centre = instance.box3d.center + np.array([0.0, instance.box3d.size[1] / 2, 0.0])
            assert bottom_centre == pytest.approx((x, y, z)) and sorted(instance.box3d.size) == pytest.approx(
                sorted((h, w, length)))
    tracks = {i.instance_id for f in labels.frames for i in f.instances if i.category != "DontCare"}
    assert tracks == {int(r[1]) + 1 for r in rows if r[1] != "-1"}
    # written back, every row is the benchmark's (numbers to KITTI's 6 places), DontCare rows included
    out = tmp_path / "out"
    kitti_tracking.write(labels, out, Losses())
    written = _kitti_rows(out / "label_02" / "0001.txt")
    assert len(written) == len(rows)
    for a, b in zip(sorted(rows, key=lambda r: (int(r[0]), r[1] != "-1", int(r[1]))), sorted(
            written, key=lambda r: (int(r[0]), r[1] != "-1", int(r[1])))):
        assert a[:5] == b[:5]
        assert [float(v) for v in a[6:]] == pytest.approx([float(v) for v in b[6:]], abs=1e-6)
        if a[1] != "-1":  # alpha is derived again as rotation_y - atan2(x, z); KITTI's own differ by up to
            assert float(b[5]) == pytest.approx(float(a[5]), abs=0.1)  # 0.093 rad (nearest objects) in 0001
    assert [line.split()[0] for line in (out / "calib" / "0001.txt").read_text().splitlines()] == [
        "P0:", "P1:", "P2:", "P3:", "R_rect", "Tr_velo_cam", "Tr_imu_velo"]


def test_kitti_tracking_converts_to_mot_that_motmetrics_reads(tmp_path):
    import motmetrics as mm

    root = _kitti_corpus(tmp_path)
    run_cli("convert", root, "--from", "kitti-tracking", "--to", "mot", "--out", tmp_path / "mot", check=True)
    table = mm.io.loadtxt(str(tmp_path / "mot" / "0001" / "gt" / "gt.txt"), fmt="mot16")
    rows = _kitti_rows(root / "label_02" / "0001.txt")
    assert sorted(table.reset_index()["Id"].unique()) == [-1] + sorted({int(r[1]) + 1 for r in rows if r[1] != "-1"})
    assert len(table) == len(rows)


def test_coco_video_loads_in_pycocotools_with_videos_frames_and_tracks(sequence, exported):
    from pycocotools.coco import COCO

    path = exported / "coco-video" / "annotations" / "instances.json"
    coco = COCO(str(path))
    doc = json.loads(path.read_text())
    assert doc["videos"] == [{"id": 1, "name": "seq_000000", "fps": FPS, "width": 64, "height": 48}]
    images = sorted(coco.dataset["images"], key=lambda i: i["id"])
    assert [(i["video_id"], i["frame_id"]) for i in images] == [(1, k) for k in range(FRAMES)]
    for k, frame in enumerate(_frames(sequence)):
        annotations = coco.loadAnns(coco.getAnnIds(imgIds=[images[k]["id"]]))
        visible = [i for i in frame["instances"] if i["bbox"] is not None]
        assert [a["instance_id"] for a in annotations] == [i["id"] - 1 for i in visible]
        assert [a["track_id"] for a in annotations] == [a["instance_id"] for a in annotations]
        assert [a["bbox"] for a in annotations] == [i["bbox"] for i in visible]
        assert [a["visibility"] for a in annotations] == [i["visibility"] for i in visible]


def test_coco_video_round_trip_keeps_track_ids_and_videos(sequence, exported, tmp_path):
    labels = rendered(sequence)
    back = coco_video.read(exported / "coco-video")
    assert_same_boxes(labels, back)
    for xs, ys in zip(visible_instances(labels), visible_instances(back)):
        assert [x.instance_id for x in xs] == [y.instance_id for y in ys]
    assert {f.extra["sequence"] for f in back.frames} == {"seq_000000"}
    # two videos: instance_id stays unique across them, and each comes back as its own sequence
    from dataclasses import replace

    labels.frames = [replace(f, extra={**f.extra, "sequence": f"part{f.frame_index // 4}"}) for f in labels.frames]
    coco_video.write(labels, tmp_path, Losses())
    doc = json.loads((tmp_path / "annotations" / "instances.json").read_text())
    assert [v["name"] for v in doc["videos"]] == ["part0", "part1"]
    assert [(i["video_id"], i["frame_id"]) for i in doc["images"]] == [(1 + k // 4, k % 4) for k in range(FRAMES)]
    by_image = {}
    for a in doc["annotations"]:
        by_image.setdefault(a["image_id"], []).append(a["instance_id"])
    assert by_image[5] == [32768 + i.instance_id - 1 for i in labels.frames[5].instances if i.bbox is not None]
    again = coco_video.read(tmp_path)
    assert [f.extra["sequence"] for f in again.frames] == [f"part{k // 4}" for k in range(FRAMES)]
    for xs, ys in zip(visible_instances(labels), visible_instances(again)):  # the second video's too
        assert [x.instance_id for x in xs] == [y.instance_id for y in ys]


def test_coco_video_reads_frames_in_video_and_frame_id_order_whatever_the_image_order(sequence, exported, tmp_path):
    shutil.copytree(exported / "coco-video", tmp_path / "in")
    path = tmp_path / "in" / "annotations" / "instances.json"
    doc = json.loads(path.read_text())
    doc["images"].reverse()
    path.write_text(json.dumps(doc))
    back = coco_video.read(tmp_path / "in")
    assert [f.frame_index for f in back.frames] == list(range(FRAMES))
    assert_same_boxes(rendered(sequence), back)


def _edit_line(root: Path, number: int, edit) -> None:
    path = root / "label_02" / "0001.txt"
    lines = path.read_text().splitlines()
    lines[number] = edit(lines[number].split())
    path.write_text("\n".join(lines) + "\n")


BROKEN_KITTI_TRACKING = {  # what is broken: (change to the corpus copy, what the one line must say)
    "columns": (lambda r: _edit_line(r, 6, lambda f: " ".join(f[:16])), "line 7: expected 17 values"),
    "float truncation": (lambda r: _edit_line(r, 6, lambda f: " ".join(f[:3] + ["0.5"] + f[4:])),
                         "truncated must be 0, 1 or 2"),
    "track twice": (lambda r: _edit_line(r, 6, lambda f: " ".join(f[:1] + ["0"] + f[2:])), "track 0 appears twice"),
    "frame": (lambda r: _edit_line(r, 6, lambda f: " ".join(["-1"] + f[1:])), "frame (from 0)"),
    "image missing": (lambda r: (r / "image_02" / "0001" / "000005.png").unlink(), "image file not found"),
    "calib": (lambda r: (r / "calib" / "0001.txt").write_text("P2: 1 2 3\n"), "P2: needs 12 numbers"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_KITTI_TRACKING))
def test_broken_kitti_tracking_gives_one_line_and_exit_2(tmp_path, case):
    from tests.conftest import one_line_error

    root = _kitti_corpus(tmp_path)
    change, message = BROKEN_KITTI_TRACKING[case]
    change(root)
    result = run_cli("convert", root, "--from", "kitti-tracking", "--to", "coco", "--out", tmp_path / "out")
    assert message in one_line_error(result)
    assert not (tmp_path / "out").exists()


def test_tracking_exports_are_byte_identical_across_runs(sequence, exported, tmp_path):
    run_cli("export", sequence, "--format", "mot", "--format", "kitti-tracking", "--format", "coco-video",
            "--out", tmp_path, check=True)
    for name in ("mot", "kitti-tracking", "coco-video"):
        files = sorted(p.relative_to(tmp_path) for p in (tmp_path / name).rglob("*") if p.is_file())
        assert files and all((tmp_path / f).read_bytes() == (exported / f).read_bytes() for f in files)


def test_a_mot_sequence_keeps_its_name_and_frame_rate_through_the_tracking_formats(tmp_path):
    root = tmp_path / "in"
    shutil.copytree(REPO / "tests" / "corpus" / "mot" / "mot17-05-sdp", root)
    for k in range(1, 4):
        path = root / "MOT17-05-SDP" / "img1" / f"{k:06d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (640, 480), (96, 96, 96)).save(path)
    run_cli("convert", root, "--from", "mot", "--to", "mot", "--out", tmp_path / "mot", check=True)
    info = (tmp_path / "mot" / "MOT17-05-SDP" / "seqinfo.ini").read_text()
    assert "name=MOT17-05-SDP\n" in info and "frameRate=14\n" in info and "seqLength=3\n" in info
    rows = (root / "MOT17-05-SDP" / "gt" / "gt.txt").read_text().splitlines()
    assert sorted((tmp_path / "mot" / "MOT17-05-SDP" / "gt" / "gt.txt").read_text().splitlines()) == sorted(rows)
    run_cli("convert", root, "--from", "mot", "--to", "coco-video", "--out", tmp_path / "coco", check=True)
    doc = json.loads((tmp_path / "coco" / "annotations" / "instances.json").read_text())
    assert doc["videos"] == [{"id": 1, "name": "MOT17-05-SDP", "fps": 14, "width": 640, "height": 480}]
    assert sorted({a["instance_id"] for a in doc["annotations"]}) == sorted({int(r.split(",")[1]) - 1 for r in rows})


@pytest.mark.parametrize("hostile", ["../up", "a/b", "CON", "", "x" * 300])
def test_a_sequence_value_that_is_no_plain_file_name_never_names_a_folder(sequence, tmp_path, hostile):
    from dataclasses import replace

    labels = rendered(sequence)
    labels.frames = [replace(f, extra={**f.extra, "sequence": hostile if f.frame_index < 4 else "b"})
                     for f in labels.frames]
    out = tmp_path / "out" / "inside"
    mot.write(labels, out, Losses())
    kitti_tracking.write(labels, out / "kitti", Losses())
    assert {p.name for p in out.iterdir()} == {"seq_000000", "b", "kitti"}
    assert sorted(p.name for p in (out / "kitti" / "label_02").iterdir()) == ["0000.txt", "0001.txt"]
    assert all(p.resolve().is_relative_to(out) for p in (tmp_path / "out").rglob("*"))
