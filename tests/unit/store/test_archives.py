from __future__ import annotations

import io
import os
import stat
import threading
import zipfile
from pathlib import Path

import pytest

from portico.store import (
    ArchiveError,
    ArchiveTooLarge,
    FileBlobStore,
    check_zip,
    extract_zip,
)

Entry = tuple[str, bytes, int]  # name, content, Unix mode (with its file type bits)
FILE, EXEC, LINK, DIR = 0o100644, 0o100755, 0o120777, 0o040755


def make_zip(*entries: Entry) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content, mode in entries:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()


@pytest.fixture
def blobs(tmp_path: Path) -> FileBlobStore:
    return FileBlobStore(tmp_path / "blobs")


@pytest.fixture
def code_root(tmp_path: Path) -> Path:
    return tmp_path / "code"


def unpack(blobs: FileBlobStore, code_root: Path, data: bytes, **limits: int) -> Path:
    return extract_zip(blobs, blobs.put(data).digest, code_root, **limits)


def leftovers(code_root: Path) -> list[str]:
    return sorted(path.name for path in code_root.iterdir()) if code_root.exists() else []


def test_unpacks_into_a_folder_named_by_digest(blobs: FileBlobStore, code_root: Path) -> None:
    data = make_zip(
        ("app.py", b"def handler(e, c): pass\n", FILE),
        ("pkg/", b"", DIR),
        ("pkg/mod/__init__.py", b"x = 1\n", FILE),
        ("./dotted.txt", b"dot", FILE),
    )
    digest = blobs.put(data).digest
    folder = extract_zip(blobs, digest, code_root)

    assert folder == code_root / digest
    assert (folder / "app.py").read_bytes() == b"def handler(e, c): pass\n"
    assert (folder / "pkg" / "mod" / "__init__.py").read_bytes() == b"x = 1\n"
    assert (folder / "dotted.txt").read_bytes() == b"dot"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755
    assert leftovers(code_root) == [digest], "no staging folder left behind"


def test_the_executable_bit_survives(blobs: FileBlobStore, code_root: Path) -> None:
    folder = unpack(
        blobs,
        code_root,
        make_zip(
            ("bootstrap", b"#!/bin/sh\necho hi\n", EXEC),
            ("bin/tool", b"#!/bin/sh\n", 0o100700),
            ("data.json", b"{}", FILE),
            ("secret", b"s", 0o100600),
        ),
    )
    assert os.access(folder / "bootstrap", os.X_OK)
    assert stat.S_IMODE((folder / "bootstrap").stat().st_mode) == 0o755
    assert stat.S_IMODE((folder / "bin" / "tool").stat().st_mode) == 0o755
    assert stat.S_IMODE((folder / "data.json").stat().st_mode) == 0o644
    assert stat.S_IMODE((folder / "secret").stat().st_mode) == 0o644


def test_unpacks_once(blobs: FileBlobStore, code_root: Path) -> None:
    digest = blobs.put(make_zip(("app.py", b"original", FILE))).digest
    folder = extract_zip(blobs, digest, code_root)
    (folder / "marker").write_text("still here")
    assert extract_zip(blobs, digest, code_root) == folder
    assert (folder / "marker").read_text() == "still here"


def test_concurrent_unpacking_of_one_digest_agrees(blobs: FileBlobStore, code_root: Path) -> None:
    files = [(f"f{i}.py", b"x" * 10_000, FILE) for i in range(50)]
    digest = blobs.put(make_zip(*files)).digest
    results: list[Path] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(extract_zip(blobs, digest, code_root))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert set(results) == {code_root / digest}
    assert leftovers(code_root) == [digest]
    assert len(list((code_root / digest).iterdir())) == 50


@pytest.mark.parametrize(
    "name", ["../evil.py", "pkg/../../evil.py", "/etc/evil.py", "a/b/../../../evil.py"]
)
def test_paths_leaving_the_folder_are_refused(
    blobs: FileBlobStore, code_root: Path, tmp_path: Path, name: str
) -> None:
    data = make_zip(("ok.py", b"", FILE), (name, b"pwned", FILE))
    with pytest.raises(ArchiveError, match="unsafe entry name"):
        unpack(blobs, code_root, data)
    with pytest.raises(ArchiveError):
        check_zip(data)
    assert leftovers(code_root) == []
    assert not (tmp_path / "evil.py").exists()


