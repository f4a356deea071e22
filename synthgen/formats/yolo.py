"""Ultralytics YOLO: detect, segment and pose label files plus data.yaml.

Layout: images/<split>/NAME.png beside labels/<split>/NAME.txt (a label file is
found by replacing the last /images/ of an image path with /labels/), one row
per object, coordinates normalised by the image width and height. Class numbers
are positions in `names`. Splits come from a frame's `split` field (merge sets
it), else everything is train and val points at train too. data.yaml has no
`path:` key: Ultralytics resolves a relative one against its working directory,
and without one it uses the yaml's folder, which is what we mean.

Reading takes what real tools write as well: Roboflow's data.yaml
(`train: ../train/images`), Ultralytics' .txt image lists and lists of folders,
Darknet's obj.data (CVAT, datumaro) and Label Studio's classes.txt export.
An OBB row (class and four corners, as in Ultralytics' DOTA8) is read as a four-point segment row: the file
alone does not tell them apart (Ultralytics goes by the model's task), and the mask of the four corners with
its upright box is what the model here can hold.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from synthgen.errors import UserError
from synthgen.formats.frames import (checked_file_name, frame_names, image_file_name, make_frame, masked_instance,
                                     visible)
from synthgen.formats.image_locator import ImageLocator
from synthgen.labels.labelset import Category, LabelSet
from synthgen.formats.losses import Losses
from synthgen.labels.masks import decode_rle, mask_bbox, mask_to_polygon, polygons_to_mask
from synthgen.io.reading import IMAGE_SUFFIXES, fail, image_size, is_int, read_json
from synthgen.formats.writing import copy_image, write_staged
from synthgen.labels.model import InstanceLabel

SPLITS = ("train", "val", "test")


def _n(value: float) -> str:
    return f"{min(max(value, 0.0), 1.0):.6f}"


def _kpt_count(labels: LabelSet) -> int:
    return max((len(c.keypoints) for c in labels.categories), default=0)


def _row(instance: InstanceLabel, cls: int, width: int, height: int, task: str, k: int, losses: Losses) -> str:
    x, y, w, h = instance.bbox
    box = [(x + w / 2) / width, (y + h / 2) / height, w / width, h / height]
    if task == "segment":
        polygon = None
        if instance.mask_rle is not None:
            polygon = mask_to_polygon(decode_rle(instance.mask_rle, height, width))
        if polygon is None:
            losses.add("objects without a mask (written as their box outline)")
            polygon = [x, y, x + w, y, x + w, y + h, x, y + h]
        values = [v / (width if i % 2 == 0 else height) for i, v in enumerate(polygon)]
        return " ".join([str(cls), *map(_n, values)])
    parts = [str(cls), *map(_n, box)]
    points = list(instance.keypoints or ())
    points += [(0.0, 0.0, 0)] * (k - len(points))
    for px, py, v in points:  # unlabelled points are written as 0 0 0, as Ultralytics expects
        parts += [_n(px / width if v else 0.0), _n(py / height if v else 0.0), str(int(v))]
    return " ".join(parts)


def _detect_rows(instances: list[InstanceLabel], index: dict[int, int], width: int, height: int) -> str:
    """A frame's detection rows, the same text as `_row` gives row by row, made with one numpy computation
    and one formatting call per frame: 100,000 objects spent most of a COCO-to-YOLO conversion here."""
    if not instances:
        return ""
    boxes = np.array([i.bbox for i in instances], dtype=np.float64)
    x, y, w, h = boxes.T
    values = np.column_stack([[index[i.category_id] for i in instances],
                              np.clip(np.column_stack([(x + w / 2) / width, (y + h / 2) / height, w / width,
                                                       h / height]), 0.0, 1.0)])
    return ("%d %.6f %.6f %.6f %.6f\n" * len(instances)) % tuple(values.ravel().tolist())


def write(labels: LabelSet, out: Path, losses: Losses, variant: str = "detect") -> None:
    index = {c.id: k for k, c in enumerate(labels.categories)}
    k = _kpt_count(labels)
    splits_used: set[str] = set()
    folders: dict[str, tuple[Path, Path]] = {}  # split or split/source -> (its image folder, its label folder)
    for frame, name in zip(labels.frames, frame_names(labels.frames, labels.source)):
        split = frame.extra.get("split") if frame.extra.get("split") in SPLITS else "train"
        splits_used.add(split)
        # merged datasets keep synthetic and real images in sub-folders of a split (Ultralytics reads them recursively)
        source = frame.extra.get("source")
        folder = f"{split}/{checked_file_name(str(source), frame, labels.source)}" if source else split
        if folder not in folders:
            folders[folder] = (out / "images" / folder, out / "labels" / folder)
        image_folder, label_folder = folders[folder]
        copy_image(labels, frame, image_folder / image_file_name(frame, name, labels.source))
        if variant == "detect":
            text = _detect_rows(visible(frame), index, frame.camera.width, frame.camera.height)
        else:
            text = "".join(_row(i, index[i.category_id], frame.camera.width, frame.camera.height, variant, k, losses)
                           + "\n" for i in visible(frame))
        write_staged(label_folder / f"{name}.txt", text)
    data: dict[str, Any] = {"train": "images/train",
                            "val": "images/val" if "val" in splits_used else "images/train"}
    if "test" in splits_used:
        data["test"] = "images/test"
    data["names"] = {i: c.name for i, c in enumerate(labels.categories)}
    if variant == "pose":
        data["kpt_shape"] = [k, 3]
        data["kpt_names"] = {i: list(c.keypoints) for i, c in enumerate(labels.categories) if c.keypoints}
    write_staged(out / "data.yaml", yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


# --------------------------------------------------------------------------- reading
#
# Real exports come in four layouts, told apart by what the folder holds:
#   Ultralytics data.yaml (also Roboflow's): train/val/test are folders, .txt lists of images or lists of either;
#   Darknet obj.data (CVAT's and datumaro's "YOLO 1.1"): classes/train/valid/names keys, list files, labels beside images;
#   Label Studio's YOLO export: classes.txt, labels/, images/ (empty unless exported with images), notes.json.
# Every layout comes down to (split, image, label file) entries; the label files are then read the same way.

MISSING_IMAGE = "objects in label files whose image is missing"
MISSING_LISTED = "listed images that are missing (no label file either)"
DARKNET_SPLITS = {"train": "train", "valid": "val", "val": "val", "test": "test"}


@dataclass
class _Entry:
    split: str
    listed: Path  # where the export puts the image: label paths are derived from this, not from --images
    image: Path | None  # where it was found; None when it is nowhere
    label: Path | None  # its label file, None when there is none


@dataclass
class _Layout:
    file: Path  # the file that names the classes, for messages
    root: Path
    names: list[str]
    entries: list[_Entry]
    kpt: tuple[int, int] | None = None
    kpt_names: dict = field(default_factory=dict)
    flip_idx: bool = False  # data.yaml has one: counted as not carried, the model has no place for it


def _label_beside_or_under(image: Path, darknet: bool = False) -> Path | None:
    """The label file of `image`, or None. Ultralytics replaces the last /images/ of the path with /labels/
    (a .txt beside the image when there is no images/ folder); Darknet also replaces /JPEGImages/ and falls
    back to a .txt beside the image, where CVAT's and datumaro's exports keep them."""
    parts = list(image.parts[:-1])
    folders = ("images", "JPEGImages") if darknet else ("images",)
    where = next((i for i in range(len(parts) - 1, -1, -1) if parts[i] in folders), None)
    if where is not None:
        under = Path(*parts[:where], "labels", *parts[where + 1:], image.stem + ".txt")
        if under.is_file() or not darknet:
            return under if under.is_file() else None
    beside = image.with_suffix(".txt")
    return beside if beside.is_file() else None


def _is_image(path: Path | str) -> bool:
    return Path(str(path)).suffix.lower() in IMAGE_SUFFIXES


def _images_in(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if _is_image(p) and p.is_file())


def _list_lines(listing: Path, file: Path, record: str) -> list[str]:
    try:
        lines = listing.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        raise fail(listing, "(file)", f"cannot read (named by {file.name} {record})") from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _listed_image(line: str, bases: list[Path], locator: ImageLocator) -> tuple[Path, Path | None]:
    """(where the list puts the image, where it is). Ultralytics takes `./x` relative to the list file and
    other relative lines relative to its working directory; Darknet lists (`data/obj_train_data/x.jpg`) are
    relative to the darknet folder that holds `data/`. So: the list's folder, then the dataset folder, with and
    without a leading `data/`; then --images."""
    raw = Path(line)
    if raw.is_absolute():
        return raw, (raw if raw.is_file() else locator.find(line))
    names = [line[2:] if line.startswith("./") else line]
    if names[0].startswith("data/"):
        names.append(names[0][5:])
    for base in bases:
        for name in names:
            if (base / name).is_file():
                return base / name, base / name
    listed = bases[0] / names[-1]
    return listed, locator.find(names[-1], [])


def _entries_from_list(split: str, listing: Path, bases: list[Path], locator: ImageLocator, file: Path,
                       record: str, darknet: bool) -> list[_Entry]:
    entries = []
    for line in _list_lines(listing, file, record):
        if not _is_image(line):
            continue  # Ultralytics keeps only lines with an image suffix
        listed, found = _listed_image(line, [listing.parent, *bases], locator)
        entries.append(_Entry(split, listed, found, _label_beside_or_under(listed, darknet)))
    if not entries:
        raise fail(listing, "(file)", f"lists no images (named by {file.name} {record})")
    return entries


def _entries_from_dir(split: str, directory: Path, file: Path) -> list[_Entry]:
    """The images under `directory`, plus the label files in its labels/ twin that have no image."""
    images = _images_in(directory)
    if not images:
        raise fail(file, split, f"no images in {directory}")
    entries = [_Entry(split, image, image, _label_beside_or_under(image)) for image in images]
    parts = list(directory.parts)
    if "images" in parts:
        where = len(parts) - 1 - parts[::-1].index("images")
        labels_dir = Path(*parts[:where], "labels", *parts[where + 1:])
        used = {e.label for e in entries}
        if labels_dir.is_dir():
            entries += [_Entry(split, label, None, label) for label in sorted(labels_dir.rglob("*.txt"))
                        if label not in used]
    return entries


# ----- Ultralytics data.yaml

def _yaml_file(path: Path) -> Path | None:
    if not path.is_dir():
        return path if path.suffix.lower() in (".yaml", ".yml") else None
    candidates = sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml"))
    if len(candidates) > 1:
        raise UserError(f"expected one data.yaml in the directory, found {len(candidates)}", file=path)
    return candidates[0] if candidates else None


def _load_yaml(file: Path) -> dict:
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise fail(file, f"line {mark.line + 1}" if mark else "(file)", "invalid YAML") from None
    except (OSError, UnicodeDecodeError):
        raise fail(file, "(file)", "cannot read") from None
    if not isinstance(data, dict):
        raise fail(file, "(top level)", "data.yaml must be a mapping")
    return data


def _dataset_root(data: dict, file: Path) -> Path:
    """Ultralytics' dataset root: `path:` if given (it resolves a relative one against its working directory,
    then its datasets folder), else the yaml's folder. Here a relative `path:` is tried against the yaml's
    folder, then the working directory; one that exists nowhere (written on another machine, as Colab
    notebooks do) falls back to the yaml's folder, whose split paths are then checked as usual."""
    value = data.get("path")
    if not value:
        return file.parent
    given = Path(str(value))
    for candidate in ([given] if given.is_absolute() else [file.parent / given, Path.cwd() / given]):
        if candidate.is_dir():
            return candidate
    return file.parent


