"""Quality presets, the labels-only mode, the bare-bpy baseline and what the render path imports."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from tests.conftest import MINIMAL, REPO, run_cli
from tests.test_runs import files

SCENE = REPO / "scenes" / "tabletop.yaml"
SMALL = ["--set", "camera.resolution=[64,48]", "--set", "ground.category=table"]
LABEL_FILES = ("masks/instance", "masks/semantic", "frames", "depth", "annotations")


def test_labels_only_writes_the_same_label_files_byte_for_byte(tmp_path):
    full, labels_only = tmp_path / "full", tmp_path / "labels-only"
    run_cli("render", SCENE, "--out", full, "-n", 3, "--no-progress", *SMALL, check=True)
    run_cli("render", SCENE, "--out", labels_only, "-n", 3, "--no-progress", "--labels-only", *SMALL, check=True)
    for sub in LABEL_FILES:
        assert files(full, sub) == files(labels_only, sub), sub
    assert json.loads((labels_only / "synthgen.json").read_text())["labels_only"] is True
    # images/ holds flat previews: one colour per instance, black where the mask is background
    for name in files(full, "images"):
        preview = cv2.imread(str(labels_only / "images" / name))[..., ::-1]
        mask = cv2.imread(str(labels_only / "masks" / "instance" / name), cv2.IMREAD_UNCHANGED)
        assert np.all(preview[mask == 0] == 0)
        for instance_id in np.unique(mask)[1:]:
            colours = np.unique(preview[mask == instance_id], axis=0)
            assert len(colours) == 1 and colours[0].any()
    # a labels-only run is not resumed as a full one, or the other way round
    result = run_cli("render", SCENE, "--out", labels_only, "-n", 4, "--no-progress", "--resume", *SMALL)
    assert result.returncode == 2 and "--labels-only" in result.stderr


def test_labels_do_not_depend_on_samples_or_the_denoiser(tmp_path):
    """docs/config.md: samples and denoise change the image only."""
    runs = {"draft": [], "8 samples, no denoiser": ["--set", "render.samples=8", "--set", "render.denoise=false"],
            "high": ["--set", "render.quality=high"]}
    made = {}
    for name, flags in runs.items():
        out = tmp_path / name.replace(" ", "-").replace(",", "")
        run_cli("render", SCENE, "--out", out, "-n", 2, "--no-progress", *SMALL, *flags, check=True)
        made[name] = out
    first, *others = made.values()
    for other in others:
        for sub in LABEL_FILES:
            assert files(first, sub) == files(other, sub), (other.name, sub)
        assert files(first, "images") != files(other, "images")  # the images did change


@pytest.mark.parametrize("quality", ["draft", "standard", "high"])
def test_each_quality_preset_renders_with_its_settings(quality):
    import bpy  # noqa: F401

    from synthgen.config.load import load_scene_config
    from synthgen.render.blender import BlenderRenderer
    from synthgen.scene.build import build_scene
    from synthgen.scene.quality import PRESETS

    preset = PRESETS[quality]
    renderer = BlenderRenderer()
    try:
        for overrides, samples, denoise in ((["render.samples=null", "render.denoise=null"], preset.samples, preset.denoise),
                                            (["render.samples=3", "render.denoise=false"], 3, False)):
            config = load_scene_config(SCENE, ["camera.resolution=[32,24]", f"render.quality={quality}", *overrides]).config
            scene = build_scene(config, 0, 0)
            passes = renderer.render(scene)
            cycles = renderer.scene.cycles
            assert (cycles.samples, cycles.use_denoising) == (samples, denoise)
            assert cycles.denoising_prefilter == preset.denoise_prefilter
            assert cycles.use_adaptive_sampling == (preset.adaptive_threshold > 0)
            assert passes.rgb.shape == (24, 32, 3) and np.isfinite(passes.rgb).all() and passes.rgb.std() > 0
    finally:
        renderer.close()


def test_bare_bpy_baseline_renders_the_same_images(tmp_path):
    """bench/bare_bpy.py shares no code with synthgen; given the same frames and settings it must draw
    the same pictures, or the benchmark compares different work."""
    sys.path.insert(0, str(REPO / "bench"))
    from render_overhead import describe

    overrides = ["camera.resolution=[48,36]"]
    description = tmp_path / "scenes.json"
    description.write_text(json.dumps(describe(SCENE, overrides, 2)))
    subprocess.run([sys.executable, str(REPO / "bench" / "bare_bpy.py"), str(description), "--out", str(tmp_path / "bare")],
                   check=True, capture_output=True)
    run_cli("render", SCENE, "--out", tmp_path / "synthgen", "-n", 2, "--no-progress", "--set", overrides[0], check=True)
    for index in range(2):
        ours = cv2.imread(str(tmp_path / "synthgen" / "images" / f"{index:06d}.png")).astype(int)
        bare = cv2.imread(str(tmp_path / "bare" / f"{index:06d}.png")).astype(int)
        assert ours.std() > 5
        assert np.abs(ours - bare).max() <= 1  # 8-bit rounding of the same linear image


def test_render_path_leaves_heavy_modules_unimported(tmp_path):
    """trimesh pulls in scipy and networkx (half a second and 40 MiB per process); a render of primitives
    needs none of them."""
    code = ("import sys\n"
            "from synthgen.cli import main\n"
            f"main(['render', {str(MINIMAL)!r}, '--out', sys.argv[1], '-n', '1', '--no-progress'])\n"
            "print(sorted(m for m in ('trimesh', 'scipy', 'networkx') if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "out")], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1].replace("'", '"')) == []


def test_a_start_shard_renders_the_same_frames_as_a_full_run(tmp_path):
    """Images, every label file, and the shard's COCO entries equal those frames of the full run."""
    full, shard = tmp_path / "full", tmp_path / "shard"
    run_cli("render", SCENE, "--out", full, "-n", 3, "--no-progress", *SMALL, check=True)
    run_cli("render", SCENE, "--out", shard, "--start", 1, "-n", 2, "--no-progress", *SMALL, check=True)
    for sub in ("images", *LABEL_FILES[:-1]):
        whole, part = files(full, sub), files(shard, sub)
        assert sorted(part) == [n for n in sorted(whole) if not n.startswith("000000")], sub
        assert all(part[name] == whole[name] for name in part), sub
    everything = json.loads((full / "annotations" / "instances.json").read_text())
    shard_coco = json.loads((shard / "annotations" / "instances.json").read_text())
    assert [image["id"] for image in shard_coco["images"]] == [1, 2]
    assert shard_coco["images"] == [i for i in everything["images"] if i["id"] in (1, 2)]
    assert shard_coco["annotations"] == [a for a in everything["annotations"] if a["image_id"] in (1, 2)]
    assert shard_coco["categories"] == everything["categories"]
