"""`synthgen compare` on a rendered dataset and human exports of it with known errors."""

from __future__ import annotations

import json

import pytest

from synthgen.compare.metrics import boundary_f
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def coco_export(minimal_dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    run_cli("export", minimal_dataset, "--format", "coco", "--out", out, check=True)
    return out / "coco"


def _compare(truth, labels, out, *extra, source="coco"):
    result = run_cli("compare", "--truth", truth, "--labels", labels, "--from", source, "--out", out, *extra)
    return result, (json.loads((out / "report.json").read_text()) if result.returncode == 0 else None)


def _only(report):
    (entry,) = report["annotators"].values()
    return entry


def test_the_truth_against_itself_scores_perfectly(minimal_dataset, coco_export, tmp_path):
    result, report = _compare(minimal_dataset, coco_export, tmp_path / "report")
    assert result.returncode == 0, result.stderr
    entry = _only(report)
    overall = entry["overall"]
    assert overall["truth"] == overall["labels"] == overall["matched"] > 0
    assert overall["missed"] == overall["extra"] == 0 and overall["precision"] == overall["recall"] == 1.0
    for key in ("iou", "box_iou", "mask_iou", "boundary_f"):
        assert overall[key]["mean"] == overall[key]["p10"] == 1.0, key
    assert all(v == {"mean": 0.0, "median": 0.0} for v in overall["edge_offsets_px"].values())
    assert entry["images"]["compared"] == 8
    for key in ("per_class", "per_size", "per_visibility", "per_truncation"):
        assert sum(s["truth"] for s in entry[key].values()) == overall["truth"], key
        assert all(s["recall"] == 1.0 for s in entry[key].values()), key
    assert all(row == {name: row[name]} for name, row in entry["confusion"].items())  # a diagonal
    assert sum(row[name] for name, row in entry["confusion"].items()) == overall["truth"]
    for kind in ("bbox", "segm"):
        assert entry["coco_eval"][kind]["AP"] == entry["coco_eval"][kind]["AP50"] == 1.0
    assert entry["worst_images"] == []
    assert "labelled" in result.stdout.splitlines()[0] and "all" in result.stdout


def _human_export(coco_export, root):
    """A hand-made human COCO export of the truth with four known errors: the largest object's box shifted
    3 px right (box only), the second largest missed, the third labelled with another class, the fourth
    outlined by a loose polygon: its box grown by 2 px on every side."""
    human = root / "human"
    human.mkdir()
    (human / "images").symlink_to(coco_export / "images")
    document = json.loads((coco_export / "annotations" / "instances.json").read_text())
    annotations = document["annotations"]
    big = sorted(annotations, key=lambda a: -a["area"])
    shifted, removed, swapped = big[0], big[1], big[2]
    shifted["bbox"][0] += 3
    del shifted["segmentation"]  # a box-only label: matched on its box
    other = next(c["id"] for c in document["categories"] if c["id"] != swapped["category_id"])
    swapped["category_id"] = other
    document["annotations"] = [a for a in annotations if a is not removed]
    sizes = {image["id"]: (image["width"], image["height"]) for image in document["images"]}
    fits = [a for a in big[3:] if a["bbox"][0] >= 2 and a["bbox"][1] >= 2
            and a["bbox"][0] + a["bbox"][2] + 2 <= sizes[a["image_id"]][0]
            and a["bbox"][1] + a["bbox"][3] + 2 <= sizes[a["image_id"]][1]]
    # the one that still matches best when 2 px loose (IoU about area / grown box)
    loose = max(fits, key=lambda a: a["area"] / ((a["bbox"][2] + 4) * (a["bbox"][3] + 4)))
    x, y, w, h = loose["bbox"]
    loose["segmentation"] = [[x - 2, y - 2, x + w + 2, y - 2, x + w + 2, y + h + 2, x - 2, y + h + 2]]
    loose["bbox"] = [x - 2, y - 2, w + 4, h + 4]
    (human / "annotations").mkdir()
    (human / "annotations" / "instances.json").write_text(json.dumps(document))
    return human, document, annotations, (shifted, removed, swapped, loose)


def test_known_errors_give_exactly_those_numbers(minimal_dataset, coco_export, tmp_path):
    human, document, annotations, (shifted, removed, swapped, loose) = _human_export(coco_export, tmp_path)
    result, report = _compare(minimal_dataset, human, tmp_path / "report")
    assert result.returncode == 0, result.stderr
    entry = _only(report)
    overall = entry["overall"]
    total = len(annotations)
    assert overall["truth"] == total and overall["labels"] == total - 1
    assert overall["matched"] == total - 2  # the removed one and the swapped one (wrong class: unmatched) miss
    assert overall["missed"] == 2 and overall["extra"] == 1
    w = shifted["bbox"][2]
    assert w > 3
    human_coco = _coco(human / "annotations" / "instances.json")
    truth_coco = _coco(coco_export / "annotations" / "instances.json")
    true_mask = truth_coco.annToMask(truth_coco.anns[loose["id"]]).astype(bool)
    drawn = human_coco.annToMask(human_coco.anns[loose["id"]]).astype(bool)
    assert drawn[true_mask].all()  # the loose polygon covers the object
    loose_iou = true_mask.sum() / drawn.sum()
    assert loose_iou >= 0.5  # still matches
    loose_f = boundary_f(true_mask, drawn, 2.0)  # on the whole frame: compare looks at a window only
    assert loose_f < 1.0
    # matched on: the shifted box (boxes: overlap w-3 of union w+3, same height), the loose one's masks
    ious = [1.0] * (total - 4) + [(w - 3) / (w + 3), loose_iou]
    assert overall["iou"]["mean"] == pytest.approx(sum(ious) / len(ious), abs=1e-6)
    n = total - 2
    offsets = overall["edge_offsets_px"]  # +3 left and right for the shifted box; 2 px out on every edge for the loose
    assert offsets["left"]["mean"] == pytest.approx(1 / n, abs=1e-6)
    assert offsets["top"]["mean"] == pytest.approx(-2 / n, abs=1e-6)
    assert offsets["right"]["mean"] == pytest.approx(5 / n, abs=1e-6)
    assert offsets["bottom"]["mean"] == pytest.approx(2 / n, abs=1e-6)
    masks = overall["mask_iou"]  # every matched pair with masks on both sides: all but the box-only shifted one
    assert masks["mean"] == pytest.approx((total - 4 + loose_iou) / (total - 3), abs=1e-6)
    assert overall["boundary_f"]["mean"] == pytest.approx((total - 4 + loose_f) / (total - 3), abs=1e-6)
    names = {c["id"]: c["name"] for c in document["categories"]}
    true_name, other_name = names[_true_category(coco_export, swapped)], names[swapped["category_id"]]
    assert entry["confusion"][true_name][other_name] == 1
    assert sum(sum(row.values()) for row in entry["confusion"].values()) == total - 1  # all but the missed one
    assert entry["coco_eval"]["segm"] is None  # one box has no mask
    expected_ap = _cocoeval_ap(truth_coco, document)
    assert entry["coco_eval"]["bbox"]["AP"] == pytest.approx(expected_ap, abs=1e-6) and expected_ap < 1.0
    assert entry["worst_images"][0]["missed"] + entry["worst_images"][0]["extra"] >= 1


def _coco(path):
    import contextlib
    import io

    from pycocotools.coco import COCO

    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(path))


