"""A merchant's branding files (logo, favicon): read only from its own folder, typed by content.

Everything under ``config/merchants/<slug>/`` is the merchant's, so untrusted, and may
change at any moment after its YAML was checked. Every read, ``portico check``'s, each
request's and the invoice PDF's, therefore:

* stays inside the merchant's own folder: the path is checked lexically and resolved,
  then opened one component at a time relative to the folder with ``O_NOFOLLOW`` (a
  symbolic link anywhere on the way, even one swapped in after the check, is refused,
  never followed), ``O_NONBLOCK`` (a FIFO cannot hang a worker), and must be a regular
  file of at most :data:`MAX_ASSET_BYTES`;
* decides the type by parsing the bytes, never by the name: PNG, JPEG, WebP and ICO are
  opened and verified by Pillow; anything else must parse as an SVG document and is
  served sanitized (:mod:`app.config.svg`). Whatever is neither is refused, so an
  ``.html`` "logo" or a ``.js`` favicon can never be served as a page or a script.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import stat
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from PIL import Image, UnidentifiedImageError

from app.config.svg import SvgRefused, sanitize_svg

MAX_ASSET_BYTES = 2 * 1024 * 1024
MAX_NAME_BYTES = 255
MAX_PIXELS = 40_000_000
KINDS = ("png", "jpeg", "webp", "ico", "svg")
MEDIA_TYPES = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "ico": "image/vnd.microsoft.icon",
    "svg": "image/svg+xml",
}
_PILLOW_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp", "ICO": "ico"}
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x00\x00\x01\x00", "ICO"),
)
NOT_AN_IMAGE = "is not a PNG, JPEG, WebP, ICO or SVG image"


class AssetRefused(Exception):
    """The file cannot be used or served; the message completes ``'<path>' …``."""


class AssetMissing(AssetRefused):
    """No file at that path."""


@dataclass(frozen=True)
class Asset:
    kind: str  # one of KINDS
    body: bytes  # what is served: the file's bytes, or the sanitized SVG
    digest: str  # of ``body``: the ETag
    removed: tuple[str, ...] = ()  # what the SVG sanitizer took out

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.kind]


def location(merchants_dir: Path, relative: str, slug: str | None) -> tuple[str, ...]:
    """The path components of ``relative`` (``<slug>/…``), or :class:`AssetRefused`.

    ``slug`` is the merchant's; ``None`` takes the first component as the folder
    (the invoice PDF, whose config passed ``portico check`` with its slug)."""
    if "\x00" in relative:
        raise AssetRefused("is not a usable file path: embedded null byte")
    pure = PurePosixPath(relative)
    if any(len(os.fsencode(part)) > MAX_NAME_BYTES for part in pure.parts):
        raise AssetRefused(f"is not a usable file path: {os.strerror(errno.ENAMETOOLONG)}")
    normal = PurePosixPath(os.path.normpath(relative))
    root = merchants_dir.resolve()
    try:
        resolved = (merchants_dir / relative).resolve()
    except (OSError, ValueError, RuntimeError) as error:  # a loop, unreadable
        raise AssetRefused(f"is not a usable file path: {_reason(error)}") from None
    if (
        pure.is_absolute()
        or normal.parts[:1] in ((), ("..",), (".",))
        or not resolved.is_relative_to(root)
    ):
        raise AssetRefused("points outside the merchants folder")
    folder = slug or normal.parts[0]
    if normal.parts[0] != folder or len(normal.parts) < 2:
        raise AssetRefused(
            f"is not in this merchant's own folder: put it under '{folder}/' "
            f"(config/merchants/{folder}/)"
        )
    if not resolved.is_relative_to(root / folder):
        raise AssetRefused(
            f"is a symbolic link (or passes through one) out of '{folder}/': "
            "put the file itself there"
        )
    return normal.parts


def read_file(merchants_dir: Path, parts: tuple[str, ...]) -> bytes:
    """The bytes of ``merchants_dir/<parts>``, never through a symbolic link."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
    opened: list[int] = []
    try:
        directory = os.open(merchants_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        opened.append(directory)
        for part in parts[:-1]:
            directory = _open_at(part, flags | os.O_DIRECTORY, directory)
            opened.append(directory)
        fd = _open_at(parts[-1], flags | os.O_NONBLOCK, directory)
        opened.append(fd)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise AssetRefused("is not a regular file")
        if info.st_size > MAX_ASSET_BYTES:
            raise AssetRefused(f"is larger than {MAX_ASSET_BYTES // (1024 * 1024)} MiB")
        chunks, size = [], 0
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_ASSET_BYTES:  # grew since fstat
                raise AssetRefused(f"is larger than {MAX_ASSET_BYTES // (1024 * 1024)} MiB")
        return b"".join(chunks)
    except OSError as error:
        raise AssetRefused(f"is not a usable file path: {_reason(error)}") from None
    finally:
        for handle in reversed(opened):
            os.close(handle)


def _open_at(name: str, flags: int, directory: int) -> int:
    try:
        return os.open(name, flags, dir_fd=directory)
    except FileNotFoundError:
        raise AssetMissing("does not exist") from None
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
            try:
                link = stat.S_ISLNK(os.lstat(name, dir_fd=directory).st_mode)
            except OSError:
                link = False
            if link:
                raise AssetRefused(
                    "is a symbolic link (or passes through one): put the file itself there"
                ) from None
        raise


def identify(data: bytes) -> Asset:
    """What ``data`` is, decided by parsing it; :class:`AssetRefused` for anything else."""
    digest = hashlib.sha256(data).hexdigest()
    with _cache_lock:
        if (found := _cache.get(digest)) is not None:
            _cache.move_to_end(digest)
            return found
    asset = _identify(data, digest)
    with _cache_lock:
        _cache[digest] = asset
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return asset


_CACHE_SIZE = 64
_cache: OrderedDict[str, Asset] = OrderedDict()
_cache_lock = threading.Lock()


def _identify(data: bytes, digest: str) -> Asset:
    head = data[:16]
    pillow = next((fmt for magic, fmt in _MAGIC if head.startswith(magic)), None)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        pillow = "WEBP"
    if pillow is not None:
        return Asset(_raster(data, pillow), data, digest)
    try:
        clean = sanitize_svg(data)
    except SvgRefused as refused:
        raise AssetRefused(f"{NOT_AN_IMAGE} ({refused})") from None
    return Asset("svg", clean.body, hashlib.sha256(clean.body).hexdigest(), clean.removed)


def _raster(data: bytes, expected: str) -> str:
    """Pillow opens the header and verifies the data of the format the magic bytes claim."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[expected]) as image:
                kind = _PILLOW_FORMATS[image.format or ""]
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise AssetRefused(
                        f"is too large an image ({width}×{height} pixels; a logo needs far fewer)"
                    )
                image.verify()
    except AssetRefused:
        raise
    except UnidentifiedImageError:
        raise AssetRefused(f"{NOT_AN_IMAGE} (a damaged {expected} file)") from None
    except (
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
        KeyError,
        EOFError,
    ) as error:
        raise AssetRefused(f"{NOT_AN_IMAGE} (a damaged {expected} file: {error})") from None
    return kind


def load_asset(merchants_dir: Path, relative: str, slug: str | None) -> Asset:
    """The merchant's file ``relative`` (``<slug>/…``), read safely and typed by content."""
    return identify(read_file(merchants_dir, location(merchants_dir, relative, slug)))


def _reason(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error)
