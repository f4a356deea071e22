"""`synthgen report` as typed: report.json against counts made here from the frame files, the page in a browser,
two datasets in one report, and bad input refused in one line with nothing written."""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections import Counter

import pytest

from tests.browser import check_page
from tests.conftest import one_line_error, run_cli


def raw_frames(root) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((root / "frames").glob("*.json"))]


def bin_of(value: float, edges: list[float]) -> int:
    return min(max(bisect_right(edges, value) - 1, 0), len(edges) - 2)


@pytest.fixture(scope="module")
def report(minimal_dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "r"
    result = run_cli("report", minimal_dataset, "--out", out)
    assert result.returncode == 0, result.stderr
    return out


def test_numbers_agree_with_the_frame_files(minimal_dataset, report):
    data = json.loads((report / "report.json").read_text())
    (numbers,) = data["datasets"]
    frames = raw_frames(minimal_dataset)
    instances = [i for f in frames for i in f["instances"]]
    shown = [i for i in instances if i["bbox"] is not None]
    assert numbers["frames"] == len(frames) == 8
    assert numbers["objects"] == len(shown) and numbers["hidden"] == len(instances) - len(shown)
    assert numbers["with_masks"] == sum(i["mask_rle"] is not None for i in shown)
    assert numbers["image_sizes"] == {"96x72": 8}
    for name in frames[0]["categories"]:
        assert numbers["classes"][name] == {
            "objects": sum(i["category"] == name for i in shown),
            "hidden": sum(i["category"] == name and i["bbox"] is None for i in instances),
            "frames": sum(any(i["category"] == name and i["bbox"] is not None for i in f["instances"]) for f in frames)}
    per_frame = Counter(sum(i["bbox"] is not None for i in f["instances"]) for f in frames)
    assert numbers["objects_per_frame"] == [per_frame.get(n, 0) for n in range(max(per_frame) + 1)]
    areas = [i["bbox"][2] * i["bbox"][3] for i in shown]
    assert numbers["size_buckets"] == {"small": sum(a < 1024 for a in areas),
                                       "medium": sum(1024 <= a < 9216 for a in areas),
                                       "large": sum(a >= 9216 for a in areas)}
    sizes = Counter(bin_of(a ** 0.5, numbers["box_size"]["edges"]) for a in areas)
    assert numbers["box_size"]["counts"] == [sizes.get(k, 0) for k in range(len(numbers["box_size"]["edges"]) - 1)]
    assert numbers["box_size"]["edges"][0] == 1 and numbers["box_size"]["edges"][2] == 2
    for key in ("visibility", "truncation"):
        values = Counter(min(int(i[key] * 10), 9) for i in instances)
        assert numbers[key]["counts"] == [values.get(k, 0) for k in range(10)], key
        assert numbers[key]["instances"] == len(instances)
    cells = Counter((min(int((i["bbox"][1] + i["bbox"][3] / 2) / 72 * 20), 19),
                     min(int((i["bbox"][0] + i["bbox"][2] / 2) / 96 * 20), 19)) for i in shown)
    grid = numbers["centres"]["counts"]
    assert {(r, c): v for r, row in enumerate(grid) for c, v in enumerate(row) if v} == dict(cells)
    assert numbers["keypoints"] is None
    assert [e["frame"] for e in data["examples"]] == [0, 1, 3, 4, 6, 7]


def test_page_shows_in_a_browser(report):
    text = (report / "report.html").read_text()
    assert len(re.findall(r"<img ", text)) == 7 + 6  # classes, per frame, size, aspect, visibility, truncation,
    assert "http://" not in text and "https://" not in text  # centres; six examples
    for name in ("cube", "ball", "torus"):
        assert f"<td>{name}</td>" in text
    assert check_page(report / "report.html") == []


def test_two_datasets_in_one_report(minimal_dataset, tmp_path):
    exported = tmp_path / "export"
    assert run_cli("export", minimal_dataset, "--format", "coco", "--out", exported).returncode == 0
    out = tmp_path / "r"
    result = run_cli("report", minimal_dataset, "--compare", exported / "coco", "--compare-from", "coco", "--out", out)
    assert result.returncode == 0, result.stderr
    first, second = json.loads((out / "report.json").read_text())["datasets"]
    assert (first["format"], second["format"]) == ("synthgen", "coco")
    assert second["objects"] == first["objects"] and second["hidden"] == 0  # COCO keeps no hidden objects
    assert {n: c["objects"] for n, c in second["classes"].items()} == {n: c["objects"] for n, c in first["classes"].items()}
    assert second["box_size"] == first["box_size"] and second["centres"] == first["centres"]
    assert second["visibility"] is None and first["visibility"] is not None
    text = (out / "report.html").read_text()
    assert "share of its own objects" in text
    assert len(re.findall(r"<img ", text)) == 7 + 6
    assert check_page(out / "report.html") == []


def test_bad_input_is_one_line_and_writes_nothing(minimal_dataset, tmp_path):
    out = tmp_path / "r"
    assert "not a rendered synthgen dataset" in one_line_error(run_cli("report", tmp_path / "nowhere", "--out", out))
    assert "--compare-from needs --compare" in one_line_error(
        run_cli("report", minimal_dataset, "--compare-from", "coco", "--out", out))
    assert "no such file or directory" in one_line_error(
        run_cli("report", minimal_dataset, "--compare", tmp_path / "nothing", "--compare-from", "coco", "--out", out))
    assert not out.exists()
    out.mkdir()
    (out / "report.html").write_text("an older report")
    assert "--overwrite" in one_line_error(run_cli("report", minimal_dataset, "--out", out))
    assert (out / "report.html").read_text() == "an older report"
