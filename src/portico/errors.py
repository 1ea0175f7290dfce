"""AWS-shaped errors: raised by the domain, serialized in one place by the protocol layer."""

from __future__ import annotations

from typing import Any, ClassVar


class AwsError(Exception):
    """One subclass per AWS error code; `fields` carries the error shape's extra members."""

    code: ClassVar[str] = "ServiceException"
    status_code: ClassVar[int] = 500
    sender_fault: ClassVar[bool] = False

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
