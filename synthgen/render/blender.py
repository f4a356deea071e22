"""Build and update a Blender scene from a `Scene`, render it, return raw passes.

This is the only module that imports `bpy`. One Blender scene lives for the whole
run: meshes are created once per shape and objects, materials and lights are
pooled and re-posed each frame, so nothing accumulates over thousands of frames.
Passes leave Blender as one multilayer EXR on a RAM disk (the headless-safe path
in Blender 5.0) and are read back with OpenEXR.
"""

from __future__ import annotations

import sys

import numpy as np

from synthgen.labels.passes import Passes
from synthgen.render.exr import read_exr
from synthgen.render.fog import apply_fog
from synthgen.render.scratch import (blender_tempdir, check_written, remove_stale_scratch, scratch_failure,
                                     scratch_name, stamp)
from synthgen.scene.model import CameraSpec, Instance, LightSpec, Scene, WorldSpec
from synthgen.scene.poses import CV_TO_BLENDER
from synthgen.scene.quality import LABELS_ONLY

SMOOTH_SHAPES = ("primitive:sphere", "primitive:torus")
LIGHT_TYPES = {"sun": "SUN", "point": "POINT", "area": "AREA"}


def cycles_seed(seed: int, frame_index: int) -> int:
    """Cycles' noise seed for a frame: fixed by (seed, frame), different between frames."""
    return int((seed * 2654435761 + frame_index * 40503 + 1) % (2**31 - 1))


def rgb_view(red: np.ndarray, green: np.ndarray, blue: np.ndarray) -> np.ndarray:
    """(H, W, 3) RGB over three (H, W) planes: a view when the planes lie at equal distances with equal
    strides (EXR stores a line's channels one after the other, A B G R), else a copy."""
    pointers = [plane.__array_interface__["data"][0] for plane in (red, green, blue)]
    step = pointers[1] - pointers[0]
    if (red.dtype == green.dtype == blue.dtype and red.strides == green.strides == blue.strides
            and pointers[2] - pointers[1] == step and step != 0):
        return np.lib.stride_tricks.as_strided(red, shape=(*red.shape, 3), strides=(*red.strides, step),
                                               writeable=False)
    return np.stack([red, green, blue], axis=-1)


# Every Cycles, colour and output setting that changes the image or the time a render takes, set
# explicitly so that nothing depends on Blender's defaults (bench/bare_bpy.py sets the same list).
FIXED_SETTINGS: dict[str, object] = {
    "render.engine": "CYCLES",
    "cycles.device": "CPU",
    "render.resolution_percentage": 100,
    "render.pixel_aspect_x": 1.0,
    "render.pixel_aspect_y": 1.0,
    "render.film_transparent": False,
    "render.use_motion_blur": False,  # motion blur would break pixel-exact masks
    "render.use_persistent_data": False,
    "render.use_compositing": False,
    "render.use_sequencer": False,
    "render.dither_intensity": 0.0,
    "view_settings.view_transform": "Standard",  # plain sRGB: the PNG is the linear render, encoded
    "view_settings.look": "None",
    "view_settings.exposure": 0.0,
    "view_settings.gamma": 1.0,
    "display_settings.display_device": "sRGB",
    "cycles.use_light_tree": True,
    "cycles.adaptive_min_samples": 0,
    "cycles.denoiser": "OPENIMAGEDENOISE",
    "cycles.denoising_quality": "HIGH",
    "cycles.denoising_input_passes": "RGB_ALBEDO_NORMAL",
    "cycles.denoising_use_gpu": False,
    "cycles.pixel_filter_type": "BLACKMAN_HARRIS",
    "cycles.filter_width": 1.5,
    "cycles.sampling_pattern": "TABULATED_SOBOL",
    "cycles.use_animated_seed": False,
    "cycles.time_limit": 0.0,
    "cycles.caustics_reflective": True,
    "cycles.caustics_refractive": True,
    "cycles.sample_clamp_direct": 0.0,
    "cycles.sample_clamp_indirect": 10.0,
    "cycles.blur_glossy": 1.0,
    "cycles.use_auto_tile": True,
    "cycles.tile_size": 2048,
}


