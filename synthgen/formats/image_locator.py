"""Finding the image a label file refers to, however the export spelled its path."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from synthgen.io.reading import IMAGE_SUFFIXES, fail


class ImageLocator:
    """Where a label file's image reference points on this machine.

    Exports name their images in many ways: relative to the label file, relative to
    a dataset root, as a server path (`/data/upload/3/abc.jpg`) or a URL. `find`
    tries the reader's own candidate folders first, then `--images DIR`: the name
    as given under it, then by file name below it, preferring the file whose
    folders match the reference's last folders. A name that stays ambiguous is not
    guessed, and no file is given to two different references: either would pair
    labels with the wrong picture.
    """

    def __init__(self, images: Path | None = None) -> None:
        self.images = None if images is None else Path(images).resolve()
        self._by_name: dict[str, list[Path]] | None = None
        self._claimed: dict[Path, str] = {}  # file found by name -> the reference that took it
        self.ambiguous: str | None = None  # why the last failed lookup failed, when several files fit
        self._files_in: dict[str, frozenset[str]] = {}  # folder -> names of the files in it

    def _is_file(self, base: Path | str, relative: str) -> bool:
        """`(base / relative).is_file()`, from one listing per folder: a reader asks about thousands of images
        in a few folders, and a stat per candidate folder per image cost more than the rest of a conversion."""
        folder, name = os.path.split(os.path.join(base, relative))
        names = self._files_in.get(folder)
        if names is None:
            try:
                with os.scandir(folder or ".") as entries:
                    names = frozenset(e.name for e in entries if e.is_file())
            except OSError:  # missing, not a folder, unreadable: nothing is found in it
                names = frozenset()
            self._files_in[folder] = names
        return name in names

    def _index(self) -> dict[str, list[Path]]:
        """File name -> every path under --images with that name."""
        if self._by_name is None:
            self._by_name = {}
            if self.images is not None:
                for path in sorted(self.images.rglob("*")):
                    if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
                        self._by_name.setdefault(path.name, []).append(path)
        return self._by_name

    @staticmethod
    def _spellings(name: str) -> list[str]:
        """The name as written, then without a URL's scheme, host, query and fragment."""
        spellings = [name]
        if "://" in name or name.startswith("/data/"):
            clean = name.split("?")[0].split("#")[0]
            if "://" in clean:
                clean = clean.split("://", 1)[1].split("/", 1)[-1]
            spellings.append(clean)
        return list(dict.fromkeys(spellings))

    def _by_file_name(self, reference: str) -> Path | None:
        parts = Path(reference).parts
        candidates = self._index().get(parts[-1], []) if parts else []
        if len(candidates) > 1:  # keep those whose folders agree with the reference's for longest
            def shared(path: Path) -> int:
                count = 0
                for a, b in zip(reversed(path.parts), reversed(parts)):
                    if a != b:
                        break
                    count += 1
                return count
            best = max(shared(c) for c in candidates)
            candidates = [c for c in candidates if shared(c) == best]
        if len(candidates) > 1:
            self.ambiguous = f"{len(candidates)} files named {parts[-1]} under --images {self.images}"
            return None
        if not candidates:
            return None
        found = candidates[0]
        owner = self._claimed.setdefault(found, reference)
        if owner != reference:
            self.ambiguous = f"{reference} and {owner} would both be {found}"
            return None
        return found

    def find(self, name: str, bases: Iterable[Path] = ()) -> Path | None:
        """The image `name` refers to, or None: under each of `bases`, then under --images."""
        self.ambiguous = None
        spellings = self._spellings(name)
        for spelling in spellings:
            for base in bases:
                if self._is_file(base, spelling):
                    return Path(base, spelling)
        if self.images is None:
            return None
        for spelling in spellings:
            relative = spelling.lstrip("/")
            if relative and self._is_file(self.images, relative):
                return self.images / relative
        return self._by_file_name(spellings[-1])

    def require(self, name: str, bases: Iterable[Path], file: Path | str, record: str) -> Path:
        """`find`, or the record's one-line error saying where it looked."""
        found = self.find(name, bases)
        if found is None:
            if self.ambiguous:
                raise fail(file, record, f"image {name} is ambiguous: {self.ambiguous}")
            where = ", ".join(str(b) for b in bases) or "nowhere"
            extra = f", and under --images {self.images}" if self.images is not None else "; give --images DIR"
            raise fail(file, record, f"image file not found: {name} (looked in {where}{extra})")
        return found
