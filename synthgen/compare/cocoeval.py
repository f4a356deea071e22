"""COCO mAP of human labels scored against the truth by pycocotools' own COCOeval.

Humans give no confidence, so every human object scores 1.0 and the precision-recall
curve has one point per IoU threshold: AP is then the precision at the recall
reached, integrated COCO's way. This is the number a detector trained on the
human labels is usually judged by, measured here on the labels themselves. A
model's detections (a COCO results file) keep their scores, and COCOeval ranks by them.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from synthgen.labels.model import InstanceLabel

STATS = ("AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large", "AR1", "AR10", "AR100", "AR_small",
         "AR_medium", "AR_large")


def ap_at_most_detections(evaluation: COCOeval) -> float:
    """AP over all areas and IoU thresholds at maxDets[2], averaged as COCOeval's summarize() does. summarize()
    asks for exactly 100 detections, so it gives -1 once maxDets is raised past 100 for crowded images."""
    precision = evaluation.eval["precision"][:, :, :, evaluation.params.areaRngLbl.index("all"), 2]
    valid = precision[precision > -1]
    return float(np.mean(valid)) if valid.size else -1.0


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
            entry = {"image_id": image_id, "category_id": h.category_id, "bbox": list(h.bbox),
                     "score": float(h.attributes.get("score", 1.0))}
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
            # loadRes takes the box branch when a result has a bbox (area = w x h, even for segm) and adds keys
            # to the dicts it is given: each evaluation gets fresh copies holding only what it scores
            drop = "segmentation" if iou_type == "bbox" else "bbox"
            human = truth.loadRes([{k: v for k, v in h.items() if k != drop} for h in self.human])
            evaluation = COCOeval(truth, human, iou_type)
            evaluation.params.maxDets = [1, 10, max(100, self.most_per_image)]
            evaluation.evaluate()
            evaluation.accumulate()
            evaluation.summarize()
        stats = evaluation.stats.copy()
        stats[0] = ap_at_most_detections(evaluation)  # summarize() takes AP at exactly 100 detections
        return {name: round(float(value), 6) for name, value in zip(STATS, stats)}

    def summary(self) -> dict[str, Any]:
        """AP and AR by COCO's definitions (-1 where COCO has nothing to average, e.g. no small objects)."""
        if not self.truth or not self.human:
            side = "true" if not self.truth else "human"
            return {"bbox": None, "segm": None, "note": f"not scored: there are no {side} objects"}
        out: dict[str, Any] = {"bbox": self._evaluate("bbox")}
        truth_without_mask = sum("segmentation" not in t for t in self.truth)
        if self.human_without_mask or truth_without_mask:
            out["segm"] = None
            out["note"] = (f"segm not scored: {self.human_without_mask} human and {truth_without_mask} true objects "
                           "have no mask or polygon")
        else:
            out["segm"] = self._evaluate("segm")
        return out
