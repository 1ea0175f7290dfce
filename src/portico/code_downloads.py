"""Code archives served at the signed links GetFunction and GetLayerVersion hand out (see
`portico.services.lambda_.downloads`), answering as S3 answers a presigned URL:

    GET /_portico/code/<digest>?Expires=...&Signature=...
      -> signature wrong, or the link changed       403 SignatureDoesNotMatch
      -> signed here, but expired                   403 AccessDenied "Request has expired"
      -> no such archive (any more)                 404 NoSuchKey
      -> 200 application/zip, streamed
"""

from __future__ import annotations

import asyncio
import uuid
from typing import BinaryIO
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from portico.aws.asgi import Receive, Scope, Send
from portico.services.lambda_.downloads import (
    PATH_PREFIX,
    DownloadLinks,
    LinkExpired,
    SignatureMismatch,
)
from portico.store import BlobNotFound, BlobStore

CHUNK_BYTES = 1024 * 1024
_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)


class CodeDownloads:
    """The ASGI callable for `/_portico/code/...`; `matches` tells the composition root which
    requests are for it."""

    def __init__(self, links: DownloadLinks, blobs: BlobStore) -> None:
        self._links = links
        self._blobs = blobs

    @staticmethod
    def matches(scope: Scope) -> bool:
        return scope["type"] == "http" and str(scope["path"]).startswith(PATH_PREFIX)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        try:
            self._links.check(
                scope["method"], path, query.get("Expires", ""), query.get("Signature", "")
            )
        except SignatureMismatch:
            await _error(send, 403, "SignatureDoesNotMatch", _SIGNATURE_MISMATCH)
            return
        except LinkExpired:
            await _error(send, 403, "AccessDenied", "Request has expired")
            return
        try:
            archive = self._blobs.open(path.removeprefix(PATH_PREFIX))
        except (BlobNotFound, ValueError):
            await _error(send, 404, "NoSuchKey", "The specified key does not exist.")
            return
        with archive:
            await _stream(send, archive)


async def _stream(send: Send, archive: BinaryIO) -> None:
    size = archive.seek(0, 2)
    archive.seek(0)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/zip"),
                (b"content-length", str(size).encode()),
            ],
        }
    )
    while True:
        chunk = await asyncio.to_thread(archive.read, CHUNK_BYTES)
        more = len(chunk) == CHUNK_BYTES
        await send({"type": "http.response.body", "body": chunk, "more_body": more})
        if not more:
            return


async def _error(send: Send, status: int, code: str, message: str) -> None:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>"
        f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>"
    ).encode()
    headers = [(b"content-type", b"application/xml"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