def _cocoeval_ap(truth_coco, document):
    """What a user gets from pycocotools on the two files, every human box scored 1.0."""
    import contextlib
    import io

    from pycocotools.cocoeval import COCOeval

    results = [{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 1.0}
               for a in document["annotations"]]
    with contextlib.redirect_stdout(io.StringIO()):
        evaluation = COCOeval(truth_coco, truth_coco.loadRes(results), "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return evaluation.stats[0]


def _true_category(coco_export, annotation):
    document = json.loads((coco_export / "annotations" / "instances.json").read_text())
    return next(a["category_id"] for a in document["annotations"] if a["id"] == annotation["id"])


def test_tight_boundary_tolerance_and_boxes_only(minimal_dataset, coco_export, tmp_path):
    """--boundary-px 3 reaches the loose polygon's boundary 2 px out, even diagonally: its boundary F rises;
    --boxes scores every pair on boxes: mask IoU is still reported, the matching IoU is the box IoU."""
    human, document, annotations, _ = _human_export(coco_export, tmp_path)
    _, tight = _compare(minimal_dataset, human, tmp_path / "a")
    _, wide = _compare(minimal_dataset, human, tmp_path / "b", "--boundary-px", "3")
    assert _only(wide)["overall"]["boundary_f"]["mean"] > _only(tight)["overall"]["boundary_f"]["mean"]
    _, boxes = _compare(minimal_dataset, human, tmp_path / "c", "--boxes")
    overall = _only(boxes)["overall"]
    assert overall["iou"] == overall["box_iou"] and "mask_iou" in overall
    assert boxes["matched_on"] == "boxes"


def test_labels_that_match_no_truth_image_fail_in_one_line(minimal_dataset, coco_export, tmp_path):
    human = tmp_path / "human"
    human.mkdir()
    (human / "images").mkdir()
    document = json.loads((coco_export / "annotations" / "instances.json").read_text())
    for image in document["images"]:
        source = coco_export / image["file_name"]
        image["file_name"] = "images/other_" + source.name
        (human / image["file_name"]).write_bytes(source.read_bytes())
    (human / "annotations").mkdir()
    (human / "annotations" / "instances.json").write_text(json.dumps(document))
    result = run_cli("compare", "--truth", minimal_dataset, "--labels", human, "--from", "coco",
                     "--out", tmp_path / "report")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and "matches a truth image" in lines[0]
    assert not (tmp_path / "report").exists()


def _renamed_export(coco_export, root, names):
    """The truth's COCO export with its categories renamed, as a vendor's taxonomy would call them."""
    human = root / "renamed"
    human.mkdir()
    (human / "images").symlink_to(coco_export / "images")
    document = json.loads((coco_export / "annotations" / "instances.json").read_text())
    for category in document["categories"]:
        category["name"] = names.get(category["name"], category["name"])
    (human / "annotations").mkdir()
    (human / "annotations" / "instances.json").write_text(json.dumps(document))
    return human


def test_a_taxonomy_maps_both_sides_onto_common_names(minimal_dataset, coco_export, tmp_path):
    human = _renamed_export(coco_export, tmp_path, {"cube": "box", "ball": "sphere"})
    result, _ = _compare(minimal_dataset, human, tmp_path / "plain")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and "--taxonomy" in lines[0]
    assert not (tmp_path / "plain").exists()
    taxonomy = tmp_path / "common.yaml"
    taxonomy.write_text("categories: [box, sphere, torus]\nmap: {cube: box, ball: sphere}\n")
    result, report = _compare(minimal_dataset, human, tmp_path / "mapped", "--taxonomy", taxonomy)
    assert result.returncode == 0, result.stderr
    entry = _only(report)
    assert set(entry["per_class"]) == {"box", "sphere", "torus"}
    assert entry["overall"]["matched"] == entry["overall"]["truth"] > 0 and entry["overall"]["extra"] == 0


def test_a_category_missing_from_the_taxonomy_fails_in_one_line(minimal_dataset, coco_export, tmp_path):
    human = _renamed_export(coco_export, tmp_path, {"cube": "box"})
    taxonomy = tmp_path / "partial.yaml"
    taxonomy.write_text("categories: [box, ball]\nmap: {cube: box}\n")  # torus: not mapped, unmapped: error
    result, _ = _compare(minimal_dataset, human, tmp_path / "report", "--taxonomy", taxonomy)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1
    assert "partial.yaml" in lines[0] and "'torus'" in lines[0] and "Traceback" not in result.stderr
    assert not (tmp_path / "report").exists()


def test_several_annotators_agree_with_each_other_and_are_each_scored(minimal_dataset, coco_export, tmp_path):
    """Two copies of the truth agree perfectly; the hand-made export disagrees with both by its known errors."""
    human, _, annotations, _ = _human_export(coco_export, tmp_path)
    result = run_cli("compare", "--truth", minimal_dataset, "--labels", coco_export, "--labels", coco_export,
                     "--labels", human, "--from", "coco", "--out", tmp_path / "report")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert list(report["annotators"]) == ["coco", "coco-2", "human"]
    assert report["annotators"]["human"]["overall"]["missed"] == 2
    pairs = report["agreement"]["pairs"]
    total = len(annotations)
    same = pairs["coco vs coco-2"]
    assert same["matched"] == total and same["iou_mean"] == 1.0 and same["class_kappa"] == 1.0
    against = pairs["coco vs human"]
    assert against["objects"] == [total, total - 1]
    assert against["matched"] == total - 1  # all the human's objects, the swapped one across classes
    assert 0.0 < against["class_kappa"] < 1.0
    # alpha over units the three label: one unit has classes (a, a, b); everything else agrees
    assert 0.0 < report["agreement"]["class_alpha"] < 1.0
    assert "kappa" in result.stdout and "alpha" in result.stdout


def test_reviewed_prelabels_report_what_reviewers_changed(minimal_dataset, tmp_path):
    """Label Studio pre-labels, 'reviewed': one box moved 5 px, one deleted, one relabelled, one added."""
    run_cli("export", minimal_dataset, "--format", "labelstudio", "--out", tmp_path / "export", check=True)
    root = tmp_path / "export" / "labelstudio"
    tasks = json.loads((root / "tasks.json").read_text())
    names = sorted({r["value"]["rectanglelabels"][0] for t in tasks for r in t["predictions"][0]["result"]
                    if r["type"] == "rectanglelabels"})
    for task in tasks:  # the reviewer works on boxes: masks are left out of the reviewed export
        results = [r for r in task.pop("predictions")[0]["result"] if r["type"] == "rectanglelabels"]
        task["annotations"] = [{"result": results}]
    boxes = [r for t in tasks for r in t["annotations"][0]["result"]]
    total = len(boxes)
    boxes.sort(key=lambda r: -r["value"]["width"] * r["original_width"])
    moved, relabelled = boxes[0], boxes[2]  # the widest box moves 5 px: still matched (IoU above 0.5)
    moved["value"]["x"] += 100.0 * 5 / moved["original_width"]
    relabelled["value"]["rectanglelabels"] = [next(n for n in names if n != relabelled["value"]["rectanglelabels"][0])]
    deleted = boxes[1]
    for task in tasks:
        task["annotations"][0]["result"] = [r for r in task["annotations"][0]["result"] if r is not deleted]
    added = dict(boxes[3], id="added-1", value=dict(boxes[3]["value"], x=0.0, y=0.0, width=5.0, height=5.0))
    tasks[-1]["annotations"][0]["result"].append(added)
    (root / "tasks.json").write_text(json.dumps(tasks))
    result, report = _compare(minimal_dataset, root, tmp_path / "report", "--reviewed", source="labelstudio")
    assert result.returncode == 0, result.stderr
    review = _only(report)["review"]
    assert review["prelabels"] == total and review["reviewed"] == total
    assert (review["moved"], review["deleted"], review["relabelled"], review["added"]) == (1, 1, 1, 1)
    assert review["unchanged"] == total - 3
    assert review["accepted_unchanged_share"] == pytest.approx((total - 3) / total, abs=1e-6)
    assert review["moved_px"]["largest_edge"]["mean"] == pytest.approx(5.0, abs=1e-3)
    assert review["moved_px"]["edge_offsets_mean"]["left"] == pytest.approx(5.0, abs=1e-3)


def _keys(value, skip=()):
    """Every key of a report, recursively, leaving out keys that are data (class, bucket, image names)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in skip:
                yield key
            yield from _keys(item, skip)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item, skip)


def test_every_key_of_report_json_is_documented(minimal_dataset, coco_export, tmp_path):
    import re

    from tests.conftest import REPO

    human, *_ = _human_export(coco_export, tmp_path)
    result = run_cli("compare", "--truth", minimal_dataset, "--labels", coco_export, "--labels", human,
                     "--from", "coco", "--reviewed", "--out", tmp_path / "report")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    text = re.sub(r"```.*?```", "", (REPO / "docs" / "compare.md").read_text(), flags=re.DOTALL)
    documented = {word for span in re.findall(r"`([^`]+)`", text) for word in re.findall(r"[A-Za-z_0-9]+", span)}
    data = {"coco", "human", "coco vs human", "ball", "cube", "torus", "small", "medium", "large", "none", "hidden",
            "0-25%", "25-50%", "50-75%", "75-100%", "50-100%", "0-10%", "10-25%"}
    missing = sorted(set(_keys(report, data)) - documented)
    assert not missing, f"report.json keys missing from docs/compare.md: {missing}"


def test_report_html_opens_in_chromium_with_every_plot_and_overlay_drawn(minimal_dataset, coco_export, tmp_path):
    """The page stands alone (no request leaves it), logs no error, and every image decodes and is not blank;
    the worst images of the hand-made export are drawn, those of the perfect copy are not."""
    from html.parser import HTMLParser

    from tests.browser import check_page

    human, *_ = _human_export(coco_export, tmp_path)
    result = run_cli("compare", "--truth", minimal_dataset, "--labels", coco_export, "--labels", human,
                     "--from", "coco", "--out", tmp_path / "report")
    assert result.returncode == 0, result.stderr
    page = tmp_path / "report" / "report.html"
    assert check_page(page) == []
    alts: list[str] = []

    class Images(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "img":
                alts.append(dict(attrs)["alt"])

    Images().feed(page.read_text())
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    worst = [item["image"] for item in report["annotators"]["human"]["worst_images"][:6]]
    assert worst and [a for a in alts if a.startswith("human ")] == [f"human {stem}" for stem in worst]
    assert not [a for a in alts if a.startswith("coco ")]
    assert {"IoU of matched pairs", "edge offsets", "Recall by visibility", "hidden objects"} <= set(alts)


def test_a_models_detections_are_scored_with_their_scores(minimal_dataset, coco_export, tmp_path):
    """A COCO results file over the truth's COCO ids: every true box found at 0.9, plus one false box per image
    at 0.1. COCOeval ranks by score (AP as pycocotools gives on the same files); --min-score 0.5 leaves the
    false boxes out of the counts."""
    import contextlib
    import io

    from pycocotools.cocoeval import COCOeval

    document = json.loads((coco_export / "annotations" / "instances.json").read_text())
    results = [{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 0.9}
               for a in document["annotations"]]
    results += [{"image_id": i["id"], "category_id": 1, "bbox": [0.0, 0.0, 6.0, 6.0], "score": 0.1}
                for i in document["images"]]
    (tmp_path / "detections.json").write_text(json.dumps(results))
    result, report = _compare(minimal_dataset, tmp_path / "detections.json", tmp_path / "all", source="coco-results")
    assert result.returncode == 0, result.stderr
    entry = _only(report)
    assert entry["overall"]["extra"] == len(document["images"]) and entry["overall"]["missed"] == 0
    truth_coco = _coco(coco_export / "annotations" / "instances.json")
    with contextlib.redirect_stdout(io.StringIO()):
        evaluation = COCOeval(truth_coco, truth_coco.loadRes([dict(r) for r in results]), "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    assert entry["coco_eval"]["bbox"]["AP"] == pytest.approx(evaluation.stats[0], abs=1e-6)
    result, report = _compare(minimal_dataset, tmp_path / "detections.json", tmp_path / "confident",
                              "--min-score", "0.5", source="coco-results")
    assert _only(report)["overall"]["extra"] == 0 and report["min_score"] == 0.5
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([dict(results[0], image_id=999)]))
    result, _ = _compare(minimal_dataset, bad, tmp_path / "bad", source="coco-results")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and "image_id 999" in lines[0]
    assert not (tmp_path / "bad").exists()


def test_a_label_studio_export_with_two_annotators_is_two_annotators(minimal_dataset, tmp_path):
    """Each task annotated by users 7 and 9; 9 deleted one box. compare scores each against the truth and the
    two against each other."""
    run_cli("export", minimal_dataset, "--format", "labelstudio", "--out", tmp_path / "export", check=True)
    root = tmp_path / "export" / "labelstudio"
    tasks = json.loads((root / "tasks.json").read_text())
    for task in tasks:
        boxes = [r for r in task.pop("predictions")[0]["result"] if r["type"] == "rectanglelabels"]
        task["annotations"] = [{"completed_by": 7, "result": boxes}, {"completed_by": 9, "result": list(boxes)}]
    tasks[0]["annotations"][1]["result"] = tasks[0]["annotations"][1]["result"][1:]
    (root / "tasks.json").write_text(json.dumps(tasks))
    result, report = _compare(minimal_dataset, root, tmp_path / "report", source="labelstudio")
    assert result.returncode == 0, result.stderr
    assert list(report["annotators"]) == ["labelstudio:7", "labelstudio:9"]
    seven, nine = report["annotators"].values()
    assert seven["overall"]["missed"] == 0 and nine["overall"]["missed"] == 1
    pair = report["agreement"]["pairs"]["labelstudio:7 vs labelstudio:9"]
    assert pair["matched"] == seven["overall"]["labels"] - 1 and pair["class_kappa"] == 1.0
    assert "2 annotators" in result.stdout
