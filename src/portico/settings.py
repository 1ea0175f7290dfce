"""The one Settings object: built once from CLI flags and PORTICO_* variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_ACCOUNT_ID = "000000000000"
DEFAULT_REGION = "us-east-1"
_OFF = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 4566
    data_dir: Path = Path(".portico")
    account_id: str = DEFAULT_ACCOUNT_ID
    default_region: str = DEFAULT_REGION
    access_key_id: str | None = None
    secret_access_key: str | None = None
    idle_timeout: float = 600.0
    sandbox: bool = True  # confine execution environments (runtime/confinement.py)
    # Asynchronous invocations are retried after 1x, then 2x this (AWS: one minute).
    async_retry_base_seconds: float = 60.0
    # The account's HTTP API throttling quota in each Region: AWS's defaults, which AWS
    # raises on request (Service Quotas), as PORTICO_ACCOUNT_THROTTLE_RATE / _BURST do.
    account_throttle_rate: float = 10_000.0
    account_throttle_burst: int = 5_000
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] | None = None, **overrides: object
    ) -> Settings:
        """PORTICO_* variables, then explicit overrides (CLI flags) on top."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if "PORTICO_HOST" in env:
            values["host"] = env["PORTICO_HOST"]
        if "PORTICO_PORT" in env:
            values["port"] = int(env["PORTICO_PORT"])
        if "PORTICO_DATA_DIR" in env:
            values["data_dir"] = Path(env["PORTICO_DATA_DIR"])
        if "PORTICO_ACCOUNT_ID" in env:
            values["account_id"] = env["PORTICO_ACCOUNT_ID"]
        if "PORTICO_ACCESS_KEY_ID" in env:
            values["access_key_id"] = env["PORTICO_ACCESS_KEY_ID"]
        if "PORTICO_ASYNC_RETRY_BASE_SECONDS" in env:
            values["async_retry_base_seconds"] = float(env["PORTICO_ASYNC_RETRY_BASE_SECONDS"])
        if "PORTICO_ACCOUNT_THROTTLE_RATE" in env:
            values["account_throttle_rate"] = float(env["PORTICO_ACCOUNT_THROTTLE_RATE"])
        if "PORTICO_ACCOUNT_THROTTLE_BURST" in env:
            values["account_throttle_burst"] = int(env["PORTICO_ACCOUNT_THROTTLE_BURST"])
        if "PORTICO_SANDBOX" in env:
            values["sandbox"] = env["PORTICO_SANDBOX"].strip().lower() not in _OFF
        if "PORTICO_SECRET_ACCESS_KEY" in env:
            values["secret_access_key"] = env["PORTICO_SECRET_ACCESS_KEY"]
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)  # type: ignore[arg-type]
