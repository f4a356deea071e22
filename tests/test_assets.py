"""Procedural assets: closed meshes in the asset frame, real-world sizes, surfaces where they belong,
deterministic variants that differ, and pedestrian keypoints where the joints are. Geometry is
checked with trimesh ray casts and closest-point queries, independently of how the assets are built."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from synthgen.scene.assets import ASSET_KINDS, AssetKind, asset_mesh, asset_rng
from synthgen.config.catalog import COCO_KEYPOINTS, COCO_SKELETON
from synthgen.scene.assets.people import is_child, pedestrian_pose
from synthgen.scene.assets.vehicles import rider_fit

@pytest.fixture(scope="module", autouse=True)
def _builders_not_the_disk_cache():
    """These tests are about the builders: every mesh here is built, none read back from the disk cache."""
    from synthgen.scene.assets.cache import cache_folder

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SYNTHGEN_CACHE", "off")
        cache_folder.cache_clear()
        asset_mesh.cache_clear()
        yield
    cache_folder.cache_clear()
    asset_mesh.cache_clear()


VARIANTS = range(6)
CASES = [(kind, variant) for kind in ASSET_KINDS for variant in VARIANTS]
IDS = [f"{kind}-{variant}" for kind, variant in CASES]

CARS = ("sedan", "hatchback", "suv", "van", "pickup")
LIT_VEHICLES = (*CARS, "truck", "bus", "motorcycle")
RIDERS = {"bicycle_rider": "bicycle", "motorcycle_rider": "motorcycle"}  # rider kind -> the bike it sits on
PEOPLE = ("pedestrian", *RIDERS)  # kinds with keypoints
PAINTED = (*CARS, "truck", "bus", "motorcycle", "bicycle", *PEOPLE, "building", "pole", "street_light",
           "traffic_sign", "traffic_light")  # kinds with faces that take the instance's material

# bounding-box extents (x, y, z) in metres: the brief's real-world ranges, widened only by what sticks
# out of the body those ranges describe (mirrors, a sign's few millimetres of layers, visors)
SIZES = {
    "sedan": ((4.25, 4.9), (1.7, 2.2), (1.35, 1.6)),
    "hatchback": ((3.75, 4.3), (1.65, 2.15), (1.38, 1.6)),
    "suv": ((4.45, 5.0), (1.8, 2.3), (1.6, 1.9)),
    "van": ((4.75, 5.4), (1.9, 2.4), (1.85, 2.2)),
    "pickup": ((5.05, 5.6), (1.8, 2.3), (1.7, 1.95)),
    "truck": ((6.9, 9.1), (2.4, 3.2), (3.25, 3.75)),
    "bus": ((11.3, 12.9), (2.45, 3.1), (2.95, 3.25)),
    "motorcycle": ((1.9, 2.25), (0.7, 0.9), (1.0, 1.25)),
    "bicycle": ((1.6, 1.85), (0.5, 0.7), (0.9, 1.12)),
    "pedestrian": ((0.2, 1.1), (0.25, 0.8), (0.95, 2.0)),
    "bicycle_rider": ((0.6, 1.3), (0.45, 0.9), (1.3, 1.95)),  # seated: feet on the pedals to the top of the head
    "motorcycle_rider": ((0.6, 1.3), (0.55, 1.0), (1.25, 1.8)),  # elbows and feet out wider, round the tank
    "traffic_cone": ((0.28, 0.4), (0.28, 0.4), (0.5, 0.76)),
    "barrier": ((0.3, 0.7), (1.5, 2.0), (0.8, 1.12)),
    "pole": ((0.06, 0.25), (0.06, 0.25), (3.0, 4.0)),
    "street_light": ((1.0, 3.5), (0.15, 0.45), (6.0, 10.0)),
    "traffic_sign": ((0.015, 0.06), (0.6, 0.9), (0.4, 0.9)),
    "traffic_light": ((0.25, 0.6), (0.25, 0.7), (0.75, 1.3)),  # a backboard adds ~0.15
    "building": ((8.0, 25.0), (8.0, 15.0), (6.0, 30.0)),
    "tree": ((0.5, 9.5), (0.5, 9.5), (4.0, 10.0)),
    "bush": ((0.4, 2.5), (0.4, 2.5), (0.6, 1.5)),
}
BUDGET = {"building": 3000, **{kind: 4000 for kind in (*LIT_VEHICLES, "bicycle", *PEOPLE)}}


def _areas(mesh) -> np.ndarray:
    a, b, c = (mesh.vertices[mesh.faces[:, k]] for k in range(3))
    return np.linalg.norm(np.cross(b - a, c - a), axis=1) / 2


def _centroids(mesh) -> np.ndarray:
    return mesh.vertices[mesh.faces].mean(axis=1)


def _normals(mesh) -> np.ndarray:
    a, b, c = (mesh.vertices[mesh.faces[:, k]] for k in range(3))
    n = np.cross(b - a, c - a)
    return n / np.linalg.norm(n, axis=1, keepdims=True)


def _first_hits(mesh, origins, directions) -> np.ndarray:
    """Index of the first face each ray hits (-1 for a miss), by trimesh's own ray caster."""
    tm = mesh.to_trimesh()
    origins, directions = np.atleast_2d(origins).astype(float), np.atleast_2d(directions).astype(float)
    locations, rays, faces = tm.ray.intersects_location(origins, directions, multiple_hits=True)
    first = np.full(len(origins), -1)
    best = np.full(len(origins), np.inf)
    for location, ray, face in zip(locations, rays, faces):
        distance = float(np.linalg.norm(location - origins[ray]))
        if distance < best[ray]:
            best[ray], first[ray] = distance, face
    return first


