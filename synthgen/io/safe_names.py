"""Which names taken from input data may become a file or folder name inside an output folder.

Writers name files after what they read: image stems of imported annotations, CVAT subsets, frame sources.
A name that holds a path separator, `..`, a drive letter or a NUL byte would put a file outside --out, and
one that Windows reserves (CON, NUL, COM1, a trailing dot or space) would make an export that cannot be
copied to Windows. Both are refused with one line, never rewritten: a rewritten name could meet another
frame's name, and the user should rename the file rather than find it renamed.
"""

from __future__ import annotations

import re

from synthgen.errors import UserError

# Device names Windows keeps in every folder, with or without an extension ("con.txt" is the console too).
WINDOWS_RESERVED = frozenset(["CON", "PRN", "AUX", "NUL", *(f"COM{n}" for n in range(10)),
                              *(f"LPT{n}" for n in range(10)), "COM¹", "COM²", "COM³", "LPT¹", "LPT²", "LPT³"])
# Characters Windows refuses in a name, beside the control characters below.
WINDOWS_FORBIDDEN = '<>:"|?*'
MAX_NAME_BYTES = 255  # the longest file name ext4, NTFS and APFS allow


def name_problem(name: str) -> str | None:
    """Why `name` cannot be one file or folder name inside an output folder on any system, or None."""
    if not name:
        return "is empty"
    if "\x00" in name:
        return "holds a NUL byte"
    if "/" in name or "\\" in name:
        return "holds a path separator"
    if name in (".", ".."):
        return "is a relative folder reference"
    if re.match(r"^[A-Za-z]:", name):
        return "starts with a drive letter"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "holds a control character"
    bad = sorted({c for c in name if c in WINDOWS_FORBIDDEN})
    if bad:
        return f"holds {' '.join(bad)}, which Windows refuses in file names"
    if name[-1] in ". ":
        return "ends with a dot or a space, which Windows drops"
    if name.split(".")[0].rstrip(" ").upper() in WINDOWS_RESERVED:
        return "is a device name reserved on Windows"
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        return f"is longer than {MAX_NAME_BYTES} bytes"
    return None


def checked_name(name: str, file: str, record: str) -> str:
    """`name` unchanged when it is safe as a file name in an output folder, else the one-line error that
    names the input `file`, the `record` it came from and what is wrong."""
    problem = name_problem(name)
    if problem is not None:
        raise UserError(f"output file name {name!r} {problem}; rename it in the input", file=file or None,
                        key_path=record)
    return name
