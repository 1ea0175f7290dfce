"""The Lambda API's operations: requests in, domain calls, results out (no HTTP here)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from portico.aws.handler import Operation, RequestContext
from portico.runtime import InvocationResult, Runtime
from portico.runtime.limits import DRY_RUN, EVENT, REQUEST_RESPONSE, check_request_size
from portico.services.context import ServiceContext
from portico.services.lambda_ import validation
from portico.services.lambda_.aliases import Aliases
from portico.services.lambda_.code import CodeStore
from portico.services.lambda_.concurrency import Concurrency
from portico.services.lambda_.constraints import required_check
from portico.services.lambda_.downloads import KEY_FILENAME, DownloadLinks
from portico.services.lambda_.errors import (
    InvalidParameterValueException,
    InvalidRequestContentException,
    PreconditionFailedException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from portico.services.lambda_.event_config import EventInvokeConfig, EventInvokeConfigs
from portico.services.lambda_.events import AsyncEvent, AsyncInvoker, EventPolicy
from portico.services.lambda_.layers import LayerOperations, Layers
from portico.services.lambda_.models import LATEST, Code, FunctionRecord, FunctionVersion, Layer
from portico.services.lambda_.names import function_arn, parse_function
from portico.services.lambda_.policy import Policies
from portico.services.lambda_.repository import FunctionExists, Functions, scope_of
from portico.services.lambda_.resolver import Resolver
from portico.services.lambda_.service_invocations import ServiceInvocations
from portico.services.lambda_.tags import Tags
from portico.services.lambda_.urls import FunctionUrls

logger = logging.getLogger(__name__)
Params = dict[str, Any]
Result = dict[str, Any]
DEFAULT_PAGE = 50
MAX_LAYERS = 5
MAX_PAGE = 10_000


class LambdaProvider:
    service_name: ClassVar[str] = "lambda"

    def __init__(self, context: ServiceContext, known_runtimes: list[str]) -> None:
        self._model = context.catalog["lambda"]
        self._functions = Functions(context.database)
        self._code = CodeStore(context.blobs, context.settings.data_dir / "code")
        self._layers = Layers(context.database, self._code)
        self._runtime: Runtime = context.runtime
        self._known_runtimes = known_runtimes
        self._clock = context.clock
        self._event_configs = EventInvokeConfigs(context.database)
        self._concurrency = Concurrency(
            context.database,
            context.clock,
            self._provision,
            account_concurrency=context.runtime.settings.account_concurrency,
        )
        self._aliases = Aliases(context.database, on_change=self._concurrency.function_changed)
        self._policies = Policies(context.database)
        self._tags = Tags(context.database)
        self._resolver = Resolver(self._functions, self._code, self._aliases)
        self.for_services = ServiceInvocations(self._resolver, self._runtime, self._policies)
        self._endpoint_url: Callable[[], str] = lambda: f"http://127.0.0.1:{context.settings.port}"
        self.downloads = DownloadLinks(context.settings.data_dir / KEY_FILENAME, context.clock.now)
        self.urls = FunctionUrls(context.database, lambda: self._endpoint_url(), context.clock.now)
        self._async = AsyncInvoker(
            context.queue,
            context.clock,
            invoke=self._invoke_event,
            policy=self._event_policy,
            deliver=self._deliver,
            retry_base_seconds=context.settings.async_retry_base_seconds,
        )

    async def start(self) -> None:
        self._async.start()
        await self._concurrency.restore()

    async def close(self) -> None:
        await self._async.close()
        await self._concurrency.settle()

    def operations(self) -> Mapping[str, Operation]:
        operations = self._all_operations()
        return {
            name: _checked(
                required_check(self._model.operation(name).input_shape),
                operation if _reads_only(name) else self._invalidating(operation),
            )
            for name, operation in operations.items()
        }

    def _invalidating(self, operation: Operation) -> Operation:
        """A write: whatever it changed, the read cache forgets everything after it."""

        async def run(context: RequestContext, params: Params) -> Result:
            try:
                return await operation(context, params)
            finally:
                self._resolver.forget()
                self.urls.clear_cache()

        return run

    def _all_operations(self) -> Mapping[str, Operation]:
        return {
            "CreateFunction": self.create_function,
            "GetFunction": self.get_function,
            "GetFunctionConfiguration": self.get_function_configuration,
            "ListFunctions": self.list_functions,
            "DeleteFunction": self.delete_function,
            "UpdateFunctionCode": self.update_function_code,
            "UpdateFunctionConfiguration": self.update_function_configuration,
            "PublishVersion": self.publish_version,
            "ListVersionsByFunction": self.list_versions_by_function,
            "Invoke": self.invoke,
            "PutFunctionEventInvokeConfig": self.put_event_invoke_config,
            "UpdateFunctionEventInvokeConfig": self.update_event_invoke_config,
            "GetFunctionEventInvokeConfig": self.get_event_invoke_config,
            "DeleteFunctionEventInvokeConfig": self.delete_event_invoke_config,
            **self._aliases.operations(),
            "DeleteAlias": self._delete_alias,
            **self._concurrency.operations(),
            **self._policies.operations(),
            **self._tags.operations(),
            **self.urls.operations(),
            **LayerOperations(self._layers, self._code, self._code_location).operations(),
        }

    # -- create, read, update, delete ------------------------------------------------------

    async def create_function(self, context: RequestContext, params: Params) -> Result:
        name = parse_function(params["FunctionName"]).name
        if not params.get("Runtime") or not params.get("Handler"):
            raise InvalidParameterValueException(
                "Runtime and Handler are mandatory parameters for functions created with "
                "deployment packages."
            )
        version = self._configured(
            FunctionVersion(
                name=name,
                runtime=params["Runtime"],
                handler=params["Handler"],
                role=params["Role"],
                code=await asyncio.to_thread(self._code.ingest, params["Code"]),
            ),
            params,
            await self._resolve_layers(context, params),
        )
        record = FunctionRecord(latest=version, tags=dict(params.get("Tags") or {}))
        scope = scope_of(context.account_id, context.region)
        try:
            created = await asyncio.to_thread(
                self._functions.create, scope, record, bool(params.get("Publish"))
            )
        except FunctionExists:
            raise ResourceConflictException(f"Function already exist: {name}") from None
        return created.configuration(context.region, context.account_id)

    async def _resolve_layers(self, context: RequestContext, params: Params) -> list[Layer] | None:
        if "Layers" not in params:
            return None
        arns = list(params["Layers"] or [])
        if len(arns) > MAX_LAYERS:
            raise InvalidParameterValueException("Cannot reference more than 5 layers.")
        resolved = await asyncio.to_thread(
            self._layers.resolve, context.region, context.account_id, arns
        )
        return [Layer(arn, code) for arn, code in resolved]

    def _configured(
        self, version: FunctionVersion, params: Params, layers: list[Layer] | None = None
    ) -> FunctionVersion:
        """`version` with the configuration parameters of Create/UpdateFunctionConfiguration."""
        changes: dict[str, Any] = {}
        if layers is not None:
            changes["layers"] = layers
        if "Runtime" in params:
            validation.check_runtime(params["Runtime"], self._known_runtimes)
            changes["runtime"] = params["Runtime"]
        if "Role" in params:
            validation.check_role(params["Role"])
            changes["role"] = params["Role"]
        for key, field, low, high in (
            ("Timeout", "timeout", 1, 900),
            ("MemorySize", "memorySize", 128, 10240),
        ):
            if key in params:
                validation.check_range(params[key], field, low, high)
        simple = {
            "Handler": "handler",
            "Description": "description",
            "Timeout": "timeout",
            "MemorySize": "memory_size",
        }
        changes.update({attr: params[key] for key, attr in simple.items() if key in params})
        if "Environment" in params:
            variables = dict((params["Environment"] or {}).get("Variables") or {})
            validation.check_environment(variables)
            changes["environment"] = variables
        if "EphemeralStorage" in params:
            size = params["EphemeralStorage"]["Size"]
            validation.check_range(size, "ephemeralStorage.size", 512, 10240)
            changes["ephemeral_storage"] = size
        if "TracingConfig" in params:
            changes["tracing_mode"] = params["TracingConfig"].get("Mode", "PassThrough")
        if "DeadLetterConfig" in params:
            changes["dead_letter_target"] = params["DeadLetterConfig"].get("TargetArn") or None
        if "Architectures" in params:
            changes["architectures"] = list(params["Architectures"])
        if "LoggingConfig" in params:
            changes.update(_logging_changes(params["LoggingConfig"]))
        return dataclasses.replace(version, **changes)

    async def get_function(self, context: RequestContext, params: Params) -> Result:
        version = await self._resolver.version(
            context, params["FunctionName"], params.get("Qualifier")
        )
        record = await self._resolver.record(context, version.name)
        result: Result = {
            "Configuration": _as_named(
                version.configuration(context.region, context.account_id), context, params
            ),
            "Code": {"RepositoryType": "S3", "Location": self._code_location(version.code)},
        }
        if record.tags:
            result["Tags"] = dict(record.tags)
        if record.reserved_concurrency is not None:
            result["Concurrency"] = {"ReservedConcurrentExecutions": record.reserved_concurrency}
        return result

    async def get_function_configuration(self, context: RequestContext, params: Params) -> Result:
        version = await self._resolver.version(
            context, params["FunctionName"], params.get("Qualifier")
        )
        return _as_named(version.configuration(context.region, context.account_id), context, params)

    async def list_functions(self, context: RequestContext, params: Params) -> Result:
        limit = params.get("MaxItems") or DEFAULT_PAGE
        validation.check_range(limit, "maxItems", 1, MAX_PAGE)
        after = _decode_marker(params.get("Marker"))
        scope = scope_of(context.account_id, context.region)
        page = await asyncio.to_thread(self._functions.page, scope, after, limit + 1)
        result: Result = {
            "Functions": [
                record.latest.configuration(context.region, context.account_id)
                for record in page[:limit]
            ]
        }
        if len(page) > limit:
            result["NextMarker"] = _encode_marker(page[limit - 1].latest.name)
        return result

    async def delete_function(self, context: RequestContext, params: Params) -> Result:
        ref = parse_function(params["FunctionName"])
        qualifier = params.get("Qualifier") or ref.qualifier
        scope = scope_of(context.account_id, context.region)
        if qualifier == LATEST:
            raise InvalidParameterValueException(
                "$LATEST version cannot be deleted without deleting the function."
            )
        if qualifier is not None:
            deleted = qualifier.isdigit() and await asyncio.to_thread(
                self._functions.delete_version, scope, ref.name, int(qualifier)
            )
        else:
            deleted = await asyncio.to_thread(self._functions.delete, scope, ref.name)
            await asyncio.to_thread(self.urls.forget, scope, ref.name)
            self._runtime.retire(ref.name)
        if not deleted:
            raise self._resolver.not_found(context, ref.name, qualifier)
        await self._concurrency.function_changed(context, ref.name)
        return {}

    async def update_function_code(self, context: RequestContext, params: Params) -> Result:
        ref = parse_function(params["FunctionName"])
        code = await asyncio.to_thread(self._code.ingest, params)
        return await self._update(
            context,
            ref.name,
            params,
            lambda latest: latest.changed(code=code),
            publish=bool(params.get("Publish")),
        )

    async def update_function_configuration(
        self, context: RequestContext, params: Params
    ) -> Result:
        ref = parse_function(params["FunctionName"])
        layers = await self._resolve_layers(context, params)
        return await self._update(
            context,
            ref.name,
            params,
            lambda latest: self._configured(latest, params, layers).changed(),
        )

    async def _update(
        self, context: RequestContext, name: str, params: Params, change: Any, publish: bool = False
    ) -> Result:
        expected = params.get("RevisionId")

        def apply(record: FunctionRecord) -> FunctionRecord:
            if expected and expected != record.latest.revision_id:
                raise PreconditionFailedException(
                    "The Revision Id provided does not match the latest Revision Id. Call the "
                    "GetFunction/GetAlias API to retrieve the latest Revision Id"
                )
            return dataclasses.replace(record, latest=change(record.latest))

        scope = scope_of(context.account_id, context.region)
        record = await asyncio.to_thread(self._functions.update, scope, name, apply)
        if record is None:
            raise self._resolver.not_found(context, name)
        version = record.latest
        if publish:
            published = await asyncio.to_thread(
                self._functions.publish, scope, name, None, lambda _record: None
            )
            version = published or version
        return version.configuration(context.region, context.account_id)

    # -- versions --------------------------------------------------------------------------

    async def publish_version(self, context: RequestContext, params: Params) -> Result:
        ref = parse_function(params["FunctionName"])
        expected_code, expected_revision = params.get("CodeSha256"), params.get("RevisionId")

        def check(record: FunctionRecord) -> None:
            if expected_code and expected_code != record.latest.code.sha256:
                raise InvalidParameterValueException(
                    f"CodeSHA256 ({expected_code}) is different from current CodeSHA256 in "
                    f"$LATEST ({record.latest.code.sha256}). Please try again with the "
                    "correct CodeSHA256."
                )
            if expected_revision and expected_revision != record.latest.revision_id:
                raise PreconditionFailedException(
                    "The Revision Id provided does not match the latest Revision Id. Call "
                    "the GetFunction/GetAlias API to retrieve the latest Revision Id"
                )

        scope = scope_of(context.account_id, context.region)
        version = await asyncio.to_thread(
            self._functions.publish, scope, ref.name, params.get("Description"), check
        )
        if version is None:
            raise self._resolver.not_found(context, ref.name)
        return version.configuration(context.region, context.account_id)

    async def list_versions_by_function(self, context: RequestContext, params: Params) -> Result:
        ref = parse_function(params["FunctionName"])
        record = await self._resolver.record(context, ref.name)
        scope = scope_of(context.account_id, context.region)
        published = await asyncio.to_thread(self._functions.versions, scope, ref.name)
        everything = [record.latest, *published]
        limit = params.get("MaxItems") or DEFAULT_PAGE
        validation.check_range(limit, "maxItems", 1, MAX_PAGE)
        start = int(_decode_marker(params.get("Marker")) or 0)
        page = everything[start : start + limit]
        result: Result = {
            "Versions": [v.configuration(context.region, context.account_id) for v in page]
        }
        if start + limit < len(everything):
            result["NextMarker"] = _encode_marker(str(start + limit))
        return result

    # -- invocation ------------------------------------------------------------------------

    async def invoke(self, context: RequestContext, params: Params) -> Result:
        invocation_type = params.get("InvocationType") or REQUEST_RESPONSE
        payload: bytes = params.get("Payload") or b""
        check_request_size(payload, invocation_type)
        _check_json(payload)
        version = await self._resolver.version(
            context, params["FunctionName"], params.get("Qualifier"), route=True
        )
        if invocation_type == DRY_RUN:
            return {"StatusCode": 204, "Payload": b""}
        if invocation_type == EVENT:
            event = AsyncEvent(
                account=context.account_id,
                region=context.region,
                function=version.name,
                qualifier=params.get("Qualifier")
                or parse_function(params["FunctionName"]).qualifier,
                payload=base64.b64encode(payload).decode(),
                request_id=context.request_id,
                enqueued_at=self._clock.now(),
            )
            await self._async.submit(event)
            return {"StatusCode": 202, "Payload": b""}
        record = await self._resolver.record(context, version.name)
        config = await self._resolver.function_config(context, version, record)
        result = await self._runtime.invoke(
            config,
            payload or b"{}",
            qualifier=None
            if version.version == LATEST and not params.get("Qualifier")
            else version.version,
            # One id, as on AWS: the answer's x-amzn-RequestId is the invocation's.
            request_id=context.request_id,
            client_context=_client_context(params.get("ClientContext")),
        )
        response: Result = {
            "StatusCode": 200,
            "ExecutedVersion": result.executed_version,
            "Payload": result.payload,
        }
        if result.function_error:
            response["FunctionError"] = result.function_error
        if params.get("LogType") == "Tail":
            response["LogResult"] = base64.b64encode(result.log_tail).decode()
        return response

    async def _delete_alias(self, context: RequestContext, params: Params) -> Result:
        """DeleteAlias, and the alias's function URL with it."""
        result = await self._aliases.operations()["DeleteAlias"](context, params)
        ref = parse_function(params["FunctionName"])
        scope = scope_of(context.account_id, context.region)
        await asyncio.to_thread(self.urls.forget, scope, ref.name, params["Name"])
        return result

    def _code_location(self, code: Code) -> str:
        """Where the zip can be downloaded, for ten minutes (GetFunction's Code.Location)."""
        return self.downloads.link(self._endpoint_url(), code.digest)

    def serve_urls_at(self, endpoint_url: Callable[[], str]) -> None:
        """Where the server listens: the host and port every FunctionUrl names."""
        self._endpoint_url = endpoint_url

    # -- asynchronous invocation -------------------------------------------------------------

    def _event_context(self, event: AsyncEvent) -> RequestContext:
        return RequestContext(
            request_id=event.request_id,
            service="lambda",
            operation="Invoke",
            region=event.region,
            account_id=event.account,
            caller=None,
        )

    async def _invoke_event(self, event: AsyncEvent) -> tuple[InvocationResult, str]:
        context = self._event_context(event)
        version = await self._resolver.version(context, event.function, event.qualifier, route=True)
        record = await self._resolver.record(context, version.name)
        config = await self._resolver.function_config(context, version, record)
        result = await self._runtime.invoke(
            config, event.body or b"{}", qualifier=version.version, request_id=event.request_id
        )
        arn = function_arn(context.region, context.account_id, version.name, version.version)
        return result, arn

    async def _event_policy(self, event: AsyncEvent) -> EventPolicy | None:
        context = self._event_context(event)
        try:
            version = await self._resolver.version(context, event.function, event.qualifier)
        except ResourceNotFoundException:
            return None
        scope = scope_of(event.account, event.region)
        qualifier = event.qualifier or LATEST
        config = await asyncio.to_thread(self._event_configs.get, scope, event.function, qualifier)
        return (config or EventInvokeConfig()).policy(float(version.timeout))

    async def _deliver(self, target: str, event: AsyncEvent, record: dict[str, Any]) -> None:
        """Send a destination record: to a function (asynchronously), as AWS does."""
        if ":function:" not in target:
            logger.warning("destination %s is not a function; the record is dropped", target)
            return
        ref = parse_function(target)
        payload = json.dumps(record).encode()
        await self._async.submit(
            AsyncEvent(
                account=event.account,
                region=event.region,
                function=ref.name,
                qualifier=ref.qualifier,
                payload=base64.b64encode(payload).decode(),
                request_id=str(uuid.uuid4()),
                enqueued_at=self._clock.now(),
            )
        )

    async def put_event_invoke_config(self, context: RequestContext, params: Params) -> Result:
        return await self._save_event_config(context, params, replace=True)

    async def update_event_invoke_config(self, context: RequestContext, params: Params) -> Result:
        return await self._save_event_config(context, params, replace=False)

    async def _save_event_config(
        self, context: RequestContext, params: Params, replace: bool
    ) -> Result:
        version = await self._resolver.version(
            context, params["FunctionName"], params.get("Qualifier")
        )
        qualifier = params.get("Qualifier") or LATEST
        scope = scope_of(context.account_id, context.region)
        config = await asyncio.to_thread(
            self._event_configs.save,
            scope,
            version.name,
            qualifier,
            params,
            replace,
            self._clock.now(),
        )
        return config.describe(
            function_arn(context.region, context.account_id, version.name, qualifier)
        )

    async def get_event_invoke_config(self, context: RequestContext, params: Params) -> Result:
        version = await self._resolver.version(
            context, params["FunctionName"], params.get("Qualifier")
        )
        qualifier = params.get("Qualifier") or LATEST
        scope = scope_of(context.account_id, context.region)
        config = await asyncio.to_thread(self._event_configs.get, scope, version.name, qualifier)
        arn = function_arn(context.region, context.account_id, version.name, qualifier)
        if config is None:
            raise ResourceNotFoundException(f"The function {arn} doesn't have an EventInvokeConfig")
        return config.describe(arn)

    async def delete_event_invoke_config(self, context: RequestContext, params: Params) -> Result:
        version = await self._resolver.version(
            context, params["FunctionName"], params.get("Qualifier")
        )
        qualifier = params.get("Qualifier") or LATEST
        scope = scope_of(context.account_id, context.region)
        if not await asyncio.to_thread(self._event_configs.delete, scope, version.name, qualifier):
            arn = function_arn(context.region, context.account_id, version.name, qualifier)
            raise ResourceNotFoundException(f"The function {arn} doesn't have an EventInvokeConfig")
        return {}

    async def _provision(
        self, context: RequestContext, version: FunctionVersion, record: FunctionRecord, count: int
    ) -> int:
        """Keep `count` environments of `version` initialized; how many are."""
        config = await self._resolver.function_config(context, version, record)
        await self._runtime.set_provisioned_concurrency(config, count)
        return sum(
            1
            for env in self._runtime.environments(version.name)
            if env.provisioned and env.config.pool_key == config.pool_key
        )