def _is_tyre(mesh, face: int) -> bool:
    s = mesh.surfaces
    return bool(s.own[face] and s.color[face].max() < 0.05 and s.roughness[face] > 0.85 and s.metallic[face] == 0)


def _is_glass(mesh, face: int) -> bool:
    s = mesh.surfaces
    return bool(s.own[face] and s.roughness[face] <= 0.06 and s.color[face].max() < 0.06 and s.emission[face] == 0)


# ---- every asset ----------------------------------------------------------------------------------

def test_registry():
    assert set(ASSET_KINDS) == {"sedan", "hatchback", "suv", "van", "pickup", "truck", "bus", "motorcycle", "bicycle",
                                "pedestrian", "bicycle_rider", "motorcycle_rider", "traffic_cone", "barrier", "pole",
                                "street_light", "traffic_sign", "traffic_light", "building", "tree", "bush"}
    things = {kind for kind, info in ASSET_KINDS.items() if info.thing}
    assert things == {*CARS, "truck", "bus", "motorcycle", "bicycle", *PEOPLE}
    assert {ASSET_KINDS[k].category for k in CARS} == {"car"}
    expected = {"truck": "truck", "bus": "bus", "pedestrian": "person", "pole": "pole", "street_light": "pole",
                "traffic_sign": "traffic sign", "traffic_light": "traffic light", "building": "building",
                "tree": "vegetation", "bush": "vegetation", "traffic_cone": "barrier", "barrier": "barrier",
                "bicycle_rider": "rider", "motorcycle_rider": "rider"}
    assert all(ASSET_KINDS[k].category == v for k, v in expected.items())
    for kind, info in ASSET_KINDS.items():
        assert isinstance(info, AssetKind)
        if kind in RIDERS:  # a rider takes its bike's spot on the road, so it plans with the bike's footprint
            assert info.footprint == ASSET_KINDS[RIDERS[kind]].footprint
            continue
        (lx, hx), (ly, hy), _ = SIZES[kind]
        assert lx <= info.footprint[0] <= hx and ly <= info.footprint[1] <= hy, kind


def test_unknown_kind_and_bad_variants():
    with pytest.raises(KeyError, match="sedan.*bush"):
        asset_mesh("spaceship", 0)
    with pytest.raises(ValueError):
        asset_mesh("sedan", -1)
    for bad in (1.5, True, "2"):
        with pytest.raises(TypeError):
            asset_mesh("sedan", bad)


@pytest.mark.parametrize("kind,variant", CASES, ids=IDS)
def test_mesh_is_a_union_of_closed_outward_shells(kind, variant):
    mesh = asset_mesh(kind, variant)
    assert mesh.is_closed and mesh.volume > 0
    assert _areas(mesh).min() > 1e-9  # no zero-area triangles
    tm = mesh.to_trimesh()
    assert tm.is_watertight and tm.is_winding_consistent and tm.volume > 0
    for shell in tm.split(only_watertight=False):  # each part on its own, not only the union
        assert shell.is_watertight and shell.volume > 0


