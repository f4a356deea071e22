"""One decimal formatter for every text format: it must spell each number exactly as the KITTI, CVAT and
MOT writers' own formatters did, so exports keep their bytes."""

from __future__ import annotations

import numpy as np

from synthgen.formats.writing import decimal_text


def _kitti_before(value: float) -> str:  # KITTI's writer formatter, as it was
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _cvat_before(value: float) -> str:  # CVAT's writer formatter, as it was
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _mot_before(value: float) -> str:  # MOT's writer formatter, as it was (it could write "-0")
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _sweep() -> list[float]:
    rng = np.random.default_rng(7)
    values = [0.0, -0.0, 1.0, -1.0, 0.5, 1e-7, -1e-7, 4e-7, -4e-7, 5e-7, -5e-7, 6e-7, 5e-5, -5e-5, 0.00005,
              0.12345650, 0.1234565, 2.5e-4, 1e15, -1e15, 1e300, 123456.0000004, 99999.99999995]
    values += list(rng.normal(0, 1000, 3000)) + list(rng.uniform(-1, 1, 3000)) + list(rng.uniform(-1e-5, 1e-5, 2000))
    values += [k / 64 for k in range(-640, 641)] + [k / 10 ** 7 for k in range(-50, 51)]
    values += [round(v, 4) + d for v in rng.uniform(0, 100, 500) for d in (5e-5, -5e-5, 5e-7, -5e-7)]
    return values


def test_kitti_and_cvat_spell_every_number_as_before():
    for value in _sweep():
        as_float32 = [np.float32(value)] if abs(value) < 1e38 else []
        for as_given in (value, np.float64(value), *as_float32):
            assert decimal_text(as_given, 6) == _kitti_before(as_given), value
            assert decimal_text(as_given, 4) == _cvat_before(as_given), value


def test_mot_spells_every_number_as_before_except_negative_zero():
    zeros = 0
    for value in _sweep():
        before = _mot_before(value)
        if before == "-0":  # a value that rounds to zero from below: now "0", as KITTI and CVAT write it
            zeros += 1
            assert decimal_text(value, 6) == "0"
        else:
            assert decimal_text(value, 6) == before, value
    assert zeros > 0  # the sweep does reach the one difference


def test_the_text_reads_back_as_the_rounded_number():
    for value in _sweep()[:4000]:
        assert float(decimal_text(value, 6)) == float(f"{value:.6f}")
