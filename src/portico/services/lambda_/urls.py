"""Function URLs: Create/Get/Update/Delete/ListFunctionUrlConfigs, and the lookup that routes
a request for `http://<url-id>.lambda-url.<region>.localhost:<port>/` to its function.

scope  = "<account>:<region>"  (as repository.py)
lambda.url     / <fn>:<qualifier>   -> UrlConfig   ($LATEST when unqualified, else an alias)
lambda.url-id  / <url-id>           -> UrlIndex    (scope "lambda-url": one namespace for all)

The two records change together, in one transaction. A URL whose function or alias went away
resolves to nothing (and `delete_function_urls` / `delete_alias_url` remove them with it).
"""

from __future__ import annotations

import asyncio
import datetime
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from portico.aws.errors import ValidationException
from portico.aws.handler import Operation, RequestContext
from portico.services.lambda_.attachments import ALIASES, attachment_key
from portico.services.lambda_.constraints import check_range, is_version
from portico.services.lambda_.errors import (
    ResourceConflictException,
    ResourceNotFoundException,
)
from portico.services.lambda_.models import LATEST
from portico.services.lambda_.names import function_arn
from portico.services.lambda_.paging import page
from portico.services.lambda_.references import requested, scope_for
from portico.services.lambda_.repository import FUNCTIONS, scope_of
from portico.store import Database, RecordKind, RecordStore

Params = dict[str, Any]
Result = dict[str, Any]

AUTH_TYPES = ("NONE", "AWS_IAM")
INVOKE_MODES = ("BUFFERED", "RESPONSE_STREAM")
INDEX_SCOPE = "lambda-url"
MAX_PAGE = 50
NO_RESOURCE = "The resource you requested does not exist."
NO_FUNCTION = "Function does not exist"
_LATEST_PATTERN = r"((?!^\d+$)^[0-9a-zA-Z-_]+$)"
_VERSION_PATTERN = r"(^\$LATEST$)|((?!^[0-9]+$)([a-zA-Z0-9-_]+))"


