"""COCO mAP of human labels scored against the truth by pycocotools' own COCOeval.

Humans give no confidence, so every human object scores 1.0 and the precision-recall
curve has one point per IoU threshold: AP is then the precision at the recall
reached, integrated COCO's way. This is the number a detector trained on the
human labels is usually judged by, measured here on the labels themselves.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from synthgen.labels.model import InstanceLabel

STATS = ("AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large", "AR1", "AR10", "AR100", "AR_small",
         "AR_medium", "AR_large")


class CocoCollector:
    """Gathers true and human objects frame by frame, then scores them in one COCOeval run per IoU type."""

    def __init__(self, categories: dict[int, str]) -> None:
        self.categories = categories
        self.images: list[dict[str, Any]] = []
        self.truth: list[dict[str, Any]] = []
        self.human: list[dict[str, Any]] = []
        self.human_without_mask = 0
        self.most_per_image = 0

    def add(self, width: int, height: int, truth: list[InstanceLabel], human: list[InstanceLabel]) -> None:
        image_id = len(self.images) + 1
        self.images.append({"id": image_id, "width": width, "height": height})
        for t in truth:
            if t.bbox is None:
                continue
            entry = {"id": len(self.truth) + 1, "image_id": image_id, "category_id": t.category_id,
                     "bbox": list(t.bbox), "area": float(t.visible_pixels or t.bbox[2] * t.bbox[3]), "iscrowd": 0}
            if t.mask_rle is not None:
                entry["segmentation"] = t.mask_rle
            self.truth.append(entry)
        for h in human:
            entry = {"image_id": image_id, "category_id": h.category_id, "bbox": list(h.bbox), "score": 1.0}
            if h.mask_rle is not None:
                entry["segmentation"] = h.mask_rle
            else:
                self.human_without_mask += 1
            self.human.append(entry)
        self.most_per_image = max(self.most_per_image, len(human))

    def _evaluate(self, iou_type: str) -> dict[str, float]:
        with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress
            truth = COCO()
            truth.dataset = {"images": self.images, "annotations": self.truth,
                             "categories": [{"id": k, "name": v} for k, v in sorted(self.categories.items())]}
            truth.createIndex()
            if iou_type == "bbox":  # loadRes would build boxes' polygons into segmentation; keep it to boxes
                human = truth.loadRes([{k: v for k, v in h.items() if k != "segmentation"} for h in self.human])
            else:
                human = truth.loadRes(self.human)
            evaluation = COCOeval(truth, human, iou_type)
            evaluation.params.maxDets = [1, 10, max(100, self.most_per_image)]
            evaluation.evaluate()
            evaluation.accumulate()
            evaluation.summarize()
        return {name: round(float(value), 6) for name, value in zip(STATS, evaluation.stats)}

    def summary(self) -> dict[str, Any]:
        """AP and AR by COCO's definitions (-1 where COCO has nothing to average, e.g. no small objects)."""
        if not self.truth or not self.human:
            return {"bbox": None, "segm": None, "note": "no true or no human objects to score"}
        out: dict[str, Any] = {"bbox": self._evaluate("bbox")}
        masks_on_both = self.human_without_mask == 0 and all("segmentation" in t for t in self.truth)
        out["segm"] = self._evaluate("segm") if masks_on_both else None
        if not masks_on_both:
            out["note"] = f"segm not scored: {self.human_without_mask} human objects have no mask or polygon"
        return out
