"""Pascal VOC: Annotations/*.xml, JPEGImages/, SegmentationClass/ and SegmentationObject/ PNGs.

Boxes are 1-based and inclusive: a tight box [x, y, w, h] over pixels
x..x+w-1 is written xmin = x + 1, xmax = x + w. Segmentation PNGs are palette
images with the VOC colour map: class PNG values are class numbers (position in
labelmap.txt), object PNG values are the objects' order in the XML; 0 is
background. `truncated` is 1 when at least 15 % of the object's projection
leaves the image, `occluded` 1 when less than half of its in-image part shows.

Reading also takes the exports datumaro and CVAT write (see the notes above `read`
and docs/formats.md): RGB colour-mapped PNGs, labelmap.txt colours, `xmin 0` at
the image edge, no <size>, and CVAT's "Segmentation mask 1.1" without XML.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synthgen.errors import UserError
from synthgen.formats.frames import frame_names, image_file_name, make_frame, masked_instance, visible
from synthgen.formats.image_locator import ImageLocator
from synthgen.labels.labelset import Category, LabelSet
from synthgen.formats.losses import Losses
from synthgen.labels.masks import mask_bbox, mask_extent
from synthgen.io.reading import IMAGE_SUFFIXES, fail, from_one_based, image_size, read_xml
from synthgen.formats.writing import LABEL_PNG_LEVEL, copy_image, write_staged
from synthgen.labels.model import InstanceLabel

TRUNCATED_AT = 0.15
OCCLUDED_BELOW = 0.5


@functools.cache
def _palette() -> tuple[int, ...]:
    return tuple(palette())


def palette() -> list[int]:
    """The VOC colour map: bits of the index spread over the high bits of R, G and B."""
    colours = []
    for index in range(256):
        r = g = b = 0
        c = index
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        colours += [r, g, b]
    return colours


def _png(values: np.ndarray) -> bytes:
    import io

    from PIL import Image

    image = Image.fromarray(values.astype(np.uint8), mode="P")
    image.putpalette(_palette())
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=LABEL_PNG_LEVEL)
    return buffer.getvalue()


def _text(parent: ET.Element, tag: str, value: object) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = str(value)
    return element


def _flag(instance: InstanceLabel, key: str, derived: bool) -> int:
    return int(instance.attributes[key]) if key in instance.attributes else int(derived)


def _object_xml(root: ET.Element, instance: InstanceLabel, losses: Losses) -> None:
    x, y, w, h = instance.bbox
    if any(float(v) != round(v) for v in instance.bbox):
        losses.add("boxes rounded to whole pixels")
    obj = ET.SubElement(root, "object")
    _text(obj, "name", instance.category)
    _text(obj, "pose", instance.attributes.get("pose", "Unspecified"))
    _text(obj, "truncated", _flag(instance, "truncated", (instance.truncation or 0.0) >= TRUNCATED_AT))
    _text(obj, "occluded", _flag(instance, "occluded", instance.visibility is not None
                                 and instance.visibility < OCCLUDED_BELOW))
    _text(obj, "difficult", _flag(instance, "difficult", False))
    box = ET.SubElement(obj, "bndbox")
    for tag, value in (("xmin", x + 1), ("ymin", y + 1), ("xmax", x + w), ("ymax", y + h)):
        _text(box, tag, int(round(value)))


def write(labels: LabelSet, out: Path, losses: Losses, variant: str = "") -> None:
    if len(labels.categories) > 254:
        raise UserError("VOC segmentation PNGs hold at most 254 classes", key_path="categories")
    class_value = {c.id: k + 1 for k, c in enumerate(labels.categories)}
    names = frame_names(labels.frames, labels.source)
    segmented = []
    (out / "Annotations").mkdir(parents=True)
    for frame, name in zip(labels.frames, names):
        width, height = frame.camera.width, frame.camera.height
        image_name = image_file_name(frame, name, labels.source)
        copy_image(labels, frame, out / "JPEGImages" / image_name)
        root = ET.Element("annotation")
        _text(root, "folder", "JPEGImages")
        _text(root, "filename", image_name)
        size = ET.SubElement(root, "size")
        for tag, value in (("width", width), ("height", height), ("depth", 3)):
            _text(size, tag, value)
        objects = visible(frame)
        has_masks = any(i.mask_rle is not None for i in objects)
        _text(root, "segmented", int(has_masks))
        classes = np.zeros((height, width), np.uint8)
        instances = np.zeros((height, width), np.uint8)
        for number, instance in enumerate(objects, start=1):
            _object_xml(root, instance, losses)
            if instance.mask_rle is None:
                continue
            if number > 254:
                losses.add("masks past the 254th object of an image")
                continue
            extent = mask_extent(instance.mask_rle, height, width)
            if extent is None:
                continue
            x0, y0, mask = extent
            window = (slice(y0, y0 + mask.shape[0]), slice(x0, x0 + mask.shape[1]))
            if (instances[window][mask] != 0).any():
                losses.add("mask pixels shared by two objects (the later one kept)")
            classes[window][mask] = class_value[instance.category_id]
            instances[window][mask] = number
        if has_masks:
            segmented.append(name)
            for folder, values in (("SegmentationClass", classes), ("SegmentationObject", instances)):
                (out / folder).mkdir(exist_ok=True)
                write_staged(out / folder / f"{name}.png", _png(values))
        ET.indent(root)
        write_staged(out / "Annotations" / f"{name}.xml", ET.tostring(root, encoding="unicode") + "\n")
    main = "".join(n + "\n" for n in names)
    (out / "ImageSets" / "Main").mkdir(parents=True)
    write_staged(out / "ImageSets" / "Main" / "default.txt", main)
    if segmented:
        (out / "ImageSets" / "Segmentation").mkdir(parents=True)
        write_staged(out / "ImageSets" / "Segmentation" / "default.txt", "".join(n + "\n" for n in segmented))
    colours = palette()
    lines = ["# label:color_rgb:parts:actions", "background:0,0,0::"]
    for k, category in enumerate(labels.categories, start=1):
        lines.append(f"{category.name}:{colours[3 * k]},{colours[3 * k + 1]},{colours[3 * k + 2]}::")
    write_staged(out / "labelmap.txt", "\n".join(lines) + "\n")


# --------------------------------------------------------------------------- reading
#
# Exports met in the wild differ from VOC's own files in ways the reader absorbs:
# datumaro and CVAT write RGB PNGs painted with labelmap.txt's colours instead of
# palette PNGs, put boxes at the image edge at `xmin 0` (they write 0-based
# coordinates), may leave out <size>, number SegmentationObject instances apart
# from the XML's objects, and CVAT's "Segmentation mask 1.1" has no Annotations/.

VOC_CLASSES = ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow", "diningtable",
               "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor")
VOID = 255  # VOC's "don't care" border value, colour (224, 224, 192)
Colour = tuple[int, int, int]


@dataclass
class _ClassTable:
    """Class PNG values and colours -> class names; the position in labelmap.txt (or VOC's own list) is the value."""

    names: list[str]
    colours: list[Colour]
    background: str

    def by_colour(self) -> dict[Colour, int]:
        table = {_voc_colour(VOID): VOID}
        table.update({colour: k for k, colour in enumerate(self.colours)})
        return table


@dataclass
class _Object:
    name: str
    bbox: tuple[float, float, float, float]
    flags: dict
    mask: np.ndarray | None = None


def _voc_colour(index: int) -> Colour:
    colours = palette()
    return colours[3 * index], colours[3 * index + 1], colours[3 * index + 2]


def _labelmap_colour(text: str, file: Path, record: str) -> Colour | None:
    if not text.strip():
        return None
    parts = text.split(",")
    if len(parts) != 3 or not all(p.strip().isdigit() and int(p) <= 255 for p in parts):
        raise fail(file, record, f"colour must be 'r,g,b' with values 0-255, got {text!r}")
    return int(parts[0]), int(parts[1]), int(parts[2])


def _class_table(path: Path) -> _ClassTable | None:
    """labelmap.txt (`name:r,g,b:parts:actions`, datumaro's and CVAT's), or None when there is none.
    Background is the entry named so, else the black one, as datumaro decides it; entries without
    colours take the VOC colour map by position, as datumaro generates them."""
    file = path / "labelmap.txt"
    if not file.is_file():
        return None
    names: list[str] = []
    colours: list[Colour | None] = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, rest = line.strip().partition(":")
        record = f"line {number}"
        if not name:
            raise fail(file, record, "empty label name")
        if name in names:
            raise fail(file, record, f"label '{name}' is listed twice")
        names.append(name)
        colours.append(_labelmap_colour(rest.split(":")[0], file, record))
    if not any(c is not None for c in colours):
        colours = [_voc_colour(k) for k in range(len(names))]
    elif None in colours:
        raise fail(file, f"label '{names[colours.index(None)]}'", "has no colour while others have one")
    seen: dict = {}
    for name, colour in zip(names, colours):
        other = seen.setdefault(colour, name)
        if other != name:  # a pixel of that colour could be either class
            raise fail(file, f"label '{name}'", f"has the colour {colour} of '{other}'")
    black = [n for n, c in zip(names, colours) if c == (0, 0, 0)]
    background = "background" if "background" in names else (black[0] if black else "background")
    return _ClassTable(names, colours, background)  # type: ignore[arg-type]


def _voc_table() -> _ClassTable:
    names = ["background", *VOC_CLASSES]
    return _ClassTable(names, [_voc_colour(k) for k in range(len(names))], "background")


def _label_png(png: Path, colours: dict[Colour, int], what: str) -> np.ndarray:
    """A class or object PNG as values: palette/grey PNGs as stored, RGB PNGs through `colours`."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(png) as image:
            mode, data = image.mode, np.array(image.convert("RGB") if image.mode == "RGBA" else image)
    except (UnidentifiedImageError, OSError):
        raise fail(png, "(file)", "not a readable PNG") from None
    if mode in ("P", "L"):
        return data.astype(np.int32)
    if mode not in ("RGB", "RGBA"):
        raise fail(png, "(file)", f"expected a palette or RGB PNG, got mode {mode}")
    packed = (data[..., 0].astype(np.int32) << 16) | (data[..., 1].astype(np.int32) << 8) | data[..., 2]
    values, inverse = np.unique(packed, return_inverse=True)
    lookup = {(r << 16) | (g << 8) | b: k for (r, g, b), k in colours.items()}
    unknown = [v for v in values.tolist() if v not in lookup]
    if unknown:
        r, g, b = unknown[0] >> 16, (unknown[0] >> 8) & 255, unknown[0] & 255
        raise fail(png, "(image)", f"colour ({r}, {g}, {b}) is not {what}")
    return np.array([lookup[v] for v in values.tolist()], np.int32)[inverse].reshape(packed.shape)


def _number(element: ET.Element, tag: str, file: Path, record: str) -> float:
    child = element.find(tag)
    if child is None or child.text is None:
        raise fail(file, record, f"missing <{tag}>")
    try:
        return float(child.text.strip())
    except ValueError:
        raise fail(file, record, f"<{tag}> must be a number, got {child.text.strip()!r}") from None


def _box(values: tuple[float, ...], width: int, height: int, file: Path, record: str) -> tuple[float, ...]:
    """VOC's 1-based inclusive corners as [x, y, w, h]. A min of 0 (below VOC's 1) is what datumaro
    writes for a box at the image edge (it writes 0-based corners): it is read as the edge, 0, not
    as a box reaching one pixel off the image; maxes are the far edge in both conventions."""
    xmin, ymin, xmax, ymax = values
    if not (0 <= xmin <= xmax <= width and 0 <= ymin <= ymax <= height):
        raise fail(file, record, f"bndbox ({xmin:g}, {ymin:g}, {xmax:g}, {ymax:g}) must satisfy "
                                 f"0 <= min <= max <= image size ({width}x{height})")
    left, top = from_one_based(xmin), from_one_based(ymin)
    if xmax - left <= 0 or ymax - top <= 0:
        raise fail(file, record, f"bndbox ({xmin:g}, {ymin:g}, {xmax:g}, {ymax:g}) is empty")
    return left, top, xmax - left, ymax - top


def _flags(obj: ET.Element, file: Path, record: str) -> dict:
    flags: dict = {}
    for tag in ("truncated", "occluded", "difficult"):
        text = obj.findtext(tag)
        if text is not None and text.strip():
            if text.strip() not in ("0", "1"):
                raise fail(file, record, f"<{tag}> must be 0 or 1, got {text.strip()!r}")
            flags[tag] = int(text.strip())
    pose = (obj.findtext("pose") or "").strip()
    if pose and pose != "Unspecified":
        flags["pose"] = pose
    return flags


def _size(root: ET.Element, file: Path) -> tuple[int, int] | None:
    """<size>, or None when the export left it out (datumaro does for images it has no size for)."""
    size = root.find("size")
    if size is None or size.find("width") is None and size.find("height") is None:
        return None
    width, height = (_number(size, t, file, "size") for t in ("width", "height"))
    if width <= 0 or height <= 0 or width != int(width) or height != int(height):
        raise fail(file, "size", "width and height must be positive integers")
    return int(width), int(height)


def _objects(root: ET.Element, width: int, height: int, file: Path, unread: Counter) -> list[_Object]:
    objects = []
    for k, obj in enumerate(root.findall("object")):
        name = (obj.findtext("name") or "").strip()
        record = f"object[{k}] ({name or 'unnamed'})"
        if not name:
            raise fail(file, record, "missing <name>")
        box = obj.find("bndbox")
        if box is None:
            raise fail(file, record, "missing <bndbox>")
        corners = tuple(_number(box, t, file, record) for t in ("xmin", "ymin", "xmax", "ymax"))
        objects.append(_Object(name, _box(corners, width, height, file, record), _flags(obj, file, record)))
        unread["VOC <part> boxes (head, hand, foot: no part boxes in the model)"] += len(obj.findall("part"))
        unread["VOC <actions> of objects (no actions in the model)"] += len(obj.findall("actions"))
    return objects


def _image(locator: ImageLocator, names: list[str], bases: list[Path], file: Path, record: str) -> Path:
    for name in names:
        found = locator.find(name, bases)
        if found is not None:
            return found
    hint = "" if locator.images is not None else "; give --images DIR"
    raise fail(file, record, f"image file not found: {bases[0] / names[0]}{hint}")


def _relative(image: Path, root: Path) -> str:
    try:
        return image.relative_to(root).as_posix()
    except ValueError:
        return str(image)


def _mask_class(classes: np.ndarray | None, mask: np.ndarray, table: _ClassTable) -> str | None:
    """The class most of an object's pixels have in the class PNG (None without one, or if only background)."""
    if classes is None:
        return None
    values = classes[mask]
    values = values[(values != VOID) & (values < len(table.names))]
    if not values.size:
        return None
    name = table.names[int(np.bincount(values).argmax())]
    return None if name == table.background else name


