"""Download links and the endpoint serving them, in-process: a real blob store and key file in
tmp_path, a clock moved by the test."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest

from portico.code_downloads import CHUNK_BYTES, CodeDownloads
from portico.services.lambda_.downloads import (
    KEY_FILENAME,
    LIFETIME_SECONDS,
    DownloadKeyError,
    DownloadLinks,
)
from portico.store import FileBlobStore, ManualClock

BASE_URL = "http://127.0.0.1:4566"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_700_000_000.0)


@pytest.fixture
def blobs(tmp_path: Path) -> FileBlobStore:
    return FileBlobStore(tmp_path / "blobs")


@pytest.fixture
def links(tmp_path: Path, clock: ManualClock) -> DownloadLinks:
    return DownloadLinks(tmp_path / KEY_FILENAME, clock.now)


async def fetch(
    links: DownloadLinks, blobs: FileBlobStore, url: str, method: str = "GET"
) -> httpx.Response:
    transport = httpx.ASGITransport(app=CodeDownloads(links, blobs))
    async with httpx.AsyncClient(transport=transport) as client:
        return await client.request(method, url)


def error_code(response: httpx.Response) -> tuple[int, str]:
    code = response.text.partition("<Code>")[2].partition("</Code>")[0]
    return response.status_code, code


@pytest.mark.asyncio
async def test_a_link_serves_its_blob_for_ten_minutes(
    links: DownloadLinks, blobs: FileBlobStore, clock: ManualClock
) -> None:
    archive = bytes(range(256)) * (CHUNK_BYTES // 256 * 2 + 3)  # more than two chunks
    digest = blobs.put(archive).digest
    url = links.link(BASE_URL, digest)
    assert url.startswith(f"{BASE_URL}/_portico/code/{digest}?Expires=1700000600&Signature=")

    served = await fetch(links, blobs, url)
    assert served.status_code == 200
    assert served.headers["content-length"] == str(len(archive))
    assert served.content == archive

    clock.advance(LIFETIME_SECONDS - 1)
    assert (await fetch(links, blobs, url)).status_code == 200
    clock.advance(1)
    expired = await fetch(links, blobs, url)
    assert error_code(expired) == (403, "AccessDenied")
    assert "<Message>Request has expired</Message>" in expired.text


@pytest.mark.asyncio
async def test_links_need_this_servers_key(
    tmp_path: Path, links: DownloadLinks, blobs: FileBlobStore, clock: ManualClock
) -> None:
    digest = blobs.put(b"PK zip bytes").digest
    url = links.link(BASE_URL, digest)
    key = tmp_path / KEY_FILENAME
    assert stat.S_IMODE(key.stat().st_mode) == 0o600

    # The same key after a restart: links made before still work.
    restarted = DownloadLinks(key, clock.now)
    assert (await fetch(restarted, blobs, url)).status_code == 200
    stranger = DownloadLinks(tmp_path / "other.key", clock.now)
    assert error_code(await fetch(stranger, blobs, url)) == (403, "SignatureDoesNotMatch")
    assert (await fetch(links, blobs, url, method="HEAD")).status_code == 403  # signed for GET
    assert error_code(await fetch(links, blobs, url.replace("Expires=", "Expires=1"))) == (
        403,
        "SignatureDoesNotMatch",
    )


@pytest.mark.asyncio
async def test_a_blob_gone_since_is_no_such_key(links: DownloadLinks, blobs: FileBlobStore) -> None:
    digest = blobs.put(b"PK soon gone").digest
    url = links.link(BASE_URL, digest)
    blobs.delete(digest)

    assert error_code(await fetch(links, blobs, url)) == (404, "NoSuchKey")


def test_the_key_file_is_checked(tmp_path: Path, clock: ManualClock) -> None:
    key = tmp_path / KEY_FILENAME
    key.write_text("not-a-key\n")

    with pytest.raises(DownloadKeyError, match="is not base64 of 32 bytes") as raised:
        DownloadLinks(key, clock.now).link(BASE_URL, "0" * 64)

    assert "not-a-key" not in str(raised.value)
