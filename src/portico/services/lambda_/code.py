"""Function code: zip archives kept content-addressed, unpacked once per digest."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from portico.services.lambda_.errors import InvalidParameterValueException
from portico.services.lambda_.models import Code
from portico.store import ArchiveError, BlobStore, check_zip, extract_zip


class CodeStore:
    def __init__(self, blobs: BlobStore, code_root: Path) -> None:
        self._blobs = blobs
        self._root = code_root
        self._folders: dict[str, Path] = {}  # digest -> unpacked folder (they never change)

    def ingest(self, code: dict[str, Any]) -> Code:
        """Store the code a CreateFunction/UpdateFunctionCode names; returns its identity."""
        data = code.get("ZipFile")
        if data is None:
            if code.get("S3Bucket") or code.get("ImageUri"):
                raise InvalidParameterValueException(
                    "This server takes function code as a ZipFile; fetching it from S3 or "
                    "a container image is not supported."
                )
            raise InvalidParameterValueException("Please provide a source for function code.")
        try:
            check_zip(data)
        except ArchiveError as exc:
            raise InvalidParameterValueException(str(exc)) from None
        ref = self._blobs.put(data)
        return Code(digest=ref.digest, sha256=ref.code_sha256, size=ref.size)

    async def folder(self, code: Code) -> Path:
        """The unpacked code (unpacked on first use)."""
        known = self._folders.get(code.digest)
        if known is not None:
            return known
        path = self._root / code.digest
        if not path.is_dir():
            path = await asyncio.to_thread(extract_zip, self._blobs, code.digest, self._root)
        self._folders[code.digest] = path
        return path
