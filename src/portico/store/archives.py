"""Zip code archives: checked when uploaded, unpacked once per digest when first run.

    target_root/
      <hex digest>/          the unpacked archive, complete or absent
      .<digest[:12]>-xxxx/   an unpacking in progress, renamed into place when done

An archive is refused (`ArchiveError`) when it is not a zip, has encrypted entries, names a
path outside its folder (absolute, or through `..`), holds a symlink that resolves outside
it, or unpacks to more than `max_size` bytes (`ArchiveTooLarge`; AWS Lambda's limit for
unzipped code is 250 MiB). Files keep their executable bit (so `bootstrap` runs) and are
otherwise normalised to 0644/0755.

The unpacked folders are a cache of the blobs: not fsynced, and rebuilt on demand. A server
may clear `target_root` when it starts (after a power loss, or to drop staging folders left by
a process killed mid-unpack).
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from portico.store.blobs import BlobStore, check_digest
from portico.store.errors import ArchiveError, ArchiveTooLarge, StoreError

MAX_UNZIPPED_SIZE = 262_144_000
_CHUNK = 1 << 20
_MAX_LINK_TARGET = 4096
_UNIX = 3  # ZipInfo.create_system of archives whose external_attr holds a Unix mode


@dataclass(frozen=True, slots=True)
class ArchiveSummary:
    entries: int
    unzipped_size: int


@dataclass(frozen=True, slots=True)
class _Entry:
    info: zipfile.ZipInfo
    parts: tuple[str, ...]

    @property
    def mode(self) -> int:
        return self.info.external_attr >> 16

    @property
    def is_symlink(self) -> bool:
        return self.info.create_system == _UNIX and stat.S_ISLNK(self.mode)


def check_zip(source: bytes | BinaryIO, *, max_size: int = MAX_UNZIPPED_SIZE) -> ArchiveSummary:
    """The checks that need no unpacking (a zip, not encrypted, safe names, within the size
    limit): enough to refuse a bad upload at once. `extract_zip` checks the rest."""
    with _open_zip(source) as archive:
        entries = _plan(archive, max_size)
        return ArchiveSummary(len(entries), sum(entry.info.file_size for entry in entries))


def extract_zip(
    blobs: BlobStore, digest: str, target_root: Path, *, max_size: int = MAX_UNZIPPED_SIZE
) -> Path:
    """Unpack blob `digest` into `target_root/<digest>/`, once; later calls return the folder."""
    final = target_root / check_digest(digest)
    if final.is_dir():
        return final
    try:
        target_root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{digest[:12]}-", dir=target_root))
    except OSError as exc:
        raise StoreError(f"cannot prepare {target_root}: {exc}") from exc
    try:
        with blobs.open(digest) as file, _open_zip(file) as archive:
            _unpack(archive, staging, max_size)
        staging.chmod(0o755)
        _move_into_place(staging, final)
    except OSError as exc:
        raise StoreError(f"cannot unpack blob {digest} into {target_root}: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def _move_into_place(staging: Path, final: Path) -> None:
    try:
        staging.rename(final)
    except OSError:
        if not final.is_dir():  # not a concurrent unpacking of the same digest that won
            raise


@contextmanager
def _open_zip(source: bytes | BinaryIO) -> Iterator[zipfile.ZipFile]:
    file = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        with zipfile.ZipFile(file) as archive:
            yield archive
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise _refused(str(exc)) from exc


def _refused(detail: str) -> ArchiveError:
    return ArchiveError(f"Could not unzip uploaded file: {detail}")


def _plan(archive: zipfile.ZipFile, max_size: int) -> list[_Entry]:
    entries: list[_Entry] = []
    declared = 0
    for info in archive.infolist():
        if info.flag_bits & 0x1:
            raise _refused(f"{info.filename!r} is encrypted")
        entries.append(_Entry(info, _safe_parts(info.filename)))
        declared += info.file_size
        if declared > max_size:
            raise ArchiveTooLarge(f"Unzipped size must be smaller than {max_size} bytes")
    return entries


def _safe_parts(name: str) -> tuple[str, ...]:
    path = PurePosixPath(name)
    parts = tuple(part for part in path.parts if part != ".")
    if path.is_absolute() or "\x00" in name or ".." in parts:
        raise _refused(f"unsafe entry name {name!r}")
    return parts


def _unpack(archive: zipfile.ZipFile, root: Path, max_size: int) -> None:
    # `_plan` bounds the declared sizes, and zipfile never inflates an entry past its declared
    # size (it stops there and fails the CRC check), so the limit holds for what is written.
    links: list[_Entry] = []
    for entry in _plan(archive, max_size):
        destination = root.joinpath(*entry.parts)
        try:
            if entry.info.is_dir() or not entry.parts:
                destination.mkdir(mode=0o755, parents=True, exist_ok=True)
            elif entry.is_symlink:
                links.append(entry)
            else:
                _write_file(archive, entry, destination)
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            raise _refused(f"{entry.info.filename!r} clashes with another entry") from None
    # Links last, so that no file is written through one; judged once all exist, since a
    # later link can change where an earlier one leads.
    made = [_make_link(archive, entry, root) for entry in links]
    real_root = Path(os.path.realpath(root))
    for link, entry in zip(made, links, strict=True):
        if not Path(os.path.realpath(link)).is_relative_to(real_root):
            raise _refused(f"symlink {entry.info.filename!r} leads outside the archive")


def _write_file(archive: zipfile.ZipFile, entry: _Entry, path: Path) -> None:
    path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    with archive.open(entry.info) as source, path.open("wb") as target:
        shutil.copyfileobj(source, target, _CHUNK)
    path.chmod(0o755 if entry.mode & 0o111 else 0o644)


def _make_link(archive: zipfile.ZipFile, entry: _Entry, root: Path) -> Path:
    name = entry.info.filename
    raw = archive.read(entry.info)
    try:
        target = raw.decode("utf-8") if len(raw) <= _MAX_LINK_TARGET else ""
    except UnicodeDecodeError:
        target = ""
    if not target or target.startswith("/") or "\x00" in target:
        raise _refused(f"unsafe symlink {name!r}")
    ancestors = (root.joinpath(*entry.parts[:depth]) for depth in range(1, len(entry.parts)))
    if any(ancestor.is_symlink() for ancestor in ancestors):
        raise _refused(f"{name!r} lies inside a symlink")
    link = root.joinpath(*entry.parts)
    try:
        link.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        link.symlink_to(target)
    except (FileExistsError, NotADirectoryError):
        raise _refused(f"{name!r} clashes with another entry") from None
    return link
