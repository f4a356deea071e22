"""Self-contained HTML pages: headings, paragraphs, tables and images in one file.

Each block function returns an HTML fragment with every piece of text escaped;
`page` joins fragments into a document and `write_page` publishes it atomically.
Images must be bytes (embedded as PNG data: URIs) or data: URIs: the page's
Content-Security-Policy allows nothing else, so a report never reaches the
network and opens the same anywhere, offline, from a file.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any, Iterable, Sequence

from synthgen.viz.images import data_uri

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1400px; padding: 0 16px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; } h3 { font-size: 15px; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; } th { background: #f4f4f4; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.row { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
figure { margin: 0 0 12px; } figcaption { font-size: 12px; color: #555; }
img { max-width: 100%; height: auto; image-rendering: auto; }
"""


def heading(text: str, level: int = 2) -> str:
    level = min(max(level, 1), 6)
    return f"<h{level}>{escape(text)}</h{level}>"


def paragraph(text: str) -> str:
    return f"<p>{escape(text)}</p>"


def _cell(value: Any, tag: str) -> str:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    text = "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
    return f'<{tag}{" class=n" if number and tag == "td" else ""}>{escape(text)}</{tag}>'


def table(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> str:
    """A table; numbers are right-aligned, None is an empty cell."""
    head = "".join(_cell(h, "th") for h in header)
    body = "".join("<tr>" + "".join(_cell(v, "td") for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def image(source: bytes | str, alt: str, caption: str | None = None, width: int | None = None) -> str:
    """A figure showing PNG bytes or a data: URI (anything else is refused: the page must stand alone)."""
    src = data_uri(source) if isinstance(source, (bytes, bytearray)) else source
    if not src.startswith("data:"):
        raise ValueError("images must be embedded as data: URIs")
    size = f' width="{int(width)}"' if width else ""
    text = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="{escape(src)}" alt="{escape(alt)}"{size}>{text}</figure>'


def row(blocks: Iterable[str]) -> str:
    """Blocks side by side, wrapping on narrow windows."""
    return '<div class="row">' + "".join(blocks) + "</div>"


def page(title: str, blocks: Iterable[str]) -> str:
    """A whole HTML document: the title as <title> and <h1>, then the blocks."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<link rel="icon" href="data:,">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n<body>\n{heading(title, 1)}\n"
            + "\n".join(blocks) + "\n</body></html>\n")


def write_page(path: Path, title: str, blocks: Iterable[str]) -> None:
    """Write `page(title, blocks)` to `path`, atomically."""
    from synthgen.io.atomic import atomic_write_text

    atomic_write_text(path, page(title, blocks))
