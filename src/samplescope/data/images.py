"""Image folders: ``ROOT/<class name>/<image files>`` (Pillow), one sub-folder per class.

- **Classes**: the sub-folders of ``ROOT`` in sorted order (hidden ones, starting with ``.``,
  skipped); files directly in ``ROOT`` are ignored. Images are searched recursively inside
  each class folder, sorted by path; the sample ids follow that order (class by class).
- **Files**: ``.png``, ``.jpg``, ``.jpeg`` (also ``.bmp``, ``.gif``, ``.tif``, ``.tiff``,
  ``.webp``); hidden files are skipped; any other file, or an image Pillow cannot decode, is a
  ``ValueError`` naming the file.
- **Mode**: every image becomes grayscale (``L``) or ``RGB``, whichever the majority is
  (a tie keeps colour); colour images in a grayscale set are converted to luminance, gray
  images in a colour set are replicated to three channels, alpha is dropped; 16-bit and
  32-bit grayscale are scaled by 65535.
- **Size**: every image is resized (bilinear) to the most common ``(width, height)``.
- **Values**: float32 in [0, 1], layout ``(N, C, H, W)`` with ``C`` = 1 or 3.

``UserData.encoding`` records ``mode``, ``size`` (H, W) and how many images were
``converted`` / ``resized``; ``UserData.files`` the file of every sample.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from .split import DataSplit
from .user_data import UserData

__all__ = ["IMAGE_SUFFIXES", "read_image_folder"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
_GRAY_MODES = ("1", "L", "LA", "I", "I;16", "I;16L", "I;16B", "I;16N", "F")


def _image_module():
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - pillow is a dependency
        raise ImportError("reading image folders needs Pillow: pip install pillow") from exc
    return Image


def _class_files(root: Path) -> tuple[list[str], list[list[Path]]]:
    classes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        has_images = any(p.suffix.lower() in IMAGE_SUFFIXES for p in root.iterdir() if p.is_file())
        hint = (
            "; it holds images directly: put them in one sub-folder per class" if has_images else ""
        )
        raise ValueError(
            f"source: the folder {str(root)!r} has no class sub-folders (expected "
            f"ROOT/<class name>/<images>){hint}"
        )
    files: list[list[Path]] = []
    for c in classes:
        found = []
        for f in sorted(c.rglob("*")):
            rel = f.relative_to(c)
            if any(part.startswith(".") for part in rel.parts) or not f.is_file():
                continue
            if f.suffix.lower() not in IMAGE_SUFFIXES:
                raise ValueError(
                    f"source: {str(f)!r} is not an image file (expected {list(IMAGE_SUFFIXES)}); "
                    "remove it or move it out of the class folders"
                )
            found.append(f)
        if not found:
            raise ValueError(f"source: the class folder {str(c)!r} has no images")
        files.append(found)
    if len(classes) < 2:
        raise ValueError(
            f"source: a single class folder {classes[0].name!r} in {str(root)!r}; finding label "
            "issues needs at least 2 classes (one sub-folder each)"
        )
    return [c.name for c in classes], files


def _open(path: Path):
    Image = _image_module()
    try:
        im = Image.open(path)
        im.load()
    except Exception as exc:  # Pillow raises several kinds (UnidentifiedImageError, OSError, ...)
        raise ValueError(
            f"source: cannot read the image {str(path)!r} ({type(exc).__name__}: {exc})"
        ) from None
    return im


def _high_depth_to_float(im):
    """16/32-bit integer grayscale → a float (``F``) image in [0, 1] (scaled by 65535)."""
    if not im.mode.startswith("I"):
        return im
    Image = _image_module()
    a = np.clip(np.asarray(im, dtype=np.float64) / 65535.0, 0.0, 1.0)
    return Image.fromarray(a.astype(np.float32), mode="F")


def _to_array(im, mode: str) -> np.ndarray:
    """``(C, H, W)`` float32 in [0, 1] of a decoded image, in ``mode`` (``"L"`` or ``"RGB"``)."""
    if im.mode == "F":
        a = np.clip(np.asarray(im, dtype=np.float32), 0.0, 1.0)
        return np.repeat(a[None], 3, axis=0) if mode == "RGB" else a[None]
    conv = im.convert(mode)
    a = np.asarray(conv, dtype=np.float32) / 255.0
    return a[None] if a.ndim == 2 else np.moveaxis(a, -1, 0)


def read_image_folder(root: str | Path) -> UserData:
    """Read ``ROOT/<class>/<images>`` into :class:`UserData` (kind ``"image"``); see the module docstring."""
    Image = _image_module()
    root = Path(root)
    class_names, files = _class_files(root)
    flat = [(f, k) for k, fs in enumerate(files) for f in fs]
    images = []
    modes = Counter()
    sizes: Counter = Counter()
    for f, _ in flat:
        im = _open(f)
        modes["L" if im.mode in _GRAY_MODES else "RGB"] += 1
        im = _high_depth_to_float(im)
        images.append(im)
        sizes[im.size] += 1
    mode = "L" if modes["L"] > modes["RGB"] else "RGB"
    size = sizes.most_common(1)[0][0]  # (width, height)
    converted = resized = 0
    xs = []
    for im in images:
        if ("L" if im.mode in _GRAY_MODES else "RGB") != mode:
            converted += 1
        if im.size != size:
            resized += 1
            im = im.resize(size, Image.Resampling.BILINEAR)
        xs.append(_to_array(im, mode))
    x = np.stack(xs).astype(np.float32)
    y = np.array([k for _, k in flat], dtype=np.int64)
    return UserData(
        root.name,
        "image",
        DataSplit(x, y, np.arange(len(y), dtype=np.int64)),
        class_names,
        str(root),
        files=[str(f) for f, _ in flat],
        encoding={
            "layout": "NCHW",
            "mode": mode,
            "size": (size[1], size[0]),
            "converted": converted,
            "resized": resized,
        },
    )