def _split_target(root: Path, entry: str) -> Path:
    """Ultralytics' rule: root/entry, and when that does not exist and entry starts with ../, root/entry[3:]
    (Roboflow writes `train: ../train/images` beside a train/ folder)."""
    target = root / entry
    if not target.exists() and entry.startswith("../"):
        target = root / entry[3:]
    return target


def _ultralytics_entries(data: dict, root: Path, file: Path, locator: ImageLocator) -> list[_Entry]:
    if "val" not in data and "validation" in data:
        data = {**data, "val": data["validation"]}  # Ultralytics renames it too
    entries: list[_Entry] = []
    seen: set[Path] = set()
    for split in SPLITS:
        value = data.get(split)
        if value is None:
            if split in ("train", "val"):
                raise fail(file, split, "missing (data.yaml needs train and val)")
            continue
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, str):
                raise fail(file, split, "must be a folder, a .txt list of images, an image, or a list of these")
            target = _split_target(root, item).resolve()
            if target in seen:
                continue  # val pointing at train, as our own exports do when there is no val split
            seen.add(target)
            if target.is_dir():
                entries += _entries_from_dir(split, target, file)
            elif target.is_file() and _is_image(target):
                entries.append(_Entry(split, target, target, _label_beside_or_under(target)))
            elif target.is_file():
                entries += _entries_from_list(split, target, [root], locator, file, split, darknet=False)
            else:
                raise fail(file, split, f"image directory not found: {target}")
    return entries


