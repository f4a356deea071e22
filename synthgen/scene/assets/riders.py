"""Riders: a person seated on a bicycle or motorcycle, in that bike's own local frame.

Unlike every other asset, a rider is not moved to the asset convention (footprint centred, lowest
point at z = 0): `asset_mesh("bicycle_rider", v)` is expressed in the local frame of
`asset_mesh("bicycle", v)` (and `motorcycle_rider` in that of `motorcycle`), so placing rider and
bike with the same pose seats the rider on that bike. Its lowest point is wherever the feet are.

The body, clothes and face are a pedestrian's (people.py). The pose is solved, not drawn: the
pelvis rests on the seat, two-bone inverse kinematics puts the soles on the pedals (or where the
foot pegs would be: the motorcycle mesh has none) and the hands on the grips, and the torso leans
forward as far as the reach to the bars asks, within a range per bike. The rider's height is drawn
from the adult heights whose legs and arms reach that bike; a bike too big even for the tallest
gets a rider at full stretch (leaning up to 10 degrees further, toes reaching down).
Motorcycle riders wear an open-faced helmet, in long sleeves and trousers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from synthgen.scene.assets import people
from synthgen.scene.assets.people import Body, Outfit
from synthgen.scene.assets.shapes import Part, assemble, own, rot_y, rot_z
from synthgen.scene.assets.vehicles import RiderFit
from synthgen.scene.meshes import Mesh

HEIGHTS = (1.55, 1.95)  # adults only
LEAN = {False: (30.0, 45.0), True: (15.0, 30.0)}  # torso from vertical, degrees: bicycles, motorcycles (pegs)
EXTRA_LEAN = 10.0  # further, only for bars out of reach at the range's end (it counts as strain)
MAX_LEG = 0.96  # hip-ankle distance / leg length: knees always a little bent
MAX_ARM = 0.97
PITCHES = np.linspace(-0.1, 0.9, 41)  # foot pitches tried (toes down), radians
SEAT_GAP = 0.02  # between the seat and the pelvis's flat bottom: the rounder thighs reach a little lower
KNEES_OUT = (0.2, 0.35)  # sideways share of the knees' bend direction (x 2.5 around a motorcycle's tank)


@dataclass(frozen=True)
class Style:
    """The per-variant choices of a rider that are not body or clothes."""

    reach: float  # shoulder-wrist distance / arm length the lean aims for
    knees_out: float  # sideways share of the knees' bend direction
    head_pitch: float  # down
    head_yaw: float  # to the left


@dataclass(frozen=True)
class Seating:
    """A solved pose in the body frame (people.py's upright skeleton: hips at hip_height over the
    origin), `offset` moves it onto the bike; `strain` > 0 when a limb cannot reach."""

    offset: np.ndarray
    lean: float
    joints: dict[str, np.ndarray]
    foot_pitch: tuple[float, float]
    hands: tuple[np.ndarray, np.ndarray]  # forearm frames (people.arm_parts' fore_rot)
    strain: float


def _two_bone(root: np.ndarray, target: np.ndarray, upper: float, lower: float,
              hint: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Middle joint and end of a limb from `root` towards `target` (reached if it can be), bending
    towards `hint`."""
    span = target - root
    distance = float(np.linalg.norm(span))
    u = span / distance
    distance = float(np.clip(distance, abs(upper - lower) + 1e-3, upper + lower - 1e-6))
    w = hint - (hint @ u) * u
    w /= np.linalg.norm(w)
    along = (upper ** 2 - lower ** 2 + distance ** 2) / (2 * distance)
    return root + along * u + np.sqrt(max(upper ** 2 - along ** 2, 0.0)) * w, root + distance * u


def _ankle_on(body: Body, contact: np.ndarray, tread: float, pitch: float) -> np.ndarray:
    """The ankle of a foot pitched by `pitch` whose sole's ball rests on `contact` (the middle of a
    pedal's top, `tread` long each way along x), lifted so no edge of the pedal enters the sole."""
    rotation = people.foot_rotation(pitch, 0.0)
    ball = rotation @ (0.45 * body.foot, 0.0, -body.ankle_height)
    up = rotation @ (0.0, 0.0, 1.0)
    lift = tread * abs(up[0])  # how far the pedal's raised edge would reach into the sole
    return contact - ball + lift * up


