"""The CloudWatch Logs API's operations: requests in, domain calls, results out (no HTTP).

Groups, streams, retention and tags are here; the event operations (Put/Get/Filter) are in
`event_operations`. `start()` / `close()` run the retention sweeper with the server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, ClassVar

from portico.aws.handler import Operation, RequestContext
from portico.services.context import ServiceContext
from portico.services.logs import validation
from portico.services.logs.errors import (
    InvalidParameterException,
    TooManyTagsException,
    invalid_token,
)
from portico.services.logs.event_operations import EventOperations
from portico.services.logs.models import GroupRef, LogGroup, LogStream, groups_scope
from portico.services.logs.repository import LogsRepository
from portico.services.logs.retention import RetentionSweeper
from portico.services.logs.tokens import decode_page_token, encode_page_token
from portico.store import Clock, Database, Versioned

Params = dict[str, Any]
Result = dict[str, Any]
PAGE_LIMIT = 50
SCAN_PAGE = 500
PATTERN_FIELDS = ("arn", "creationTime", "logGroupName")


class LogsProvider:
    service_name: ClassVar[str] = "logs"

    def __init__(self, database: Database, clock: Clock) -> None:
        self._repository = LogsRepository(database)
        self._clock = clock
        self._events = EventOperations(self._repository, clock)
        self.retention = RetentionSweeper(database, clock)

    async def start(self) -> None:
        await self.retention.start()

    async def close(self) -> None:
        await self.retention.close()

    def operations(self) -> Mapping[str, Operation]:
        return {
            "CreateLogGroup": self.create_log_group,
            "DeleteLogGroup": self.delete_log_group,
            "DescribeLogGroups": self.describe_log_groups,
            "CreateLogStream": self.create_log_stream,
            "DeleteLogStream": self.delete_log_stream,
            "DescribeLogStreams": self.describe_log_streams,
            "PutLogEvents": self._events.put_log_events,
            "GetLogEvents": self._events.get_log_events,
            "FilterLogEvents": self._events.filter_log_events,
            "PutRetentionPolicy": self.put_retention_policy,
            "DeleteRetentionPolicy": self.delete_retention_policy,
            "TagLogGroup": self.tag_log_group,
            "UntagLogGroup": self.untag_log_group,
            "ListTagsLogGroup": self.list_tags_log_group,
            "TagResource": self.tag_resource,
            "UntagResource": self.untag_resource,
            "ListTagsForResource": self.list_tags_for_resource,
        }

    def _now(self) -> int:
        return int(self._clock.now() * 1000)

    # -- groups --------------------------------------------------------------------------

    async def create_log_group(self, context: RequestContext, params: Params) -> Result:
        ref = _ref(context, validation.group_name(params.get("logGroupName")))
        group_class = params.get("logGroupClass") or "STANDARD"
        validation.check_enum(group_class, "logGroupClass", validation.LOG_GROUP_CLASSES)
        kms_key_id = params.get("kmsKeyId")
        if kms_key_id is not None:
            validation.check_length(kms_key_id, "kmsKeyId", 0, 256)
        tags = validation.tags(params["tags"]) if params.get("tags") is not None else {}
        group = LogGroup(
            creation_time=self._now(),
            tags=tags,
            kms_key_id=kms_key_id,
            log_group_class=group_class,
        )
        await asyncio.to_thread(self._repository.create_group, ref, group)
        return {}

    async def delete_log_group(self, context: RequestContext, params: Params) -> Result:
        ref = _ref(context, validation.group_name(params.get("logGroupName")))
        await asyncio.to_thread(self._repository.delete_group, ref)
        return {}

    async def describe_log_groups(self, context: RequestContext, params: Params) -> Result:
        query = _GroupQuery.of(params)
        limit = _page_limit(params)
        after = _token_key(params.get("nextToken"), [str])
        scope = groups_scope(context.account_id, context.region)
        found, more = await asyncio.to_thread(self._scan_groups, scope, query, after, limit)
        groups = []
        for item in found:
            wire = item.value.to_wire(_ref(context, item.name))
            if query.pattern is not None:
                wire = {key: wire[key] for key in PATTERN_FIELDS}
            groups.append(wire)
        result: Result = {"logGroups": groups}
        if more:
            result["nextToken"] = encode_page_token({"k": [found[-1].name]})
        return result

    def _scan_groups(
        self, scope: str, query: _GroupQuery, after: list[Any] | None, limit: int
    ) -> tuple[list[Versioned[LogGroup]], bool]:
        found: list[Versioned[LogGroup]] = []
        cursor = str(after[0]) if after else None
        while True:
            page = self._repository.groups(
                scope, prefix=query.prefix, after=cursor, limit=SCAN_PAGE
            )
            for item in page:
                if query.accepts(item.name, item.value):
                    found.append(item)
                    if len(found) > limit:
                        return found[:limit], True
            if len(page) < SCAN_PAGE:
                return found, False
            cursor = page[-1].name

    # -- streams -------------------------------------------------------------------------

    async def create_log_stream(self, context: RequestContext, params: Params) -> Result:
        ref = _ref(context, validation.group_name(params.get("logGroupName")))
        name = validation.stream_name(params.get("logStreamName"))
        await asyncio.to_thread(self._repository.create_stream, ref, name, self._now())
        return {}

    async def delete_log_stream(self, context: RequestContext, params: Params) -> Result:
        ref = _ref(context, validation.group_name(params.get("logGroupName")))
        name = validation.stream_name(params.get("logStreamName"))
        await asyncio.to_thread(self._repository.delete_stream, ref, name)
        return {}

    async def describe_log_streams(self, context: RequestContext, params: Params) -> Result:
        ref = _ref(context, validation.log_group_of(params))
        prefix = params.get("logStreamNamePrefix")
        if prefix is not None:
            validation.stream_name(prefix, "logStreamNamePrefix")
        order = params.get("orderBy") or "LogStreamName"
        validation.check_enum(order, "orderBy", validation.ORDER_BY)
        if order == "LastEventTime" and prefix is not None:
            raise InvalidParameterException(
                "Cannot order by LastEventTime with a logStreamNamePrefix."
            )
        by_time = order == "LastEventTime"
        descending = bool(params.get("descending"))
        limit = _page_limit(params)
        after = _token_key(params.get("nextToken"), [int, str] if by_time else [str])
        streams = await asyncio.to_thread(self._repository.streams, ref, prefix=prefix or "")
        page, next_key = _page_streams(streams, by_time, descending, after, limit)
        result: Result = {"logStreams": [item.value.to_wire(ref, item.name) for item in page]}
        if next_key is not None:
            result["nextToken"] = encode_page_token({"k": next_key})
        return result

    # -- retention -----------------------------------------------------------------------

    async def put_retention_policy(self, context: RequestContext, params: Params) -> Result:
        ref = _ref(context, validation.group_name(params.get("logGroupName")))
        days = validation.retention_days(params.get("retentionInDays"))
        await self._update(ref, lambda group: replace(group, retention_in_days=days))
        return {}

    async def delete_retention_policy(self, context: RequestContext, params: Params) -> Result:
        ref = _ref(context, validation.group_name(params.get("logGroupName")))
        await self._update(ref, lambda group: replace(group, retention_in_days=None))
        return {}

    # -- tags ----------------------------------------------------------------------------

    async def tag_log_group(self, context: RequestContext, params: Params) -> Result:
        ref = _ref(context, validation.group_name(params.get("logGroupName")))
        await self._tag(ref, validation.tags(params.get("tags")))
        return {}

    async def untag_log_group(self, context: RequestContext, params: Params) -> Result:
        ref = _ref(context, validation.group_name(params.get("logGroupName")))
        await self._untag(ref, _tag_keys(params.get("tags"), "tags"))
        return {}

    async def list_tags_log_group(self, context: RequestContext, params: Params) -> Result:
        ref = _ref(context, validation.group_name(params.get("logGroupName")))
        group = await asyncio.to_thread(self._repository.group, ref)
        return {"tags": dict(group.tags)}

    async def tag_resource(self, context: RequestContext, params: Params) -> Result:
        ref = _ref(context, validation.group_of_arn(params.get("resourceArn")))
        await self._tag(ref, validation.tags(params.get("tags")))
        return {}

    async def untag_resource(self, context: RequestContext, params: Params) -> Result:
        ref = _ref(context, validation.group_of_arn(params.get("resourceArn")))
        await self._untag(ref, _tag_keys(params.get("tagKeys"), "tagKeys"))
        return {}

    async def list_tags_for_resource(self, context: RequestContext, params: Params) -> Result:
        ref = _ref(context, validation.group_of_arn(params.get("resourceArn")))
        group = await asyncio.to_thread(self._repository.group, ref)
        return {"tags": dict(group.tags)}

    async def _tag(self, ref: GroupRef, tags: dict[str, str]) -> None:
        def add(group: LogGroup) -> LogGroup:
            merged = {**group.tags, **tags}
            if len(merged) > validation.MAX_TAGS:
                raise TooManyTagsException(
                    f"A resource can have no more than {validation.MAX_TAGS} tags.", ref.group_arn
                )
            return replace(group, tags=merged)

        await self._update(ref, add)

    async def _untag(self, ref: GroupRef, keys: list[str]) -> None:
        await self._update(
            ref,
            lambda group: replace(
                group, tags={k: v for k, v in group.tags.items() if k not in keys}
            ),
        )

    async def _update(self, ref: GroupRef, change: Callable[[LogGroup], LogGroup]) -> None:
        await asyncio.to_thread(self._repository.update_group, ref, change)


def create_provider(context: ServiceContext) -> LogsProvider:
    return LogsProvider(context.database, context.clock)


class _GroupQuery:
    """DescribeLogGroups' filters: a name prefix (done by the store) or a substring
    pattern, a class, and named groups."""

    def __init__(
        self, prefix: str, pattern: str | None, group_class: str | None, names: set[str] | None
    ) -> None:
        self.prefix = prefix
        self.pattern = pattern
        self.group_class = group_class
        self.names = names

    @classmethod
    def of(cls, params: Params) -> _GroupQuery:
        prefix, pattern = params.get("logGroupNamePrefix"), params.get("logGroupNamePattern")
        if prefix is not None and pattern is not None:
            raise InvalidParameterException(
                "LogGroupNamePrefix and LogGroupNamePattern are mutually exclusive."
            )
        if prefix is not None:
            validation.group_name(prefix, "logGroupNamePrefix")
        if pattern is not None:
            validation.check_length(pattern, "logGroupNamePattern", 0, validation.NAME_MAX)
            validation.check_pattern(
                pattern, "logGroupNamePattern", validation.GROUP_NAME_PATTERN_FILTER
            )
        group_class = params.get("logGroupClass")
        validation.check_enum(group_class, "logGroupClass", validation.LOG_GROUP_CLASSES)
        identifiers = params.get("logGroupIdentifiers")
        names = None
        if identifiers is not None:
            names = {
                validation.group_of_identifier(item, "logGroupIdentifiers.member")
                for item in identifiers
            }
        return cls(prefix or "", pattern or None, group_class, names)

    def accepts(self, name: str, group: LogGroup) -> bool:
        return (
            (self.pattern is None or self.pattern in name)
            and (self.group_class is None or group.log_group_class == self.group_class)
            and (self.names is None or name in self.names)
        )


def _ref(context: RequestContext, name: str) -> GroupRef:
    return GroupRef(context.account_id, context.region, name)


def _page_limit(params: Params) -> int:
    limit = params.get("limit")
    validation.check_range(limit, "limit", 1, PAGE_LIMIT)
    return PAGE_LIMIT if limit is None else int(limit)


def _token_key(text: str | None, types: list[type]) -> list[Any] | None:
    """The sort key a describe page ended at, its parts of `types`."""
    if text is None:
        return None
    document = decode_page_token(text)
    key = document.get("k") if document is not None else None
    if not isinstance(key, list) or [type(part) for part in key] != types:
        raise invalid_token()
    return key


def _page_streams(
    streams: list[Versioned[LogStream]],
    by_time: bool,
    descending: bool,
    after: list[Any] | None,
    limit: int,
) -> tuple[list[Versioned[LogStream]], list[Any] | None]:
    """One page of streams in the order asked for, and the key the next page starts after."""
    key = _stream_key(by_time)
    ordered = sorted(streams, key=key, reverse=descending)
    if after is not None:
        ordered = [
            item for item in ordered if (key(item) < after if descending else key(item) > after)
        ]
    page = ordered[:limit]
    return page, key(page[-1]) if len(ordered) > limit else None


def _stream_key(by_time: bool) -> Callable[[Versioned[LogStream]], list[Any]]:
    if by_time:
        return lambda item: [item.value.last_event_timestamp or 0, item.name]
    return lambda item: [item.name]


def _tag_keys(value: Any, member: str) -> list[str]:
    if not isinstance(value, list):
        raise validation.constraint(value, member, "Member must not be null")
    return [str(key) for key in value]