def _mostly_inside(mask: np.ndarray, box: tuple[float, ...]) -> bool:
    x, y, w, h = (int(round(v)) for v in box)
    return 2 * int(mask[max(y, 0):y + h, max(x, 0):x + w].sum()) >= int(mask.sum())


def _attach_masks(objects: list[_Object], ids: np.ndarray, classes: np.ndarray | None, table: _ClassTable,
                  png: Path) -> list[_Object]:
    """Give SegmentationObject instance k to XML object k, VOC's rule, when they agree (same class in
    the class PNG, at least half of the mask inside the box); datumaro and CVAT number masks apart
    from boxes, so an instance that does not agree is an object of its own, named by the class PNG."""
    extra = []
    for number in sorted(set(np.unique(ids).tolist()) - {0, VOID}):
        mask = ids == number
        name = _mask_class(classes, mask, table)
        partner = objects[number - 1] if number <= len(objects) else None
        if partner is not None and partner.mask is None and name in (None, partner.name) \
                and _mostly_inside(mask, partner.bbox):
            partner.mask = mask
        elif name is None:
            raise fail(png, f"object {number}", f"matches no object of the XML ({len(objects)} listed) and no "
                                                "SegmentationClass PNG names its class")
        else:
            extra.append(_Object(name, mask_bbox(mask), {}, mask))
    return objects + extra