def _hand_on(body: Body, grip: np.ndarray, grip_radius: float, forearm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wrist and forearm frame of a flat hand laid over a grip along y, its palm on the grip's top."""
    d = forearm / np.linalg.norm(forearm)
    palm = np.array([d[2], 0.0, -d[0]])  # (0, 1, 0) x d: square to the grip and the forearm
    palm /= np.linalg.norm(palm) * (1.0 if palm[2] > 0 else -1.0)  # on the grip's upper side
    frame = np.column_stack([np.cross(palm, -d), palm, -d])  # x across the knuckles, y the palm's normal
    centre = grip + palm * (grip_radius + 0.012 * body.height - 0.004)  # 4 mm of grip pressed into the palm
    return centre - d * 0.045 * body.height, frame


def seat(body: Body, fit: RiderFit, style: Style) -> Seating:
    """Solve the riding pose of `body` on a bike."""
    h = body.height
    offset = fit.seat + (0.0, 0.0, 0.045 * h + SEAT_GAP) - (0.0, 0.0, body.hip_height)  # pelvis just above the seat
    joints: dict[str, np.ndarray] = {}
    strain = 0.0
    pitches = []
    thigh, shank = body.hip_height - body.knee_height, body.knee_height - body.ankle_height
    for sign, name, foot in ((1.0, "left", fit.feet[0]), (-1.0, "right", fit.feet[1])):
        hip = np.array([0.0, sign * body.hip_half, body.hip_height])
        ankles = [_ankle_on(body, foot - offset, fit.tread, p) for p in PITCHES]
        reach = np.array([np.linalg.norm(a - hip) for a in ankles]) / (thigh + shank)
        preferred = 0.05 if fit.pegs else 0.3
        ok = np.flatnonzero(reach <= MAX_LEG)
        k = int(ok[np.argmin(abs(PITCHES[ok] - preferred))]) if len(ok) else int(np.argmin(reach))
        strain += max(0.0, float(reach[k]) - MAX_LEG)
        knee, ankle = _two_bone(hip, ankles[k], thigh, shank, np.array([1.0, sign * style.knees_out, 0.0]))
        joints.update({f"{name}_hip": hip, f"{name}_knee": knee, f"{name}_ankle": ankle})
        pitches.append(float(PITCHES[k]))

    arm = body.upper_arm + body.forearm
    grips = fit.grips - offset

    def shoulders(lean: float) -> list[np.ndarray]:
        torso = people.trunk(body, rot_y(lean))
        return [people.shoulder_joint(body, torso, sign) for sign in (1.0, -1.0)]

    def arm_reach(lean: float) -> float:
        return max(np.linalg.norm(_hand_on(body, g, fit.grip_radius, g - s)[0] - s) / arm
                   for g, s in zip(grips, shoulders(lean)))

    low, high = LEAN[fit.pegs]
    leans = np.radians(np.arange(low, high + EXTRA_LEAN + 0.5))  # 1 degree apart
    reaches = np.array([arm_reach(lean) for lean in leans])
    usual = (leans <= np.radians(high) + 1e-9) & (reaches <= MAX_ARM)
    if usual.any():  # the lean whose reach is nearest the rider's habit
        k = int(np.flatnonzero(usual)[np.argmin(abs(reaches[usual] - style.reach))])
    else:  # the least extra lean that reaches, else all of it
        k = int(np.flatnonzero(reaches <= MAX_ARM)[0]) if (reaches <= MAX_ARM).any() else len(leans) - 1
    lean = float(leans[k])
    strain += max(0.0, lean - np.radians(high)) + max(0.0, float(reaches[k]) - MAX_ARM)
    hands = []
    for sign, name, grip, shoulder in zip((1.0, -1.0), ("left", "right"), grips, shoulders(lean)):
        forearm = grip - shoulder
        for _ in range(4):  # the hand's lie depends on the forearm's direction, which depends on the hand
            wrist, frame = _hand_on(body, grip, fit.grip_radius, forearm)
            elbow, wrist = _two_bone(shoulder, wrist, body.upper_arm, body.forearm, np.array([-0.3, sign * 0.5, -1.0]))
            forearm = wrist - elbow
        hands.append(frame)
        joints.update({f"{name}_shoulder": shoulder, f"{name}_elbow": elbow, f"{name}_wrist": wrist})
    return Seating(offset, lean, joints, (pitches[0], pitches[1]), (hands[0], hands[1]), strain)


def fitting_heights(unit: Body, fit: RiderFit, style: Style) -> tuple[float, float]:
    """The adult heights at which a body of `unit`'s proportions reaches the bike without strain
    (the least strained height if none does)."""
    candidates = np.linspace(*HEIGHTS, 9)  # 5 cm apart
    strains = np.array([seat(people.scaled(unit, h), fit, style).strain for h in candidates])
    good = candidates[strains == 0]
    if len(good) == 0:
        best = float(candidates[np.argmin(strains)])
        return best, best
    return float(good.min()), float(min(good.max(), good.min() + 0.25))


def rider(rng: np.random.Generator, variant: int, fit: RiderFit) -> Mesh:
    """A rider for the bike whose contact points are `fit` (in that bike's local frame)."""
    unit = people.scaled(people.draw_body(rng, child=False), 1.0)  # proportions; the height must fit the bike
    outfit: Outfit = people.draw_outfit(rng, child=False)
    helmet = None
    if fit.pegs:
        outfit = replace(outfit, long_sleeves=True, shorts=False)
        helmet = own(rng.uniform(0.02, 0.8, 3), 0.2)
    style = Style(float(rng.uniform(0.86, 0.94)), float(rng.uniform(*KNEES_OUT)) * (2.5 if fit.pegs else 1.0),
                  float(rng.uniform(-0.15, 0.05)), float(rng.uniform(-0.12, 0.12)))
    low, high = fitting_heights(unit, fit, style)
    body = people.scaled(unit, float(rng.uniform(low, high)))
    pose = seat(body, fit, style)
    torso = people.trunk(body, rot_y(pose.lean))
    parts: list[Part] = people.trunk_parts(body, outfit, torso, rng)
    j = pose.joints
    for side, name in enumerate(("left", "right")):
        parts += people.leg_parts(body, outfit, j[f"{name}_hip"], j[f"{name}_knee"], j[f"{name}_ankle"])
        foot = people.foot_rotation(pose.foot_pitch[side], 0.0)
        parts.append(people.shoe_part(body, outfit, j[f"{name}_ankle"], foot))
    for side, name in enumerate(("left", "right")):
        arm, _ = people.arm_parts(body, outfit, j[f"{name}_shoulder"], j[f"{name}_elbow"], j[f"{name}_wrist"],
                                  pose.hands[side])
        parts += arm
    head, face = people.head_parts(body, outfit, torso, rot_z(style.head_yaw) @ rot_y(style.head_pitch), rng, helmet)
    parts += head
    return assemble(parts, people.keypoints_array({**face, **j}), shift=pose.offset)  # onto the bike, not z = 0
