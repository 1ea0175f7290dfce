"""What the runtime needs to know about a function, and how the runtime itself is tuned."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from types import MappingProxyType

PYTHON_RUNTIMES = frozenset(f"python3.{minor}" for minor in range(9, 15))
NODE_RUNTIMES = frozenset({"nodejs18.x", "nodejs20.x", "nodejs22.x"})
PROVIDED_RUNTIMES = frozenset({"provided", "provided.al2", "provided.al2023"})
RUNTIMES = PYTHON_RUNTIMES | NODE_RUNTIMES | PROVIDED_RUNTIMES

LOG_FORMATS = ("Text", "JSON")
LATEST = "$LATEST"


@dataclass(frozen=True)
class FunctionConfig:
    """One version of one function: code plus configuration. Immutable; a change is a new
    revision, and environments of one revision never serve another."""

    function_name: str
    handler: str
    code_dir: Path
    runtime: str = "python3.12"
    version: str = LATEST
    memory_size: int = 128
    timeout: float = 3.0
    environment: Mapping[str, str] = field(default_factory=dict)
    layers: tuple[Path, ...] = ()
    region: str = "us-east-1"
    account_id: str = "000000000000"
    log_format: str = "Text"
    application_log_level: str | None = None
    system_log_level: str | None = None
    log_group: str | None = None
    reserved_concurrency: int | None = None
    code_sha256: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "environment", MappingProxyType(dict(self.environment)))

    # Read on every invoke: computed once (the instance is frozen).
    @cached_property
    def function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    @cached_property
    def log_group_name(self) -> str:
        return self.log_group or f"/aws/lambda/{self.function_name}"

    @cached_property
    def revision(self) -> str:
        """Changes whenever anything an environment was built from changes."""
        values = {
            f.name: getattr(self, f.name) for f in fields(self) if f.name != "reserved_concurrency"
        }
        values["environment"] = dict(self.environment)
        encoded = json.dumps(values, sort_keys=True, default=str).encode()
        return hashlib.sha256(encoded).hexdigest()[:16]

    @cached_property
    def pool_key(self) -> tuple[str, str]:
        return (self.function_name, self.revision)


@dataclass(frozen=True)
class RuntimeSettings:
    """How the runtime runs: limits, reaping, the zygote. Built once, passed down."""

    state_dir: Path
    account_concurrency: int = 1000
    idle_timeout: float = 600.0
    init_timeout: float = 10.0
    fork_environments: bool = True
    preload_modules: tuple[str, ...] = ("boto3",)
    runtime_packages: tuple[str, ...] = ("boto3",)
    max_log_bytes_per_invoke: int = 16 * 1024 * 1024
    memory_check_interval: float = 0.01
    extra_environment: Mapping[str, str] = field(default_factory=dict)
    sandbox: bool = True  # confine environments (runtime/confinement.py) where the OS allows