def _ultralytics(file: Path, locator: ImageLocator) -> _Layout:
    data = _load_yaml(file)
    names = _names(data, file)
    if isinstance(data.get("nc"), int) and data.get("names") is not None and data["nc"] != len(names):
        raise fail(file, "nc", f"says {data['nc']} classes but names lists {len(names)}")
    kpt = None
    if "kpt_shape" in data:
        shape = data["kpt_shape"]
        if not (isinstance(shape, list) and len(shape) == 2 and all(isinstance(v, int) for v in shape)
                and shape[0] >= 0 and shape[1] in (2, 3)):
            raise fail(file, "kpt_shape", "must be [number of keypoints, 2 or 3]")
        kpt = (shape[0], shape[1])
    root = _dataset_root(data, file)
    kpt_names = data.get("kpt_names") or {}
    if kpt and (not isinstance(kpt_names, dict) or not all(
            isinstance(v, list) and len(v) == kpt[0] and all(isinstance(n, str) for n in v) for v in kpt_names.values())):
        raise fail(file, "kpt_names", f"must map class numbers to lists of {kpt[0]} keypoint names (kpt_shape)")
    return _Layout(file, file.parent.resolve(), names, _ultralytics_entries(data, root, file, locator), kpt, kpt_names,
                   bool(kpt and data.get("flip_idx")))


