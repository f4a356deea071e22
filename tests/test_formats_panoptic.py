"""COCO panoptic and Cityscapes panoptic: round trips, the PNG encoding decoded independently,
byte equality with cityscapesscripts' createPanopticImgs, PQ from its evaluator, and bad input."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from synthgen.errors import UserError
from synthgen.formats import cityscapes, cityscapes_panoptic, coco_panoptic
from synthgen.labels.labelset import Category, LabelSet
from synthgen.formats.losses import Losses
from synthgen.labels.masks import decode_rle, encode_rle
from synthgen.formats.registry import get
from synthgen.formats.writeout import write_format
from synthgen.labels.model import CameraLabel, FrameLabels, InstanceLabel, StuffLabel
from tests.conftest import run_cli

W, H = 20, 12  # width != height, so a transposed mask cannot pass
CATEGORIES = [Category(1, "car"), Category(2, "person"), Category(3, "road"), Category(4, "sky")]
STUFF = ("road", "sky")


def _rect(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    mask = np.zeros((H, W), bool)
    mask[y0:y1, x0:x1] = True
    return mask


def _box(mask: np.ndarray) -> tuple[float, float, float, float]:
    ys, xs = np.nonzero(mask)
    return float(xs.min()), float(ys.min()), float(xs.max() - xs.min() + 1), float(ys.max() - ys.min() + 1)


def _instance(iid: int, name: str, mask: np.ndarray | None, box=None, **attributes) -> InstanceLabel:
    cid = next(c.id for c in CATEGORIES if c.name == name)
    return InstanceLabel(iid, name, cid, _box(mask) if mask is not None else box,
                         visible_pixels=int(mask.sum()) if mask is not None else 0,
                         mask_rle=encode_rle(mask) if mask is not None else None, attributes=attributes)


def _stuff(name: str, mask: np.ndarray) -> StuffLabel:
    cid = next(c.id for c in CATEGORIES if c.name == name)
    return StuffLabel(name, cid, int(mask.sum()), _box(mask), encode_rle(mask))


def _frame(root: Path, index: int, instances: list[InstanceLabel], stuff: list[StuffLabel]) -> FrameLabels:
    image = f"images/frame{index}.png"
    (root / "images").mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(index).integers(0, 256, (H, W, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(root / image)
    return FrameLabels(index, image, CameraLabel(W, H), tuple(instances), tuple(c.name for c in CATEGORIES),
                       stuff=tuple(stuff), stuff_categories=STUFF)


def build(root: Path) -> LabelSet:
    """Two frames: cars (one with a hole the road shows through), a person in two parts,
    a crowd of people, road and sky around them, and void pixels in between."""
    car = _rect(5, 9, 2, 8)
    car[6:8, 4:6] = False
    car_right = _rect(4, 8, 12, 20)  # touches the right edge
    person = _rect(1, 3, 9, 11) | _rect(9, 12, 10, 12)
    things0 = car | car_right | person
    sky0 = _rect(0, 3, 0, W) & ~things0
    road0 = (_rect(8, H, 0, W) | _rect(6, 8, 4, 6)) & ~things0  # the road shows through the car's hole
    frame0 = _frame(root, 0, [_instance(1, "car", car), _instance(2, "car", car_right), _instance(3, "person", person)],
                    [_stuff("road", road0), _stuff("sky", sky0)])
    car1, crowd = _rect(6, 10, 0, 5), _rect(2, 6, 14, 19)
    frame1 = _frame(root, 1, [_instance(1, "car", car1), _instance(2, "person", crowd, iscrowd=1)],
                    [_stuff("road", _rect(9, H, 0, W) & ~car1)])
    return LabelSet(list(CATEGORIES), [frame0, frame1], root, "test")


def without_crowd(labels: LabelSet) -> LabelSet:
    """The `cityscapes` writer numbers crowd objects like the others, so the tool comparison leaves crowd out."""
    frames = [replace(f, instances=tuple(replace(i, attributes={}) for i in f.instances)) for f in labels.frames]
    return LabelSet(labels.categories, frames, labels.root, labels.source)


def stuff_as_objects(labels: LabelSet) -> LabelSet:
    """Stuff as objects of stuff classes: how the `cityscapes` writer (objects only) gets road and sky."""
    frames = []
    for frame in labels.frames:
        extra = [InstanceLabel(100 + k, s.category, s.category_id, s.bbox, visible_pixels=s.pixels,
                               mask_rle=s.mask_rle) for k, s in enumerate(frame.stuff)]
        frames.append(replace(frame, instances=frame.instances + tuple(extra), stuff=()))
    return LabelSet(labels.categories, frames, labels.root, labels.source)


def segments(labels: LabelSet) -> list[list[tuple]]:
    """Per frame, every segment as (category, thing?, crowd, bbox, area, mask bytes), in a fixed order."""
    out = []
    for frame in labels.frames:
        things = [(i.category, True, int(i.attributes.get("iscrowd", 0)), tuple(i.bbox), i.visible_pixels,
                   decode_rle(i.mask_rle, H, W).tobytes()) for i in frame.instances if i.bbox is not None]
        stuff = [(s.category, False, 0, tuple(s.bbox), s.pixels, decode_rle(s.mask_rle, H, W).tobytes())
                 for s in frame.stuff]
        out.append(sorted(things + stuff))
    return out


def decode_png(path: Path) -> np.ndarray:
    """Segment ids from a panoptic PNG, decoded here without synthgen: R + 256 G + 65536 B."""
    with Image.open(path) as image:
        assert image.mode == "RGB"
        rgb = np.asarray(image).astype(np.int64)
    return rgb[:, :, 0] + 256 * rgb[:, :, 1] + 65536 * rgb[:, :, 2]


@pytest.fixture()
def labels(tmp_path) -> LabelSet:
    return build(tmp_path / "source")


@pytest.fixture()
def coco_out(labels, tmp_path) -> Path:
    out = tmp_path / "coco-panoptic"
    coco_panoptic.write(labels, out, Losses())
    return out


# --------------------------------------------------------------------------- COCO panoptic

def test_coco_panoptic_round_trip(labels, coco_out):
    back = coco_panoptic.read(coco_out)
    assert back.categories == labels.categories
    assert segments(back) == segments(labels)
    for frame in back.frames:
        assert set(frame.stuff_categories) == set(STUFF)
    assert back.frames[1].instances[1].attributes == {"iscrowd": 1}
    assert back.frames[0].instances[0].attributes == {}


def test_coco_panoptic_png_holds_each_segment_exactly(labels, coco_out):
    document = json.loads((coco_out / "annotations" / "panoptic.json").read_text())
    assert {c["name"]: c["isthing"] for c in document["categories"]} == {"car": 1, "person": 1, "road": 0, "sky": 0}
    for frame, annotation in zip(labels.frames, document["annotations"]):
        ids = decode_png(coco_out / "panoptic" / annotation["file_name"])
        assert annotation["image_id"] == frame.frame_index
        # documented order: objects in instance order, then stuff; ids 1..n
        expected = [(i.category_id, decode_rle(i.mask_rle, H, W), int(i.attributes.get("iscrowd", 0)))
                    for i in frame.instances]
        expected += [(s.category_id, decode_rle(s.mask_rle, H, W), 0) for s in frame.stuff]
        assert [s["id"] for s in annotation["segments_info"]] == list(range(1, len(expected) + 1))
        covered = np.zeros((H, W), bool)
        for info, (category_id, mask, crowd) in zip(annotation["segments_info"], expected):
            assert np.array_equal(ids == info["id"], mask)
            assert info["category_id"] == category_id and info["iscrowd"] == crowd
            assert info["area"] == int(mask.sum())
            assert info["bbox"] == [int(v) for v in _box(mask)]
            covered |= mask
        assert np.array_equal(ids == 0, ~covered) and (~covered).any()  # void stays 0
    assert (coco_out / "images" / "frame0.png").read_bytes() == (labels.root / "images" / "frame0.png").read_bytes()


def test_id_colour_encoding_uses_all_three_channels():
    values = [0, 1, 255, 256, 26001, 65535, 65536, 1234567, 256 ** 3 - 1]
    ids = np.array([values])
    rgb = coco_panoptic.ids_to_rgb(ids)
    assert rgb.tolist() == [[list(v.to_bytes(3, "little")) for v in values]]
    assert coco_panoptic.rgb_to_ids(rgb).tolist() == [values]


def test_coco_panoptic_reads_panopticapi_layout(labels, coco_out, tmp_path):
    """NAME.json beside NAME/, as panopticapi and the COCO downloads lay it out."""
    layout = tmp_path / "official"
    layout.mkdir()
    shutil.copy(coco_out / "annotations" / "panoptic.json", layout / "panoptic_val2017.json")
    shutil.copytree(coco_out / "panoptic", layout / "panoptic_val2017")
    shutil.copytree(coco_out / "images", layout / "images")
    back = coco_panoptic.read(layout / "panoptic_val2017.json")
    assert segments(back) == segments(labels)


def test_overlaps_missing_masks_and_hidden_objects_are_counted(labels, tmp_path):
    first, second = _rect(2, 6, 2, 8), _rect(4, 9, 5, 12)
    frame = replace(labels.frames[0], stuff=(), instances=(
        _instance(1, "car", first), _instance(2, "car", second), _instance(3, "car", _rect(3, 5, 3, 6)),
        _instance(4, "person", None, box=(1.0, 1.0, 3.0, 3.0)), _instance(5, "person", None)))
    line = write_format(LabelSet(CATEGORIES, [frame], labels.root), get("coco-panoptic"), tmp_path / "out")
    assert line == ("coco-panoptic: could not hold 1 fully hidden objects, 1 objects without a mask (panoptic is "
                    "masks only), 1 segments covered entirely by earlier ones, 1 segments sharing pixels with an "
                    "earlier one (the earlier kept them)")
    document = json.loads((tmp_path / "out" / "annotations" / "panoptic.json").read_text())
    ids = decode_png(tmp_path / "out" / "panoptic" / "frame0.png")
    assert np.array_equal(ids == 1, first)  # the first keeps the shared pixels
    assert np.array_equal(ids == 2, second & ~first)
    assert [s["id"] for s in document["annotations"][0]["segments_info"]] == [1, 2]
    assert document["annotations"][0]["segments_info"][1]["area"] == int((second & ~first).sum())
    assert document["annotations"][0]["segments_info"][1]["bbox"] == [int(v) for v in _box(second & ~first)]


def _evaluate(gt: Path, prediction: Path, tmp_path: Path) -> dict:
    from cityscapesscripts.evaluation.evalPanopticSemanticLabeling import evaluatePanoptic

    return evaluatePanoptic(str(gt / "annotations" / "panoptic.json"), str(gt / "panoptic"),
                            str(prediction / "annotations" / "panoptic.json"), str(prediction / "panoptic"),
                            str(tmp_path / "results.json"))


def test_cityscapes_evaluator_scores_our_panoptic_files(coco_out, tmp_path, capsys):
    prediction = tmp_path / "prediction"
    shutil.copytree(coco_out, prediction)
    results = _evaluate(coco_out, prediction, tmp_path)
    present = {1, 2, 3, 4}
    assert {cid for cid, r in results["per_class"].items() if r["pq"] > 0} == present
    assert all(round(100 * results["per_class"][cid]["pq"], 6) == 100 for cid in present)
    assert round(100 * results["All"]["pq"], 6) == 100

    # take the first car out of the prediction's first image: JSON and pixels
    document_file = prediction / "annotations" / "panoptic.json"
    document = json.loads(document_file.read_text())
    annotation = document["annotations"][0]
    annotation["segments_info"] = [s for s in annotation["segments_info"] if s["id"] != 1]
    document_file.write_text(json.dumps(document))
    png = prediction / "panoptic" / annotation["file_name"]
    ids = decode_png(png)
    ids[ids == 1] = 0
    Image.fromarray(coco_panoptic.ids_to_rgb(ids)).save(png)
    results = _evaluate(coco_out, prediction, tmp_path)
    assert results["per_class"][1]["pq"] < 1 and results["All"]["pq"] < 1
    assert all(round(100 * results["per_class"][cid]["pq"], 6) == 100 for cid in present - {1})


# --------------------------------------------------------------------------- Cityscapes panoptic

def test_cityscapes_panoptic_round_trip_with_label_ids(labels, tmp_path):
    out = tmp_path / "cs-panoptic"
    losses = Losses()
    cityscapes_panoptic.write(labels, out, losses)
    assert not losses.counts
    back = cityscapes_panoptic.read(out)
    assert segments(back) == segments(labels)
    assert {c.name: c.id for c in back.categories}.items() >= {"car": 26, "person": 24, "road": 7, "sky": 23}.items()
    assert {"road", "sky", "building"} <= set(back.frames[0].stuff_categories)
    assert not {"car", "person"} & set(back.frames[0].stuff_categories)
    # segment ids decoded here: label id * 1000 + k for objects, the label id for stuff and crowd
    document = json.loads((out / "gtFine" / "cityscapes_panoptic_train.json").read_text())
    expected_ids = [[7, 23, 24000, 26000, 26001], [7, 24, 26000]]
    for annotation, wanted, frame in zip(document["annotations"], expected_ids, labels.frames):
        assert [s["id"] for s in annotation["segments_info"]] == wanted
        ids = decode_png(out / "gtFine" / "cityscapes_panoptic_train" / annotation["file_name"])
        assert sorted(np.unique(ids).tolist()) == [0] + wanted
        for info in annotation["segments_info"]:
            mask = ids == info["id"]
            assert info["area"] == int(mask.sum()) and info["bbox"] == [int(v) for v in _box(mask)]
            assert info["category_id"] == (info["id"] // 1000 if info["id"] >= 1000 else info["id"])
            assert info["iscrowd"] == (1 if info["id"] == 24 else 0)
    assert np.array_equal(decode_png(out / "gtFine" / "cityscapes_panoptic_train" /
                                     "synthgen_000000_frame0_gtFine_panoptic.png") == 26000,
                          decode_rle(labels.frames[0].instances[0].mask_rle, H, W))
    assert (out / "leftImg8bit" / "train" / "synthgen" / "synthgen_000000_frame1_leftImg8bit.png").is_file()


@pytest.fixture()
def reference(labels, tmp_path) -> Path:
    """Our `cityscapes` export converted by cityscapesscripts' createPanopticImgs, into gtFine/ as by default."""
    from cityscapesscripts.preparation.createPanopticImgs import convert2panoptic

    root = tmp_path / "cityscapes"
    cityscapes.write(stuff_as_objects(without_crowd(labels)), root, Losses())
    convert2panoptic(str(root / "gtFine"), None, False, ["train"])
    return root


