"""A ZIP of images with one folder per class (``cats/1.jpg``, ``dogs/7.png``...).

Nothing is extracted to disk: members are read into memory one at a time and decoded with
Pillow. Archives come from strangers, so before reading anything we refuse path tricks
(``..``, absolute paths), too many entries and too large a declared unpacked size; while
reading we cap the bytes actually taken, in case the headers lie (zip bombs).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np

from designer.text import over_limit

from .types import MAX_UNPACKED_BYTES, MAX_ZIP_FILES, DataError, DatasetInfo, Raw
from .uploads import MIN_ROWS, check_size

MAX_SIDE = 64  # images are shrunk to fit this: enough to learn from, small enough for a CPU
MAX_PIXELS = 4096 * 4096  # one image larger than this is not a training sample
JUNK = {"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini"}
GREY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}


def _parts(entry: str, archive: str) -> list[str]:
    name = entry.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise DataError(f"'{archive}' contains an absolute path '{entry}': refused")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise DataError(
            f"'{archive}' contains an entry that points outside it ('{entry}'): refused"
        )
    return parts


def _is_junk(parts: list[str]) -> bool:
    # Finder and Explorer litter archives with metadata; hidden files are never samples.
    return any(p in JUNK or p.startswith(".") for p in parts)


class _Budget:
    """Bytes we are still willing to unpack, counted from what is actually read."""

    def __init__(self, archive: str) -> None:
        self.left = MAX_UNPACKED_BYTES
        self.archive = archive

    def read(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
        want = min(info.file_size, self.left) + 1  # one byte more reveals a lying header
        try:
            with zf.open(info) as f:
                data = f.read(want)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as e:
            raise DataError(f"cannot read '{info.filename}' in '{self.archive}': {e}") from e
        if len(data) > info.file_size or len(data) > self.left:
            raise DataError(f"'{self.archive}' unpacks to more than it declares: refused")
        self.left -= len(data)
        return data


def _open(data: bytes, member: str, archive: str):
    from PIL import Image, UnidentifiedImageError

    try:
        img = Image.open(io.BytesIO(data))
        width, height = img.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise DataError(f"'{member}' in '{archive}' is not an image Pillow can read") from None
    if width * height > MAX_PIXELS:
        raise DataError(f"'{member}' in '{archive}' is {width}x{height} pixels; too large")
    return img


def _target_size(sizes: Counter) -> tuple[int, int]:
    (width, height), _ = sizes.most_common(1)[0]
    scale = min(1.0, MAX_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def read_image_zip(path: str | Path) -> Raw:
    path = Path(path)
    check_size(path)
    archive = path.name
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise DataError(f"'{archive}' is not a readable ZIP file") from e
    with zf:
        members = [i for i in zf.infolist() if not i.is_dir()]
        if len(members) > MAX_ZIP_FILES:
            raise DataError(f"'{archive}' holds {len(members)} files; the limit is {MAX_ZIP_FILES}")
        declared = sum(i.file_size for i in members)
        if declared > MAX_UNPACKED_BYTES:
            size, limit = over_limit(declared, MAX_UNPACKED_BYTES)
            raise DataError(f"'{archive}' unpacks to {size}; the limit is {limit}")
        # Check every name before reading any byte.
        entries = [(_parts(i.filename, archive), i) for i in members]
        entries = [(p, i) for p, i in entries if not _is_junk(p)]
        # "animals/cats/1.png": a single wrapping folder is not a class, strip it.
        while (
            entries and all(len(p) > 2 for p, _ in entries) and len({p[0] for p, _ in entries}) == 1
        ):
            entries = [(p[1:], i) for p, i in entries]
        loose = next(("/".join(p) for p, _ in entries if len(p) < 2), None)
        if loose:
            raise DataError(
                f"'{loose}' in '{archive}' is not in a class folder: put each image in a folder "
                "named after its class (cats/1.png, dogs/2.png)"
            )
        classes = sorted({p[0] for p, _ in entries})
        if len(classes) < 2:
            found = f"only '{classes[0]}'" if classes else "none"
            raise DataError(f"'{archive}' needs at least two class folders; found {found}")
        if len(entries) < MIN_ROWS:
            raise DataError(
                f"'{archive}' has {len(entries)} images; at least {MIN_ROWS} are needed"
            )

        # Pass 1 reads headers only (cheap) to choose one size and one colour mode for all.
        budget = _Budget(archive)
        sizes: Counter = Counter()
        grey = True
        for parts, info in entries:
            img = _open(budget.read(zf, info), "/".join(parts), archive)
            sizes[img.size] += 1
            grey = grey and img.mode in GREY_MODES
        width, height = _target_size(sizes)
        mode = "L" if grey else "RGB"

        # Pass 2 decodes and shrinks one image at a time, so memory holds only small arrays.
        budget = _Budget(archive)
        x = np.empty((len(entries), height, width, 1 if grey else 3), dtype=np.uint8)
        y = np.empty(len(entries), dtype=np.int64)
        for k, (parts, info) in enumerate(entries):
            member = "/".join(parts)
            img = _open(budget.read(zf, info), member, archive)
            try:
                img = img.convert(mode)
                if img.size != (width, height):
                    img = img.resize((width, height), resample=2)  # 2 = bilinear
                pixels = np.asarray(img, dtype=np.uint8)
            except (OSError, ValueError, SyntaxError):
                raise DataError(
                    f"'{member}' in '{archive}' is damaged and cannot be decoded"
                ) from None
            x[k] = pixels[..., None] if grey else pixels
            y[k] = classes.index(parts[0])

    warnings = []
    if len(sizes) > 1 or (width, height) not in sizes:
        warnings.append(f"images of {len(sizes)} different sizes were resized to {width}x{height}")
    info = DatasetInfo(
        id="upload",
        name=archive,
        description=f"{len(y)} images in {len(classes)} classes, {width}x{height} "
        f"{'grey' if grey else 'colour'}",
        task="classification",
        input_shape=x.shape[1:],
        class_names=classes,
        source="upload",
        n_samples=len(y),
        kind="image",
    )
    return Raw(x, y, info, pixel_max=255.0, warnings=warnings)