def _png_pair(path: Path, stem: str, table: _ClassTable, size: tuple[int, int],
              unread: Counter) -> tuple[np.ndarray | None, np.ndarray | None, Path]:
    """The item's object and class PNGs as values (None where absent), checked against the image size."""
    object_png, class_png = path / "SegmentationObject" / f"{stem}.png", path / "SegmentationClass" / f"{stem}.png"
    ids = _label_png(object_png, {_voc_colour(k): k for k in range(256)}, "a VOC colour-map colour") \
        if object_png.is_file() else None
    classes = _label_png(class_png, table.by_colour(), "a class colour (labelmap.txt or the VOC colour map)") \
        if class_png.is_file() else None
    for png, values in ((object_png, ids), (class_png, classes)):
        if values is not None and values.shape != (size[1], size[0]):
            raise fail(png, "(image)", f"size {values.shape[1]}x{values.shape[0]} disagrees with the image "
                                       f"({size[0]}x{size[1]})")
    if classes is not None and (classes >= len(table.names)).any() and (classes != VOID).any():
        bad = sorted(set(np.unique(classes).tolist()) - set(range(len(table.names))) - {VOID})
        if bad:
            raise fail(class_png, "(image)", f"class value {bad[0]} is not in the class list ({len(table.names)} "
                                             "classes with background)")
    if classes is not None and ids is None:
        unread["SegmentationClass PNGs without a SegmentationObject PNG (class masks, not objects)"] += 1
    return ids, classes, object_png


