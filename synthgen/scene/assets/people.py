"""Pedestrians: an articulated figure posed by forward kinematics, with COCO keypoints.

The skeleton's segment lengths are fractions of the body height (adult anthropometric ratios,
children with a larger head and shorter legs). A pose is a set of joint angles; joint positions
follow from them bone by bone, and the body parts (capsule limbs, lathe torso, ellipsoid head,
extruded shoes) are placed along the bones, so the keypoints are exactly the joint centres the
mesh was built around. The shirt (torso and sleeves) takes the instance's material.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from synthgen.scene.assets.shapes import (PAINT, Look, Part, assemble, box, capsule, ellipsoid, extrude, lathe, own,
                                          rot_x, rot_y, rot_z, transformed)
from synthgen.config.catalog import COCO_KEYPOINTS
from synthgen.scene.meshes import Mesh

POSES: tuple[str, ...] = ("standing", "walking", "mid_stride", "phone")

# linear-RGB palettes (sRGB swatches converted), mixed per variant
SKIN_TONES = np.array([[0.80, 0.52, 0.40], [0.75, 0.41, 0.30], [0.56, 0.24, 0.07], [0.27, 0.09, 0.02],
                       [0.10, 0.04, 0.018]])
TROUSERS = np.array([[0.045, 0.08, 0.19], [0.015, 0.015, 0.018], [0.40, 0.30, 0.155], [0.12, 0.12, 0.13],
                     [0.08, 0.05, 0.03], [0.03, 0.06, 0.03]])
SHOES = np.array([[0.02, 0.02, 0.02], [0.7, 0.7, 0.68], [0.12, 0.05, 0.02], [0.05, 0.05, 0.08]])
HAIR = np.array([[0.01, 0.008, 0.006], [0.04, 0.02, 0.01], [0.12, 0.06, 0.025], [0.5, 0.35, 0.15], [0.35, 0.33, 0.3]])


def pedestrian_pose(variant: int) -> str:
    """The pose of a pedestrian variant: the four poses in turn, so every few variants hold all."""
    return POSES[variant % len(POSES)]


def is_child(variant: int) -> bool:
    """Every sixth variant is a child (1.0-1.4 m)."""
    return variant % 6 == 5


@dataclass(frozen=True)
class Pose:
    """Joint angles in radians, per side (left, right). Flexion swings a limb forward (+x),
    abduction away from the body's midline, a knee's or elbow's flexion bends it."""

    hip_flex: tuple[float, float]
    knee_flex: tuple[float, float]
    shoulder_flex: tuple[float, float]
    shoulder_abduct: tuple[float, float]
    elbow_flex: tuple[float, float]
    shoulder_twist: tuple[float, float]  # inward turn of the upper arm (brings a bent forearm across the chest)
    heel_strike: tuple[float, float]  # toe-up pitch of a foot planted heel first (0: flat)
    hip_abduct: float
    lean: float  # torso forward
    head_pitch: float  # down
    head_yaw: float  # to the left


def draw_pose(name: str, rng: np.random.Generator) -> Pose:
    """Joint angles for a named pose, with per-variant variation."""
    u = rng.uniform
    if name in ("walking", "mid_stride"):
        stride = u(0.26, 0.34) if name == "walking" else u(0.38, 0.46)
        lead = int(rng.integers(2))  # 0: left leg forward
        hip = [-stride, -stride]
        hip[lead] = stride
        knee = [u(0.08, 0.2), u(0.08, 0.2)] if name == "walking" else [u(0.05, 0.15), u(0.05, 0.15)]
        knee[lead] = u(0.03, 0.1)
        swing = u(0.2, 0.45) if name == "walking" else u(0.35, 0.6)
        arm = [swing, swing]
        arm[lead] = -swing * u(0.7, 1.0)  # the arm opposite the leading leg swings forward
        elbow = [u(0.1, 0.25), u(0.1, 0.25)]
        elbow[1 - lead] = u(0.3, 0.7)
        heel = [0.0, 0.0]
        heel[lead] = u(0.05, 0.18)
        return Pose(tuple(hip), tuple(knee), tuple(arm), (u(0.05, 0.12), u(0.05, 0.12)), tuple(elbow), (0.0, 0.0),
                    tuple(heel),
                    u(0.01, 0.03), u(0.03, 0.08), u(-0.05, 0.12), u(-0.15, 0.15))
    hip_shift = u(-0.04, 0.04)
    standing = Pose((hip_shift, -hip_shift), (u(0.0, 0.06), u(0.0, 0.06)), (u(-0.1, 0.15), u(-0.1, 0.15)),
                    (u(0.05, 0.14), u(0.05, 0.14)), (u(0.08, 0.35), u(0.08, 0.35)), (0.0, 0.0), (0.0, 0.0),
                    u(0.03, 0.07),
                    u(0.0, 0.04), u(-0.05, 0.12), u(-0.25, 0.25))
    if name == "standing":
        return standing
    # looking at a phone held in front of the chest with the right hand (sometimes both)
    both = rng.uniform() < 0.4
    flex = (u(0.1, 0.25) if both else standing.shoulder_flex[0], u(0.1, 0.25))
    elbow = (u(1.8, 2.1) if both else standing.elbow_flex[0], u(1.8, 2.1))
    abduct = (u(0.05, 0.15) if both else standing.shoulder_abduct[0], u(0.05, 0.15))
    twist = (u(0.5, 0.8) if both else 0.0, u(0.4, 0.7))
    return Pose(standing.hip_flex, standing.knee_flex, flex, abduct, elbow, twist, (0.0, 0.0), standing.hip_abduct,
                standing.lean, u(0.3, 0.5), u(-0.1, 0.1))


