"""Named render quality presets: samples and denoiser settings chosen by measurement.

bench/quality.py measures each preset's PSNR and SSIM against a 1024-sample render
without denoiser, and its time per frame; docs/config.md gives the figures.
Labels never depend on these settings.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    samples: int
    denoise: bool
    denoise_prefilter: str
    adaptive_threshold: float


PRESETS = {
    "draft": Preset(samples=1, denoise=True, denoise_prefilter="FAST", adaptive_threshold=0.01),
    "standard": Preset(samples=6, denoise=True, denoise_prefilter="FAST", adaptive_threshold=0.01),
    "high": Preset(samples=32, denoise=True, denoise_prefilter="ACCURATE", adaptive_threshold=0.01),
}
LABELS_ONLY = Preset(samples=1, denoise=False, denoise_prefilter="FAST", adaptive_threshold=0.0)
