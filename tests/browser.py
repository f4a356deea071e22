"""Pages checked in a real browser: Debian's headless Chromium, driven by Playwright.

`check_page(path)` opens an HTML file (or an image file) from a file:// URL and returns what is wrong
with it: console errors, uncaught exceptions, requests that left the file (a
report must stand alone), and images that do not decode or are blank (a single
colour, measured by drawing each on a canvas in the browser, and again by
decoding its data: URI with Pillow). An empty list means the page is fine.

Chromium comes from the system (`apt-get install -y chromium`), never from
Playwright's downloads; a missing browser is a failure, not a skip.
"""

from __future__ import annotations

import base64
import binascii
import io
import shutil
import tempfile
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp"}
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# For every <img>: whether it loaded, its natural size, and how many distinct colours a canvas copy holds
# (up to 2: one means blank). Images are sampled on a grid of at most 256 x 256 points to stay quick.
_IMAGES_JS = """
() => Array.from(document.images).map((img, index) => {
  const out = {index, alt: img.alt, src: img.currentSrc.slice(0, 40), complete: img.complete,
               width: img.naturalWidth, height: img.naturalHeight, colours: 0, error: null};
  if (!img.complete || img.naturalWidth === 0) return out;
  try {
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    const stepX = Math.max(1, Math.floor(canvas.width / 256)), stepY = Math.max(1, Math.floor(canvas.height / 256));
    const first = [data[0], data[1], data[2], data[3]];
    out.colours = 1;
    for (let y = 0; y < canvas.height && out.colours === 1; y += stepY) {
      for (let x = 0; x < canvas.width; x += stepX) {
        const i = 4 * (y * canvas.width + x);
        if (data[i] !== first[0] || data[i + 1] !== first[1] || data[i + 2] !== first[2] || data[i + 3] !== first[3]) {
          out.colours = 2; break;
        }
      }
    }
  } catch (e) { out.error = String(e); }
  return out;
})
"""


def _require_chromium() -> None:
    if not CHROMIUM.is_file():
        raise AssertionError(f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)")


def data_uri_problem(src: str) -> str | None:
    """What is wrong with a data: URI image when decoded in Python: None if it decodes and is not one colour."""
    import numpy as np
    from PIL import Image

    if not src.startswith("data:"):
        return "not a data: URI"
    header, _, payload = src.partition(",")
    if not header.endswith(";base64"):
        return "data: URI is not base64"
    try:
        with Image.open(io.BytesIO(base64.b64decode(payload, validate=True))) as image:
            pixels = np.asarray(image.convert("RGBA"))
    except (binascii.Error, OSError, ValueError) as exc:
        return f"does not decode ({exc.__class__.__name__})"
    if pixels.size == 0:
        return "empty image"
    if (pixels == pixels.reshape(-1, 4)[0]).all():
        return "a single colour (blank)"
    return None


def _image_sources(html: str) -> list[str]:
    """The src of every <img> in the page, parsed without the browser."""
    from html.parser import HTMLParser

    sources: list[str] = []

    class Images(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "img":
                sources.append(dict(attrs).get("src") or "")

    Images().feed(html)
    return sources


def check_page(path: Path | str, timeout_ms: int = 30_000) -> list[str]:
    """Problems with the page at `path` when Chromium loads it; an empty list when there are none."""
    from playwright.sync_api import sync_playwright

    _require_chromium()
    path = Path(path).resolve()
    url = path.as_uri()
    problems: list[str] = []
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile, executable_path=str(CHROMIUM), headless=True, args=FLAGS, offline=True)
            try:
                page = context.new_page()
                page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                        if m.type == "error" else None)
                page.on("pageerror", lambda e: problems.append(f"uncaught exception: {e}"))
                page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url[:80]} ({r.failure})"))
                page.on("request", lambda r: None if r.url.startswith(("data:", url)) else
                        problems.append(f"request leaves the page: {r.url[:80]}"))
                response = page.goto(url, wait_until="load", timeout=timeout_ms)
                if response is not None and not response.ok:
                    problems.append(f"loading {url} answered {response.status}")
                for item in page.evaluate(_IMAGES_JS):
                    name = f"<img> {item['index']} ({item['alt'] or item['src']})"
                    if not item["complete"] or item["width"] == 0:
                        problems.append(f"{name} does not decode (naturalWidth 0)")
                    elif item["error"]:
                        problems.append(f"{name} cannot be read back from a canvas: {item['error']}")
                    elif item["colours"] < 2:
                        problems.append(f"{name} is a single colour (blank)")
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if path.suffix.lower() in IMAGE_SUFFIXES:  # an image opened on its own: decode the file too
        problem = data_uri_problem("data:image;base64," + base64.b64encode(path.read_bytes()).decode("ascii"))
        return problems + ([f"{path.name}: {problem}"] if problem else [])
    for index, src in enumerate(_image_sources(path.read_text(encoding="utf-8"))):
        problem = data_uri_problem(src)
        if problem:
            problems.append(f"<img> {index} in the HTML: {problem}")
    return problems


def screenshot(path: Path | str, target: Path | str, width: int = 1400) -> None:
    """A full-page PNG of the page, for looking at it."""
    from playwright.sync_api import sync_playwright

    _require_chromium()
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile, executable_path=str(CHROMIUM), headless=True, args=FLAGS, offline=True,
                viewport={"width": width, "height": 900})
            try:
                page = context.new_page()
                page.goto(Path(path).resolve().as_uri(), wait_until="load")
                page.screenshot(path=str(target), full_page=True)
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