@dataclass(frozen=True)
class Body:
    """Segment lengths and radii in metres."""

    height: float
    head: tuple[float, float, float]  # ellipsoid radii (front-back, side, up)
    neck: float  # chin to the neck base
    shoulder_drop: float  # neck base to the shoulder joints
    shoulder_half: float  # midline to a shoulder joint
    hip_height: float
    hip_half: float
    knee_height: float
    ankle_height: float
    upper_arm: float
    forearm: float
    foot: float
    girth: float  # multiplies the trunk's and limbs' radii


def draw_body(rng: np.random.Generator, child: bool) -> Body:
    u = rng.uniform
    h = u(1.0, 1.4) if child else u(1.5, 1.95)
    head = (np.array([0.055, 0.044, 0.064]) * (1.4 if child else u(0.95, 1.05)) * h)
    return Body(h, tuple(head), 0.045 * h, 0.03 * h, u(0.098, 0.112) * h * (0.95 if child else 1.0),
                (0.47 if child else u(0.49, 0.52)) * h, 0.052 * h, (0.27 if child else 0.285) * h, 0.04 * h,
                (0.16 if child else 0.175) * h, (0.14 if child else 0.155) * h, 0.15 * h, u(0.9, 1.15))


def scaled(body: Body, height: float) -> Body:
    """The same proportions at another height (every length scales; girth is a ratio)."""
    k = height / body.height
    lengths = {f.name: getattr(body, f.name) * k for f in fields(Body) if f.name not in ("head", "girth")}
    return replace(body, **lengths, head=tuple(r * k for r in body.head))


@dataclass(frozen=True)
class Outfit:
    """What a person looks like beyond their body: one draw per variant."""

    skin: Look
    trousers: Look
    shoes: Look
    hair: Look
    long_sleeves: bool
    shorts: bool
    hair_style: str  # short, long, cap or bald
    backpack: bool


def draw_outfit(rng: np.random.Generator, child: bool) -> Outfit:
    u = rng.uniform
    skin_t = u(0, len(SKIN_TONES) - 1)
    k = int(skin_t)
    skin = own(SKIN_TONES[k] + (SKIN_TONES[min(k + 1, len(SKIN_TONES) - 1)] - SKIN_TONES[k]) * (skin_t - k), 0.55)
    trousers = own(TROUSERS[rng.integers(len(TROUSERS))] * u(0.7, 1.3), float(u(0.6, 0.9)))
    shoes = own(SHOES[rng.integers(len(SHOES))] * u(0.8, 1.2), float(u(0.3, 0.7)))
    shades = len(HAIR) - 1 if child else len(HAIR)  # no grey hair on children
    hair = own(HAIR[rng.integers(shades)] * u(0.8, 1.2), float(u(0.4, 0.7)))
    long_sleeves, shorts = u() < 0.55, u() < 0.2
    hair_style = ("short", "long", "cap", "short", "bald")[int(rng.integers(5))]
    backpack = u() < (0.5 if child else 0.25)
    return Outfit(skin, trousers, shoes, hair, long_sleeves, shorts, hair_style, backpack)


