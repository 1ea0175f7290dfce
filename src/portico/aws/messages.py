"""An AWS request and response as the protocol layer sees them: bytes and headers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only headers; repeated headers joined with commas."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: dict[str, tuple[str, str]] = {}
        for name, value in items:
            key = name.lower()
            if key in self._items:
                value = f"{self._items[key][1]},{value}"
            self._items[key] = (name, value)

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _value in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items


@dataclass(frozen=True)
class AwsRequest:
    method: str
    path: str  # raw, as sent on the wire (percent-encoded)
    query: str  # raw, without '?'
    headers: Headers
    body: bytes = b""


@dataclass
class AwsResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