# ----- Darknet obj.data

def _darknet_keys(file: Path) -> dict[str, tuple[str, str]]:
    """key -> (value, record) from `key = value` lines."""
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        raise fail(file, "(file)", "cannot read") from None
    keys = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if "=" not in line:
            raise fail(file, f"line {number}", "expected key = value")
        key, value = (part.strip() for part in line.split("=", 1))
        keys[key] = (value, f"line {number}")
    return keys


def _darknet_file(value: str, folder: Path, file: Path, record: str) -> Path:
    """A file named in obj.data. Darknet resolves it against its own folder, in which the export is `data/`;
    so `data/train.txt` is tried as written beside obj.data, then without `data/`, then by file name."""
    raw = Path(value)
    candidates = [raw] if raw.is_absolute() else [folder / value, folder.parent / value]
    if value.startswith("data/"):
        candidates.append(folder / value[5:])
    candidates.append(folder / raw.name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise fail(file, record, f"'{value}' not found beside {file.name}")


def _darknet(file: Path, locator: ImageLocator) -> _Layout:
    keys = _darknet_keys(file)
    folder = file.parent
    if "names" not in keys:
        raise fail(file, "names", "missing (obj.data names the file of class names)")
    value, record = keys["names"]
    names_file = _darknet_file(value, folder, file, record)
    names = [n for n in (line.strip() for line in _list_lines(names_file, file, "names")) if n]
    if "classes" in keys:
        value, record = keys["classes"]
        if not value.isdigit() or int(value) != len(names):
            raise fail(file, record, f"classes = {value} but {names_file.name} lists {len(names)} names")
    entries: list[_Entry] = []
    for key, split in DARKNET_SPLITS.items():
        if key in keys:
            value, record = keys[key]
            listing = _darknet_file(value, folder, file, record)
            entries += _entries_from_list(split, listing, [folder, folder.parent], locator, file, key, darknet=True)
    if not entries:
        raise fail(file, "train", "missing (obj.data names the list of training images)")
    return _Layout(file, folder.resolve(), names, entries)


# ----- Label Studio's YOLO export

def _labelstudio_names(folder: Path) -> tuple[Path, list[str]]:
    classes = folder / "classes.txt"
    if classes.is_file():
        try:
            lines = classes.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            raise fail(classes, "(file)", "cannot read") from None
        while lines and not lines[-1].strip():
            lines.pop()
        return classes, lines  # class numbers are line positions; names are kept as written ("uncertain ")
    notes = folder / "notes.json"
    doc = read_json(notes)
    categories = doc.get("categories") if isinstance(doc, dict) else None
    if not isinstance(categories, list) or not all(isinstance(c, dict) and is_int(c.get("id")) for c in categories):
        raise fail(notes, "categories", "must be a list of {id, name}")
    by_id = {c["id"]: str(c.get("name")) for c in categories}
    if sorted(by_id) != list(range(len(by_id))):
        raise fail(notes, "categories", "ids must run 0..n-1")
    return notes, [by_id[i] for i in range(len(by_id))]


def _labelstudio_image(label: Path, labels_dir: Path, images_dir: Path, locator: ImageLocator) -> Path | None:
    """Label Studio names a label file after its image (`labels/3f2a-photo.txt` for `3f2a-photo.jpg`), without
    the image's extension: each image suffix is tried in images/, then under --images."""
    relative = label.relative_to(labels_dir).with_suffix("")
    for suffix in IMAGE_SUFFIXES + tuple(s.upper() for s in IMAGE_SUFFIXES):
        for candidate in (images_dir / relative.parent / (relative.name + suffix), images_dir / f"{label.stem}{suffix}"):
            if candidate.is_file():
                return candidate
    from synthgen.formats.labelstudio import UPLOAD_PREFIX

    prefixed = UPLOAD_PREFIX.match(label.stem)
    stems = [label.stem] + ([prefixed.group(1)] if prefixed else [])  # uploads are renamed 3f2a9c1b-NAME
    for stem in stems:
        for suffix in IMAGE_SUFFIXES + tuple(s.upper() for s in IMAGE_SUFFIXES):
            found = locator.find(f"{stem}{suffix}")
            if found is not None:
                return found
    return None


def _labelstudio(folder: Path, locator: ImageLocator) -> _Layout:
    file, names = _labelstudio_names(folder)
    labels_dir, images_dir = folder / "labels", folder / "images"
    if not labels_dir.is_dir():
        raise fail(folder, "labels", "no labels/ folder beside classes.txt")
    entries = []
    for label in sorted(labels_dir.rglob("*.txt")):
        image = _labelstudio_image(label, labels_dir, images_dir, locator)
        entries.append(_Entry("train", image or images_dir / label.stem, image, label))
    if entries and all(e.image is None for e in entries):
        where = f"--images {locator.images}" if locator.images is not None else f"{images_dir}; give --images DIR"
        raise fail(folder, "images", f"no image found for any of the {len(entries)} label files (looked in {where})")
    return _Layout(file, folder.resolve(), names, entries)


# ----- reading label files into frames

def _names(data: dict, file: Path) -> list[str]:
    names = data.get("names")
    if isinstance(names, list) and all(isinstance(n, str) for n in names):
        return names
    if isinstance(names, dict) and all(isinstance(k, int) for k in names):
        if sorted(names) != list(range(len(names))):
            raise fail(file, "names", "class numbers must run 0..n-1")
        return [str(names[k]) for k in range(len(names))]
    if names is None and isinstance(data.get("nc"), int):
        return [str(i) for i in range(data["nc"])]
    raise fail(file, "names", "must be a list of class names or a mapping from 0..n-1 to names")


# Ultralytics (verify_image_label, at 00bfe345) checks a segment row by the box around its polygon, centre and
# size within [-0.01, 1.01], not vertex by vertex: corners may lie off the image. Its own OBB sample DOTA8 has
# corners from -0.072 to 1.057 (objects cut by DOTA's 1024-pixel tiles). Such a polygon is cut at the image edge.
SEGMENT_SLACK = 0.01
OUTSIDE = "segment polygons reaching outside the image (cut at its edge)"
FLIP_IDX = "data.yaml flip_idx (the keypoint order for flipped images: no format here holds one)"


def _polygon_box(values: list[float]) -> tuple[float, float, float, float]:
    """Normalised (cx, cy, w, h) of the box around a polygon's vertices, as Ultralytics' segments2boxes makes it."""
    xs, ys = values[0::2], values[1::2]
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2, max(xs) - min(xs), max(ys) - min(ys)


def _reaches_outside(kind: str, values: list[float]) -> bool:
    """A segment row with a corner off the image: counted in the loss line, as the part off it is not kept."""
    return kind == "segment" and any(not 0.0 <= v <= 1.0 for v in values)


def _parse_row(tokens: list[str], file: Path, record: str, names: list[str], kpt: tuple[int, int] | None) -> tuple:
    try:
        cls = int(tokens[0])
        values = [float(t) for t in tokens[1:]]
    except ValueError:
        raise fail(file, record, "expected a class number followed by numbers") from None
    if not 0 <= cls < len(names):
        raise fail(file, record, f"class {cls} is not declared in names (0..{len(names) - 1})")
    if kpt is not None:
        expected = 4 + kpt[0] * kpt[1]
        if len(values) != expected:
            raise fail(file, record, f"pose row needs {expected + 1} values (kpt_shape {list(kpt)}), got {len(values) + 1}")
        kind = "pose"
    elif len(values) == 4:
        kind = "detect"
    elif len(values) >= 6 and len(values) % 2 == 0:
        kind = "segment"
    else:
        raise fail(file, record, f"expected 5 values (detect) or a class and at least 3 x y pairs (segment), "
                                 f"got {len(values) + 1}")
    if kind == "segment":
        if any(not -SEGMENT_SLACK <= v <= 1.0 + SEGMENT_SLACK for v in _polygon_box(values)):
            raise fail(file, record, "the box around the polygon must lie in [0, 1] (normalised; 1 % slack, as "
                                     "Ultralytics allows)")
        return cls, kind, values
    coords = values if kind != "pose" else values[:4] + [v for i, v in enumerate(values[4:]) if kpt[1] == 2 or i % 3 != 2]
    if any(not 0.0 <= v <= 1.0 for v in coords):  # Ultralytics' own check (verify_image_label) refuses them too
        raise fail(file, record, "normalised coordinates must lie in [0, 1]")
    return cls, kind, values


def _instance(cls: int, kind: str, values: list[float], number: int, width: int, height: int, category: Category,
              kpt: tuple[int, int] | None, file: Path, record: str) -> InstanceLabel:
    mask = keypoints = None
    if kind == "segment":
        polygon = [v * (width if i % 2 == 0 else height) for i, v in enumerate(values)]
        mask = polygons_to_mask([polygon], height, width)
        bbox = mask_bbox(mask)
        if bbox is None:  # no pixel centre inside: the polygon's extent, kept on the image
            xs = [min(max(x, 0.0), width) for x in polygon[0::2]]
            ys = [min(max(y, 0.0), height) for y in polygon[1::2]]
            bbox = (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
    else:
        cx, cy, w, h = values[:4]
        bbox = ((cx - w / 2) * width, (cy - h / 2) * height, w * width, h * height)
    if kind == "pose":
        points = []
        dims = kpt[1]
        for i in range(kpt[0]):
            x, y = values[4 + i * dims], values[5 + i * dims]
            v = values[6 + i * dims] if dims == 3 else 2.0
            if v not in (0.0, 1.0, 2.0):
                raise fail(file, record, f"keypoint {i + 1} visibility must be 0, 1 or 2, got {v:g}")
            points.append((x * width, y * height, int(v)))
        keypoints = tuple(points[:len(category.keypoints) or len(points)])
    return masked_instance(number, category, mask, bbox, places=6, keypoints=keypoints)



def _layout(path: Path, locator: ImageLocator) -> _Layout:
    yaml_file = _yaml_file(path)
    if yaml_file is not None:
        return _ultralytics(yaml_file, locator)
    if path.is_file() and path.suffix == ".data":
        return _darknet(path, locator)
    if path.is_dir():
        data_files = sorted(path.glob("*.data"))
        if len(data_files) == 1:
            return _darknet(data_files[0], locator)
        if (path / "classes.txt").is_file() or (path / "notes.json").is_file():
            return _labelstudio(path, locator)
    raise UserError("not a YOLO export: expected a data.yaml (Ultralytics, Roboflow), an obj.data (Darknet, "
                    "CVAT) or classes.txt with labels/ (Label Studio)", file=path)


def _read_rows(label: Path, names: list[str], kpt: tuple[int, int] | None) -> list[tuple[str, int, str, list]]:
    """(record, class, kind, values) per non-empty row, checked; one file holds one kind of row."""
    try:
        lines = label.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        raise fail(label, "(file)", "cannot read") from None
    rows, kinds = [], set()
    for number, line in enumerate(lines, start=1):
        tokens = line.split()
        if not tokens:
            continue
        record = f"line {number}"
        cls, kind, values = _parse_row(tokens, label, record, names, kpt)
        kinds.add(kind)
        if len(kinds) > 1:
            raise fail(label, record, "mixes detect and segment rows in one file")
        rows.append((record, cls, kind, values))
    return rows


def _frame_path(image: Path, root: Path) -> str:
    resolved = image.resolve()
    return str(resolved.relative_to(root)) if resolved.is_relative_to(root) else str(resolved)


def _build(layout: _Layout, unread: Counter) -> tuple[list[Category], list]:
    kpt = layout.kpt
    categories = [Category(i + 1, n, tuple(layout.kpt_names.get(i, [f"kp{j + 1}" for j in range(kpt[0])]))
                           if kpt else ()) for i, n in enumerate(layout.names)]
    frames = []
    for entry in layout.entries:
        rows = _read_rows(entry.label, layout.names, kpt) if entry.label is not None else []
        if entry.image is None:  # counted, not dropped in silence: the boxes cannot be placed without a size
            if entry.label is not None:
                unread[MISSING_IMAGE] += len(rows)
            else:
                unread[MISSING_LISTED] += 1
            continue
        width, height = image_size(entry.image, layout.file, str(entry.listed))
        unread[OUTSIDE] += sum(_reaches_outside(kind, values) for _, _, kind, values in rows)
        instances = [_instance(cls, kind, values, k + 1, width, height, categories[cls], kpt, entry.label, record)
                     for k, (record, cls, kind, values) in enumerate(rows)]
        extra = {"split": entry.split}
        if entry.image.parent.name in ("synthetic", "real") and entry.image.parent.parent.name == entry.split:
            extra["source"] = entry.image.parent.name
        frames.append(make_frame(len(frames), _frame_path(entry.image, layout.root), width, height, instances,
                                 categories, **extra))
    return categories, frames


def read(path: Path, images: Path | None = None) -> LabelSet:
    """Any of the layouts above. A label file whose image is nowhere is counted in the loss line with its
    objects (the boxes are checked all the same); no image at all, or no label file at all, is an error."""
    layout = _layout(Path(path), ImageLocator(images))
    if not any(e.label is not None for e in layout.entries):
        raise fail(layout.file, "labels", f"no label files found for the {len(layout.entries)} images "
                                          "(expected labels/ beside images/, or a .txt beside each image)")
    unread: Counter = Counter({FLIP_IDX: int(layout.flip_idx)})
    categories, frames = _build(layout, unread)
    if not frames:
        hint = f" under --images {images}" if images is not None else "; give --images DIR"
        raise fail(layout.file, "images", f"none of the {len(layout.entries)} images was found{hint}")
    unread = Counter({k: v for k, v in unread.items() if v})
    return LabelSet(categories, frames, layout.root, str(layout.file), unread)