@pytest.mark.parametrize("kind,variant", CASES, ids=IDS)
def test_frame_budget_and_surfaces(kind, variant):
    mesh = asset_mesh(kind, variant)
    lo, hi = mesh.bounds
    if kind in RIDERS:  # in the frame of its bike (the riders' tests check the fit): over the bike, off the ground
        bike_lo, bike_hi = asset_mesh(RIDERS[kind], variant).bounds
        assert lo[2] > 0.0 and (lo[:2] > bike_lo[:2] - 0.3).all() and (hi[:2] < bike_hi[:2] + 0.3).all()
    else:
        assert lo[2] == 0.0
        assert np.allclose((lo[:2] + hi[:2]) / 2, 0.0, atol=1e-9)
    assert len(mesh.faces) <= BUDGET.get(kind, 2000)
    s = mesh.surfaces
    assert s is not None and len(s.own) == len(s.color) == len(s.emission) == len(mesh.faces)
    for values in (s.color, s.roughness, s.metallic):
        assert values.min() >= 0.0 and values.max() <= 1.0
    assert s.emission.min() >= 0.0
    assert s.own.any()
    assert (~s.own).any() == (kind in PAINTED)
    assert (mesh.keypoints is not None) == (kind in PEOPLE)


@pytest.mark.parametrize("kind,variant", CASES, ids=IDS)
def test_real_world_sizes(kind, variant):
    mesh = asset_mesh(kind, variant)
    extent = mesh.bounds[1] - mesh.bounds[0]
    for axis, (low, high) in enumerate(SIZES[kind]):
        assert low <= extent[axis] <= high, f"{kind} {variant}: {'xyz'[axis]} extent {extent[axis]:.3f}"
    if kind == "pedestrian":
        low, high = (0.95, 1.45) if is_child(variant) else (1.45, 2.0)
        assert low <= extent[2] <= high


@pytest.mark.parametrize("kind", list(ASSET_KINDS))
def test_deterministic_and_variants_differ(kind):
    first = [asset_mesh(kind, v) for v in VARIANTS]
    asset_mesh.cache_clear()
    asset_mesh("bus", 3), asset_mesh("pedestrian", 7)  # other draws in between change nothing
    for v in reversed(VARIANTS):
        again = asset_mesh(kind, v)
        assert again is not first[v]
        assert np.array_equal(again.vertices, first[v].vertices) and np.array_equal(again.faces, first[v].faces)
        for name in ("color", "roughness", "metallic", "own", "emission"):
            assert np.array_equal(getattr(again.surfaces, name), getattr(first[v].surfaces, name))
        if kind in PEOPLE:
            assert np.array_equal(again.keypoints, first[v].keypoints)
    for i in VARIANTS:
        for j in VARIANTS:
            if i < j:
                a, b = first[i], first[j]
                assert a.vertices.shape != b.vertices.shape or not np.allclose(a.vertices, b.vertices, atol=1e-3)
    colours = {tuple(np.round(np.unique(m.surfaces.color[m.surfaces.own], axis=0), 4).ravel()) for m in first}
    assert len(colours) > 1, "the fixed parts' colours never change"


def _digest(kinds) -> str:
    import hashlib

    h = hashlib.sha256()
    for kind in kinds:
        for variant in (0, 5, 123):
            mesh = asset_mesh(kind, variant)
            for array in (mesh.vertices, mesh.faces, mesh.surfaces.color, mesh.surfaces.emission, mesh.keypoints):
                if array is not None:
                    h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


def test_same_meshes_in_a_fresh_process():
    """Nothing but (kind, variant) decides a mesh: not the process, its hash seed or what was built before."""
    import os
    import subprocess
    import sys

    kinds = list(ASSET_KINDS)
    code = f"from tests.test_assets import _digest; _digest({kinds[::-1]!r}); print(_digest({kinds!r}))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.stdout.strip() == _digest(kinds)


def test_cached_meshes_are_read_only():
    mesh = asset_mesh("sedan", 0)
    assert asset_mesh("sedan", 0) is mesh
    with pytest.raises(ValueError):
        mesh.vertices[0, 0] = 1.0
    with pytest.raises(ValueError):
        mesh.surfaces.color[0, 0] = 1.0


# ---- lamps ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind,variant", CASES, ids=IDS)
def test_emission_only_on_lamps(kind, variant):
    mesh = asset_mesh(kind, variant)
    lit = mesh.surfaces.emission > 0
    centres = _centroids(mesh)[lit]
    colours = mesh.surfaces.color[lit]
    lo, hi = mesh.bounds
    if kind in LIT_VEHICLES:
        half = (hi[0] - lo[0]) / 2
        front, back = centres[:, 0] > 0.4 * half, centres[:, 0] < -0.4 * half
        assert (front | back).all() and front.any() and back.any()
        head, tail = colours[front], colours[back]
        assert (head.min(axis=1) > 0.6).all()  # warm white
        assert (tail[:, 0] > 0.9).all() and (tail[:, 1:] < 0.1).all()  # red
        assert (centres[:, 2] > 0.2).all()
    elif kind == "traffic_light":
        assert (centres[:, 0] > 0).all()  # the +x face
        red = (colours[:, 0] > 0.9) & (colours[:, 1] < 0.1)
        amber = (colours[:, 0] > 0.9) & (colours[:, 1] > 0.2) & (colours[:, 1] < 0.6)
        green = (colours[:, 1] > 0.9) & (colours[:, 0] < 0.2)
        assert (red | amber | green).all() and red.any() and amber.any() and green.any()
        assert centres[red, 2].min() > centres[amber, 2].max() > centres[amber, 2].min() > centres[green, 2].max()
    elif kind == "street_light":
        assert lit.any() and (centres[:, 2] > 0.85 * hi[2]).all() and (centres[:, 0] > 0.3 * hi[0]).all()
    else:
        assert not lit.any()