def test_cityscapes_panoptic_equals_create_panoptic_imgs(labels, reference, tmp_path, capsys):
    source = without_crowd(labels)
    ref = reference / "gtFine"
    for k, variant in enumerate([source, stuff_as_objects(source)]):  # stuff as StuffLabels, or as objects
        out = tmp_path / f"ours{k}" / "gtFine"
        cityscapes_panoptic.write(variant, out.parent, Losses())
        assert (out / "cityscapes_panoptic_train.json").read_bytes() == \
            (ref / "cityscapes_panoptic_train.json").read_bytes()
        names = sorted(p.name for p in (ref / "cityscapes_panoptic_train").iterdir())
        assert names == sorted(p.name for p in (out / "cityscapes_panoptic_train").iterdir()) and len(names) == 2
        for name in names:
            assert np.array_equal(decode_png(out / "cityscapes_panoptic_train" / name),
                                  decode_png(ref / "cityscapes_panoptic_train" / name))


def test_reads_files_create_panoptic_imgs_wrote(labels, reference, capsys):
    back = cityscapes_panoptic.read(reference)
    assert segments(back) == segments(without_crowd(labels))
    assert [i.category_id for i in back.frames[0].instances] == [24, 26, 26]
    assert back.frames[0].image == "leftImg8bit/train/synthgen/synthgen_000000_frame0_leftImg8bit.png"