def frame_settings(scene: Scene, labels_only: bool = False, threads: int = 0) -> dict[str, object]:
    """The settings that follow the frame: resolution, quality, noise seed, threads (the config's
    render.threads, else `threads`, else all cores)."""
    spec = scene.render
    threads = spec.threads or threads
    quality = LABELS_ONLY if labels_only else spec
    return {
        "render.resolution_x": scene.camera.width,
        "render.resolution_y": scene.camera.height,
        "cycles.samples": quality.samples,
        "cycles.use_denoising": quality.denoise,
        "cycles.denoising_prefilter": quality.denoise_prefilter,
        "cycles.use_adaptive_sampling": quality.adaptive_threshold > 0,
        "cycles.adaptive_threshold": quality.adaptive_threshold or 0.01,
        "cycles.max_bounces": 0 if labels_only else spec.max_bounces,
        "cycles.seed": cycles_seed(spec.seed, scene.frame_index),
        "render.threads_mode": "FIXED" if threads else "AUTO",
        "render.threads": threads or 1,
    }


def set_properties(scene, settings: dict[str, object]) -> None:
    """Set 'group.name' properties of a Blender scene (group: render, cycles, view_settings, ...)."""
    for key, value in settings.items():
        group, name = key.split(".")
        target = scene if group == "scene" else getattr(scene, group)
        if getattr(target, name) != value:
            setattr(target, name, value)


# Every object shares one material whose base colour, roughness and metallic come from the object's own
# properties. Setting a property is cheap and leaves Cycles nothing to recompile; a material per object,
# changed every frame, cost about 0.3 ms an object a frame in Blender (bench/bare_bpy.py does the same).
COLOR, ROUGHNESS, METALLIC = "synthgen_color", "synthgen_roughness", "synthgen_metallic"


def shared_material(bpy):
    material = bpy.data.materials.new("synthgen-material")
    tree = material.node_tree
    bsdf = tree.nodes["Principled BSDF"]
    for prop, socket in ((COLOR, "Base Color"), (ROUGHNESS, "Roughness"), (METALLIC, "Metallic")):
        attribute = tree.nodes.new("ShaderNodeAttribute")
        attribute.attribute_type = "OBJECT"
        attribute.attribute_name = prop
        tree.links.new(attribute.outputs["Color" if prop == COLOR else "Fac"], bsdf.inputs[socket])
    return material


# Procedural assets keep their own surface on some faces (glass, tyres, lamps): per-face mesh attributes that a
# second shared material mixes with the object's paint. Plain meshes keep the plain material above.
FACE_COLOR, FACE_PARAMS, FACE_EMISSION, LIGHTS = ("synthgen_face_color", "synthgen_face_params",
                                                  "synthgen_face_emission", "synthgen_lights")


def surface_material(bpy):
    """Base colour, roughness and metallic = the face's own where its 'own' flag is 1, else the object's;
    emission = the face's strength times the object's lights switch, in the face's colour."""
    material = shared_material(bpy)
    material.name = "synthgen-surfaces"
    # emission is driven by attributes, so Cycles would have to treat every face as a possible light;
    # lamp faces still glow where seen, and street lamps get point lights (synthgen/scene/environment.py)
    material.cycles.emission_sampling = "NONE"
    tree = material.node_tree
    nodes, links = tree.nodes, tree.links
    bsdf = nodes["Principled BSDF"]
    objects = {link.to_socket.name: link.from_socket for link in bsdf.inputs["Base Color"].links[:] +
               bsdf.inputs["Roughness"].links[:] + bsdf.inputs["Metallic"].links[:]}

    def face_attribute(name: str):
        node = nodes.new("ShaderNodeAttribute")
        node.attribute_type = "GEOMETRY"
        node.attribute_name = name
        return node

    colour, params, emission = face_attribute(FACE_COLOR), face_attribute(FACE_PARAMS), face_attribute(FACE_EMISSION)
    split = nodes.new("ShaderNodeSeparateXYZ")
    links.new(params.outputs["Vector"], split.inputs["Vector"])
    own = split.outputs["Z"]
    for socket, face_output, data_type in (("Base Color", colour.outputs["Color"], "RGBA"),
                                           ("Roughness", split.outputs["X"], "FLOAT"),
                                           ("Metallic", split.outputs["Y"], "FLOAT")):
        mix = nodes.new("ShaderNodeMix")
        mix.data_type = data_type
        inputs = [i for i in mix.inputs if i.enabled]
        outputs = [o for o in mix.outputs if o.enabled]
        links.new(own, inputs[0])
        links.new(objects[socket], inputs[1])
        links.new(face_output, inputs[2])
        links.new(outputs[0], bsdf.inputs[socket])
    lights = nodes.new("ShaderNodeAttribute")
    lights.attribute_type = "OBJECT"
    lights.attribute_name = LIGHTS
    strength = nodes.new("ShaderNodeMath")
    strength.operation = "MULTIPLY"
    links.new(emission.outputs["Fac"], strength.inputs[0])
    links.new(lights.outputs["Fac"], strength.inputs[1])
    links.new(colour.outputs["Color"], bsdf.inputs["Emission Color"])
    links.new(strength.outputs["Value"], bsdf.inputs["Emission Strength"])
    return material


