"""Event invoke configs: retries, maximum event age and destinations of async invocations."""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass
from typing import Any

from portico.services.lambda_.events import DEFAULT_MAX_AGE, DEFAULT_RETRIES, EventPolicy
from portico.services.lambda_.validation import check_range
from portico.store import Database, RecordKind


@dataclass
class EventInvokeConfig:
    maximum_retry_attempts: int | None = None
    maximum_event_age: int | None = None
    on_success: str | None = None
    on_failure: str | None = None
    last_modified: float = 0.0

    def policy(self, timeout: float) -> EventPolicy:
        retries = self.maximum_retry_attempts
        age = self.maximum_event_age
        return EventPolicy(
            maximum_retry_attempts=DEFAULT_RETRIES if retries is None else retries,
            maximum_event_age=DEFAULT_MAX_AGE if age is None else age,
            on_success=self.on_success,
            on_failure=self.on_failure,
            timeout=timeout,
        )

    def describe(self, function_arn: str) -> dict[str, Any]:
        result: dict[str, Any] = {
            "FunctionArn": function_arn,
            "LastModified": datetime.datetime.fromtimestamp(self.last_modified, datetime.UTC),
            "DestinationConfig": {
                "OnSuccess": {"Destination": self.on_success} if self.on_success else {},
                "OnFailure": {"Destination": self.on_failure} if self.on_failure else {},
            },
        }
        if self.maximum_retry_attempts is not None:
            result["MaximumRetryAttempts"] = self.maximum_retry_attempts
        if self.maximum_event_age is not None:
            result["MaximumEventAgeInSeconds"] = self.maximum_event_age
        return result


CONFIGS = RecordKind(
    "lambda.event-invoke-config",
    dataclasses.asdict,
    lambda value: EventInvokeConfig(**value),
)


class EventInvokeConfigs:
    def __init__(self, database: Database) -> None:
        self._database = database

    def get(self, scope: str, function: str, qualifier: str) -> EventInvokeConfig | None:
        with self._database.snapshot() as tx:
            found = CONFIGS.get(tx.records, scope, f"{function}:{qualifier}")
        return None if found is None else found.value

    def save(
        self,
        scope: str,
        function: str,
        qualifier: str,
        params: dict[str, Any],
        replace: bool,
        now: float,
    ) -> EventInvokeConfig:
        """Put (replace: unset fields go back to defaults) or Update (keep them)."""
        check_range(params.get("MaximumRetryAttempts"), "maximumRetryAttempts", 0, 2)
        check_range(params.get("MaximumEventAgeInSeconds"), "maximumEventAgeInSeconds", 60, 21600)
        key = f"{function}:{qualifier}"
        with self._database.transaction() as tx:
            found = CONFIGS.get(tx.records, scope, key)
            config = EventInvokeConfig() if replace or found is None else found.value
            if "MaximumRetryAttempts" in params:
                config.maximum_retry_attempts = params["MaximumRetryAttempts"]
            if "MaximumEventAgeInSeconds" in params:
                config.maximum_event_age = params["MaximumEventAgeInSeconds"]
            destinations = params.get("DestinationConfig") or {}
            if "OnSuccess" in destinations:
                config.on_success = destinations["OnSuccess"].get("Destination") or None
            if "OnFailure" in destinations:
                config.on_failure = destinations["OnFailure"].get("Destination") or None
            config.last_modified = now
            CONFIGS.put(tx.records, scope, key, config)
            return config

    def delete(self, scope: str, function: str, qualifier: str) -> bool:
        with self._database.transaction() as tx:
            return CONFIGS.delete(tx.records, scope, f"{function}:{qualifier}")