@dataclass(frozen=True)
class Trunk:
    """The upright skeleton's fixed levels (z up from the soles of flat feet) and the torso's tilt
    about `root`, the point the torso leans around."""

    chin: float
    neck_base: float
    shoulder_z: float
    root: np.ndarray
    rotation: np.ndarray

    def point(self, p) -> np.ndarray:
        """A point of the upright torso, tilted with it."""
        return self.root + self.rotation @ (np.asarray(p, dtype=float) - self.root)


def trunk(body: Body, rotation: np.ndarray) -> Trunk:
    h = body.height
    chin = h - 2 * body.head[2]
    neck_base = chin - body.neck
    return Trunk(chin, neck_base, neck_base - body.shoulder_drop, np.array([0.0, 0.0, body.hip_height + 0.02 * h]),
                 rotation)


def shoulder_joint(body: Body, torso: Trunk, sign: float) -> np.ndarray:
    """The left (sign 1) or right (-1) shoulder joint."""
    return torso.point((0.0, sign * body.shoulder_half, torso.shoulder_z))


def trunk_parts(body: Body, outfit: Outfit, torso: Trunk, rng: np.random.Generator) -> list[Part]:
    """The torso (the shirt, in the instance's material), the upright pelvis and any backpack (its
    colour is drawn here, so callers draw in the same order)."""
    h, g = body.height, body.girth
    depth = 0.68
    waist = body.hip_height + 0.5 * (torso.shoulder_z - body.hip_height) * 0.8
    profile = [(0.088 * h * g, body.hip_height + 0.005 * h), (0.08 * h * g, waist),
               (0.092 * h * g, torso.shoulder_z - 0.1 * h), (body.shoulder_half, torso.shoulder_z - 0.01 * h),
               (0.8 * body.shoulder_half, torso.neck_base - 0.005 * h), (0.035 * h, torso.neck_base + 0.012 * h)]
    shell = transformed(lathe(profile, 16), scale=(depth, 1.0, 1.0))
    parts: list[Part] = [(transformed(shell, torso.rotation, torso.root - torso.rotation @ torso.root), PAINT)]
    pelvis = [(0.05 * h, body.hip_height - 0.045 * h), (0.09 * h * g, body.hip_height),
              (0.086 * h * g, body.hip_height + 0.07 * h)]
    parts.append((transformed(lathe(pelvis, 16), scale=(0.72, 1.0, 1.0)), outfit.trousers))
    if outfit.backpack:
        centre = torso.point((-(0.092 * h * g * depth + 0.045 * h), 0.0, torso.shoulder_z - 0.14 * h))
        pack = box((0.09 * h, 0.17 * h, 0.23 * h))
        parts.append((transformed(pack, torso.rotation, centre), own(rng.uniform(0.02, 0.5, 3), 0.7)))
    return parts


def leg_parts(body: Body, outfit: Outfit, hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray) -> list[Part]:
    """Thigh and shank between the joint centres (bare shanks under shorts)."""
    h, g = body.height, body.girth
    return [(capsule(hip, knee, 0.046 * h * g, 0.034 * h * g), outfit.trousers),
            (capsule(knee, ankle, 0.033 * h * g, 0.022 * h * g), outfit.skin if outfit.shorts else outfit.trousers)]


def shoe_profile(body: Body) -> np.ndarray:
    """Side view of a shoe around the ankle joint (x forward, z up)."""
    f, a = body.foot, body.ankle_height
    return np.array([(-0.22 * f, -a), (0.68 * f, -a), (0.76 * f, -0.7 * a), (0.72 * f, -0.35 * a), (0.45 * f, -0.1 * a),
                     (0.15 * f, 0.3 * a), (-0.12 * f, 0.45 * a), (-0.26 * f, 0.1 * a), (-0.26 * f, -0.8 * a)])


def foot_rotation(pitch: float, toe_out: float) -> np.ndarray:
    """Positive pitch lowers the toes."""
    return rot_z(toe_out) @ rot_y(pitch)


def shoe_part(body: Body, outfit: Outfit, ankle: np.ndarray, rotation: np.ndarray) -> Part:
    h = body.height
    return transformed(extrude(shoe_profile(body), "y", -0.03 * h, 0.03 * h), rotation, ankle), outfit.shoes