def test_signal_lamps_are_seen_from_the_front():
    for variant in VARIANTS:
        mesh = asset_mesh("traffic_light", variant)
        lit = np.flatnonzero(mesh.surfaces.emission > 0)
        centres = _centroids(mesh)
        colours = mesh.surfaces.color[lit]
        for lamp in ((colours[:, 0] > 0.9) & (colours[:, 1] < 0.1), colours[:, 1] > 0.9):  # red (top), green (bottom)
            faces = lit[lamp]
            y, z = centres[faces, 1].mean(), centres[faces, 2].mean()
            hit = _first_hits(mesh, [[mesh.bounds[1][0] + 1.0, y, z]], [[-1.0, 0.0, 0.0]])[0]
            assert hit in faces
            behind = _first_hits(mesh, [[mesh.bounds[0][0] - 1.0, y, z]], [[1.0, 0.0, 0.0]])[0]
            assert mesh.surfaces.emission[behind] == 0


def test_street_lamp_shines_down_on_the_road():
    for variant in VARIANTS:
        mesh = asset_mesh("street_light", variant)
        lit = np.flatnonzero(mesh.surfaces.emission > 0)
        x, y = _centroids(mesh)[lit, :2].mean(axis=0)
        hit = _first_hits(mesh, [[x, y, 0.5]], [[0.0, 0.0, 1.0]])[0]
        assert hit in lit
        pole_x = mesh.vertices[mesh.vertices[:, 2] < 0.1, 0].mean()
        assert x - pole_x > 0.8  # the arm reaches over +x, towards the road


# ---- vehicles -------------------------------------------------------------------------------------

def _tyre_faces(mesh) -> np.ndarray:
    return np.array([f for f in range(len(mesh.faces)) if _is_tyre(mesh, f)])


@pytest.mark.parametrize("variant", VARIANTS)
def test_sedan_front_ray_hits_a_tyre(variant):
    """A ray from ahead of the car, at wheel-centre height just inside the tyres' outer faces,
    passes the body and meets the front tyre; from behind, the rear tyre."""
    mesh = asset_mesh("sedan", variant)
    tyres = _tyre_faces(mesh)
    tyre_vertices = mesh.vertices[mesh.faces[tyres]].reshape(-1, 3)
    radius = tyre_vertices[:, 2].max() / 2
    y = tyre_vertices[:, 1].max() - 0.012
    lo, hi = mesh.bounds
    hits = _first_hits(mesh, [[hi[0] + 1.0, y, radius], [lo[0] - 1.0, y, radius], [hi[0] + 1.0, -y, radius]],
                       [[-1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]])
    assert all(_is_tyre(mesh, f) for f in hits)
    centres = _centroids(mesh)
    assert centres[hits[0], 0] > 0.4 * hi[0] and centres[hits[1], 0] < 0.4 * lo[0] and centres[hits[2], 1] < 0


@pytest.mark.parametrize("kind", LIT_VEHICLES + ("bicycle",))
def test_vehicles_stand_on_their_tyres(kind):
    for variant in VARIANTS:
        mesh = asset_mesh(kind, variant)
        low = np.flatnonzero(mesh.vertices[mesh.faces].min(axis=1)[:, 2] < 0.01)
        assert len(low) and all(_is_tyre(mesh, f) for f in low)
        count = len({(np.sign(c[0]), np.sign(c[1]) if kind not in ("motorcycle", "bicycle") else 0)
                     for c in _centroids(mesh)[low]})
        assert count == (2 if kind in ("motorcycle", "bicycle") else 4)  # every wheel touches the ground