def test_cityscapes_panoptic_counts_what_it_cannot_hold(labels, tmp_path):
    categories = CATEGORIES + [Category(5, "cube"), Category(6, "parking")]
    cube, parking = _rect(0, 2, 0, 2), _rect(10, 12, 18, 20)
    frame = replace(labels.frames[0], stuff=(), categories=tuple(c.name for c in categories), instances=(
        InstanceLabel(1, "cube", 5, _box(cube), visible_pixels=4, mask_rle=encode_rle(cube)),
        InstanceLabel(2, "parking", 6, _box(parking), visible_pixels=4, mask_rle=encode_rle(parking)),
        _instance(3, "person", _rect(3, 5, 3, 6), iscrowd=1), _instance(4, "person", _rect(6, 8, 3, 6), iscrowd=1)))
    out = tmp_path / "out"
    line = write_format(LabelSet(categories, [frame], labels.root), get("cityscapes-panoptic"), out)
    assert line == ("cityscapes-panoptic: could not hold 1 regions merged into one Cityscapes segment (crowd regions, "
                    "objects of stuff classes), 1 segments of categories Cityscapes does not know, 1 segments of "
                    "categories Cityscapes panoptic ignores")
    document = json.loads((out / "gtFine" / "cityscapes_panoptic_train.json").read_text())
    assert document["annotations"][0]["segments_info"] == [
        {"id": 24, "category_id": 24, "iscrowd": 1, "area": 12, "bbox": [3, 3, 3, 5]}]