def arm_parts(body: Body, outfit: Outfit, shoulder: np.ndarray, elbow: np.ndarray, wrist: np.ndarray,
              fore_rot: np.ndarray) -> tuple[list[Part], np.ndarray]:
    """Sleeve, forearm and hand, and the hand's centre; `fore_rot` turns the forearm's frame (its -z
    runs from elbow to wrist, its y is the hand's thin axis) into the body's."""
    h, g = body.height, body.girth
    hand_centre = wrist + fore_rot @ (0.0, 0.0, -0.045 * h)
    return [(capsule(shoulder, elbow, 0.03 * h * g, 0.024 * h * g), PAINT),
            (capsule(elbow, wrist, 0.023 * h * g, 0.017 * h), PAINT if outfit.long_sleeves else outfit.skin),
            (ellipsoid((0.022 * h, 0.012 * h, 0.05 * h), hand_centre, fore_rot, 10, 6), outfit.skin)], hand_centre


def head_parts(body: Body, outfit: Outfit, torso: Trunk, head_rot: np.ndarray, rng: np.random.Generator,
               helmet: Look | None = None) -> tuple[list[Part], dict[str, np.ndarray]]:
    """Neck, head, nose, ears and hair (a cap's colour is drawn here), or a helmet over them; and the
    face's keypoints: the nose tip on the surface, eyes just beneath it, ears at the sides."""
    h = body.height
    rx, ry, rz = body.head
    pivot = torso.point((0.0, 0.0, torso.chin + 0.02 * h))
    head_centre = pivot + head_rot @ np.array([0.012 * h, 0.0, rz - 0.02 * h])

    def head_point(p) -> np.ndarray:
        return head_centre + head_rot @ np.asarray(p, dtype=float)

    skin = outfit.skin
    parts: list[Part] = [
        (capsule(torso.point((0.0, 0.0, torso.neck_base - 0.01 * h)), pivot, 0.032 * h * body.girth, 0.029 * h), skin),
        (ellipsoid(body.head, head_centre, head_rot, 16, 10), skin)]
    nose_len = 0.012 * h
    nose_tip_local = np.array([0.96 * rx + nose_len, 0.0, -0.2 * rz])
    parts.append((ellipsoid((nose_len, 0.008 * h, 0.016 * h), head_point(nose_tip_local - (nose_len, 0, 0)), head_rot,
                            8, 4), skin))
    for sign in (1.0, -1.0):
        ear = head_point((-0.05 * rx, sign * 0.97 * ry, -0.05 * rz))
        parts.append((ellipsoid((0.012 * h, 0.006 * h, 0.02 * h), ear, head_rot, 8, 4), skin))
    if helmet is not None:  # open-faced: back and up, so the face (and the nose keypoint) stays clear
        shell = ellipsoid((1.17 * rx, 1.2 * ry, 1.08 * rz), head_point((-0.25 * rx, 0.0, 0.22 * rz)), head_rot, 18, 10)
        parts.append((shell, helmet))
    elif outfit.hair_style in ("short", "long", "cap"):
        cap_look = own(rng.uniform(0.02, 0.6, 3), 0.7) if outfit.hair_style == "cap" else outfit.hair
        crown = head_point((-0.2 * rx, 0.0, 0.17 * rz))  # back and up, so the face stays clear
        parts.append((ellipsoid((1.07 * rx, 1.07 * ry, 1.0 * rz), crown, head_rot, 16, 8), cap_look))
        if outfit.hair_style == "long":
            back = head_point((-0.55 * rx, 0.0, -0.5 * rz))
            parts.append((ellipsoid((0.45 * rx, 0.95 * ry, 0.9 * rz), back, head_rot, 12, 6), outfit.hair))
        if outfit.hair_style == "cap":
            brim = box((0.7 * rx, 1.3 * ry, 0.012 * h))
            parts.append((transformed(brim, head_rot, head_point((0.85 * rx, 0.0, 0.5 * rz))), cap_look))

    psi, phi = 0.55, 0.1
    eye = np.array([rx * np.cos(phi) * np.cos(psi), ry * np.cos(phi) * np.sin(psi), rz * np.sin(phi)]) * 0.97
    face = {
        "nose": head_point(nose_tip_local - (0.001, 0.0, 0.0)),
        "left_eye": head_point(eye), "right_eye": head_point(eye * (1, -1, 1)),
        "left_ear": head_point((-0.05 * rx, 0.97 * ry, 0.0)), "right_ear": head_point((-0.05 * rx, -0.97 * ry, 0.0)),
    }
    return parts, face


