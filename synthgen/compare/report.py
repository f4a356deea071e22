"""One set of human labels against the exact truth: every number of docs/compare.md.

Frames are paired by image file name (stem), whatever their folders; categories by
name (after a taxonomy, if the command was given one). Objects are matched per
image and category (synthgen/compare/match.py); what is left is matched across
categories to find class confusions. Counts, precision, recall, IoU, per-edge
offsets, mask IoU and boundary F-score are computed overall, per class, per COCO
size bucket and per visibility and truncation bucket of the true object.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from synthgen.compare.cocoeval import CocoCollector
from synthgen.compare.match import FrameMatches, assign, box_iou, match_frame
from synthgen.compare.metrics import boundary_f, keypoint_similarity, sigma_of
from synthgen.errors import UserError
from synthgen.labels.labelset import LabelSet
from synthgen.labels.masks import decode_window, rle_counts
from synthgen.labels.model import FrameLabels, InstanceLabel

SMALL, MEDIUM = 32**2, 96**2  # COCO's area buckets, in pixels
EDGES = ("left", "top", "right", "bottom")
VISIBILITY_BUCKETS = ("0-25%", "25-50%", "50-75%", "75-100%")
TRUNCATION_BUCKETS = ("none", "0-25%", "25-50%", "50-100%")
HIDDEN_BUCKETS = ("hidden", "0-10%", "10-25%", "25-50%", "50-75%", "75-100%")
UNCHANGED_PX = 0.5  # --reviewed: a box whose every edge moved at most this much was accepted as it was
UNCHANGED_MASK_IOU = 0.99  # --reviewed: a mask at least this close to its pre-label was not redrawn
WORST_IMAGES = 20
IOU_EDGES = np.linspace(0.0, 1.0, 21)


def size_bucket(area: float) -> str:
    return "small" if area < SMALL else "medium" if area < MEDIUM else "large"


def visibility_bucket(visibility: float) -> str:
    return VISIBILITY_BUCKETS[min(int(visibility * 4), 3)]


def truncation_bucket(truncation: float) -> str:
    if truncation <= 0.0:
        return "none"
    return "0-25%" if truncation < 0.25 else "25-50%" if truncation < 0.5 else "50-100%"


def hidden_bucket(instance: InstanceLabel) -> str:
    """Finer buckets of visibility for the hidden-objects table, 'hidden' meaning no visible pixel."""
    visibility = instance.visibility or 0.0
    if instance.bbox is None or visibility <= 0.0:
        return "hidden"
    for upper, name in ((0.1, "0-10%"), (0.25, "10-25%"), (0.5, "25-50%"), (0.75, "50-75%")):
        if visibility < upper:
            return name
    return "75-100%"


def edge_offsets(truth: tuple[float, ...], human: tuple[float, ...]) -> np.ndarray:
    """Human edge minus true edge, in pixels, for left, top, right, bottom: positive is right or down, so a
    loose box has negative left and top offsets and positive right and bottom ones."""
    tx, ty, tw, th = truth
    hx, hy, hw, hh = human
    return np.array([hx - tx, hy - ty, (hx + hw) - (tx + tw), (hy + hh) - (ty + th)])


def _stats(values: list[float]) -> dict[str, float]:
    array = np.array(values, dtype=np.float64)
    return {"mean": round(float(array.mean()), 6), "median": round(float(np.median(array)), 6),
            "p10": round(float(np.percentile(array, 10)), 6), "p90": round(float(np.percentile(array, 90)), 6)}


class Tally:
    """Counts and per-match measurements of one slice (overall, a class, a bucket)."""

    def __init__(self) -> None:
        self.truth = self.labels = self.matched = 0
        self.ious: list[float] = []
        self.box_ious: list[float] = []
        self.mask_ious: list[float] = []
        self.boundary_f: list[float] = []
        self.offsets: list[np.ndarray] = []

    def add_match(self, pair: PairMeasures) -> None:
        self.matched += 1
        self.ious.append(pair.iou)
        self.box_ious.append(pair.box_iou)
        self.offsets.append(pair.offsets)
        if pair.mask_iou is not None:
            self.mask_ious.append(pair.mask_iou)
            self.boundary_f.append(pair.boundary_f)

    def summary(self, with_labels: bool = True) -> dict[str, Any]:
        """The slice's numbers; buckets of the truth (visibility, truncation) have no human side of their own,
        so `with_labels=False` leaves out labels, extra and precision."""
        out: dict[str, Any] = {"truth": self.truth}
        if with_labels:
            out["labels"] = self.labels
        out["matched"] = self.matched
        out["missed"] = self.truth - self.matched
        if with_labels:
            out["extra"] = self.labels - self.matched
            out["precision"] = round(self.matched / self.labels, 6) if self.labels else None
        out["recall"] = round(self.matched / self.truth, 6) if self.truth else None
        if self.ious:
            out["iou"] = _stats(self.ious)
            out["box_iou"] = _stats(self.box_ious)
            offsets = np.array(self.offsets)
            out["edge_offsets_px"] = {edge: {"mean": round(float(offsets[:, k].mean()), 6),
                                             "median": round(float(np.median(offsets[:, k])), 6)}
                                      for k, edge in enumerate(EDGES)}
        if self.mask_ious:
            out["mask_iou"] = _stats(self.mask_ious)
            out["boundary_f"] = _stats(self.boundary_f)
        return out


@dataclass(frozen=True)
class PairMeasures:
    iou: float  # what the pair was matched on
    box_iou: float
    offsets: np.ndarray
    mask_iou: float | None  # when both sides have a mask or polygon
    boundary_f: float | None


def mask_windows(truth_rle: dict, human_rle: dict, margin: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Both masks over the extent of their union plus `margin` pixels, decoded from the RLE runs of those
    columns only: boundary measures look nowhere else, and a full-frame decode per pair would dominate."""
    height, width = truth_rle["size"]
    boxes = mask_utils.toBbox([truth_rle, human_rle])
    boxes = boxes[(boxes[:, 2] > 0) & (boxes[:, 3] > 0)]
    if len(boxes) == 0:
        return np.zeros((0, 0), bool), np.zeros((0, 0), bool)
    x0 = max(int(boxes[:, 0].min()) - margin, 0)
    y0 = max(int(boxes[:, 1].min()) - margin, 0)
    x1 = min(int((boxes[:, 0] + boxes[:, 2]).max()) + margin, width)
    y1 = min(int((boxes[:, 1] + boxes[:, 3]).max()) + margin, height)
    return tuple(decode_window(rle_counts(rle, height, width), height, x0, x1)[y0:y1]  # type: ignore[return-value]
                 for rle in (truth_rle, human_rle))