@pytest.mark.parametrize("kind", CARS)
def test_cars_have_painted_roofs_and_glass_all_round(kind):
    for variant in VARIANTS:
        mesh = asset_mesh(kind, variant)
        lo, hi = mesh.bounds
        tops = mesh.vertices[:, 2] > hi[2] - 0.05
        roof_x = mesh.vertices[tops, 0]
        x_mid = (roof_x.min() + roof_x.max()) / 2
        z_window = 0.8 * hi[2]
        origins = [[x_mid, 0.0, hi[2] + 1.0], [hi[0] + 1.0, 0.0, z_window], [lo[0] - 1.0, 0.0, z_window]]
        hits = _first_hits(mesh, origins, [[0, 0, -1], [-1, 0, 0], [1, 0, 0]])
        assert not mesh.surfaces.own[hits[0]], "the roof takes the paint"
        assert _is_glass(mesh, hits[1]) and _is_glass(mesh, hits[2]), "windscreen and rear window"
        for y, direction in ((hi[1] + 1.0, -1.0), (lo[1] - 1.0, 1.0)):  # along the cabin, both sides
            xs = np.linspace(roof_x.min(), roof_x.max(), 7)
            side = _first_hits(mesh, [[x, y, z_window] for x in xs], [[0.0, direction, 0.0]] * len(xs))
            assert sum(_is_glass(mesh, f) for f in side) >= 2, f"{kind} {variant}: side windows"


# ---- street furniture and buildings --------------------------------------------------------------

def test_pole_shaft_diameter():
    for variant in VARIANTS:
        mesh = asset_mesh("pole", variant)
        z = mesh.bounds[1][2] / 2
        tm = mesh.to_trimesh()
        hits, _, _ = tm.ray.intersects_location([[1.0, 0.0, z], [-1.0, 0.0, z]], [[-1, 0, 0], [1, 0, 0]])
        diameter = hits[:, 0].max() - hits[:, 0].min()
        assert 0.06 - 1e-9 <= diameter <= 0.12 + 1e-9
        assert np.allclose(hits[:, 1:], [0.0, z])  # vertical, on the origin


def test_sign_plate_faces_traffic():
    shapes = set()
    for variant in range(12):  # round, triangular, rectangular, octagonal and diamond plates
        mesh = asset_mesh("traffic_sign", variant)
        lo, hi = mesh.bounds
        z = (lo[2] + hi[2]) / 2
        front, back = _first_hits(mesh, [[hi[0] + 1, 0.0, z], [lo[0] - 1, 0.0, z]], [[-1, 0, 0], [1, 0, 0]])
        assert mesh.surfaces.own[front] and not mesh.surfaces.own[back]  # sign face vs painted back
        at_bottom = mesh.vertices[mesh.vertices[:, 2] < 1e-9]
        assert abs(at_bottom[:, 1].mean()) < 1e-6  # the bottom edge (or point) is centred on the origin
        shapes.add(len(np.unique(np.round(mesh.vertices[:, 1:], 4), axis=0)))
    assert len(shapes) >= 5


@pytest.mark.parametrize("variant", VARIANTS)
def test_building_windows_on_all_four_facades(variant):
    mesh = asset_mesh("building", variant)
    lo, hi = mesh.bounds
    glass = np.array([_is_glass(mesh, f) for f in range(len(mesh.faces))])
    normals, centres = _normals(mesh), _centroids(mesh)
    top_floor = centres[glass, 2].max()
    for axis in (0, 1):
        for sign in (1, -1):
            outward = glass & (normals[:, axis] * sign > 0.99)
            assert outward.sum() >= 2, "glass facing every side"
            # a grid of rays at window height along the facade: a good share meets glass first
            span = np.linspace(lo[1 - axis] + 1.0, hi[1 - axis] - 1.0, 40)
            rows = np.unique(np.round(centres[outward, 2], 1))
            origins, directions = [], []
            for z in rows:
                for s in span:
                    origin = np.zeros(3)
                    origin[axis], origin[1 - axis], origin[2] = (hi[axis] + 1 if sign > 0 else lo[axis] - 1), s, z
                    origins.append(origin)
                    direction = np.zeros(3)
                    direction[axis] = -sign
                    directions.append(direction)
            hits = _first_hits(mesh, origins, directions)
            share = np.mean([_is_glass(mesh, f) for f in hits])
            assert share > 0.2
    assert top_floor > 0.6 * hi[2]  # windows up to the top floors, not only the ground floor


# ---- pedestrians ----------------------------------------------------------------------------------

def test_coco_layout():
    assert COCO_KEYPOINTS[:5] == ("nose", "left_eye", "right_eye", "left_ear", "right_ear")
    assert len(COCO_KEYPOINTS) == 17 and COCO_KEYPOINTS[-1] == "right_ankle"
    assert len(COCO_SKELETON) == 19 and len(set(COCO_SKELETON)) == 19
    assert (16, 14) in COCO_SKELETON and (5, 7) in COCO_SKELETON
    assert all(1 <= a <= 17 and 1 <= b <= 17 for a, b in COCO_SKELETON)


