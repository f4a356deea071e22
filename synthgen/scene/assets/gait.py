"""A walking pedestrian: the procedural figure posed by a gait cycle, one mesh per quantised phase.

The figure is the one `people.pedestrian` builds for the variant (same body, outfit, hair, backpack:
its random draws are replayed in the same order), with the legs and arms posed from the gait phase
instead of the drawn pose (docs/sequences.md, "Walking"):

- Each foot's ankle follows a path in the body's frame. On the ground (half the cycle) it slides
  backwards in a straight line at the stride per cycle, so with the body advancing one stride per
  cycle the foot stands still on the ground; in the air (the other half) it swings forward along a
  smoothstep, lifted by a sin^2 bump, toes first down (push-off) then up (reaching for the heel
  strike). The right foot runs half a cycle behind the left.
- Hip and knee angles follow from the ankle by two-link inverse kinematics in the sagittal plane;
  the hips ride at the height that keeps the stance leg at a fixed 98.5% of its length (an inverted
  pendulum: the body rises over the planted foot and dips at the change of feet).
- Arms swing opposite the legs (the left arm forward with the right leg), elbows bending more on the
  forward swing. A phone variant keeps its phone pose (texting while walking).

Every phase of a variant has the same parts in the same order, so all its gait meshes share one
vertex count and face list: a surface point (triangle and barycentrics) is the same point of the
body in every phase, which is what exact flow on the limbs follows. The local origin is the point
between the hip joints in x and y and the lowest point (the stance sole) at z = 0, so the body
advances with the instance's translation and does not jitter with the bounding box.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from synthgen.scene.assets.cache import cached
from synthgen.scene.assets.people import (Body, arm_parts, draw_body, draw_outfit, draw_pose, foot_rotation, head_parts,
                                          is_child, keypoints_array, leg_parts, pedestrian_pose, shoe_part,
                                          shoulder_joint, trunk, trunk_parts)
from synthgen.scene.assets.shapes import assemble, box, own, rot_x, rot_y, rot_z, transformed
from synthgen.scene.meshes import Mesh

STEPS = 24  # gait meshes per cycle and variant: the phase is rounded to k / STEPS
STRIDE = 0.7  # one cycle (two steps) in body heights
REACH = 0.985  # the stance leg's hip-to-ankle distance, as a fraction of the leg's length
LIFT = 0.055  # the swinging ankle's highest lift, in body heights
TOE = 0.35  # the swinging foot's largest pitch, radians (toes down after push-off, up before the strike)
ARM_SWING = 0.35  # shoulder flexion amplitude, radians
TOE_OUT = 0.12


def stride(variant: int) -> float:
    """Metres (in the mesh's local units) the body advances per gait cycle: cadence = speed / stride."""
    return STRIDE * _figure(variant)[0].height


def step_of(phase: float) -> int:
    """The gait mesh of a phase in [0, 1): the nearest of STEPS steps."""
    return int(np.floor(phase * STEPS + 0.5)) % STEPS


def gait_key(variant: int, step: int) -> str:
    return f"asset:pedestrian:{variant}:gait{step}"


@lru_cache(maxsize=16 * STEPS)  # 16 variants' cycles, about 60 MB; more are read back from the disk cache
def gait_mesh(variant: int, step: int) -> Mesh:
    """The mesh of pedestrian `variant` at gait phase step / STEPS; kept on disk like every asset."""
    if not 0 <= step < STEPS:
        raise ValueError(f"a gait step is in 0..{STEPS - 1}, got {step}")
    return cached(f"pedestrian-gait{step}", int(variant), lambda: _walker(int(variant), step / STEPS))


@lru_cache(maxsize=64)
def _figure(variant: int):
    """(body, drawn pose, outfit) of a variant, drawn as `people.pedestrian` draws them."""
    from synthgen.scene.assets import asset_rng

    return _draws(asset_rng("pedestrian", variant), variant)


def _draws(rng: np.random.Generator, variant: int):
    body = draw_body(rng, is_child(variant))
    pose = draw_pose(pedestrian_pose(variant), rng)
    outfit = draw_outfit(rng, is_child(variant))
    return body, pose, outfit


def ankle_path(body: Body, leg_phase: float) -> tuple[float, float, float]:
    """(x forward, lift above the ground, foot pitch) of one ankle at its own phase in [0, 1): on the
    ground for [0, 0.5), sliding back one stride per cycle; in the air for [0.5, 1)."""
    s = STRIDE * body.height
    if leg_phase < 0.5:
        return s / 4 - s * leg_phase, 0.0, 0.0
    u = 2.0 * leg_phase - 1.0
    smooth = u * u * (3.0 - 2.0 * u)
    bump = np.sin(np.pi * u) ** 2
    return -s / 4 + s / 2 * smooth, LIFT * body.height * bump, TOE * bump * (1.0 - 2.0 * u)


def leg_angles(body: Body, x: float, drop: float) -> tuple[float, float]:
    """(hip flexion, knee flexion) that put the ankle `x` ahead of the hip and `drop` below it."""
    a, b = body.hip_height - body.knee_height, body.knee_height - body.ankle_height
    r = min(float(np.hypot(x, drop)), 0.9999 * (a + b))
    knee = np.pi - np.arccos(np.clip((a * a + b * b - r * r) / (2 * a * b), -1.0, 1.0))
    hip = np.arctan2(x, drop) + np.arccos(np.clip((a * a + r * r - b * b) / (2 * a * r), -1.0, 1.0))
    return float(hip), float(knee)


def _walker(variant: int, phase: float) -> Mesh:
    from synthgen.scene.assets import asset_rng

    rng = asset_rng("pedestrian", variant)
    body, pose, outfit = _draws(rng, variant)
    h = body.height
    torso = trunk(body, rot_y(pose.lean))
    parts = trunk_parts(body, outfit, torso, rng)
    joints: dict[str, np.ndarray] = {}
    legs = [ankle_path(body, (phase + offset) % 1.0) for offset in (0.0, 0.5)]  # left, right
    stance_x = legs[0][0] if phase < 0.5 else legs[1][0]  # the left foot is down for the first half
    leg_length = body.hip_height - body.ankle_height
    hip_over_ground = body.ankle_height + np.sqrt((REACH * leg_length) ** 2 - stance_x ** 2)
    ground = body.hip_height - hip_over_ground  # z of the ground in the frame the pelvis is built in
    for side, sign in ((0, 1.0), (1, -1.0)):
        x, lift, pitch = legs[side]
        hip = np.array([0.0, sign * body.hip_half, body.hip_height])
        hip_flex, knee_flex = leg_angles(body, x, body.hip_height - (ground + body.ankle_height + lift))
        thigh_rot = rot_y(-hip_flex)
        knee = hip + thigh_rot @ (0.0, 0.0, -(body.hip_height - body.knee_height))
        ankle = knee + thigh_rot @ rot_y(knee_flex) @ (0.0, 0.0, -(body.knee_height - body.ankle_height))
        name = ("left", "right")[side]
        joints[name + "_hip"], joints[name + "_knee"], joints[name + "_ankle"] = hip, knee, ankle
        parts += leg_parts(body, outfit, hip, knee, ankle)
        parts.append(shoe_part(body, outfit, ankle, foot_rotation(pitch, sign * TOE_OUT)))

    swing = np.cos(2 * np.pi * phase)  # 1: left foot just planted ahead, so the right arm is forward
    phone = pedestrian_pose(variant) == "phone"
    for side, sign in ((0, 1.0), (1, -1.0)):
        name = ("left", "right")[side]
        if phone:
            flex, elbow_flex = pose.shoulder_flex[side], pose.elbow_flex[side]
        else:
            forward = -sign * swing  # the left arm swings with the right leg
            flex = ARM_SWING * forward
            elbow_flex = pose.elbow_flex[side] + 0.25 * (1.0 + forward)
        shoulder = shoulder_joint(body, torso, sign)
        upper_rot = (torso.rotation @ rot_y(-flex) @ rot_x(sign * pose.shoulder_abduct[side])
                     @ rot_z(-sign * pose.shoulder_twist[side]))
        elbow = shoulder + upper_rot @ (0.0, 0.0, -body.upper_arm)
        fore_rot = upper_rot @ rot_y(-elbow_flex)
        wrist = elbow + fore_rot @ (0.0, 0.0, -body.forearm)
        joints[name + "_shoulder"], joints[name + "_elbow"], joints[name + "_wrist"] = shoulder, elbow, wrist
        arm, hand_centre = arm_parts(body, outfit, shoulder, elbow, wrist, fore_rot)
        parts += arm
        if name == "right" and phone:  # as people.pedestrian holds it
            parts.append((transformed(box((0.07, 0.009, 0.14)), fore_rot,
                                      hand_centre + fore_rot @ (0.0, 0.014 * h, -0.01 * h)),
                          own((0.01, 0.01, 0.012), 0.1, 0.3)))

    head, face = head_parts(body, outfit, torso, rot_z(pose.head_yaw) @ rot_y(pose.head_pitch), rng)
    parts += head
    lowest = min(float(np.asarray(shell.vertices)[:, 2].min()) for shell, _ in parts)
    return assemble(parts, keypoints_array({**face, **joints}), shift=np.array([0.0, 0.0, -lowest]))
