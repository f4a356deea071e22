"""COCO exports laid out as other tools and COCO's own download lay them out, images found where they are.

The corpus file (tests/corpus/coco/) is datumaro's own test asset; images are
placeholders drawn at the sizes the JSON declares.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from tests.conftest import REPO, one_line_error, run_cli

CORPUS = REPO / "tests" / "corpus" / "coco"


def _placeholders(document: dict, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for image in document["images"]:
        Image.fromarray(np.full((image["height"], image["width"], 3), 128, np.uint8)).save(
            folder / Path(image["file_name"]).name)


def _datumaro_layout(root: Path) -> tuple[Path, dict]:
    shutil.copytree(CORPUS / "datumaro", root)
    document = json.loads((root / "annotations" / "instances_val.json").read_text())
    _placeholders(document, root / "images" / "val")
    return root, document


def _coco_counts(path: Path) -> tuple[int, int, int]:
    document = json.loads(path.read_text())
    crowd = sum(a.get("iscrowd", 0) for a in document["annotations"])
    return len(document["images"]), len(document["annotations"]), crowd


def test_datumaro_layout_images_under_images_subset(tmp_path):
    root, document = _datumaro_layout(tmp_path / "in")
    result = run_cli("convert", root, "--from", "coco", "--to", "coco", "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert "2 COCO object attributes" in result.stdout  # the first object's {x, y}: counted, not carried
    images, objects, crowd = _coco_counts(next((tmp_path / "out").rglob("*.json")))
    assert (images, objects, crowd) == (len(document["images"]), len(document["annotations"]), 1)
    written = json.loads(next((tmp_path / "out").rglob("*.json")).read_text())
    polygon = next(a for a in written["annotations"] if a["iscrowd"] == 0)
    assert polygon["area"] == 2 and polygon["bbox"] == [0.0, 0.0, 1.0, 2.0]  # the 1 x 2 polygon's two pixels


def test_official_layout_annotations_beside_the_subset_folder(tmp_path):
    """COCO's download: annotations/instances_val2014.json with bare file names, images in val2014/."""
    root = tmp_path / "coco"
    (root / "annotations").mkdir(parents=True)
    document = json.loads((CORPUS / "datumaro" / "annotations" / "instances_val.json").read_text())
    (root / "annotations" / "instances_val2014.json").write_text(json.dumps(document))
    _placeholders(document, root / "val2014")
    result = run_cli("convert", root / "annotations" / "instances_val2014.json", "--from", "coco", "--to", "yolo",
                     "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    labels = list((tmp_path / "out").rglob("labels/**/*.txt"))
    assert sum(len(p.read_text().splitlines()) for p in labels) == len(document["annotations"])


def test_images_elsewhere_or_by_url_are_found_with_images_dir(tmp_path):
    """file_name as a URL and the images in an unrelated folder: one line asking for --images, then found."""
    root = tmp_path / "export"
    (root / "annotations").mkdir(parents=True)
    document = json.loads((CORPUS / "datumaro" / "annotations" / "instances_val.json").read_text())
    for image in document["images"]:
        image["file_name"] = f"https://storage.example.com/bucket/{image['file_name']}?token=1"
    (root / "annotations" / "instances.json").write_text(json.dumps(document))
    _placeholders(json.loads((CORPUS / "datumaro" / "annotations" / "instances_val.json").read_text()),
                  tmp_path / "downloads" / "nested")
    message = one_line_error(run_cli("convert", root, "--from", "coco", "--to", "voc", "--out", tmp_path / "a"))
    assert "image file not found" in message and "--images" in message
    assert not (tmp_path / "a").exists()
    result = run_cli("convert", root, "--from", "coco", "--to", "voc", "--out", tmp_path / "b",
                     "--images", tmp_path / "downloads")
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "b").rglob("Annotations/*.xml"))) == len(document["images"])


def test_a_coco_file_without_images_is_an_error(tmp_path):
    document = json.loads((CORPUS / "datumaro" / "annotations" / "instances_val.json").read_text())
    document["images"], document["annotations"] = [], []
    (tmp_path / "empty.json").write_text(json.dumps(document))
    message = one_line_error(run_cli("convert", tmp_path / "empty.json", "--from", "coco", "--to", "yolo",
                                     "--out", tmp_path / "out"))
    assert "no images" in message and not (tmp_path / "out").exists()


def test_a_failed_write_leaves_no_folder_behind(tmp_path):
    """MOT holds one image size per sequence: images of two sizes make its writer fail after the output folder
    was prepared. Nothing may be left."""
    root, document = _datumaro_layout(tmp_path / "in")
    other = dict(document["images"][0], id=41, file_name="c.jpg", width=7, height=3)
    document["images"].append(other)
    (root / "annotations" / "instances_val.json").write_text(json.dumps(document))
    _placeholders({"images": [other]}, root / "images" / "val")
    result = run_cli("convert", root, "--from", "coco", "--to", "mot", "--out", tmp_path / "out")
    one_line_error(result)
    assert not (tmp_path / "out").exists()