PEDESTRIANS = range(12)


def _kp(mesh) -> dict[str, np.ndarray]:
    return dict(zip(COCO_KEYPOINTS, mesh.keypoints))


@pytest.mark.parametrize("variant", PEDESTRIANS)
def test_pedestrian_keypoints(variant):
    mesh = asset_mesh("pedestrian", variant)
    assert mesh.keypoints.shape == (17, 3)
    lo, hi = mesh.bounds
    assert ((mesh.keypoints >= lo) & (mesh.keypoints <= hi)).all()
    k = _kp(mesh)
    for part in ("eye", "ear", "shoulder", "hip"):
        assert k[f"left_{part}"][1] > k[f"right_{part}"][1], f"left is +y ({part})"
    for side in ("left", "right"):
        assert k[f"{side}_ankle"][2] < 0.15
    head = mesh.keypoints[:5]
    assert np.argmax(head[:, 0]) == 0, "the nose is the front of the face"
    assert k["nose"][2] < min(k["left_eye"][2], k["right_eye"][2])
    assert min(k["left_eye"][0], k["right_eye"][0]) > max(k["left_ear"][0], k["right_ear"][0])
    levels = [head[:, 2].min(), max(k["left_shoulder"][2], k["right_shoulder"][2]),
              min(k["left_shoulder"][2], k["right_shoulder"][2]), max(k["left_hip"][2], k["right_hip"][2]),
              min(k["left_hip"][2], k["right_hip"][2]), max(k["left_knee"][2], k["right_knee"][2]),
              min(k["left_knee"][2], k["right_knee"][2]), max(k["left_ankle"][2], k["right_ankle"][2])]
    assert levels[0] > levels[1] and levels[2] > levels[3] and levels[4] > levels[5] and levels[6] > levels[7]
    # the skeleton is one body: left and right bones alike, lengths in human proportion
    height = hi[2]
    for a, b in (("shoulder", "elbow"), ("elbow", "wrist"), ("hip", "knee"), ("knee", "ankle")):
        left = np.linalg.norm(k[f"left_{a}"] - k[f"left_{b}"])
        right = np.linalg.norm(k[f"right_{a}"] - k[f"right_{b}"])
        assert left == pytest.approx(right, rel=1e-9) and 0.12 * height < left < 0.3 * height
    shoulders = np.linalg.norm(k["left_shoulder"] - k["right_shoulder"])
    assert 0.17 * height < shoulders < 0.25 * height


@pytest.mark.parametrize("kind,variant", [("pedestrian", v) for v in PEDESTRIANS] +
                         [(kind, v) for kind in RIDERS for v in VARIANTS])
def test_keypoints_sit_where_the_body_is(kind, variant):
    """Joints lie inside the limbs (the nearest surface faces away from them, within a limb's
    radius); the nose is on the face's surface, the eyes just beneath it."""
    mesh = asset_mesh(kind, variant)
    tm = mesh.to_trimesh()
    shells = tm.split(only_watertight=False)  # inside the union = inside one of its closed parts
    inside = np.any([shell.contains(mesh.keypoints) for shell in shells], axis=0)
    _, distance, _ = trimesh.proximity.closest_point(tm, mesh.keypoints)
    for index, name in enumerate(COCO_KEYPOINTS):
        if index == 0:
            assert distance[index] < 0.005, "the nose is on the surface"
        else:
            assert inside[index], f"{name} is inside the body"
            assert distance[index] < (0.02 if index < 5 else 0.11), name


def test_standing_and_walking_poses():
    poses = {pedestrian_pose(v) for v in PEDESTRIANS}
    assert {"standing", "walking", "mid_stride"} <= poses
    for variant in PEDESTRIANS:
        k = _kp(asset_mesh("pedestrian", variant))
        stride = abs(k["left_ankle"][0] - k["right_ankle"][0])
        if pedestrian_pose(variant) in ("walking", "mid_stride"):
            assert stride > 0.2
            # the arms swing against the legs: the hand on the side of the leading foot is behind
            lead = "left" if k["left_ankle"][0] > k["right_ankle"][0] else "right"
            other = "right" if lead == "left" else "left"
            assert k[f"{lead}_wrist"][0] < k[f"{other}_wrist"][0]
        else:
            assert stride < 0.15
            assert k["left_wrist"][2] < k["left_shoulder"][2]
    assert any(is_child(v) for v in PEDESTRIANS) and not all(is_child(v) for v in PEDESTRIANS)


