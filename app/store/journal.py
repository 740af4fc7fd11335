"""The journal of a big merchant data file: the commits made since it was last written whole.

Rewriting ``acme.json`` for every commit costs what the whole file costs: at
10 000 customers that is 68 MB to serialise and fsync in the committing
worker, and 68 MB to parse again in every other worker, for a sign-up that
changed 7 KB. So once a data file is big (:data:`app.store.datafiles.JOURNAL_FROM`)
a commit appends only what it changed to ``acme.json.journal`` and fsyncs
that; the journal is folded into the data file, written whole and atomically
as before, when it has grown to a quarter of the file's size. A commit then
costs what it changes, plus a share of the next fold: constant per commit on
average, as in SQLite's write-ahead log or Redis's append-only file.

The journal is a sequence of frames, each ``length | CRC-32 | payload``
(two big-endian 32-bit numbers, then orjson). The first frame, the header
``{"base": version}``, names the version of the data file it continues (the
data file keeps its version in the ``_journal`` table, see
:mod:`app.store.files`); a journal whose header names another version was
already folded in and means nothing. Every further frame is one commit,
``{table: {id: document or null}}``, ``null`` for a deleted document.

A ``kill -9`` in the middle of an append leaves a frame cut short or with a
wrong CRC at the end: that commit was never acknowledged, readers stop before
it and the next writer cuts it off before appending.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from app.store import files

_FRAME = struct.Struct(">II")  # payload length, CRC-32 of the payload

Changes = dict[str, dict[str, Any]]
"""One commit: table name → document id → the document now, or ``None`` if deleted."""


def frame(payload: Any) -> bytes:
    """``payload`` as one frame of a journal."""
    raw = orjson.dumps(payload)
    return _FRAME.pack(len(raw), zlib.crc32(raw)) + raw


def start(path: Path, version: str) -> files.Identity:
    """A new journal at ``path`` that continues data file version ``version``,
    replacing (atomically) whatever journal was there."""
    return files.atomic_write(path, frame({"base": version}))


def header_version(journal: BinaryIO) -> tuple[str | None, int]:
    """The data file version ``journal`` continues and where its commits start;
    ``(None, 0)`` for a journal without a complete header."""
    frames, end = _frames(journal.read(_FRAME.size + 256), limit=1)
    header = frames[0] if frames else None
    if not isinstance(header, dict) or not isinstance(header.get("base"), str):
        return None, 0
    return header["base"], end


def commits(journal: BinaryIO, offset: int, path: Path) -> tuple[list[Changes], int]:
    """The complete commits of ``journal`` from byte ``offset`` on, and where they end."""
    journal.seek(offset)
    found, length = _frames(journal.read())
    for changes in found:
        problem = files.shape_problem(changes, deleted_allowed=True)
        if problem:
            raise files.CorruptData(f"{path} is not a journal of this store: {problem}")
    return found, offset + length


def append(path: Path, end: int, record: bytes) -> int:
    """Append ``record`` (a :func:`frame`) at byte ``end`` of the journal and make it
    durable; returns the journal's new end.

    Whatever lies beyond ``end`` is the torn frame of a writer killed mid-append,
    which nobody acknowledged: it is cut off first. The caller holds the data
    file's write lock.
    """
    fd = os.open(path, os.O_WRONLY)
    try:
        if os.fstat(fd).st_size != end:
            os.ftruncate(fd, end)
        os.pwrite(fd, record, end)
        os.fdatasync(fd)  # the data and the new length; the name was made durable by start()
    finally:
        os.close(fd)
    return end + len(record)


def _frames(raw: bytes, limit: int | None = None) -> tuple[list[Any], int]:
    """The payloads of the complete, intact frames at the start of ``raw``, and their length."""
    found: list[Any] = []
    position = 0
    while limit is None or len(found) < limit:
        if len(raw) - position < _FRAME.size:
            break
        length, crc = _FRAME.unpack_from(raw, position)
        payload = raw[position + _FRAME.size : position + _FRAME.size + length]
        if len(payload) < length or zlib.crc32(payload) != crc:
            break
        found.append(orjson.loads(payload))
        position += _FRAME.size + length
    return found, position