def url_timestamp(moment: float) -> str:
    """Function URLs' CreationTime/LastModifiedTime: 2024-05-17T12:30:45.123456Z."""
    value = datetime.datetime.fromtimestamp(moment, datetime.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_url_id() -> str:
    return secrets.token_hex(16)  # 32 lower-case hex characters, as Lambda's


@dataclass(frozen=True)
class UrlConfig:
    url_id: str
    function_name: str
    qualifier: str  # "$LATEST" or an alias name
    auth_type: str
    created: str
    modified: str
    cors: dict[str, Any] = field(default_factory=dict)
    invoke_mode: str = "BUFFERED"

    def arn(self, region: str, account: str) -> str:
        qualifier = None if self.qualifier == LATEST else self.qualifier
        return function_arn(region, account, self.function_name, qualifier)

    def to_json(self) -> dict[str, Any]:
        return {
            "url_id": self.url_id,
            "function_name": self.function_name,
            "qualifier": self.qualifier,
            "auth_type": self.auth_type,
            "created": self.created,
            "modified": self.modified,
            "cors": self.cors,
            "invoke_mode": self.invoke_mode,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> UrlConfig:
        return cls(**value)


@dataclass(frozen=True)
class UrlIndex:
    account_id: str
    region: str
    function_name: str
    qualifier: str

    def to_json(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "region": self.region,
            "function_name": self.function_name,
            "qualifier": self.qualifier,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> UrlIndex:
        return cls(**value)


@dataclass(frozen=True)
class UrlTarget:
    """Where a request to a function URL goes, and how it must be authenticated."""

    url_id: str
    account_id: str
    region: str
    function_name: str
    qualifier: str
    auth_type: str
    cors: dict[str, Any] = field(default_factory=dict)


URLS = RecordKind("lambda.url", UrlConfig.to_json, UrlConfig.from_json)
URL_IDS = RecordKind("lambda.url-id", UrlIndex.to_json, UrlIndex.from_json)


def delete_function_urls(records: RecordStore, scope: str, function_name: str) -> None:
    """Every URL of a function, for DeleteFunction (same transaction)."""
    for found in URLS.list(records, scope, prefix=f"{function_name}:"):
        URL_IDS.delete(records, INDEX_SCOPE, found.value.url_id)
        URLS.delete(records, scope, found.name)


def delete_alias_url(records: RecordStore, scope: str, function_name: str, alias: str) -> None:
    """The URL of an alias, for DeleteAlias (same transaction)."""
    key = attachment_key(function_name, alias)
    found = URLS.get(records, scope, key)
    if found is not None:
        URL_IDS.delete(records, INDEX_SCOPE, found.value.url_id)
        URLS.delete(records, scope, key)


class FunctionUrls:
    """The function-URL operations, and `resolve` for the data plane.

    `endpoint_url()` is the server's own address (its port goes into every FunctionUrl);
    `now()` the wall clock in epoch seconds; `new_id()` the url-id generator.
    """

    def __init__(
        self,
        database: Database,
        endpoint_url: Callable[[], str],
        now: Callable[[], float],
        new_id: Callable[[], str] = new_url_id,
    ) -> None:
        self._database = database
        self._endpoint_url = endpoint_url
        self._now = now
        self._new_id = new_id
        # Resolved URL ids, kept until the next write of the Lambda API (`clear_cache`).
        self._resolved: dict[str, UrlTarget] = {}
        self._generation = 0

    def clear_cache(self) -> None:
        self._resolved.clear()
        self._generation += 1

    def forget(self, scope: str, function_name: str, alias: str | None = None) -> None:
        """Drop the URLs of a deleted function (or of one deleted alias)."""
        with self._database.transaction() as tx:
            if alias is None:
                delete_function_urls(tx.records, scope, function_name)
            else:
                delete_alias_url(tx.records, scope, function_name, alias)
        self.clear_cache()

    def operations(self) -> dict[str, Operation]:
        return {
            "CreateFunctionUrlConfig": self.create_url_config,
            "GetFunctionUrlConfig": self.get_url_config,
            "UpdateFunctionUrlConfig": self.update_url_config,
            "DeleteFunctionUrlConfig": self.delete_url_config,
            "ListFunctionUrlConfigs": self.list_url_configs,
        }

    def function_url(self, url_id: str, region: str) -> str:
        port = urlsplit(self._endpoint_url()).port or 80
        return f"http://{url_id}.lambda-url.{region}.localhost:{port}/"

    def describe(self, config: UrlConfig, context: RequestContext) -> Result:
        """The API's FunctionUrlConfig (and the Get/Update responses)."""
        document: Result = {
            "FunctionUrl": self.function_url(config.url_id, context.region),
            "FunctionArn": config.arn(context.region, context.account_id),
            "AuthType": config.auth_type,
        }
        if config.cors:
            document["Cors"] = config.cors
        document.update(
            {
                "CreationTime": config.created,
                "LastModifiedTime": config.modified,
                "InvokeMode": config.invoke_mode,
            }
        )
        return document

    # -- the data plane ------------------------------------------------------------------

    async def resolve(self, url_id: str) -> UrlTarget | None:
        """The function a URL id names, if the URL, its function (and alias) still exist.
        Known ids are served from memory; unknown ones are not remembered (any id can be
        asked for)."""
        key = url_id.lower()
        found = self._resolved.get(key)
        if found is not None:
            return found
        generation = self._generation
        target = await asyncio.to_thread(self._resolve, key)
        if target is not None and generation == self._generation:
            self._resolved[key] = target
        return target

    def _resolve(self, url_id: str) -> UrlTarget | None:
        with self._database.snapshot() as tx:
            records = tx.records
            index = URL_IDS.get(records, INDEX_SCOPE, url_id)
            if index is None:
                return None
            where = index.value
            scope = scope_of(where.account_id, where.region)
            config = URLS.get(records, scope, attachment_key(where.function_name, where.qualifier))
            if config is None or config.value.url_id != url_id:
                return None
            if FUNCTIONS.get(records, scope, where.function_name) is None:
                return None
            alias_key = attachment_key(where.function_name, where.qualifier)
            if where.qualifier != LATEST and ALIASES.get(records, scope, alias_key) is None:
                return None
        return UrlTarget(
            url_id,
            where.account_id,
            where.region,
            where.function_name,
            where.qualifier,
            config.value.auth_type,
            config.value.cors,
        )

    # -- operations ----------------------------------------------------------------------

    async def create_url_config(self, context: RequestContext, params: Params) -> Result:
        name, qualifier = _target(params)
        auth_type = _auth_type(params.get("AuthType"))
        invoke_mode = _invoke_mode(params.get("InvokeMode") or "BUFFERED")
        cors = dict(params.get("Cors") or {})

        def create() -> UrlConfig:
            scope = scope_for(context)
            with self._database.transaction() as tx:
                records = tx.records
                if FUNCTIONS.get(records, scope, name) is None:
                    raise ResourceNotFoundException(NO_FUNCTION)
                key = attachment_key(name, qualifier)
                if URLS.get(records, scope, key) is not None:
                    arn = function_arn(
                        context.region,
                        context.account_id,
                        name,
                        None if qualifier == LATEST else qualifier,
                    )
                    raise ResourceConflictException(
                        f"Failed to create function url config for [functionArn = {arn}]. "
                        "Error message:  FunctionUrlConfig exists for this Lambda function"
                    )
                _check_alias(records, scope, name, qualifier)
                stamp = url_timestamp(self._now())
                config = UrlConfig(
                    self._unused_id(records), name, qualifier, auth_type, stamp, stamp,
                    cors, invoke_mode,
                )  # fmt: skip
                URLS.create(records, scope, key, config)
                index = UrlIndex(context.account_id, context.region, name, qualifier)
                URL_IDS.create(records, INDEX_SCOPE, config.url_id, index)
                return config

        config = await asyncio.to_thread(create)
        described = self.describe(config, context)
        del described["LastModifiedTime"]  # not a member of CreateFunctionUrlConfig's response
        return described

    def _unused_id(self, records: RecordStore) -> str:
        while True:
            url_id = self._new_id()
            if URL_IDS.get(records, INDEX_SCOPE, url_id) is None:
                return url_id

    async def get_url_config(self, context: RequestContext, params: Params) -> Result:
        name, qualifier = _target(params)

        def get() -> UrlConfig:
            scope = scope_for(context)
            with self._database.snapshot() as tx:
                if FUNCTIONS.get(tx.records, scope, name) is None:
                    raise ResourceNotFoundException(NO_RESOURCE)
                found = URLS.get(tx.records, scope, attachment_key(name, qualifier))
            if found is None:
                raise ResourceNotFoundException(NO_RESOURCE)
            return found.value

        return self.describe(await asyncio.to_thread(get), context)

    async def update_url_config(self, context: RequestContext, params: Params) -> Result:
        name, qualifier = _target(params)
        changes: dict[str, Any] = {}
        if params.get("AuthType") is not None:
            changes["auth_type"] = _auth_type(params["AuthType"])
        if params.get("InvokeMode") is not None:
            changes["invoke_mode"] = _invoke_mode(params["InvokeMode"])
        if params.get("Cors") is not None:
            changes["cors"] = dict(params["Cors"])

        def update() -> UrlConfig:
            scope = scope_for(context)
            with self._database.transaction() as tx:
                records = tx.records
                if FUNCTIONS.get(records, scope, name) is None:
                    raise ResourceNotFoundException(NO_FUNCTION)
                _check_alias(records, scope, name, qualifier)
                key = attachment_key(name, qualifier)
                found = URLS.get(records, scope, key)
                if found is None:
                    raise ResourceNotFoundException(NO_RESOURCE)
                current = found.value.to_json()
                current.update(changes, modified=url_timestamp(self._now()))
                config = UrlConfig.from_json(current)
                URLS.put(records, scope, key, config)
                return config

        updated = await asyncio.to_thread(update)
        self.clear_cache()
        return self.describe(updated, context)

    async def delete_url_config(self, context: RequestContext, params: Params) -> Result:
        name, qualifier = _target(params)

        def delete() -> None:
            scope = scope_for(context)
            with self._database.transaction() as tx:
                records = tx.records
                if FUNCTIONS.get(records, scope, name) is None:
                    raise ResourceNotFoundException(NO_RESOURCE)
                key = attachment_key(name, qualifier)
                found = URLS.get(records, scope, key)
                if found is None:
                    raise ResourceNotFoundException(NO_RESOURCE)
                URL_IDS.delete(records, INDEX_SCOPE, found.value.url_id)
                URLS.delete(records, scope, key)

        await asyncio.to_thread(delete)
        self.clear_cache()
        return {}

    async def list_url_configs(self, context: RequestContext, params: Params) -> Result:
        name = requested(params).name
        limit = params.get("MaxItems") or MAX_PAGE
        check_range(limit, "maxItems", 1, MAX_PAGE)

        def configs() -> list[UrlConfig]:
            scope = scope_for(context)
            with self._database.snapshot() as tx:
                if FUNCTIONS.get(tx.records, scope, name) is None:
                    raise ResourceNotFoundException(NO_FUNCTION)
                return [found.value for found in URLS.list(tx.records, scope, prefix=f"{name}:")]

        chosen, marker = page(
            await asyncio.to_thread(configs),
            lambda config: config.qualifier,
            params.get("Marker"),
            limit,
        )
        result: Result = {"FunctionUrlConfigs": [self.describe(c, context) for c in chosen]}
        if marker:
            result["NextMarker"] = marker
        return result


def _target(params: Params) -> tuple[str, str]:
    """The function and qualifier a request names: unqualified is `$LATEST`; an explicit
    `$LATEST` or a version number is refused, as Lambda refuses them."""
    ref = requested(params)
    if ref.qualifier is None:
        return ref.name, LATEST
    if ref.qualifier == LATEST:
        raise _bad_qualifier(ref.qualifier, _LATEST_PATTERN)
    if is_version(ref.qualifier):
        raise _bad_qualifier(ref.qualifier, _VERSION_PATTERN)
    return ref.name, ref.qualifier


def _bad_qualifier(qualifier: str, pattern: str) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value '{qualifier}' at 'qualifier' failed to satisfy "
        f"constraint: Member must satisfy regular expression pattern: {pattern}"
    )


def _check_alias(records: RecordStore, scope: str, name: str, qualifier: str) -> None:
    if qualifier != LATEST and ALIASES.get(records, scope, attachment_key(name, qualifier)) is None:
        raise ResourceNotFoundException(NO_FUNCTION)


def _auth_type(value: Any) -> str:
    return _member_of(value, "authType", AUTH_TYPES)


def _invoke_mode(value: Any) -> str:
    return _member_of(value, "invokeMode", INVOKE_MODES)


def _member_of(value: Any, field_name: str, allowed: tuple[str, ...]) -> str:
    if value in allowed:
        return str(value)
    shown = "null" if value is None else f"'{value}'"
    constraint = (
        "Member must not be null"
        if value is None
        else f"Member must satisfy enum value set: [{', '.join(allowed)}]"
    )
    raise ValidationException(
        f"1 validation error detected: Value {shown} at '{field_name}' failed to satisfy "
        f"constraint: {constraint}"
    )
