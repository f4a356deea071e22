"""Real-world-shaped VOC and MOT exports (tests/corpus/voc, tests/corpus/mot) converted with the CLI.

Each variant is copied to a temporary folder, given placeholder images of the sizes its files
declare (no real images are committed), converted to COCO, and the output is checked against
counts taken from the corpus files directly: XML <object>s, object-PNG pixels, gt.txt rows.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import REPO, one_line_error, run_cli

VOC = REPO / "tests" / "corpus" / "voc"
MOT = REPO / "tests" / "corpus" / "mot"

# images each export refers to, with the sizes its files declare (datumaro-labelmap declares none: 20x10,
# the size of datumaro's other VOC test images); cvat's export was made without images: they go to --images
VOC_IMAGES = {
    "voc2012": {"JPEGImages/2007_000027.jpg": (486, 500), "JPEGImages/2007_000032.jpg": (500, 281)},
    "datumaro-1.x": {"JPEGImages/2007_000001.jpg": (20, 10), "JPEGImages/2007_000002.jpg": (20, 10)},
    "datumaro-labelmap": {f"JPEGImages/{n}.jpg": (20, 10) for n in "@abcd"},
    "datumaro-edge": {"JPEGImages/edge.jpg": (24, 16)},
    "cvat-segmentation-mask-1.1": {"../images/IMG_0001.jpg": (32, 20)},
}
# object-PNG instances that are not XML object k (datumaro and CVAT number masks apart from boxes)
VOC_MASK_OBJECTS = {"voc2012": 0, "datumaro-1.x": 1, "datumaro-labelmap": 0, "datumaro-edge": 1,
                    "cvat-segmentation-mask-1.1": 3}
# what each export holds that the model cannot: <part>s, <actions>, images listed or stored without annotations
VOC_UNREAD = {"voc2012": (4, 0, 1), "datumaro-1.x": (1, 1, 1), "datumaro-labelmap": (0, 0, 0),
              "datumaro-edge": (0, 0, 0), "cvat-segmentation-mask-1.1": (0, 0, 1)}

MOT_SEQUENCES = {  # variant: (sequence folder, image size, image extension)
    "mot15-tud-campus": ("TUD-Campus", (640, 480), ".jpg"),
    "mot17-05-sdp": ("MOT17-05-SDP", (640, 480), ".jpg"),
    "datumaro-mot-seq": ("mot_seq_with_seqinfo", (16, 16), ".jpg"),
    "cvat-mot-1.1": (".", (48, 32), ".jpg"),
}


def placeholder(path: Path, size: tuple[int, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (96, 96, 96)).save(path)


def voc_copy(tmp_path: Path, variant: str) -> Path:
    root = tmp_path / "in" / variant
    shutil.copytree(VOC / variant, root)
    for name, size in VOC_IMAGES[variant].items():
        placeholder(root / name, size)
    return root


def voc_args(variant: str, root: Path) -> list:
    return ["--images", root.parent / "images"] if variant == "cvat-segmentation-mask-1.1" else []


def object_png_pixels(png: Path) -> tuple[int, int]:
    """(instances, pixels of instances) in an object PNG, palette or RGB: non-black, non-void values."""
    with Image.open(png) as image:
        data = np.array(image.convert("RGB"))
    colours = data.reshape(-1, 3)
    keep = ~((colours == 0).all(axis=1) | (colours == (224, 224, 192)).all(axis=1))
    return len(np.unique(colours[keep], axis=0)), int(keep.sum())


def coco_of(out: Path) -> dict:
    return json.loads((out / "annotations" / "instances.json").read_text())


@pytest.mark.parametrize("variant", sorted(VOC_IMAGES))
def test_voc_variant_converts_to_coco(tmp_path, variant):
    root = voc_copy(tmp_path, variant)
    xmls = sorted((root / "Annotations").glob("*.xml"))
    objects = sum(len(ET.parse(f).getroot().findall("object")) for f in xmls)
    pngs = [object_png_pixels(p) for p in sorted((root / "SegmentationObject").glob("*.png"))]
    out = tmp_path / "coco"
    result = run_cli("convert", root, "--from", "voc", "--to", "coco", "--out", out, *voc_args(variant, root),
                     check=True)
    coco = coco_of(out)
    assert len(coco["images"]) == (len(xmls) or len(pngs))
    assert len(coco["annotations"]) == objects + VOC_MASK_OBJECTS[variant]
    masked = [a for a in coco["annotations"] if "segmentation" in a]
    assert len(masked) == sum(n for n, _ in pngs)
    assert sum(a["area"] for a in masked) == sum(p for _, p in pngs)
    for image in coco["images"]:  # every box lies on its image
        for a in (a for a in coco["annotations"] if a["image_id"] == image["id"]):
            x, y, w, h = a["bbox"]
            assert 0 <= x and 0 <= y and w > 0 and h > 0 and x + w <= image["width"] and y + h <= image["height"]
    parts, actions, unlabelled = VOC_UNREAD[variant]
    line = result.stdout.strip().splitlines()[-1]
    for n, what in ((parts, "VOC <part> boxes"), (actions, "VOC <actions>"), (unlabelled, "images without")):
        assert (f"{n} {what}" in line) == bool(n), line


def test_voc_box_at_the_edge_written_as_zero_starts_at_the_edge(tmp_path):
    root = voc_copy(tmp_path, "datumaro-edge")
    out = tmp_path / "coco"
    run_cli("convert", root, "--from", "voc", "--to", "coco", "--out", out, check=True)
    boxes = {tuple(a["bbox"]) for a in coco_of(out)["annotations"]}
    assert (0.0, 1.0, 6.0, 13.0) in boxes  # xmin 0.0 -> x 0 (not -1); ymin 2.0 -> y 1 (VOC's 1-based rule)
    assert (13.0, 0.0, 11.0, 5.0) in boxes  # ymin 0.0 at the top edge, xmax 24.0 = the image width


def test_voc_palette_masks_keep_their_pixels_and_void_stays_out(tmp_path):
    root = voc_copy(tmp_path, "voc2012")
    out = tmp_path / "coco"
    run_cli("convert", root, "--from", "voc", "--to", "coco", "--out", out, check=True)
    ids = np.array(Image.open(root / "SegmentationObject" / "2007_000032.png"))
    areas = sorted(a["area"] for a in coco_of(out)["annotations"] if "segmentation" in a)
    assert areas == sorted(int((ids == k).sum()) for k in (1, 2, 3, 4))


@pytest.mark.parametrize("variant", sorted(MOT_SEQUENCES))
def test_mot_variant_converts_to_coco(tmp_path, variant):
    folder, size, ext = MOT_SEQUENCES[variant]
    root = tmp_path / "in" / variant
    shutil.copytree(MOT / variant, root)
    rows = [line.split(",") for line in (root / folder / "gt" / "gt.txt").read_text().splitlines() if line.strip()]
    frames = sorted({int(r[0]) for r in rows})
    for frame in range(1, frames[-1] + 1):
        placeholder(root / folder / "img1" / f"{frame:06d}{ext}", size)
    out = tmp_path / "coco"
    run_cli("convert", root, "--from", "mot", "--to", "coco", "--out", out, check=True)
    coco = coco_of(out)
    assert len(coco["images"]) == frames[-1]
    shown = [r for r in rows if len(r) == 10 or float(r[8]) > 0]  # visibility 0: COCO has no hidden objects
    assert len(coco["annotations"]) == len(shown)
    assert len({a["id"] for a in coco["annotations"]}) == len(shown)  # untracked rows do not share an id
    got = sorted(tuple(a["bbox"]) for a in coco["annotations"])
    one_based = lambda v: float(v) - 1 if float(v) >= 1 else 0.0  # noqa: E731  (below 1: the image edge)
    assert got == sorted((one_based(r[2]), one_based(r[3]), float(r[4]), float(r[5])) for r in shown)


def test_mot_untracked_rows_stay_untracked_and_apart(tmp_path):
    root = tmp_path / "in"
    shutil.copytree(MOT / "cvat-mot-1.1", root)
    for frame in (1, 2):
        placeholder(root / "img1" / f"{frame:06d}.jpg", (48, 32))
    rows = [r.split(",") for r in (root / "gt" / "gt.txt").read_text().splitlines()]
    out = tmp_path / "mot"
    run_cli("convert", root, "--from", "mot", "--to", "mot", "--out", out, check=True)
    back = [r.split(",") for r in (out / "synthgen" / "gt" / "gt.txt").read_text().splitlines()]
    assert sum(r[1] == "-1" for r in back) == sum(r[1] == "-1" for r in rows) == 5
    tracks = {r[1] for r in back if r[1] != "-1"}
    assert tracks == {"1"}  # the one real track keeps its id; no untracked row joined it or formed a new one


def test_mot15_world_coordinates_are_counted_when_known(tmp_path):
    root = tmp_path / "in"
    shutil.copytree(MOT / "mot15-tud-campus", root)
    gt = root / "TUD-Campus" / "gt" / "gt.txt"
    gt.write_text(gt.read_text().replace("1,-1,-1,-1\n", "1,2.5,7.1,0\n", 2))
    for frame in range(1, 6):
        placeholder(root / "TUD-Campus" / "img1" / f"{frame:06d}.jpg", (640, 480))
    result = run_cli("convert", root, "--from", "mot", "--to", "coco", "--out", tmp_path / "coco", check=True)
    assert "2 MOT15 world coordinates" in result.stdout


def broken_voc(tmp_path: Path, variant: str, edit) -> Path:
    root = voc_copy(tmp_path, variant)
    edit(root)
    return root


VOC_BROKEN = {
    "no annotations": ("voc2012", lambda r: [shutil.rmtree(r / d) for d in ("Annotations", "SegmentationObject")],
                       "no annotations"),
    "no images": ("voc2012", lambda r: shutil.rmtree(r / "JPEGImages"), "image file not found"),
    "box past the image": ("datumaro-edge", lambda r: (r / "Annotations" / "edge.xml").write_text(
        (r / "Annotations" / "edge.xml").read_text().replace("<xmax>24.0</xmax>", "<xmax>25.0</xmax>")), "bndbox"),
    "negative box": ("datumaro-edge", lambda r: (r / "Annotations" / "edge.xml").write_text(
        (r / "Annotations" / "edge.xml").read_text().replace("<xmin>0.0</xmin>", "<xmin>-1.0</xmin>")), "bndbox"),
    "unknown colour": ("cvat-segmentation-mask-1.1", lambda r: (r / "labelmap.txt").write_text(
        (r / "labelmap.txt").read_text().replace("Dog:176,112,32", "Dog:170,112,32")), "colour (176, 112, 32)"),
    "mask of unknown class": ("voc2012", lambda r: shutil.rmtree(r / "SegmentationClass") or
                              (r / "Annotations" / "2007_000032.xml").write_text("\n".join(
                                  (r / "Annotations" / "2007_000032.xml").read_text().splitlines()[:-13]
                                  + ["</annotation>"])), "matches no object"),
}


@pytest.mark.parametrize("case", sorted(VOC_BROKEN))
def test_voc_bad_export_is_one_line_and_writes_nothing(tmp_path, case):
    variant, edit, expected = VOC_BROKEN[case]
    root = broken_voc(tmp_path, variant, edit)
    out = tmp_path / "out"
    message = one_line_error(run_cli("convert", root, "--from", "voc", "--to", "coco", "--out", out,
                                     *voc_args(variant, root)))
    assert expected in message, message
    assert not out.exists()


MOT_BROKEN = {
    "empty folder": (lambda r: shutil.rmtree(r / "TUD-Campus"), "no gt/gt.txt"),
    "empty gt": (lambda r: (r / "TUD-Campus" / "gt" / "gt.txt").write_text(""), "no rows"),
    "unmatched frame": (lambda r: (r / "TUD-Campus" / "gt" / "gt.txt").write_text("9,1,1,1,5,5,1,-1,-1,-1\n"),
                        "image file not found"),
    "eight columns": (lambda r: (r / "TUD-Campus" / "gt" / "gt.txt").write_text("1,1,1,1,5,5,1,1\n"),
                      "expected 9 comma-separated values"),
    "id below -1": (lambda r: (r / "TUD-Campus" / "gt" / "gt.txt").write_text("1,-2,1,1,5,5,1,-1,-1,-1\n"),
                    "-1 for a row without a track"),
}


@pytest.mark.parametrize("case", sorted(MOT_BROKEN))
def test_mot_bad_export_is_one_line_and_writes_nothing(tmp_path, case):
    edit, expected = MOT_BROKEN[case]
    root = tmp_path / "in"
    shutil.copytree(MOT / "mot15-tud-campus", root)
    for frame in range(1, 6):
        placeholder(root / "TUD-Campus" / "img1" / f"{frame:06d}.jpg", (640, 480))
    edit(root)
    out = tmp_path / "out"
    message = one_line_error(run_cli("convert", root, "--from", "mot", "--to", "coco", "--out", out))
    assert expected in message, message
    assert not out.exists()


def test_voc_labelmap_colours_must_tell_classes_apart(tmp_path):
    root = voc_copy(tmp_path, "datumaro-labelmap")
    lines = (root / "labelmap.txt").read_text().splitlines()
    entries = [line for line in lines if line.strip() and not line.startswith("#")]
    first, second = entries[1], entries[2]  # two classes after background
    colour = first.split(":")[1]
    name, _, rest = second.partition(":")
    lines[lines.index(second)] = f"{name}:{colour}:{rest.split(':', 1)[1]}"
    (root / "labelmap.txt").write_text("\n".join(lines) + "\n")
    result = run_cli("convert", root, "--from", "voc", "--to", "coco", "--out", tmp_path / "out")
    assert result.returncode == 2 and "has the colour" in result.stderr and not (tmp_path / "out").exists()


def _mot17(tmp_path: Path) -> tuple[Path, Path, tuple[int, int], str]:
    folder, size, ext = MOT_SEQUENCES["mot17-05-sdp"]
    root = tmp_path / "in"
    shutil.copytree(MOT / "mot17-05-sdp", root)
    rows = [line.split(",") for line in (root / folder / "gt" / "gt.txt").read_text().splitlines() if line.strip()]
    for frame in range(1, max(int(r[0]) for r in rows) + 1):
        placeholder(root / folder / "img1" / f"{frame:06d}{ext}", size)
    return root, root / folder, size, ext


def test_mot_images_must_have_seqinfos_size_and_one_image_per_frame(tmp_path):
    root, seq, size, ext = _mot17(tmp_path)
    placeholder(seq / "img1" / f"1{ext}", size)  # frame 1 twice
    result = run_cli("convert", root, "--from", "mot", "--to", "coco", "--out", tmp_path / "a")
    assert result.returncode == 2 and "frame 1 has two images" in result.stderr
    (seq / "img1" / f"1{ext}").unlink()
    placeholder(seq / "img1" / f"000002{ext}", (size[0] + 1, size[1]))
    result = run_cli("convert", root, "--from", "mot", "--to", "coco", "--out", tmp_path / "b")
    assert result.returncode == 2 and "seqinfo.ini" in result.stderr and not (tmp_path / "b").exists()