def _instances(objects: list[_Object], by_name: dict[str, Category], file: Path) -> list[InstanceLabel]:
    instances = []
    for number, obj in enumerate(objects, start=1):
        if obj.name not in by_name:
            raise fail(file, f"object[{number - 1}] ({obj.name})", "label is not declared in labelmap.txt")
        instances.append(masked_instance(number, by_name[obj.name], obj.mask, tuple(float(v) for v in obj.bbox),
                                         attributes=obj.flags))
    return instances


@dataclass
class _Item:
    stem: str
    file: Path  # the XML, or the object PNG when there is no XML
    image: Path
    size: tuple[int, int]
    objects: list[_Object]


def _xml_item(path: Path, file: Path, locator: ImageLocator, table: _ClassTable, unread: Counter) -> _Item:
    root = read_xml(file)
    if root.tag != "annotation":
        raise fail(file, "(root)", f"expected <annotation>, got <{root.tag}>")
    filename = (root.findtext("filename") or "").strip()
    if not filename:
        raise fail(file, "filename", "missing <filename>")
    names = [filename] + ([f"{filename}{s}" for s in IMAGE_SUFFIXES] if not Path(filename).suffix else [])
    image = _image(locator, names, [path / "JPEGImages", path], file, "filename")
    actual = image_size(image, file, "filename")
    declared = _size(root, file)
    if declared is not None and declared != actual:
        raise fail(file, "size", f"{declared[0]}x{declared[1]} disagrees with the image ({actual[0]}x{actual[1]})")
    objects = _objects(root, actual[0], actual[1], file, unread)
    ids, classes, object_png = _png_pair(path, file.stem, table, actual, unread)
    if ids is not None:
        objects = _attach_masks(objects, ids, classes, table, object_png)
    return _Item(file.stem, file, image, actual, objects)