def set_face_surfaces(mesh, surfaces) -> None:
    """Copy a procedural asset's per-face surfaces into Blender face attributes."""
    n = len(surfaces.own)
    colour = np.ones((n, 4), dtype=np.float32)
    colour[:, :3] = surfaces.color
    params = np.column_stack([surfaces.roughness, surfaces.metallic, surfaces.own.astype(np.float32)])
    mesh.attributes.new(FACE_COLOR, "FLOAT_COLOR", "FACE").data.foreach_set("color", colour.ravel())
    mesh.attributes.new(FACE_PARAMS, "FLOAT_VECTOR", "FACE").data.foreach_set("vector", params.astype(np.float32).ravel())
    mesh.attributes.new(FACE_EMISSION, "FLOAT", "FACE").data.foreach_set("value", surfaces.emission.astype(np.float32))


def _matrix(values: np.ndarray):
    import mathutils

    return mathutils.Matrix(np.asarray(values, dtype=np.float64).tolist())


class BlenderRenderer:
    """A Blender scene kept alive across frames (state is real here: pools of Blender data)."""

    def __init__(self, labels_only: bool = False, normals: bool = False, threads: int = 0) -> None:
        """`threads`: Cycles threads when the config leaves render.threads at 0 (0: all cores); set when
        several Blender processes share the machine."""
        remove_stale_scratch()  # what runs killed outright left behind
        if "bpy" in sys.modules:
            import bpy
        else:
            with blender_tempdir():
                import bpy

        self.bpy = bpy
        self.labels_only = labels_only
        self.normals = normals
        self.threads = threads
        self.version = bpy.app.version_string
        bpy.ops.wm.read_factory_settings(use_empty=True)
        self.scene = bpy.context.scene
        self.meshes: dict[str, object] = {}
        self.object_pools: dict[str, list] = {}
        self.light_pools: dict[str, list] = {}
        # two scratch files used in turn: a render never rewrites the file the last frame's arrays still
        # map, and rewriting an older one in place reuses its pages (a fresh file each frame cost 1.7%)
        scratch = scratch_name(str(id(self)))
        self.scratch_files = (scratch.with_suffix(".a.exr"), scratch.with_suffix(".b.exr"))
        self.exr_path = self.scratch_files[1]
        self._configure()

    # ---- one-time set-up -------------------------------------------------
    def _configure(self) -> None:
        bpy, scene = self.bpy, self.scene
        set_properties(scene, FIXED_SETTINGS)
        layer = scene.view_layers[0]
        layer.use_pass_z = True
        layer.use_pass_object_index = True
        layer.use_pass_normal = self.normals
        settings = scene.render.image_settings
        settings.media_type = "MULTI_LAYER_IMAGE"  # must come before the other image settings in 5.0
        settings.color_depth = "32"
        settings.exr_codec = "NONE"

        camera_data = bpy.data.cameras.new("synthgen-camera")
        self.camera = bpy.data.objects.new("synthgen-camera", camera_data)
        scene.collection.objects.link(self.camera)
        scene.camera = self.camera
        camera_data.lens_unit = "MILLIMETERS"
        camera_data.sensor_fit = "HORIZONTAL"
        camera_data.dof.use_dof = False  # depth of field would break pixel-exact masks

        world = bpy.data.worlds.new("synthgen-world")
        scene.world = world
        nodes = world.node_tree.nodes
        self.background = next(n for n in nodes if n.bl_idname == "ShaderNodeBackground")
        self.sky = nodes.new("ShaderNodeTexSky")
        self.sky.sky_type = "SINGLE_SCATTERING"
        self.overcast = nodes.new("ShaderNodeMix")  # the sky mixed towards flat grey by the overcast factor
        self.overcast.data_type = "RGBA"
        self.overcast_inputs = [i for i in self.overcast.inputs if i.enabled]  # factor, A, B
        world.node_tree.links.new(self.sky.outputs["Color"], self.overcast_inputs[1])
        self.fog = 0.0  # the last frame's fog density: applied to the image after the render (render/fog.py)
        self.material = shared_material(bpy)
        self.surfaces = None  # the per-face material, made when the first procedural asset appears
        if self.labels_only:
            # one plain material for everything and no light: nothing left to shade
            layer.material_override = bpy.data.materials.new("synthgen-labels-only")

    # ---- per-frame updates -----------------------------------------------
    def apply(self, scene: Scene) -> None:
        """Make the Blender scene match `scene` (cheap: re-poses pooled objects)."""
        set_properties(self.scene, frame_settings(scene, self.labels_only, self.threads))
        self._camera(scene.camera)
        self._objects(scene.rendered())
        self._lights(() if self.labels_only else scene.lights)
        self._world(scene.world)

    def _camera(self, camera: CameraSpec) -> None:
        self.K = camera.K
        data = self.camera.data
        data.sensor_width = camera.sensor_width_mm
        data.lens = float(camera.K[0, 0] * camera.sensor_width_mm / camera.width)
        data.shift_x = data.shift_y = 0.0
        data.clip_start, data.clip_end = camera.clip_start, camera.clip_end
        blender_pose = camera.cam_to_world.copy()
        blender_pose[:3, :3] = blender_pose[:3, :3] @ CV_TO_BLENDER
        self.camera.matrix_world = _matrix(blender_pose)

    def _mesh(self, instance: Instance):
        mesh = self.meshes.get(instance.mesh_key)
        if mesh is None:
            mesh = self.bpy.data.meshes.new(instance.mesh_key)
            mesh.from_pydata(instance.mesh.vertices.tolist(), [], instance.mesh.faces.tolist())
            if instance.mesh.surfaces is not None:
                set_face_surfaces(mesh, instance.mesh.surfaces)
            mesh.update()
            if instance.mesh_key in SMOOTH_SHAPES:
                mesh.shade_smooth()
            if instance.mesh.surfaces is None:
                mesh.materials.append(self.material)
            else:
                if self.surfaces is None:
                    self.surfaces = surface_material(self.bpy)
                mesh.materials.append(self.surfaces)
            self.meshes[instance.mesh_key] = mesh
        return mesh

    def _objects(self, instances: tuple[Instance, ...]) -> None:
        used: dict[str, int] = {}
        for instance in instances:
            pool = self.object_pools.setdefault(instance.mesh_key, [])
            k = used.get(instance.mesh_key, 0)
            if k == len(pool):
                obj = self.bpy.data.objects.new(f"synthgen-{instance.mesh_key}-{k}", self._mesh(instance))
                self.scene.collection.objects.link(obj)
                pool.append(obj)
            obj = pool[k]
            used[instance.mesh_key] = k + 1
            obj.hide_render = False
            obj.pass_index = instance.instance_id
            obj.matrix_world = _matrix(instance.matrix_world)
            if not self.labels_only:  # the override material ignores these
                obj[COLOR], obj[ROUGHNESS], obj[METALLIC] = (instance.material.color.tolist(),
                                                            instance.material.roughness, instance.material.metallic)
                if instance.mesh.surfaces is not None:
                    obj[LIGHTS] = 1.0 if instance.lights_on else 0.0
        for key, pool in self.object_pools.items():
            for obj in pool[used.get(key, 0):]:
                obj.hide_render = True
                obj.pass_index = 0

    def _lights(self, lights: tuple[LightSpec, ...]) -> None:
        bpy = self.bpy
        used: dict[str, int] = {}
        for light in lights:
            pool = self.light_pools.setdefault(light.kind, [])
            k = used.get(light.kind, 0)
            if k == len(pool):
                data = bpy.data.lights.new(f"synthgen-{light.kind}-{k}", LIGHT_TYPES[light.kind])
                obj = bpy.data.objects.new(data.name, data)
                self.scene.collection.objects.link(obj)
                pool.append(obj)
            obj = pool[k]
            used[light.kind] = k + 1
            obj.hide_render = False
            obj.matrix_world = _matrix(light.matrix_world)
            obj.data.energy = light.energy
            obj.data.color = light.color.tolist()
            if light.kind == "point":
                obj.data.shadow_soft_size = light.size
            elif light.kind == "area":
                obj.data.size = light.size
        for kind, pool in self.light_pools.items():
            for obj in pool[used.get(kind, 0):]:
                obj.hide_render = True

    def _world(self, world: WorldSpec) -> None:
        links = self.scene.world.node_tree.links
        color_input = self.background.inputs["Color"]
        for link in list(color_input.links):
            links.remove(link)
        self.background.inputs["Strength"].default_value = 0.0 if self.labels_only else world.strength
        if world.sky is None or self.labels_only:
            color_input.default_value = (*world.color.tolist(), 1.0)
        else:
            elevation, rotation, strength = world.sky
            self.sky.sun_elevation = np.radians(elevation)
            self.sky.sun_rotation = np.radians(rotation)
            self.sky.sun_intensity = 1.0
            self.sky.sun_disc = world.overcast < 0.5
            self.background.inputs["Strength"].default_value = world.strength * strength
            if world.overcast > 0:
                self.overcast_inputs[0].default_value = world.overcast
                self.overcast_inputs[2].default_value = (0.35, 0.37, 0.4, 1.0)
                links.new(self.overcast.outputs["Result"], color_input)
            else:
                links.new(self.sky.outputs["Color"], color_input)
        self.fog = world.fog

    # ---- rendering ---------------------------------------------------------
    def render(self, scene: Scene) -> Passes:
        self.draw(scene)
        return self.passes()

    def draw(self, scene: Scene) -> None:
        """Pose the scene and render it; the passes land in a multilayer EXR on a RAM disk."""
        self.apply(scene)
        self.exr_path = self.scratch_files[self.scratch_files.index(self.exr_path) ^ 1]
        # written by the render operator itself: about 15 ms a frame less at 1280x720 than save_render()
        self.scene.render.filepath = str(self.exr_path)
        before = stamp(self.exr_path)
        self.bpy.ops.render.render(write_still=True)
        check_written(self.exr_path, before)  # else the passes read next could be an older frame's

    def passes(self) -> Passes:
        """The passes of the last render. Only the object index is converted here; the image stays a
        view of the mapped file, its planes side by side where the layout allows (no copy at all)."""
        try:
            channels = read_exr(self.exr_path)
        except (ValueError, RuntimeError, OSError):  # cut short: the RAM disk or a file size limit ran out
            raise scratch_failure(self.exr_path, "are incomplete") from None
        if any(name not in channels for name in self.channel_names()):
            raise scratch_failure(self.exr_path, "are incomplete")
        rgb = None if self.labels_only else rgb_view(*(channels[f"ViewLayer.Combined.{c}"] for c in "RGB"))
        if rgb is not None and self.fog > 0:
            rgb = apply_fog(rgb, channels["ViewLayer.Depth.Z"], self.K, self.fog)
        index = np.rint(channels["ViewLayer.Object Index.X"]).astype(np.int32)
        normal = rgb_view(*(channels[f"ViewLayer.Normal.{c}"] for c in "XYZ")) if self.normals else None
        return Passes(rgb=rgb, depth_raw=channels["ViewLayer.Depth.Z"], index=index, normal=normal)

    def channel_names(self) -> list[str]:
        """The EXR channels `passes` reads."""
        names = ["ViewLayer.Depth.Z", "ViewLayer.Object Index.X"]
        names += [] if self.labels_only else [f"ViewLayer.Combined.{c}" for c in "RGB"]
        return names + ([f"ViewLayer.Normal.{c}" for c in "XYZ"] if self.normals else [])

    def close(self) -> None:
        """Remove the scratch EXR files (render/scratch.py); called however the run ends."""
        for path in self.scratch_files:
            path.unlink(missing_ok=True)
