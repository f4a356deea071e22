"""Runs inside the separate test venv (datumaro and label-studio-sdk need numpy 2 and their own pins).

Usage: python formats_sidecar.py EXPORTS_DIR. Prints one JSON object: what datumaro
read from our CVAT, KITTI and VOC exports and what label-studio-sdk said about our tasks.
"""

import hashlib
import json
import sys
from pathlib import Path

import numpy as np


def digest(mask) -> str:
    return hashlib.sha1(np.packbits(np.asarray(mask, dtype=bool)).tobytes()).hexdigest()


def datumaro_items(path: Path, fmt: str) -> dict:
    import datumaro as dm
    from datumaro.components.annotation import AnnotationType

    dataset = dm.Dataset.import_from(str(path), fmt)
    names = dataset.categories()[AnnotationType.label]
    items = {}
    for item in dataset:
        annotations = []
        for a in item.annotations:
            label = names[a.label].name if a.label is not None else None
            if a.type.name == "bbox":
                annotations.append({"type": "bbox", "label": label, "bbox": [float(v) for v in a.get_bbox()]})
            elif a.type.name == "mask":
                annotations.append({"type": "mask", "label": label, "mask": digest(a.image)})
        items[item.id] = annotations
    return items


def labelstudio_report(path: Path) -> dict:
    from label_studio_sdk.converter import brush
    from label_studio_sdk.label_interface import LabelInterface

    interface = LabelInterface((path / "label_config.xml").read_text())
    tasks = json.loads((path / "tasks.json").read_text())
    errors, masks = [], {}
    for task in tasks:
        for prediction in task.get("predictions", []):
            errors += interface.validate_prediction(prediction, return_errors=True)
            for region in prediction["result"]:
                if region["type"] == "brushlabels":
                    h, w = region["original_height"], region["original_width"]
                    decoded = brush.decode_rle(region["value"]["rle"]).reshape(h, w, 4)[:, :, 3] > 0
                    masks[region["id"]] = digest(decoded)
    broken = dict(tasks[0]["predictions"][0])
    broken["result"] = [dict(broken["result"][0], value=dict(broken["result"][0]["value"], rectanglelabels=["zebra"]))]
    return {"errors": errors, "masks": masks,
            "rejects_unknown_label": bool(interface.validate_prediction(broken, return_errors=True))}


def main() -> None:
    root = Path(sys.argv[1])
    report = {fmt: datumaro_items(root / fmt, fmt) for fmt in ("cvat", "kitti", "voc")}
    report["labelstudio"] = labelstudio_report(root / "labelstudio")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
