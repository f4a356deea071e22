"""synthgen's reader of Blender's pass files against the OpenEXR package, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from synthgen.render import exr
from tests.conftest import MINIMAL

CASES = [  # (resolution, quality override, labels only, EXR codec)
    ([4, 4], "draft", False, "NONE"),  # the smallest image Blender renders
    ([7, 5], "draft", False, "NONE"),
    ([64, 48], "standard", False, "NONE"),  # denoised: Blender adds a "Noisy Image" part
    ([64, 48], "standard", True, "NONE"),  # labels only: no denoiser
    ([33, 20], "standard", False, "ZIP"),  # compressed: must fall back to OpenEXR
    ([33, 20], "draft", False, "PIZ"),
]


@pytest.fixture(scope="module")
def renderers():
    import bpy  # noqa: F401

    from synthgen.render.blender import BlenderRenderer

    current: dict[bool, BlenderRenderer] = {}  # one Blender scene per process: a new renderer resets it

    def get(labels_only: bool) -> BlenderRenderer:
        if labels_only not in current:
            for renderer in current.values():
                renderer.close()
            current.clear()
            current[labels_only] = BlenderRenderer(labels_only=labels_only)
        return current[labels_only]

    yield get
    for renderer in current.values():
        renderer.close()


@pytest.mark.parametrize("resolution,quality,labels_only,codec", CASES)
def test_plain_reader_equals_openexr(renderers, resolution, quality, labels_only, codec, monkeypatch):
    from synthgen.config.load import load_scene_config
    from synthgen.scene.build import build_scene

    renderer = renderers(labels_only)
    config = load_scene_config(MINIMAL, [f"camera.resolution={resolution}", f"render.quality={quality}"]).config
    renderer.scene.render.image_settings.exr_codec = codec
    try:
        renderer.draw(build_scene(config, 0, 1))
    finally:
        renderer.scene.render.image_settings.exr_codec = "NONE"
    fallbacks = []
    monkeypatch.setattr(exr, "read_exr_with_openexr",
                        lambda path: fallbacks.append(path) or exr.__dict__["_openexr"](path))
    ours = exr.read_exr(renderer.exr_path)
    theirs = exr._openexr(renderer.exr_path)
    assert sorted(ours) == sorted(theirs)
    assert "ViewLayer.Depth.Z" in ours and "ViewLayer.Object Index.X" in ours
    for name in theirs:
        assert ours[name].dtype == theirs[name].dtype and ours[name].shape == tuple(resolution[::-1])
        assert np.array_equal(ours[name], theirs[name], equal_nan=True), name
    assert bool(fallbacks) == (codec != "NONE")  # the fast path read every uncompressed file itself


def test_truncated_file_is_not_read_as_plain(tmp_path, renderers):
    from synthgen.config.load import load_scene_config
    from synthgen.scene.build import build_scene

    renderer = renderers(False)
    renderer.draw(build_scene(load_scene_config(MINIMAL).config, 0, 0))
    data = renderer.exr_path.read_bytes()
    broken = tmp_path / "broken.exr"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(exr.NotPlain):
        exr._read_plain(np.memmap(broken, dtype=np.uint8, mode="r"))
