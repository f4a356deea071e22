"""The baseline synthgen is measured against: a plain bpy render loop, sharing no code with synthgen.

    python bench/bare_bpy.py SCENES.json --out DIR

SCENES.json describes frames in Blender's own terms (bench/render_overhead.py writes
it from the frames synthgen renders): Cycles, colour and output settings by their
bpy names, meshes as vertex and face lists, and per frame the camera, object
poses and materials, lights and world. This script builds that scene once, then
for every frame re-poses it, renders and writes the PNG with Blender's writer,
which is what a user of bare bpy does to get images without labels. Imports only
bpy and the standard library. Prints one line at the end: frames, seconds per
frame from the first render on, and the seconds before it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

STARTED = time.perf_counter()

import bpy  # noqa: E402  (timed from interpreter start-up on)
import mathutils  # noqa: E402


def apply_settings(scene, settings: dict) -> None:
    for key, value in settings.items():
        group, name = key.split(".")
        setattr(getattr(scene, group), name, value)


def make_world(scene):
    world = bpy.data.worlds.new("world")
    scene.world = world
    background = world.node_tree.nodes["Background"]
    sky = world.node_tree.nodes.new("ShaderNodeTexSky")
    sky.sky_type = "SINGLE_SCATTERING"
    return background, sky


def set_world(world, background, sky, spec: dict) -> None:
    for link in list(background.inputs["Color"].links):
        world.node_tree.links.remove(link)
    background.inputs["Strength"].default_value = spec["strength"]
    if spec["sky"] is None:
        background.inputs["Color"].default_value = (*spec["color"], 1.0)
    else:
        sky.sun_elevation = spec["sky"]["sun_elevation"]
        sky.sun_rotation = spec["sky"]["sun_rotation"]
        sky.sun_intensity = 1.0
        world.node_tree.links.new(sky.outputs["Color"], background.inputs["Color"])


class Pool:
    """Objects reused from frame to frame, one list per mesh (or light type)."""

    def __init__(self, scene, make) -> None:
        self.scene, self.make, self.items, self.used = scene, make, {}, {}

    def take(self, key):
        items = self.items.setdefault(key, [])
        index = self.used.get(key, 0)
        if index == len(items):
            obj = self.make(key, index)
            self.scene.collection.objects.link(obj)
            items.append(obj)
        self.used[key] = index + 1
        obj = items[index]
        obj.hide_render = False
        return obj

    def finish(self) -> None:
        for key, items in self.items.items():
            for obj in items[self.used.get(key, 0):]:
                obj.hide_render = True
        self.used = {}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenes", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    spec = json.loads(args.scenes.read_text())
    args.out.mkdir(parents=True, exist_ok=True)

    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    apply_settings(scene, spec["settings"])
    image = scene.render.image_settings
    image.file_format = "PNG"
    image.color_mode = "RGB"
    image.color_depth = "8"

    # one material for all objects, reading each object's colour, roughness and metallic from its own
    # custom properties: far cheaper per frame than a material per object
    material = bpy.data.materials.new("material")
    bsdf = material.node_tree.nodes["Principled BSDF"]
    for prop, socket in (("base_color", "Base Color"), ("roughness", "Roughness"), ("metallic", "Metallic")):
        reader = material.node_tree.nodes.new("ShaderNodeAttribute")
        reader.attribute_type = "OBJECT"
        reader.attribute_name = prop
        material.node_tree.links.new(reader.outputs["Color" if prop == "base_color" else "Fac"], bsdf.inputs[socket])

    meshes = {}
    for key, mesh_spec in spec["meshes"].items():
        mesh = bpy.data.meshes.new(key)
        mesh.from_pydata(mesh_spec["vertices"], [], mesh_spec["faces"])
        mesh.update()
        if mesh_spec["smooth"]:
            mesh.shade_smooth()
        mesh.materials.append(material)
        meshes[key] = mesh

    def make_object(key, index):
        return bpy.data.objects.new(f"{key}.{index}", meshes[key])

    def make_light(kind, index):
        data = bpy.data.lights.new(f"{kind}.{index}", kind)
        return bpy.data.objects.new(data.name, data)

    objects, lights = Pool(scene, make_object), Pool(scene, make_light)
    camera = bpy.data.objects.new("camera", bpy.data.cameras.new("camera"))
    scene.collection.objects.link(camera)
    scene.camera = camera
    camera.data.sensor_fit = "HORIZONTAL"
    background, sky = make_world(scene)

    first_render = None
    for number, frame in enumerate(spec["frames"]):
        if first_render is None:
            first_render = time.perf_counter()
        apply_settings(scene, frame["settings"])
        cam = frame["camera"]
        camera.data.lens = cam["lens"]
        camera.data.sensor_width = cam["sensor_width"]
        camera.data.clip_start, camera.data.clip_end = cam["clip_start"], cam["clip_end"]
        camera.matrix_world = mathutils.Matrix(cam["matrix_world"])
        for item in frame["objects"]:
            obj = objects.take(item["mesh"])
            obj.matrix_world = mathutils.Matrix(item["matrix_world"])
            obj.pass_index = item["pass_index"]
            obj["base_color"] = item["color"]
            obj["roughness"] = item["roughness"]
            obj["metallic"] = item["metallic"]
        objects.finish()
        for item in frame["lights"]:
            light = lights.take(item["type"])
            light.matrix_world = mathutils.Matrix(item["matrix_world"])
            light.data.energy = item["energy"]
            light.data.color = item["color"]
            if item["type"] == "POINT":
                light.data.shadow_soft_size = item["size"]
            elif item["type"] == "AREA":
                light.data.size = item["size"]
        lights.finish()
        set_world(scene.world, background, sky, frame["world"])
        scene.render.filepath = str(args.out / f"{number:06d}.png")
        bpy.ops.render.render(write_still=True)
    finished = time.perf_counter()
    count = len(spec["frames"])
    print(json.dumps({"frames": count, "seconds_per_frame": (finished - first_render) / max(count, 1),
                      "seconds_before_first_frame": first_render - STARTED}))


if __name__ == "__main__":
    main()