def _sole_low(ankle: np.ndarray, profile: np.ndarray, pitch: float) -> float:
    c, s = np.cos(pitch), np.sin(pitch)
    return float(ankle[2] + (-profile[:, 0] * s + profile[:, 1] * c).min())


def pedestrian(rng: np.random.Generator, variant: int) -> Mesh:
    body = draw_body(rng, is_child(variant))
    pose = draw_pose(pedestrian_pose(variant), rng)
    outfit = draw_outfit(rng, is_child(variant))
    h = body.height
    torso = trunk(body, rot_z(0.0) @ rot_y(pose.lean))
    parts = trunk_parts(body, outfit, torso, rng)
    joints: dict[str, np.ndarray] = {}

    # legs, by forward kinematics from the hip joints of the upright pelvis
    profile = shoe_profile(body)
    ankles, pitches = [], []
    for side, sign in ((0, 1.0), (1, -1.0)):
        hip = np.array([0.0, sign * body.hip_half, body.hip_height])
        thigh_rot = rot_y(-pose.hip_flex[side]) @ rot_x(sign * pose.hip_abduct)
        knee = hip + thigh_rot @ (0.0, 0.0, -(body.hip_height - body.knee_height))
        shank_rot = thigh_rot @ rot_y(pose.knee_flex[side])
        ankle = knee + shank_rot @ (0.0, 0.0, -(body.knee_height - body.ankle_height))
        joints[("left", "right")[side] + "_hip"] = hip
        joints[("left", "right")[side] + "_knee"] = knee
        joints[("left", "right")[side] + "_ankle"] = ankle
        parts += leg_parts(body, outfit, hip, knee, ankle)
        ankles.append(ankle)
        pitches.append(-pose.heel_strike[side])
    # the planted (lower) foot defines the ground; the other foot pitches so its toe reaches it
    low = int(np.argmin([_sole_low(a, profile, p) for a, p in zip(ankles, pitches)]))
    ground = _sole_low(ankles[low], profile, pitches[low])
    other = 1 - low
    if pose.heel_strike != (0.0, 0.0) or abs(ankles[0][2] - ankles[1][2]) > 1e-6:
        candidates = np.linspace(-0.2, 1.0, 241)
        pitches[other] = float(candidates[np.argmin([abs(_sole_low(ankles[other], profile, p) - ground)
                                                      for p in candidates])])
    for side, sign in ((0, 1.0), (1, -1.0)):
        parts.append(shoe_part(body, outfit, ankles[side], foot_rotation(pitches[side], sign * 0.12)))

    # arms
    for side, sign in ((0, 1.0), (1, -1.0)):
        name = ("left", "right")[side]
        shoulder = shoulder_joint(body, torso, sign)
        upper_rot = (torso.rotation @ rot_y(-pose.shoulder_flex[side]) @ rot_x(sign * pose.shoulder_abduct[side])
                     @ rot_z(-sign * pose.shoulder_twist[side]))
        elbow = shoulder + upper_rot @ (0.0, 0.0, -body.upper_arm)
        fore_rot = upper_rot @ rot_y(-pose.elbow_flex[side])
        wrist = elbow + fore_rot @ (0.0, 0.0, -body.forearm)
        joints[name + "_shoulder"], joints[name + "_elbow"], joints[name + "_wrist"] = shoulder, elbow, wrist
        arm, hand_centre = arm_parts(body, outfit, shoulder, elbow, wrist, fore_rot)
        parts += arm
        if name == "right" and pedestrian_pose(variant) == "phone":
            phone = box((0.07, 0.009, 0.14))  # in the palm, along the hand
            parts.append((transformed(phone, fore_rot, hand_centre + fore_rot @ (0.0, 0.014 * h, -0.01 * h)),
                          own((0.01, 0.01, 0.012), 0.1, 0.3)))

    head, face = head_parts(body, outfit, torso, rot_z(pose.head_yaw) @ rot_y(pose.head_pitch), rng)
    parts += head
    return assemble(parts, keypoints_array({**face, **joints}))


def keypoints_array(points: dict[str, np.ndarray]) -> np.ndarray:
    """(17, 3) in COCO order."""
    return np.array([points[name] for name in COCO_KEYPOINTS])