def test_pedestrian_skin_and_clothes_vary():
    tones = set()
    for variant in PEDESTRIANS:
        mesh = asset_mesh("pedestrian", variant)
        k = _kp(mesh)
        # the face colour: the first hit of a ray into the nose from the front
        hit = _first_hits(mesh, [k["nose"] + (1.0, 0.0, 0.0)], [[-1.0, 0.0, 0.0]])[0]
        assert mesh.surfaces.own[hit]
        tones.add(tuple(np.round(mesh.surfaces.color[hit], 3)))
        torso = (k["left_shoulder"] + k["right_hip"]) / 2
        shirt = _first_hits(mesh, [torso + (1.0, 0.0, 0.0)], [[-1.0, 0.0, 0.0]])[0]
        if pedestrian_pose(variant) != "phone":
            assert not mesh.surfaces.own[shirt], "the shirt takes the instance's material"
    assert len(tones) >= 6


# ---- riders ---------------------------------------------------------------------------------------

# sha256 of vertices, faces, surface colours (and keypoints) of variants 0..5, rounded to 1e-6 (a
# micrometre): they guard that the refactor that made the two-wheeler and pedestrian builders share their
# geometry with riders (and any later one) leaves the existing bikes and pedestrians as they were. The
# rounding keeps the digests from depending on the CPU: numpy's sin and cos differ in the last bit between
# machines with and without AVX-512.
UNCHANGED = {
    "bicycle": "d85b2b1ffb294436fa54c57c37af32c18005965fe075f78b71561fe780d2775c",
    "motorcycle": "e3a6ff467ab075eba58c3749b4479bfd88f2cf5402472b2b00ce84fbecbb483f",
    "pedestrian": "b5d1ad9b6457bf48752cc24b7d1c782b491eb97f3d77735410542d703e1b9fde",
}


@pytest.mark.parametrize("kind", list(UNCHANGED))
def test_bikes_and_pedestrians_unchanged(kind):
    import hashlib

    h = hashlib.sha256()
    for variant in VARIANTS:
        mesh = asset_mesh(kind, variant)
        for array in (mesh.vertices, mesh.faces, mesh.surfaces.color, mesh.keypoints):
            if array is not None:
                array = np.asarray(array)
                if array.dtype.kind == "f":
                    array = np.round(array.astype(np.float64), 6) + 0.0  # + 0.0: -0.0 becomes 0.0
                h.update(np.ascontiguousarray(array).tobytes())
    assert h.hexdigest() == UNCHANGED[kind]


RIDER_CASES = [(kind, variant) for kind in RIDERS for variant in VARIANTS]
RIDER_IDS = [f"{kind}-{variant}" for kind, variant in RIDER_CASES]


def _depth_inside(points: np.ndarray, mesh) -> np.ndarray:
    """How deep each point lies inside the closed parts of `mesh` (0 outside all of them)."""
    depth = np.zeros(len(points))
    for part in mesh.to_trimesh().split(only_watertight=True):
        inside = part.contains(points)
        if inside.any():
            _, distance, _ = trimesh.proximity.closest_point(part, points[inside])
            depth[inside] = np.maximum(depth[inside], distance)
    return depth


def _grips(bike) -> np.ndarray:
    """(2, 2, 3): per side (left, right) the outer and inner end of the handlebar grip, read off the
    mesh: the grips' outer ends are the bike's widest points, each grip 11 cm long."""
    ends = []
    for sign in (1.0, -1.0):
        y = sign * bike.vertices[:, 1]
        outer = bike.vertices[y > y.max() - 1e-3].mean(axis=0)
        ends.append([outer, outer - (0.0, sign * 0.11, 0.0)])
    return np.array(ends)


def _segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    t = np.clip((p - a) @ (b - a) / ((b - a) @ (b - a)), 0.0, 1.0)
    return float(np.linalg.norm(p - (a + t * (b - a))))


@pytest.mark.parametrize("kind,variant", RIDER_CASES, ids=RIDER_IDS)
def test_rider_does_not_interpenetrate_its_bike(kind, variant):
    """Placed with the same pose, rider and bike touch only where a rider holds on, sits or stands:
    no vertex of one lies more than 2 cm inside the other, and any vertex inside at all is near the
    hands, the feet or the pelvis."""
    rider, bike = asset_mesh(kind, variant), asset_mesh(RIDERS[kind], variant)
    k = _kp(rider)
    contacts = np.array([k["left_wrist"], k["right_wrist"], k["left_ankle"], k["right_ankle"],
                         (k["left_hip"] + k["right_hip"]) / 2])
    for points, other in ((rider.vertices, bike), (bike.vertices, rider)):
        depth = _depth_inside(points, other)
        assert depth.max() <= 0.02
        touching = points[depth > 1e-3]
        if len(touching):
            near = np.linalg.norm(touching[:, None] - contacts[None], axis=2).min(axis=1)
            assert near.max() < 0.3, "only hands, feet and pelvis touch the bike"


