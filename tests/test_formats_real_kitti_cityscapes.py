"""KITTI and Cityscapes exports as datumaro writes them; KITTI to KITTI keeps occlusion and calibration."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import REPO, one_line_error, run_cli

KITTI = REPO / "tests" / "corpus" / "kitti" / "datumaro_3d"


def _calib(path: Path) -> dict[str, list[float]]:
    return {key.strip(): [float(v) for v in rest.split()]
            for key, _, rest in (line.partition(":") for line in path.read_text().splitlines() if line.strip())}


def _kitti_copy(tmp_path: Path) -> Path:
    """The corpus export with its image drawn where datumaro puts it, at KITTI's size."""
    root = tmp_path / "kitti"
    shutil.copytree(KITTI, root)
    (root / "training" / "image_2").mkdir(parents=True)
    Image.fromarray(np.zeros((375, 1242, 3), np.uint8)).save(root / "training" / "image_2" / "000001.png")
    return root


def test_kitti_to_kitti_keeps_occlusion_levels_and_the_calibration(tmp_path):
    root = _kitti_copy(tmp_path)
    result = run_cli("convert", root, "--from", "kitti", "--to", "kitti", "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    source = [line.split() for line in (root / "label_2" / "000001.txt").read_text().splitlines()]
    written = [line.split() for line in (tmp_path / "out" / "label_2" / "000001.txt").read_text().splitlines()]
    assert [(r[0], int(float(r[2]))) for r in written] == [(r[0], int(float(r[2]))) for r in source]  # 0, 3, -1
    for a, b in zip(source, written):
        assert np.allclose([float(v) for v in a[4:8]], [float(v) for v in b[4:8]])  # the 2D boxes
    before, after = _calib(root / "calib" / "000001.txt"), _calib(tmp_path / "out" / "calib" / "000001.txt")
    assert before.keys() == after.keys() and all(np.allclose(before[k], after[k]) for k in before)


def test_kitti_without_label_files_is_an_error(tmp_path):
    (tmp_path / "kitti" / "label_2").mkdir(parents=True)
    message = one_line_error(run_cli("convert", tmp_path / "kitti", "--from", "kitti", "--to", "coco",
                                     "--out", tmp_path / "out"))
    assert "no label files" in message and not (tmp_path / "out").exists()


def test_cityscapes_in_datumaros_layout_without_city_folders(tmp_path):
    """gtFine/<split>/NAME_gtFine_instanceIds.png beside leftImg8bit/<split>/NAME_leftImg8bit.png."""
    root = tmp_path / "cityscapes"
    (root / "gtFine" / "val").mkdir(parents=True)
    (root / "leftImg8bit" / "val").mkdir(parents=True)
    ids = np.zeros((20, 30), np.uint16)
    ids[:, :] = 7  # road: stuff, not an object
    ids[2:8, 2:10] = 26000  # car 0
    ids[10:18, 5:9] = 26001  # car 1
    ids[3:9, 15:20] = 24000  # person 0
    ids[12:15, 20:28] = 26  # a car crowd region (no instance id)
    Image.fromarray(ids).save(root / "gtFine" / "val" / "frankfurt_000000_000294_gtFine_instanceIds.png")
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(
        root / "leftImg8bit" / "val" / "frankfurt_000000_000294_leftImg8bit.png")
    result = run_cli("convert", root, "--from", "cityscapes", "--to", "coco", "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    import json

    document = json.loads(next((tmp_path / "out").rglob("*.json")).read_text())
    assert len(document["images"]) == 1
    areas = sorted((a["area"], a["iscrowd"]) for a in document["annotations"])
    expected = sorted([(int((ids == v).sum()), 0) for v in (26000, 26001, 24000)] + [(int((ids == 26).sum()), 1)])
    assert areas == expected


def test_cityscapes_without_instance_images_is_an_error(tmp_path):
    (tmp_path / "cs" / "gtFine" / "val").mkdir(parents=True)
    message = one_line_error(run_cli("convert", tmp_path / "cs", "--from", "cityscapes", "--to", "coco",
                                     "--out", tmp_path / "out"))
    assert "nothing to read" in message and not (tmp_path / "out").exists()


def test_kitti_levels_do_not_become_voc_flags(tmp_path):
    """KITTI's occlusion levels (0-3, -1) are not VOC's 0/1 flag: KITTI to VOC writes a VOC that reads back."""
    root = _kitti_copy(tmp_path)
    result = run_cli("convert", root, "--from", "kitti", "--to", "voc", "--out", tmp_path / "voc")
    assert result.returncode == 0, result.stderr
    assert "'kitti_occluded' flags" in result.stdout  # levels 3 and -1: counted, not carried
    back = run_cli("convert", tmp_path / "voc", "--from", "voc", "--to", "coco", "--out", tmp_path / "coco")
    assert back.returncode == 0, back.stderr


def test_cityscapes_test_asset_of_datumaro(tmp_path):
    """datumaro's 8-bit instanceIds (label ids only): every region of a class that has instances is a crowd
    object of that class, as cityscapesscripts' label table says; the others (wall, ego vehicle) are not objects."""
    import json

    from cityscapesscripts.helpers.labels import id2label

    root = REPO / "tests" / "corpus" / "cityscapes" / "datumaro"
    result = run_cli("convert", root, "--from", "cityscapes", "--to", "coco", "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    document = json.loads(next((tmp_path / "out").rglob("*.json")).read_text())
    names = {c["id"]: c["name"] for c in document["categories"]}
    files = sorted(root.glob("gtFine/*/*/*_gtFine_instanceIds.png"))
    assert len(document["images"]) == len(files)
    expected = sorted((id2label[int(v)].name, int((np.array(Image.open(f)) == v).sum()))
                      for f in files for v in np.unique(np.array(Image.open(f)))
                      if id2label[int(v)].hasInstances)
    got = sorted((names[a["category_id"]], a["area"]) for a in document["annotations"])
    assert got == expected and all(a["iscrowd"] == 1 for a in document["annotations"])


def test_kitti_dontcare_rows_keep_their_sentinels_and_alpha_is_recomputed(tmp_path):
    """DontCare rows carry -1/-10/-1000 placeholders that are not truncation, levels or a 3D box: they come
    back as written. Rows with a 3D box get alpha = rotation_y - atan2(x, z) from their own location."""
    root = _kitti_copy(tmp_path)
    run_cli("convert", root, "--from", "kitti", "--to", "kitti", "--out", tmp_path / "out", check=True)
    source = [line.split() for line in (root / "label_2" / "000001.txt").read_text().splitlines()]
    written = [line.split() for line in (tmp_path / "out" / "label_2" / "000001.txt").read_text().splitlines()]
    dontcare = [(a, b) for a, b in zip(source, written) if a[0] == "DontCare"]
    assert len(dontcare) == 1
    for a, b in dontcare:
        assert b[0] == "DontCare" and [float(v) for v in b[1:]] == [float(v) for v in a[1:]]
    for a, b in zip(source, written):
        if a[0] != "DontCare":
            x, z, rotation_y = float(b[11]), float(b[13]), float(b[14])
            assert float(b[3]) == pytest.approx(math.remainder(rotation_y - math.atan2(x, z), 2 * math.pi), abs=2e-6)
            assert float(b[3]) == pytest.approx(float(a[3]), abs=0.01)  # the source's own alpha, to its 2 decimals
