"""datumaro (CVAT, KITTI, VOC) and label-studio-sdk read our exports, run in their own venv
(they need numpy 2; synthgen is pinned to numpy 1.26 by bpy)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import run_cli
from tests.formats_helpers import mask_of, rendered, visible_instances
from tests.sidevenv import side_python

HERE = Path(__file__).resolve().parent


def _digest(mask) -> str:
    return hashlib.sha1(np.packbits(np.asarray(mask, dtype=bool)).tobytes()).hexdigest()


@pytest.fixture(scope="module")
def report(minimal_dataset, tmp_path_factory, request) -> dict:
    python = side_python(request.config.cache)
    out = tmp_path_factory.mktemp("tools") / "out"
    run_cli("export", minimal_dataset, *[a for f in ("cvat", "kitti", "voc", "labelstudio") for a in ("--format", f)],
            "--out", out, check=True)
    result = subprocess.run([str(python), str(HERE / "formats_sidecar.py"), str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def _expected(minimal_dataset):
    labels = rendered(minimal_dataset)
    for frame, instances in zip(labels.frames, visible_instances(labels)):
        yield f"{frame.frame_index:06d}", frame, instances


def test_datumaro_reads_cvat_boxes_and_masks_exactly(minimal_dataset, report):
    for item, frame, instances in _expected(minimal_dataset):
        got = report["cvat"][item]
        boxes = [(a["label"], a["bbox"]) for a in got if a["type"] == "bbox"]
        masks = [(a["label"], a["mask"]) for a in got if a["type"] == "mask"]
        assert boxes == [(i.category, list(i.bbox)) for i in instances]
        assert masks == [(i.category, _digest(mask_of(i, frame))) for i in instances]


def test_datumaro_reads_kitti_boxes(minimal_dataset, report):
    for item, _, instances in _expected(minimal_dataset):
        got = [(a["label"], a["bbox"]) for a in report["kitti"][item] if a["type"] == "bbox"]
        assert got == [(i.category, list(i.bbox)) for i in instances]


def test_datumaro_reads_voc_boxes_and_object_masks(minimal_dataset, report):
    for item, frame, instances in _expected(minimal_dataset):
        got = report["voc"][item]
        # datumaro keeps VOC's 1-based xmin/ymin and takes xmax - xmin as the width (it does not subtract 1)
        boxes = [(a["label"], a["bbox"]) for a in got if a["type"] == "bbox"]
        assert boxes == [(i.category, [i.bbox[0] + 1, i.bbox[1] + 1, i.bbox[2] - 1, i.bbox[3] - 1]) for i in instances]
        masks = sorted(a["mask"] for a in got if a["type"] == "mask")
        assert masks == sorted(_digest(mask_of(i, frame)) for i in instances)


def test_labelstudio_sdk_validates_our_predictions_and_decodes_our_brushes(minimal_dataset, report):
    ls = report["labelstudio"]
    assert ls["errors"] == []
    assert ls["rejects_unknown_label"]  # the check is live: it does reject a bad region
    expected = {f"{frame.frame_index}-{i.instance_id}-mask": _digest(mask_of(i, frame))
                for _, frame, instances in _expected(minimal_dataset) for i in instances}
    assert ls["masks"] == expected


def test_a_side_venv_that_cannot_be_installed_fails_instead_of_skipping(request, monkeypatch) -> None:
    """CI must not go green by skipping the third-party readers."""
    monkeypatch.delenv("SYNTHGEN_TEST_OFFLINE", raising=False)
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # no package index: the install fails fast, offline or not
    with pytest.raises(pytest.fail.Exception, match="could not install"):
        side_python(request.config.cache, ["synthgen-no-such-package==0.0.0"])
    monkeypatch.setenv("SYNTHGEN_TEST_OFFLINE", "1")
    with pytest.raises(pytest.skip.Exception, match="could not install"):
        side_python(request.config.cache, ["synthgen-no-such-package==0.0.0"])