@pytest.mark.parametrize("kind,variant", RIDER_CASES, ids=RIDER_IDS)
def test_rider_sits_on_its_bike(kind, variant):
    rider, bike = asset_mesh(kind, variant), asset_mesh(RIDERS[kind], variant)
    assert rider.keypoints.shape == (17, 3)
    lo, hi = rider.bounds
    assert ((rider.keypoints >= lo) & (rider.keypoints <= hi)).all()
    k = _kp(rider)
    hips = (k["left_hip"] + k["right_hip"]) / 2
    hits, _, _ = bike.to_trimesh().ray.intersects_location([hips], [[0.0, 0.0, -1.0]])
    assert len(hits), "the seat is under the pelvis"
    assert 0.0 <= hips[2] - hits[:, 2].max() <= 0.15
    grips = _grips(bike)
    fit = rider_fit(RIDERS[kind], asset_rng(RIDERS[kind], variant))
    for side, (name, grip) in enumerate(zip(("left", "right"), grips)):
        assert _segment_distance(k[f"{name}_wrist"], *grip) <= 0.12
        assert _segment_distance(fit.grips[side], *grip) < 1e-3, "the bike's grips are where the mesh has them"
        assert np.linalg.norm(k[f"{name}_ankle"] - fit.feet[side]) <= 0.2
        assert fit.feet[side][1] * (1 if name == "left" else -1) > 0.1, "each foot on its own side"
    if kind == "bicycle_rider":  # the feet are on the pedals: the pedal tops are part of the bike's surface
        _, distance, _ = trimesh.proximity.closest_point(bike.to_trimesh(), fit.feet)
        assert distance.max() < 1e-3
        assert lo[2] > 0.02, "feet on the pedals, not on the ground"
    for part in ("shoulder", "hip"):
        assert k[f"left_{part}"][1] > k[f"right_{part}"][1], f"left is +y ({part})"
    # the head is the top of the rider, above the bars, facing forward (+x) and not looking down
    head = rider.keypoints[:5]
    assert np.argmax(rider.keypoints[:, 2]) < 5
    assert np.linalg.norm(rider.vertices[np.argmax(rider.vertices[:, 2])] - k["nose"]) < 0.3
    assert head[:, 2].min() > grips[:, :, 2].max() + 0.3
    assert np.argmax(head[:, 0]) == 0 and k["nose"][2] > (k["left_ear"][2] + k["right_ear"][2]) / 2 - 0.05


@pytest.mark.parametrize("kind,variant", RIDER_CASES, ids=RIDER_IDS)
def test_rider_pose(kind, variant):
    """Torso leaning towards the bars (more on a bicycle), knees and elbows bent, the hands ahead."""
    k = _kp(asset_mesh(kind, variant))
    torso = (k["left_shoulder"] + k["right_shoulder"]) / 2 - (k["left_hip"] + k["right_hip"]) / 2
    lean = np.degrees(np.arctan2(torso[0], torso[2]))
    low, high = (25, 50) if kind == "bicycle_rider" else (10, 35)
    assert low <= lean <= high

    def angle(a: str, b: str, c: str) -> float:
        u, w = k[a] - k[b], k[c] - k[b]
        return float(np.degrees(np.arccos(u @ w / np.linalg.norm(u) / np.linalg.norm(w))))

    for side in ("left", "right"):
        assert 60 < angle(f"{side}_hip", f"{side}_knee", f"{side}_ankle") < 170
        assert 90 < angle(f"{side}_shoulder", f"{side}_elbow", f"{side}_wrist") < 175
        assert k[f"{side}_wrist"][0] > k[f"{side}_shoulder"][0] + 0.15


def test_motorcycle_riders_wear_helmets():
    colours = set()
    for variant in VARIANTS:
        mesh = asset_mesh("motorcycle_rider", variant)
        k = _kp(mesh)
        top = (k["left_ear"] + k["right_ear"]) / 2
        crown, face = _first_hits(mesh, [top + (0.0, 0.0, 1.0), k["nose"] + (1.0, 0.0, 0.0)],
                                  [[0.0, 0.0, -1.0], [-1.0, 0.0, 0.0]])
        assert mesh.surfaces.own[crown] and mesh.surfaces.own[face]
        assert not np.allclose(mesh.surfaces.color[crown], mesh.surfaces.color[face]), "a shell over the head"
        colours.add(tuple(np.round(mesh.surfaces.color[crown], 3)))
        assert _centroids(mesh)[crown][2] > k["left_ear"][2] + 0.1
    assert len(colours) > 1