def _mask_item(path: Path, png: Path, locator: ImageLocator, table: _ClassTable, unread: Counter) -> _Item:
    """An item of CVAT's "Segmentation mask 1.1" export: PNGs and no XML, objects from the masks."""
    names = [f"{png.stem}{s}" for s in IMAGE_SUFFIXES]
    image = _image(locator, names, [path / "JPEGImages", path], png, "(image)")
    size = image_size(image, png, "(image)")
    ids, classes, _ = _png_pair(path, png.stem, table, size, unread)
    if classes is None:
        raise fail(png, "(image)", f"no SegmentationClass/{png.stem}.png to name the objects' classes")
    return _Item(png.stem, png, image, size, _attach_masks([], ids, classes, table, png))


def _listed_names(path: Path) -> set[str]:
    """Image names JPEGImages/ holds and ImageSets/*/*.txt list (first word of a line, quotes removed)."""
    names = {p.stem for p in (path / "JPEGImages").glob("*") if p.suffix.lower() in IMAGE_SUFFIXES}
    for listing in sorted((path / "ImageSets").glob("*/*.txt")):
        for line in listing.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                names.add(line.strip().split('"')[1] if line.startswith('"') else line.split()[0])
    return names


def read(path: Path, images: Path | None = None) -> LabelSet:
    path = Path(path)
    locator = ImageLocator(images)
    labelmap = _class_table(path)
    table = labelmap or _voc_table()
    unread: Counter = Counter()
    xmls = sorted((path / "Annotations").glob("*.xml"))
    pngs = sorted((path / "SegmentationObject").glob("*.png"))
    if xmls:
        items = [_xml_item(path, f, locator, table, unread) for f in xmls]
    elif pngs:
        items = [_mask_item(path, f, locator, table, unread) for f in pngs]
    else:
        raise UserError("not a VOC export: no annotations (no Annotations/*.xml, no SegmentationObject/*.png)",
                        file=path)
    unread["images without an annotation (in JPEGImages/ or ImageSets/, with no XML or mask)"] += \
        len(_listed_names(path) - {item.stem for item in items})
    if labelmap is not None:  # background is a class only where an XML object says so (datumaro's files do)
        used = {o.name for item in items for o in item.objects}
        names = [n for n in labelmap.names if n != labelmap.background or n in used]
    else:
        names = list(dict.fromkeys(o.name for item in items for o in item.objects))
    categories = [Category(k + 1, n) for k, n in enumerate(names)]
    by_name = {c.name: c for c in categories}
    frames = [make_frame(index, _relative(item.image, path), item.size[0], item.size[1],
                         _instances(item.objects, by_name, item.file), categories)
              for index, item in enumerate(items)]
    return LabelSet(categories, frames, path, str(path), +unread)