def test_convert_command_between_the_panoptic_formats(coco_out, labels, tmp_path):
    result = run_cli("convert", coco_out, "--from", "coco-panoptic", "--to", "cityscapes-panoptic",
                     "--out", tmp_path / "converted", check=True)
    assert result.stdout.strip() == "cityscapes-panoptic: everything carried over"
    assert segments(cityscapes_panoptic.read(tmp_path / "converted")) == segments(labels)


# --------------------------------------------------------------------------- bad input

def _edit_json(out: Path, edit) -> Path:
    path = out / "annotations" / "panoptic.json"
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))
    return path


def _read_error(path: Path) -> str:
    with pytest.raises(UserError) as error:
        coco_panoptic.read(path)
    message = str(error.value)
    assert "\n" not in message
    return message


def test_missing_png_is_named(coco_out):
    (coco_out / "panoptic" / "frame1.png").unlink()
    message = _read_error(coco_out)
    json_file = coco_out / "annotations" / "panoptic.json"
    assert message.startswith(f"{json_file}: annotations[1] (image_id 1): panoptic PNG not found: ")
    assert message.endswith(str(coco_out / "panoptic" / "frame1.png"))


def test_segment_missing_from_png_is_named(coco_out):
    def add(document):
        document["annotations"][0]["segments_info"].append(
            {"id": 99, "category_id": 1, "iscrowd": 0, "bbox": [0, 0, 1, 1], "area": 1})
    json_file = _edit_json(coco_out, add)
    message = _read_error(coco_out)
    assert message == (f"{json_file}: annotations[0] (image_id 0) segments_info[5] (id 99): segment id 99 does not "
                       f"occur in {coco_out / 'panoptic' / 'frame0.png'}")


