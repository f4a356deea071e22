"""Ultralytics YOLO: detect, segment and pose label files plus data.yaml.

Layout: images/<split>/NAME.png beside labels/<split>/NAME.txt (a label file is
found by replacing the last /images/ of an image path with /labels/), one row
per object, coordinates normalised by the image width and height. Class numbers
are positions in `names`. Splits come from a frame's `split` field (merge sets
it), else everything is train and val points at train too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from synthgen.errors import UserError
from synthgen.formats.base import (Category, LabelSet, Losses, copy_image, fail, frame_names, image_size, make_frame,
                                   visible)
from synthgen.formats.masks import decode_rle, encode_rle, mask_bbox, mask_to_polygon, polygons_to_mask
from synthgen.io.atomic import atomic_write_text
from synthgen.labels.model import InstanceLabel

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
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
    if task == "pose":
        points = list(instance.keypoints or ())
        points += [(0.0, 0.0, 0)] * (k - len(points))
        for px, py, v in points:  # unlabelled points are written as 0 0 0, as Ultralytics expects
            parts += [_n(px / width if v else 0.0), _n(py / height if v else 0.0), str(int(v))]
    return " ".join(parts)


def write(labels: LabelSet, out: Path, losses: Losses, variant: str = "detect") -> None:
    index = {c.id: k for k, c in enumerate(labels.categories)}
    k = _kpt_count(labels)
    splits_used: set[str] = set()
    for frame, name in zip(labels.frames, frame_names(labels.frames)):
        split = frame.extra.get("split") if frame.extra.get("split") in SPLITS else "train"
        splits_used.add(split)
        suffix = Path(frame.image).suffix or ".png"
        # merged datasets keep synthetic and real images in sub-folders of a split (Ultralytics reads them recursively)
        folder = Path(split) / str(frame.extra["source"]) if frame.extra.get("source") else Path(split)
        copy_image(labels, frame, out / "images" / folder / f"{name}{suffix}")
        rows = [_row(i, index[i.category_id], frame.camera.width, frame.camera.height, variant, k, losses)
                for i in visible(frame)]
        (out / "labels" / folder).mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "labels" / folder / f"{name}.txt", "".join(r + "\n" for r in rows))
    data: dict[str, Any] = {"path": ".", "train": "images/train",
                            "val": "images/val" if "val" in splits_used else "images/train"}
    if "test" in splits_used:
        data["test"] = "images/test"
    data["names"] = {i: c.name for i, c in enumerate(labels.categories)}
    if variant == "pose":
        data["kpt_shape"] = [k, 3]
        data["kpt_names"] = {i: list(c.keypoints) for i, c in enumerate(labels.categories) if c.keypoints}
    atomic_write_text(out / "data.yaml", yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


# --------------------------------------------------------------------------- reading

def _data_yaml(path: Path) -> Path:
    if path.is_dir():
        candidates = sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml"))
        if len(candidates) != 1:
            raise UserError(f"expected one data.yaml in the directory, found {len(candidates)}", file=path)
        return candidates[0]
    return path


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


def _split_dirs(data: dict, base: Path, file: Path) -> list[tuple[str, Path]]:
    dirs: list[tuple[str, Path]] = []
    for split in SPLITS:
        value = data.get(split)
        if value is None:
            if split in ("train", "val"):
                raise fail(file, split, "missing (data.yaml needs train and val)")
            continue
        for entry in value if isinstance(value, list) else [value]:
            if not isinstance(entry, str):
                raise fail(file, split, "must be a directory path or a list of them")
            directory = (base / entry).resolve()
            if not directory.is_dir():
                raise fail(file, split, f"image directory not found: {directory}")
            if all(directory != d for _, d in dirs):
                dirs.append((split, directory))
    return dirs


def _label_path(image: Path) -> Path:
    parts = list(image.parts)
    where = len(parts) - 1 - parts[::-1].index("images")
    parts[where] = "labels"
    return Path(*parts).with_suffix(".txt")


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
    coords = values if kind != "pose" else values[:4] + [v for i, v in enumerate(values[4:]) if kpt[1] == 2 or i % 3 != 2]
    if any(not 0.0 <= v <= 1.0 for v in coords):
        raise fail(file, record, "normalised coordinates must lie in [0, 1]")
    return cls, kind, values


def _instance(cls: int, kind: str, values: list[float], number: int, width: int, height: int, category: Category,
              kpt: tuple[int, int] | None, file: Path, record: str) -> InstanceLabel:
    mask = keypoints = None
    if kind == "segment":
        polygon = [v * (width if i % 2 == 0 else height) for i, v in enumerate(values)]
        mask = polygons_to_mask([polygon], height, width)
        bbox = mask_bbox(mask)
        if bbox is None:
            xs, ys = polygon[0::2], polygon[1::2]
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
    return InstanceLabel(number, category.name, category.id, tuple(round(v, 6) for v in bbox),
                         visible_pixels=int(mask.sum()) if mask is not None else 0,
                         mask_rle=encode_rle(mask) if mask is not None else None, keypoints=keypoints)


def read(path: Path) -> LabelSet:
    file = _data_yaml(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise fail(file, f"line {mark.line + 1}" if mark else "(file)", "invalid YAML") from None
    except (OSError, UnicodeDecodeError):
        raise fail(file, "(file)", "cannot read") from None
    if not isinstance(data, dict):
        raise fail(file, "(top level)", "data.yaml must be a mapping")
    names = _names(data, file)
    kpt = None
    if "kpt_shape" in data:
        shape = data["kpt_shape"]
        if not (isinstance(shape, list) and len(shape) == 2 and all(isinstance(v, int) for v in shape)
                and shape[0] >= 0 and shape[1] in (2, 3)):
            raise fail(file, "kpt_shape", "must be [number of keypoints, 2 or 3]")
        kpt = (shape[0], shape[1])
    kpt_names = data.get("kpt_names") or {}
    categories = [Category(i + 1, n, tuple(kpt_names.get(i, [f"kp{j + 1}" for j in range(kpt[0])]))
                           if kpt else ()) for i, n in enumerate(names)]
    base = file.parent / str(data.get("path", "."))
    frames = []
    root = file.parent.resolve()
    for split, directory in _split_dirs(data, base, file):
        for image in sorted(p for p in directory.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES):
            width, height = image_size(image, file, str(image))
            label_file = _label_path(image)
            instances: list[InstanceLabel] = []
            if label_file.is_file():
                try:
                    lines = label_file.read_text(encoding="utf-8").splitlines()
                except (OSError, UnicodeDecodeError):
                    raise fail(label_file, "(file)", "cannot read") from None
                kinds = set()
                for number, line in enumerate(lines, start=1):
                    tokens = line.split()
                    if not tokens:
                        continue
                    record = f"line {number}"
                    cls, kind, values = _parse_row(tokens, label_file, record, names, kpt)
                    kinds.add(kind)
                    if len(kinds) > 1:
                        raise fail(label_file, record, "mixes detect and segment rows in one file")
                    instances.append(_instance(cls, kind, values, len(instances) + 1, width, height,
                                               categories[cls], kpt, label_file, record))
            relative = image.resolve().relative_to(root) if image.resolve().is_relative_to(root) else image.resolve()
            extra = {"split": split}
            if image.parent.name in ("synthetic", "real") and image.parent.parent.name == split:
                extra["source"] = image.parent.name
            frames.append(make_frame(len(frames), str(relative), width, height, instances, categories, **extra))
    return LabelSet(categories, frames, root, str(file))
