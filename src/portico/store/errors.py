"""What the store raises. Nothing from `sqlite3` (or a future driver) crosses this package.

These are internal errors, not AWS errors: a service catches the ones it expects
(`RecordExists` → `ResourceConflictException`, `ArchiveError` → `InvalidParameterValueException`)
and lets the rest reach the protocol layer, which answers with the service's internal error.
"""

from __future__ import annotations


class StoreError(Exception):
    """The storage backend failed: I/O, a locked or corrupt database, a newer schema."""


class RecordExists(StoreError):
    """`create` found a record under the same (scope, kind, name)."""


class RecordConflict(StoreError):
    """A conditional write found another version than the one it expected (or no record)."""


class BlobNotFound(StoreError):
    """No blob with that digest."""


class ArchiveError(StoreError):
    """A code archive is not a zip file this platform can safely unpack."""


class ArchiveTooLarge(ArchiveError):
    """A code archive unpacks to more bytes than the limit."""