def test_png_ids_missing_from_json_are_named(coco_out):
    json_file = _edit_json(coco_out, lambda d: d["annotations"][0]["segments_info"].pop(2))
    message = _read_error(coco_out)
    assert message == (f"{json_file}: annotations[0] (image_id 0): {coco_out / 'panoptic' / 'frame0.png'} has "
                       "segment ids not in segments_info: 3")


def test_unknown_category_is_named(coco_out):
    def edit(document):
        document["annotations"][1]["segments_info"][0]["category_id"] = 77
    json_file = _edit_json(coco_out, edit)
    assert _read_error(coco_out) == (f"{json_file}: annotations[1] (image_id 1) segments_info[0] (id 1): "
                                     "category_id 77 is not declared in categories")


def test_malformed_json_is_named(coco_out):
    json_file = coco_out / "annotations" / "panoptic.json"
    json_file.write_text(json_file.read_text()[:-20])
    message = _read_error(coco_out)
    assert message.startswith(f"{json_file}: line ") and "invalid JSON" in message


def test_area_disagreeing_with_the_png_is_named(coco_out):
    def edit(document):
        document["annotations"][0]["segments_info"][0]["area"] += 1
    json_file = _edit_json(coco_out, edit)
    assert _read_error(coco_out).startswith(f"{json_file}: annotations[0] (image_id 0) segments_info[0] (id 1): "
                                            "area 21 disagrees with its 20 pixels in ")


def test_cityscapes_panoptic_without_png_folder_is_named(labels, tmp_path):
    out = tmp_path / "cs"
    cityscapes_panoptic.write(labels, out, Losses())
    shutil.rmtree(out / "gtFine" / "cityscapes_panoptic_train")
    with pytest.raises(UserError) as error:
        cityscapes_panoptic.read(out)
    json_file = out / "gtFine" / "cityscapes_panoptic_train.json"
    assert str(error.value) == (f"{json_file}: (file): no folder of panoptic PNGs: "
                                f"{out / 'gtFine' / 'cityscapes_panoptic_train'}")


def test_cli_reports_bad_panoptic_input_in_one_line(coco_out, tmp_path):
    (coco_out / "panoptic" / "frame0.png").unlink()
    result = run_cli("convert", coco_out, "--from", "coco-panoptic", "--to", "coco", "--out", tmp_path / "x")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "frame0.png" in result.stderr
    assert not (tmp_path / "x").exists()