def test_a_zip_bomb_is_refused(blobs: FileBlobStore, code_root: Path) -> None:
    bomb = make_zip(("zeros", bytes(5_000_000), FILE))
    assert len(bomb) < 10_000
    with pytest.raises(ArchiveTooLarge, match="1000000 bytes"):
        unpack(blobs, code_root, bomb, max_size=1_000_000)
    with pytest.raises(ArchiveTooLarge):
        check_zip(bomb, max_size=1_000_000)
    assert leftovers(code_root) == []
    assert check_zip(bomb).unzipped_size == 5_000_000


def test_sizes_that_lie_are_refused(blobs: FileBlobStore, code_root: Path) -> None:
    honest = make_zip(("zeros", bytes(2_000_000), FILE))
    # Declare 10 bytes in both headers; the data still inflates to 2 MB.
    lying = honest.replace((2_000_000).to_bytes(4, "little"), (10).to_bytes(4, "little"))
    assert lying != honest
    assert check_zip(lying, max_size=1_000_000).unzipped_size == 10
    with pytest.raises(ArchiveError):
        unpack(blobs, code_root, lying, max_size=1_000_000)
    assert leftovers(code_root) == []


def test_what_is_not_a_zip_is_refused(blobs: FileBlobStore, code_root: Path) -> None:
    with pytest.raises(ArchiveError, match="Could not unzip"):
        unpack(blobs, code_root, b"PK\x03\x04 but not really a zip")
    with pytest.raises(ArchiveError, match="Could not unzip"):
        check_zip(b"")


def test_encrypted_entries_are_refused(blobs: FileBlobStore, code_root: Path) -> None:
    data = bytearray(make_zip(("app.py", b"x", FILE)))
    for header in (b"PK\x03\x04", b"PK\x01\x02"):  # set "encrypted" in both headers
        offset = data.index(header) + (6 if header == b"PK\x03\x04" else 8)
        data[offset] |= 0x1
    with pytest.raises(ArchiveError, match="encrypted"):
        unpack(blobs, code_root, bytes(data))


def test_clashing_entries_are_refused(blobs: FileBlobStore, code_root: Path) -> None:
    data = make_zip(("a", b"file", FILE), ("a/b", b"under a file", FILE))
    with pytest.raises(ArchiveError, match="clashes"):
        unpack(blobs, code_root, data)


def test_symlinks_inside_the_folder_are_kept(blobs: FileBlobStore, code_root: Path) -> None:
    folder = unpack(
        blobs,
        code_root,
        make_zip(
            ("lib/libfoo.so.1", b"ELF", FILE),
            ("lib/libfoo.so", b"libfoo.so.1", LINK),
            ("bin/libs", b"../lib", LINK),
        ),
    )
    assert (folder / "lib" / "libfoo.so").is_symlink()
    assert (folder / "lib" / "libfoo.so").read_bytes() == b"ELF"
    assert (folder / "bin" / "libs" / "libfoo.so.1").read_bytes() == b"ELF"


@pytest.mark.parametrize(
    "links",
    [
        [("etc", b"/etc")],
        [("up", b"../..")],
        [("deep/up", b"../../outside")],
        # Each fine alone; together `a` leads to `./..`.
        [("a", b"c/.."), ("c", b".")],
        [("d", b"../"), ("d/x", b"y")],
    ],
)
def test_symlinks_leading_outside_are_refused(
    blobs: FileBlobStore, code_root: Path, links: list[tuple[str, bytes]]
) -> None:
    data = make_zip(("app.py", b"", FILE), *((name, target, LINK) for name, target in links))
    with pytest.raises(ArchiveError, match="symlink"):
        unpack(blobs, code_root, data)
    assert leftovers(code_root) == []


def test_no_link_is_written_through_another(
    blobs: FileBlobStore, code_root: Path, tmp_path: Path
) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    # Unpacked at code_root/.<staging>/, so `d` leads to tmp_path/victim.
    data = make_zip(("d", b"../../victim", LINK), ("d/planted", b"anything", LINK))
    with pytest.raises(ArchiveError, match="inside a symlink"):
        unpack(blobs, code_root, data)
    assert list(victim.iterdir()) == []


def test_check_zip_summarises(tmp_path: Path) -> None:
    data = make_zip(("a", b"12345", FILE), ("b/", b"", DIR), ("b/c", b"678", EXEC))
    summary = check_zip(data)
    assert (summary.entries, summary.unzipped_size) == (3, 8)
    with io.BytesIO(data) as file:
        assert check_zip(file) == summary