def measure_pair(truth: InstanceLabel, human: InstanceLabel, iou: float, boundary_px: float) -> PairMeasures:
    box = float(box_iou(truth.bbox, human.bbox)[0, 0])
    mask_iou = boundary = None
    if truth.mask_rle is not None and human.mask_rle is not None:
        mask_iou = float(np.asarray(mask_utils.iou([human.mask_rle], [truth.mask_rle], [0])).item())
        boundary = boundary_f(*mask_windows(truth.mask_rle, human.mask_rle), boundary_px)
    return PairMeasures(iou, box, edge_offsets(truth.bbox, human.bbox), mask_iou, boundary)


class KeypointTally:
    """Per keypoint of one category: how often truth and human label it, its similarity and pixel error."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.sigmas = np.array([sigma_of(n) for n in names])
        self.objects = 0
        self.oks: list[float] = []
        self.truth_labelled = np.zeros(len(names), dtype=int)
        self.human_labelled = np.zeros(len(names), dtype=int)
        self.similarity = [[] for _ in names]
        self.error = [[] for _ in names]

    def add(self, truth: InstanceLabel, human: InstanceLabel) -> None:
        true_points, human_points = np.array(truth.keypoints, float), np.array(human.keypoints, float)
        labelled = true_points[:, 2] > 0  # COCO's OKS is over the truth's labelled points
        if not labelled.any():
            return
        both = labelled & (human_points[:, 2] > 0)
        area = float(truth.visible_pixels or truth.bbox[2] * truth.bbox[3])
        similarity = np.where(both, keypoint_similarity(true_points[:, :2], human_points[:, :2], area, self.sigmas), 0.0)
        self.objects += 1
        self.oks.append(float(similarity[labelled].mean()))
        self.truth_labelled += labelled
        self.human_labelled += both
        distance = np.hypot(*(true_points[:, :2] - human_points[:, :2]).T)
        for k in np.flatnonzero(labelled):
            self.similarity[k].append(float(similarity[k]))
            if both[k]:
                self.error[k].append(float(distance[k]))

    def summary(self) -> dict[str, Any]:
        per_keypoint = {}
        for k, name in enumerate(self.names):
            entry: dict[str, Any] = {"truth_labelled": int(self.truth_labelled[k]),
                                     "human_labelled": int(self.human_labelled[k])}
            if self.similarity[k]:
                entry["oks_mean"] = round(float(np.mean(self.similarity[k])), 6)
            if self.error[k]:
                entry["error_px"] = {"mean": round(float(np.mean(self.error[k])), 6),
                                     "median": round(float(np.median(self.error[k])), 6)}
            per_keypoint[name] = entry
        return {"objects": self.objects, "oks": _stats(self.oks) if self.oks else None, "per_keypoint": per_keypoint}


class ReviewTally:
    """--reviewed: what reviewers did to pre-labels (the truth): accepted, moved, relabelled, deleted, added."""

    def __init__(self) -> None:
        self.prelabels = self.reviewed = self.unchanged = self.deleted = self.added = self.reshaped = 0
        self.moved: list[np.ndarray] = []
        self.relabelled: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(self, truth: list[InstanceLabel], human: list[InstanceLabel], result: FrameMatches) -> None:
        self.prelabels += len(result.matches) + len(result.missed)
        self.reviewed += len(human)
        for match in result.matches:
            before, after = truth[match.truth], human[match.human]
            offsets = edge_offsets(before.bbox, after.bbox)
            moved = np.abs(offsets).max() > UNCHANGED_PX
            reshaped = before.mask_rle is not None and after.mask_rle is not None and float(
                np.asarray(mask_utils.iou([after.mask_rle], [before.mask_rle], [0])).item()) < UNCHANGED_MASK_IOU
            if moved:
                self.moved.append(offsets)
            self.reshaped += reshaped
            self.unchanged += not moved and not reshaped
        for match in result.confusions:
            self.relabelled[truth[match.truth].category][human[match.human].category] += 1
        self.deleted += len(result.missed) - len(result.confusions)
        self.added += len(result.extra) - len(result.confusions)

    def summary(self) -> dict[str, Any]:
        moved = np.array(self.moved).reshape(-1, 4)
        shift = np.abs(moved).max(axis=1) if len(moved) else np.zeros(0)
        return {
            "prelabels": self.prelabels, "reviewed": self.reviewed,
            "unchanged": self.unchanged, "moved": len(moved), "reshaped": self.reshaped,
            "relabelled": sum(sum(row.values()) for row in self.relabelled.values()),
            "deleted": self.deleted, "added": self.added,
            "accepted_unchanged_share": round(self.unchanged / self.prelabels, 6) if self.prelabels else None,
            "moved_px": {"largest_edge": _stats(list(shift)),
                         "edge_offsets_mean": {edge: round(float(moved[:, k].mean()), 6) for k, edge in enumerate(EDGES)}}
            if len(moved) else None,
            "relabelled_from_to": {a: dict(sorted(b.items())) for a, b in sorted(self.relabelled.items())},
        }


def frames_by_stem(labels: LabelSet, what: str) -> dict[str, FrameLabels]:
    frames: dict[str, FrameLabels] = {}
    for frame in labels.frames:
        stem = Path(frame.image).stem
        if stem in frames:
            raise UserError(f"two images of the {what} share the file name '{stem}'", file=labels.source)
        frames[stem] = frame
    return frames


def keypoint_order(truth_names: tuple[str, ...], human_names: tuple[str, ...]) -> list[int] | None:
    """Where each of the truth's keypoints sits in the human layout: by name when the names overlap, else
    None (the points are paired by position, if their number is the truth's)."""
    if human_names and set(truth_names) & set(human_names):
        return [human_names.index(n) if n in human_names else -1 for n in truth_names]
    return None


def in_truth_terms(truth: LabelSet, labels: LabelSet,
                   notes: list[str] | None = None) -> dict[str, list[InstanceLabel]]:
    """The human objects of each image stem, with the truth's category names and ids and keypoints in the
    order of the truth's keypoint names; a category the truth does not have is an error. Keypoints that
    cannot be paired with the truth's (no shared names and another count) are left out, and `notes` says so."""
    truth_by_name = {c.name: c for c in truth.categories}
    unknown = [c.name for c in labels.categories if c.name not in truth_by_name]
    if unknown:
        raise UserError(f"category '{unknown[0]}' of the labels is not among the truth's categories "
                        f"({', '.join(truth_by_name)}); map it with --taxonomy", file=labels.source)
    target = {c.id: truth_by_name[c.name] for c in labels.categories}
    orders = {c.id: keypoint_order(truth_by_name[c.name].keypoints, c.keypoints) for c in labels.categories}
    unpaired: dict[str, int] = defaultdict(int)
    out: dict[str, list[InstanceLabel]] = {}
    for stem, frame in frames_by_stem(labels, "labels").items():
        objects = []
        for i in frame.instances:
            if i.bbox is None:
                continue
            category = target[i.category_id]
            keypoints, order = i.keypoints, orders[i.category_id]
            if keypoints is not None:
                if order is not None:
                    keypoints = tuple(keypoints[k] if 0 <= k < len(keypoints) else (0.0, 0.0, 0) for k in order)
                elif len(keypoints) != len(category.keypoints):
                    unpaired[category.name] += 1
                    keypoints = None
            objects.append(replace(i, category=category.name, category_id=category.id, keypoints=keypoints))
        out[stem] = objects
    if notes is not None:
        notes += [f"keypoints of {n} {name} objects left out: their points have no names and are not the "
                  f"truth's {len(truth_by_name[name].keypoints)}" for name, n in sorted(unpaired.items())]
    return out


def compare(truth: LabelSet, labels: LabelSet, threshold: float = 0.5, use_masks: bool = True,
            boundary_px: float = 2.0, reviewed: bool = False, min_score: float | None = None) -> dict[str, Any]:
    """The report of `labels` (human, or a model's scored detections) against `truth`, as a JSON-ready dict
    (docs/compare.md). `min_score`: detections scored below it are left out of every count, but not out of
    COCOeval, which ranks all of them by score."""
    truth_frames = frames_by_stem(truth, "truth")
    notes: list[str] = []
    human_frames = in_truth_terms(truth, labels, notes)
    common = sorted(set(truth_frames) & set(human_frames))
    if not common:
        raise UserError("no image of the labels matches a truth image by file name", file=labels.source)
    for stem, frame in frames_by_stem(labels, "labels").items():
        true_frame = truth_frames.get(stem)
        if true_frame is not None and (frame.camera.width, frame.camera.height) != (true_frame.camera.width,
                                                                                    true_frame.camera.height):
            raise UserError(f"image '{stem}' is {frame.camera.width}x{frame.camera.height} in the labels but "
                            f"{true_frame.camera.width}x{true_frame.camera.height} in the truth", file=labels.source)
    names = {c.id: c.name for c in truth.categories}
    layouts = {c.name: c.keypoints for c in truth.categories if c.keypoints}
    overall = Tally()
    slices: dict[str, dict[str, Tally]] = {key: defaultdict(Tally) for key in
                                           ("per_class", "per_size", "per_visibility", "per_truncation")}
    confusion: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    hidden = {key: {b: [0, 0] for b in buckets} for key, buckets in
              (("by_visibility", HIDDEN_BUCKETS), ("by_truncation", TRUNCATION_BUCKETS))}
    mostly_hidden = [0, 0]  # true objects less than half visible or more than half outside the image
    hidden_extras = 0
    keypoints = {name: KeypointTally(kp) for name, kp in layouts.items()}
    coco = CocoCollector(names)
    review = ReviewTally()
    images = []

    def slices_of(instance: InstanceLabel) -> list[Tally]:
        area = instance.visible_pixels or instance.bbox[2] * instance.bbox[3]
        out = [overall, slices["per_class"][instance.category], slices["per_size"][size_bucket(area)]]
        if instance.visibility is not None:
            out.append(slices["per_visibility"][visibility_bucket(instance.visibility)])
        if instance.truncation is not None:
            out.append(slices["per_truncation"][truncation_bucket(instance.truncation)])
        return out

    for stem in common:
        frame = truth_frames[stem]
        true_objects, scored = list(frame.instances), human_frames[stem]
        human = scored if min_score is None else [h for h in scored if h.attributes.get("score", 1.0) >= min_score]
        result = match_frame(true_objects, human, threshold, use_masks)
        for instance in true_objects:
            if instance.bbox is not None:
                for tally in slices_of(instance):
                    tally.truth += 1
        for instance in human:
            overall.labels += 1
            slices["per_class"][instance.category].labels += 1
        for k in result.extra:  # an extra human object counts in the size bucket of its own box
            box = human[k].bbox
            slices["per_size"][size_bucket(box[2] * box[3])].labels += 1
        ious = []
        for match in result.matches:
            true_object, labelled = true_objects[match.truth], human[match.human]
            pair = measure_pair(true_object, labelled, match.iou, boundary_px)
            ious.append(match.iou)
            area = true_object.visible_pixels or true_object.bbox[2] * true_object.bbox[3]
            slices["per_size"][size_bucket(area)].labels += 1
            for tally in slices_of(true_object):
                tally.add_match(pair)
            confusion[true_object.category][labelled.category] += 1
            if true_object.category in keypoints and true_object.keypoints and labelled.keypoints:
                keypoints[true_object.category].add(true_object, labelled)
        for match in result.confusions:
            confusion[true_objects[match.truth].category][human[match.human].category] += 1
        # hidden objects: was each true object labelled at all (any class), by how visible it is?
        labelled_truth = {m.truth for m in result.matches} | {m.truth for m in result.confusions}
        leftover = [k for k in result.extra if k not in {m.human for m in result.confusions}]
        unseen = [k for k, t in enumerate(true_objects) if t.bbox is None and t.bbox_amodal is not None]
        if unseen and leftover:  # a human box on an object no pixel shows: matched to its amodal box
            iou = box_iou([true_objects[k].bbox_amodal for k in unseen], [human[k].bbox for k in leftover])
            found = assign(iou, threshold)
            labelled_truth |= {unseen[r] for r, _, _ in found}
            hidden_extras += len(found)
        for k, t in enumerate(true_objects):
            if t.bbox is None and t.bbox_amodal is None:
                continue
            cells = [hidden["by_visibility"][hidden_bucket(t)]]
            if t.truncation is not None:
                cells.append(hidden["by_truncation"][truncation_bucket(t.truncation)])
            if (t.visibility or 0.0) < 0.5 or (t.truncation or 0.0) > 0.5:
                cells.append(mostly_hidden)
            for cell in cells:
                cell[0] += 1
                cell[1] += k in labelled_truth
        coco.add(frame.camera.width, frame.camera.height, true_objects, scored)
        if reviewed:  # what reviewers did to boxes: matched on boxes, masks compared within each pair
            review.add(true_objects, human, match_frame(true_objects, human, threshold, False) if use_masks else result)
        images.append({"image": stem, "missed": len(result.missed), "extra": len(result.extra),
                       "confused": len(result.confusions),
                       "mean_iou": round(float(np.mean(ious)), 6) if ious else None})

    def table(cells: dict[str, list[int]]) -> dict[str, Any]:
        return {b: {"truth": n, "labelled": k, "share": round(k / n, 6) if n else None} for b, (n, k) in cells.items()}

    worst = sorted(images, key=lambda i: (-(i["missed"] + i["extra"]), i["mean_iou"] if i["mean_iou"] is not None
                                          else 0.0, i["image"]))
    report = {
        "images": {"truth": len(truth_frames), "labels": len(human_frames), "compared": len(common)},
        "overall": overall.summary(),
        "per_class": {name: slices["per_class"][name].summary() for name in sorted(slices["per_class"])},
        "per_size": {b: slices["per_size"][b].summary() for b in ("small", "medium", "large")
                     if b in slices["per_size"]},
        "per_visibility": {b: slices["per_visibility"][b].summary(False) for b in VISIBILITY_BUCKETS
                           if b in slices["per_visibility"]},
        "per_truncation": {b: slices["per_truncation"][b].summary(False) for b in TRUNCATION_BUCKETS
                           if b in slices["per_truncation"]},
        "iou_histogram": {"edges": [round(e, 2) for e in IOU_EDGES],
                          "counts": np.histogram(overall.ious, IOU_EDGES)[0].tolist()},
        "confusion": {a: dict(sorted(b.items())) for a, b in sorted(confusion.items())},
        "hidden": {"by_visibility": table(hidden["by_visibility"]), "by_truncation": table(hidden["by_truncation"]),
                   "mostly_hidden": table({"all": mostly_hidden})["all"], "extras_on_unseen_objects": hidden_extras},
        "keypoints": {name: tally.summary() for name, tally in sorted(keypoints.items()) if tally.objects},
        "coco_eval": coco.summary(),
        "worst_images": [i for i in worst if i["missed"] or i["extra"] or
                         (i["mean_iou"] is not None and i["mean_iou"] < 1.0)][:WORST_IMAGES],
        "notes": notes,
    }
    if reviewed:
        report["review"] = review.summary()
    return report
