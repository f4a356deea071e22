"""Names taken from input data never put a file outside --out, nor a name Windows cannot hold.

Writers name files after the images they read. Each case here gives `export`, `convert` or `merge` an input
whose image name, frame name, CVAT subset or frame source is hostile: `..`, a separator, a drive letter, a
NUL byte, a Windows device name. The command must refuse it with one line and exit 2, or write only plain
names, and nothing around the output folder may change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from synthgen import cli
from synthgen.io.safe_names import name_problem
from synthgen.labels.model import CameraLabel, FrameLabels, InstanceLabel, dumps_frame

TOKEN = "zzimg"  # the benign image stem a hostile one replaces in an export
# stems a Linux file may have that would escape or break the output folder on Windows
HOSTILE_STEMS = ["CON", "..\\..\\evil", "C:evil", "lpt1", "evil\x01"]
# formats whose files are named by the whole image stem (MOT numbers its frames, Cityscapes wraps the stem)
WHOLE_STEM = ["coco", "coco-polygons", "yolo", "yolo-seg", "yolo-pose", "voc", "kitti", "coco-panoptic", "cvat",
              "labelstudio", "labelstudio-annotations"]
IMPORTABLE = ["coco", "voc", "yolo", "cvat", "labelstudio", "kitti", "cityscapes", "mot"]
ALL_TARGETS = ["coco", "coco-polygons", "yolo", "yolo-seg", "yolo-pose", "voc", "kitti", "cityscapes",
               "coco-panoptic", "cityscapes-panoptic", "cvat", "labelstudio", "labelstudio-annotations", "mot"]


def synthgen_cli(capsys, *args: object) -> tuple[int, str, str]:
    """`synthgen ARGS` in this process (the same `cli.main` the command runs): exit status, stdout, stderr."""
    capsys.readouterr()
    code = cli.main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def tiny_dataset(root: Path, image: str = f"images/{TOKEN}.png", **extra: object) -> Path:
    """A rendered dataset as `synthgen render` lays it out, one 16x12 frame with one box, made without
    Blender: the frame JSON names `image` and carries `extra` fields the way a frame file may."""
    (root / "frames").mkdir(parents=True)
    (root / image).parent.mkdir(parents=True, exist_ok=True)
    pixels = np.zeros((12, 16, 3), np.uint8)
    pixels[3:9, 4:12] = (200, 40, 40)
    Image.fromarray(pixels).save(root / image)
    box = InstanceLabel(1, "thing", 1, (4.0, 3.0, 8.0, 6.0), bbox_amodal=(4.0, 3.0, 8.0, 6.0), visible_pixels=48,
                        visibility=1.0, truncation=0.0)
    frame = FrameLabels(0, image, CameraLabel(16, 12), (box,), ("thing",), dict(extra))
    (root / "frames" / "000000.json").write_text(dumps_frame(frame))
    return root


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` by relative path, with its bytes: what a run must leave alone."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_contained(code: int, err: str, out: Path, around: Path, before: dict[str, bytes]) -> None:
    """A refusal is one line and exit 2; a success wrote only plain names; either way nothing outside `out`
    under `around` changed."""
    assert code in (0, 2), err
    if code == 2:
        assert err.count("\n") == 1 and "Traceback" not in err, err
    else:
        for path in out.rglob("*"):
            assert name_problem(path.name) is None, path
    inside = str(out.relative_to(around)) + os.sep
    after = {k: v for k, v in snapshot(around).items() if not k.startswith(inside)}
    assert after == {k: v for k, v in before.items() if not k.startswith(inside)}


def plant_stem(export: Path, stem: str) -> None:
    """Rename every file of `export` whose name holds TOKEN, and TOKEN in every text file, to `stem`."""
    for path in sorted(export.rglob("*"), key=lambda p: -len(p.parts)):
        if path.is_file() and path.suffix in (".json", ".xml", ".txt", ".ini", ".yaml"):
            text = path.read_text(encoding="utf-8")
            spelled = json.dumps(stem)[1:-1] if path.suffix == ".json" else stem
            path.write_text(text.replace(TOKEN, spelled), encoding="utf-8")
        if TOKEN in path.name:
            path.rename(path.with_name(path.name.replace(TOKEN, stem)))


@pytest.fixture(scope="module")
def clean_exports(tmp_path_factory) -> Path:
    """The tiny dataset exported to every importable format, with the image named TOKEN."""
    base = tmp_path_factory.mktemp("clean")
    dataset = tiny_dataset(base / "dataset")
    assert cli.main(["export", str(dataset), *[a for f in IMPORTABLE for a in ("--format", f)],
                     "--out", str(base / "exports")]) == 0
    return base / "exports"


@pytest.mark.parametrize("stem", HOSTILE_STEMS)
def test_export_refuses_a_hostile_image_name(stem, tmp_path, capsys):
    tiny_dataset(tmp_path / "dataset", image=f"images/{stem}.png")
    for fmt in ALL_TARGETS:
        before = snapshot(tmp_path)
        out = tmp_path / f"out-{fmt}"
        code, _, err = synthgen_cli(capsys, "export", tmp_path / "dataset", "--format", fmt, "--out", out)
        assert_contained(code, err, out, tmp_path, before)
        if fmt in WHOLE_STEM:
            assert code == 2 and "rename it in the input" in err and not out.exists(), (fmt, err)


@pytest.mark.parametrize("field", ["name", "source"])
@pytest.mark.parametrize("value", ["../../evil", "/tmp/evil", "sub/evil", "evil\x00.png", "..", "NUL"])
def test_frame_fields_that_name_files_cannot_leave_out(field, value, tmp_path, capsys):
    """A frame file's `name` (merge sets it) and `source` (a YOLO sub-folder) become paths: a hostile one
    is refused by every writer that uses it."""
    tiny_dataset(tmp_path / "dataset", **{field: value})
    for fmt in ALL_TARGETS:
        before = snapshot(tmp_path)
        out = tmp_path / "deep" / f"out-{fmt}"
        code, _, err = synthgen_cli(capsys, "export", tmp_path / "dataset", "--format", fmt, "--out", out)
        assert_contained(code, err, out, tmp_path, before)
        if (field == "name" and fmt in WHOLE_STEM) or (field == "source" and fmt.startswith("yolo")):
            assert code == 2, (fmt, value)
    assert not (tmp_path / "evil").exists() and not (tmp_path / "evil.png").exists()


@pytest.mark.parametrize("source", IMPORTABLE)
@pytest.mark.parametrize("stem", HOSTILE_STEMS)
def test_convert_never_writes_a_hostile_name(source, stem, clean_exports, tmp_path, capsys):
    """An imported export whose image has a hostile name: convert refuses it where the name would become a
    file name, and writes only plain names where the format renames its files (MOT numbers its frames)."""
    import shutil

    shutil.copytree(clean_exports / source, tmp_path / "in")
    plant_stem(tmp_path / "in", stem)
    for target in ("coco", "voc", "yolo"):
        before = snapshot(tmp_path)
        out = tmp_path / f"out-{target}"
        code, _, err = synthgen_cli(capsys, "convert", tmp_path / "in", "--from", source, "--to", target,
                                    "--out", out)
        assert_contained(code, err, out, tmp_path, before)
        if source not in ("mot", "cityscapes"):  # those do not name their images by the bare stem
            assert code == 2, (source, target, err)  # refused as a name, or as XML for a control character


@pytest.mark.parametrize("target", WHOLE_STEM)
def test_convert_from_coco_refuses_a_device_name_for_every_target(target, clean_exports, tmp_path, capsys):
    import shutil

    shutil.copytree(clean_exports / "coco", tmp_path / "in")
    plant_stem(tmp_path / "in", "aux")
    out = tmp_path / "out"
    code, _, err = synthgen_cli(capsys, "convert", tmp_path / "in", "--from", "coco", "--to", target, "--out", out)
    assert code == 2 and "image 'images/aux.png'" in err and "reserved on Windows" in err and not out.exists(), err


@pytest.mark.parametrize("subset", ["../../evil", "a/b", "C:", "x\\\\y"])
def test_cvat_subsets_cannot_name_files_outside(subset, clean_exports, tmp_path, capsys):
    """CVAT frames that share a stem are told apart by their subset; a hostile subset is refused."""
    import shutil

    shutil.copytree(clean_exports / "cvat", tmp_path / "in")
    xml = tmp_path / "in" / "annotations.xml"
    text = xml.read_text()
    image = text[text.index("<image "):text.index("</image>") + len("</image>")]
    twin = image.replace('id="0"', 'id="1"')
    text = text.replace(image, image.replace("<image ", '<image subset="train" ')
                        + twin.replace("<image ", f'<image subset="{subset}" '))
    xml.write_text(text)
    before = snapshot(tmp_path)
    out = tmp_path / "out"
    code, _, err = synthgen_cli(capsys, "convert", tmp_path / "in", "--from", "cvat", "--to", "coco", "--out", out)
    assert_contained(code, err, out, tmp_path, before)
    assert code == 2, err


def test_merge_refuses_a_hostile_name_in_either_input(clean_exports, tmp_path, capsys):
    import shutil

    dataset = tiny_dataset(tmp_path / "dataset")
    shutil.copytree(clean_exports / "coco", tmp_path / "real")
    plant_stem(tmp_path / "real", "..\\evil")
    before = snapshot(tmp_path)
    out = tmp_path / "out"
    code, _, err = synthgen_cli(capsys, "merge", dataset, tmp_path / "real", "--out", out)
    assert_contained(code, err, out, tmp_path, before)
    assert code == 2 and "path separator" in err, err


@pytest.mark.parametrize("name, problem", [
    ("plain.png", None), ("café 1.jpg", None), (".hidden", None), ("a..b", None),
    ("", "is empty"), (".", "relative"), ("..", "relative"), ("a/b", "separator"), ("a\\b", "separator"),
    ("a\x00b", "NUL"), ("C:x", "drive letter"), ("a\nb", "control character"), ("a?b", "Windows refuses"),
    ("x.", "ends with a dot"), ("x ", "ends with a dot or a space"), ("CON", "reserved"), ("con.txt", "reserved"),
    ("Com1.tar.gz", "reserved"), ("LPT9", "reserved"), ("COM10", None), ("console", None), ("x" * 256, "longer"),
])
def test_name_problem(name, problem):
    found = name_problem(name)
    assert (found is None) if problem is None else (found is not None and problem in found), found


@pytest.mark.parametrize("reference", ["absolute", "../outside/zzimg.png", "images/zz\u0000img.png",
                                       "images/../../outside/zzimg.png"])
def test_coco_file_name_pointing_anywhere_is_read_but_written_inside(reference, clean_exports, tmp_path, capsys):
    """An image reference may point outside the export (COCO's own layout keeps images in a sibling
    folder): it is read from there, and its copy is named by its stem inside --out. A NUL byte cannot
    name a file: one line."""
    import shutil

    shutil.copytree(clean_exports / "coco", tmp_path / "in")
    (tmp_path / "outside").mkdir()
    shutil.move(tmp_path / "in" / "images" / f"{TOKEN}.png", tmp_path / "outside" / f"{TOKEN}.png")
    name = str(tmp_path / "outside" / f"{TOKEN}.png") if reference == "absolute" else reference
    document = tmp_path / "in" / "annotations" / "instances.json"
    data = json.loads(document.read_text())
    data["images"][0]["file_name"] = name
    document.write_text(json.dumps(data))
    before = snapshot(tmp_path)
    out = tmp_path / "out"
    code, _, err = synthgen_cli(capsys, "convert", tmp_path / "in", "--from", "coco", "--to", "voc", "--out", out)
    assert_contained(code, err, out, tmp_path, before)
    if "\x00" in reference:
        assert code == 2, err
    else:
        assert code == 0, err
        assert (out / "JPEGImages" / f"{TOKEN}.png").read_bytes() == before[f"outside{os.sep}{TOKEN}.png"]