def test_converting_to_a_format_without_masks_checks_them_and_counts_them(tmp_path):
    """COCO to YOLO detect never rasterises a polygon, but a broken one still stops the conversion, and every
    mask is counted as lost as before."""
    root, document = _datumaro_layout(tmp_path / "in")
    result = run_cli("convert", root, "--from", "coco", "--to", "yolo", "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert f"{len(document['annotations'])} masks" in result.stdout
    document["annotations"][0]["segmentation"] = [[0.0, 0.0, 1.0]]
    (root / "annotations" / "instances_val.json").write_text(json.dumps(document))
    message = one_line_error(run_cli("convert", root, "--from", "coco", "--to", "yolo", "--out", tmp_path / "bad"))
    assert "odd number of values" in message and not (tmp_path / "bad").exists()


def test_converted_images_are_the_same_bytes(tmp_path):
    root, document = _datumaro_layout(tmp_path / "in")
    assert run_cli("convert", root, "--from", "coco", "--to", "voc", "--out", tmp_path / "out").returncode == 0
    (written,) = (tmp_path / "out" / "JPEGImages").iterdir()
    assert written.read_bytes() == (root / "images" / "val" / "b.jpg").read_bytes()


def _two_camera_export(root: Path) -> dict:
    """Two images with the same file name in different folders, of different sizes, so a mix-up shows."""
    document = json.loads((CORPUS / "datumaro" / "annotations" / "instances_val.json").read_text())
    first = dict(document["images"][0], file_name="cam1/0001.jpg")
    second = dict(first, id=41, file_name="cam2/0001.jpg", width=8, height=6)
    document["images"] = [first, second]
    (root / "annotations").mkdir(parents=True)
    (root / "annotations" / "instances.json").write_text(json.dumps(document))
    return document


def test_images_found_by_name_keep_their_folders_apart(tmp_path):
    import os

    document = _two_camera_export(tmp_path / "export")
    for image in document["images"]:  # a relative --images, as typed from the repository
        folder = tmp_path / "downloads" / "day1" / Path(image["file_name"]).parent
        _placeholders({"images": [dict(image, file_name=Path(image["file_name"]).name)]}, folder)
    relative = os.path.relpath(tmp_path / "downloads", REPO)
    result = run_cli("convert", tmp_path / "export", "--from", "coco", "--to", "coco", "--out", tmp_path / "out",
                     "--images", relative)
    assert result.returncode == 0, result.stderr
    written = json.loads(next((tmp_path / "out").rglob("*.json")).read_text())
    sizes = {(i["width"], i["height"]) for i in written["images"]}
    assert sizes == {(5, 10), (8, 6)}  # each file checked against its own declared size: no mix-up
    for image in written["images"]:
        assert Image.open(tmp_path / "out" / image["file_name"]).size == (image["width"], image["height"])


def test_one_file_is_never_given_to_two_references(tmp_path):
    document = _two_camera_export(tmp_path / "export")
    only = dict(document["images"][0], file_name="0001.jpg")
    _placeholders({"images": [only]}, tmp_path / "downloads")
    message = one_line_error(run_cli("convert", tmp_path / "export", "--from", "coco", "--to", "coco",
                                     "--out", tmp_path / "out", "--images", tmp_path / "downloads"))
    assert "ambiguous" in message and "cam2/0001.jpg" in message and "cam1/0001.jpg" in message


def test_file_names_are_literal_and_keypoint_files_find_their_subset(tmp_path):
    """'a#1.jpg' is a file name, not a URL fragment; person_keypoints_val2017.json's images are in val2017/."""
    root = tmp_path / "coco"
    (root / "annotations").mkdir(parents=True)
    document = json.loads((CORPUS / "datumaro" / "annotations" / "instances_val.json").read_text())
    document["images"][0]["file_name"] = "a#1.jpg"
    (root / "annotations" / "person_keypoints_val2017.json").write_text(json.dumps(document))
    _placeholders(document, root / "val2017")
    result = run_cli("convert", root / "annotations" / "person_keypoints_val2017.json", "--from", "coco",
                     "--to", "yolo", "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr


def test_masks_of_objects_a_taxonomy_drops_are_not_counted_as_lost(tmp_path):
    root, document = _datumaro_layout(tmp_path / "in")
    taxonomy = tmp_path / "t.yaml"
    taxonomy.write_text("categories: [a, c]\nmap: {b: null}\n")  # drops the crowd object of class b
    result = run_cli("convert", root, "--from", "coco", "--to", "yolo", "--taxonomy", taxonomy,
                     "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert "dropped 1 objects" in result.stdout and result.stdout.rstrip().endswith(", 1 masks")
