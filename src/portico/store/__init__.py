"""Storage: protocols the services use, and their backends.

    services ──► Database ──► transaction() / snapshot() ──► records, log_events
             ──► DurableQueue (async invocations, retries, dead letters)
             ──► BlobStore (code archives by SHA-256) ──► extract_zip ──► code folders

One interface, two backends: SQLite (`portico.store.sqlite`) now; PostgreSQL for clusters
later, passing the same contract tests. Everything here is synchronous and thread-safe; an
asyncio caller runs store work through `asyncio.to_thread`.
"""

from portico.store.archives import MAX_UNZIPPED_SIZE, ArchiveSummary, check_zip, extract_zip
from portico.store.blobs import BlobRef, BlobStore, FileBlobStore, code_sha256, hex_digest
from portico.store.clock import Clock, ManualClock, SystemClock
from portico.store.database import Database, Transaction
from portico.store.errors import (
    ArchiveError,
    ArchiveTooLarge,
    BlobNotFound,
    RecordConflict,
    RecordExists,
    StoreError,
)
from portico.store.log_events import LogCursor, LogEventLike, LogEventStore, StoredLogEvent
from portico.store.queue import (
    Backoff,
    Claimed,
    DeadLetter,
    DurableQueue,
    FailOutcome,
    QueueDepth,
)
from portico.store.records import JsonObject, Record, RecordKind, RecordStore, Versioned

__all__ = [
    "MAX_UNZIPPED_SIZE",
    "ArchiveError",
    "ArchiveSummary",
    "ArchiveTooLarge",
    "Backoff",
    "BlobNotFound",
    "BlobRef",
    "BlobStore",
    "Claimed",
    "Clock",
    "Database",
    "DeadLetter",
    "DurableQueue",
    "FailOutcome",
    "FileBlobStore",
    "JsonObject",
    "LogCursor",
    "LogEventLike",
    "LogEventStore",
    "ManualClock",
    "QueueDepth",
    "Record",
    "RecordConflict",
    "RecordExists",
    "RecordKind",
    "RecordStore",
    "StoreError",
    "StoredLogEvent",
    "SystemClock",
    "Transaction",
    "Versioned",
    "check_zip",
    "code_sha256",
    "extract_zip",
    "hex_digest",
]