def _as_named(configuration: Result, context: RequestContext, params: Params) -> Result:
    """A configuration read through an alias carries the alias's ARN, as on Lambda."""
    qualifier = params.get("Qualifier") or parse_function(params["FunctionName"]).qualifier
    if qualifier and qualifier != LATEST and not qualifier.isdigit():
        name = configuration["FunctionName"]
        configuration["FunctionArn"] = function_arn(
            context.region, context.account_id, name, qualifier
        )
    return configuration


def _reads_only(operation: str) -> bool:
    return operation == "Invoke" or operation.startswith(("Get", "List"))


def _logging_changes(config: Mapping[str, Any]) -> dict[str, Any]:
    log_format = config.get("LogFormat", "Text")
    levels = config.get("ApplicationLogLevel") or config.get("SystemLogLevel")
    if log_format == "Text" and levels:
        raise InvalidParameterValueException(
            'LogLevel is not supported when LogFormat is set to "Text". Remove LogLevel from '
            'your request or change the LogFormat to "JSON" and try again.'
        )
    return {
        "log_format": log_format,
        "application_log_level": config.get("ApplicationLogLevel"),
        "system_log_level": config.get("SystemLogLevel"),
        "log_group": config.get("LogGroup"),
    }


def _check_json(payload: bytes) -> None:
    if not payload:
        return
    try:
        json.loads(payload)
    except ValueError as exc:
        raise InvalidRequestContentException(
            f"Could not parse request body into json: Could not parse payload into json: {exc}"
        ) from None


def _client_context(encoded: str | None) -> str | None:
    if not encoded:
        return None
    try:
        document = json.loads(base64.b64decode(encoded, validate=True))
    except (ValueError, binascii.Error):
        raise InvalidRequestContentException(
            "Client context must be a valid Base64-encoded JSON object."
        ) from None
    return json.dumps(document)


def _encode_marker(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


def _decode_marker(marker: str | None) -> str | None:
    if not marker:
        return None
    try:
        return base64.urlsafe_b64decode(marker.encode()).decode()
    except (ValueError, binascii.Error):
        raise InvalidParameterValueException(f"Invalid marker: {marker}") from None


def _checked(check: Callable[[Params], None] | None, operation: Operation) -> Operation:
    """`operation`, after the model's required members are checked (as Lambda's front end
    does, before the operation itself looks at anything)."""
    if check is None:
        return operation

    async def run(context: RequestContext, params: Params) -> Result:
        check(params)
        return await operation(context, params)

    return run


def create_provider(context: ServiceContext) -> LambdaProvider:
    return LambdaProvider(context, context.catalog["lambda"].enum("Runtime"))
