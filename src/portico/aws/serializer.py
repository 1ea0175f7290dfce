"""Results and errors to responses, for the rest-json, json and query protocols.

The inverse of `parser`: botocore's output shapes say where each member goes (status
code, headers, payload, body) and how it is encoded, so botocore's own response parsers
read back exactly what a service returned.
"""

from __future__ import annotations

import base64
import calendar
import datetime
import json
from collections.abc import Callable
from email.utils import formatdate
from typing import Any
from xml.sax.saxutils import escape

from botocore.model import NoShapeFoundError, OperationModel, Shape, StructureShape

from portico.aws.catalog import Service
from portico.aws.messages import AwsResponse
from portico.errors import AwsError

Result = dict[str, Any]


def serialize(
    service: Service, operation: OperationModel, result: Result, request_id: str
) -> AwsResponse:
    return _SERIALIZERS[service.protocol](service, operation, result or {}, request_id)


def serialize_error(service: Service | None, error: AwsError, request_id: str) -> AwsResponse:
    protocol = service.protocol if service is not None else "rest-json"
    return _ERROR_SERIALIZERS[protocol](service, error, request_id)


# -- values ---------------------------------------------------------------------------------


def _epoch(value: datetime.datetime) -> int | float:
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    seconds = value.timestamp()
    return int(seconds) if seconds == int(seconds) else round(seconds, 3)


def _iso(value: datetime.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    text = value.astimezone(datetime.UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _timestamp(shape: Shape, value: Any, default: str) -> Any:
    if not isinstance(value, datetime.datetime):
        return value
    style = shape.serialization.get("timestampFormat", default)
    if style == "iso8601":
        return _iso(value)
    if style == "rfc822":
        return formatdate(calendar.timegm(value.utctimetuple()), usegmt=True)
    return _epoch(value)


def _to_json(shape: Shape, value: Any) -> Any:
    kind = shape.type_name
    if value is None:
        return None
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        return {
            member.serialization.get("name", name): _to_json(member, value[name])
            for name, member in shape.members.items()
            if value.get(name) is not None
        }
    if kind == "list":
        return [_to_json(shape.member, item) for item in value]
    if kind == "map":
        return {key: _to_json(shape.value, item) for key, item in value.items()}
    if kind == "blob":
        data = value.encode() if isinstance(value, str) else value
        return base64.b64encode(data).decode()
    if kind == "timestamp":
        return _timestamp(shape, value, "unixTimestamp")
    return value


def _dumps(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def _header(shape: Shape, value: Any) -> str:
    if shape.type_name == "timestamp":
        return str(_timestamp(shape, value, "rfc822"))
    if shape.type_name == "boolean":
        return "true" if value else "false"
    if shape.type_name == "list":
        return ",".join(str(item) for item in value)
    if shape.serialization.get("jsonvalue"):
        return base64.b64encode(_dumps(value)).decode()
    return str(value)


# -- rest-json --------------------------------------------------------------------------------


BODILESS_STATUSES = frozenset({204, 304})


def _rest_json(
    service: Service, operation: OperationModel, result: Result, request_id: str
) -> AwsResponse:
    response = AwsResponse(
        status=int(operation.http.get("responseCode", 200)),
        headers={"Content-Type": "application/json", "x-amzn-RequestId": request_id},
    )
    shape = operation.output_shape
    if shape is None:
        if response.status not in BODILESS_STATUSES:
            response.body = b"{}"
        return response
    body: dict[str, Any] = {}
    for name, member in shape.members.items():
        value = result.get(name)
        if value is None:
            continue
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "header":
            response.headers[wire] = _header(member, value)
        elif location == "headers":
            for key, item in value.items():
                response.headers[f"{wire}{key}"] = str(item)
        elif location == "statusCode":
            response.status = int(value)
        elif location is None:
            body[name] = value
    if response.status in BODILESS_STATUSES:
        return response  # no body: a byte sent here would be read as the next response's start
    response.body = _rest_json_body(shape, result, body)
    return response


def _rest_json_body(shape: StructureShape, result: Result, body: dict[str, Any]) -> bytes:
    payload = shape.serialization.get("payload")
    if not payload:
        return _dumps(_to_json(shape, body))
    member = shape.members[payload]
    value = result.get(payload)
    if member.type_name == "blob":
        return value if isinstance(value, bytes) else (value or "").encode()
    if member.type_name == "string":
        return (value or "").encode()
    return _dumps(_to_json(member, value or {}))


def _message_key(service: Service | None, code: str) -> str:
    """`message` or `Message`: whichever the service's model names the error's member."""
    if service is not None:
        try:
            shape = service.model.shape_for(code)
        except NoShapeFoundError:
            return "message"
        if "Message" in shape.members and "message" not in shape.members:
            return "Message"
    return "message"


def _rest_json_error(service: Service | None, error: AwsError, request_id: str) -> AwsResponse:
    document = {"Type": "User" if error.sender_fault else "Service", **error.fields}
    document[_message_key(service, error.code)] = error.message
    return AwsResponse(
        status=error.status_code,
        headers={
            "Content-Type": "application/json",
            "x-amzn-RequestId": request_id,
            "x-amzn-ErrorType": error.code,
        },
        body=_dumps(document),
    )


# -- json -------------------------------------------------------------------------------------


def _json_content_type(service: Service | None) -> str:
    version = service.model.metadata.get("jsonVersion", "1.0") if service else "1.0"
    return f"application/x-amz-json-{version}"


def _json(
    service: Service, operation: OperationModel, result: Result, request_id: str
) -> AwsResponse:
    shape = operation.output_shape
    document = _to_json(shape, result) if shape is not None else {}
    return AwsResponse(
        status=200,
        headers={"Content-Type": _json_content_type(service), "x-amzn-RequestId": request_id},
        body=_dumps(document),
    )


def _json_error(service: Service | None, error: AwsError, request_id: str) -> AwsResponse:
    headers = {"Content-Type": _json_content_type(service), "x-amzn-RequestId": request_id}
    if service is not None and service.model.metadata.get("awsQueryCompatible") is not None:
        fault = "Sender" if error.sender_fault else "Receiver"
        headers["x-amzn-query-error"] = f"{error.code};{fault}"
    document = {"__type": error.code, _message_key(service, error.code): error.message}
    document.update(error.fields)
    return AwsResponse(status=error.status_code, headers=headers, body=_dumps(document))


# -- query ------------------------------------------------------------------------------------


def _namespace(service: Service | None) -> str:
    if service is None:
        return ""
    namespace = service.model.metadata.get("xmlNamespace")
    if isinstance(namespace, dict):
        namespace = namespace.get("uri")
    return str(namespace or "")


def _xml(shape: Shape, value: Any, name: str) -> str:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        inner = "".join(
            _xml(member, value[key], member.serialization.get("name", key))
            for key, member in shape.members.items()
            if value.get(key) is not None
        )
        return f"<{name}>{inner}</{name}>"
    if kind == "list":
        item = shape.member
        if shape.serialization.get("flattened"):
            return "".join(_xml(item, element, name) for element in value)
        item_name = item.serialization.get("name", "member")
        inner = "".join(_xml(item, element, item_name) for element in value)
        return f"<{name}>{inner}</{name}>"
    if kind == "map":
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        entries = "".join(
            f"<entry><{key_name}>{escape(str(key))}</{key_name}>"
            f"{_xml(shape.value, item, value_name)}</entry>"
            for key, item in value.items()
        )
        if shape.serialization.get("flattened"):
            return entries.replace("<entry>", f"<{name}>").replace("</entry>", f"</{name}>")
        return f"<{name}>{entries}</{name}>"
    if kind == "timestamp":
        text = str(_timestamp(shape, value, "iso8601"))
    elif kind == "boolean":
        text = "true" if value else "false"
    elif kind == "blob":
        text = base64.b64encode(value if isinstance(value, bytes) else value.encode()).decode()
    else:
        text = str(value)
    return f"<{name}>{escape(text)}</{name}>"


def _query(
    service: Service, operation: OperationModel, result: Result, request_id: str
) -> AwsResponse:
    name = operation.name
    shape = operation.output_shape
    inner = ""
    if shape is not None:
        wrapper = shape.serialization.get("resultWrapper", f"{name}Result")
        inner = _xml(shape, result, wrapper)
    body = (
        f'<{name}Response xmlns="{_namespace(service)}">{inner}'
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        f"</{name}Response>"
    )
    return AwsResponse(status=200, headers={"Content-Type": "text/xml"}, body=body.encode())


def _query_error(service: Service | None, error: AwsError, request_id: str) -> AwsResponse:
    fault = "Sender" if error.sender_fault else "Receiver"
    body = (
        f'<ErrorResponse xmlns="{_namespace(service)}"><Error><Type>{fault}</Type>'
        f"<Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>"
        f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return AwsResponse(
        status=error.status_code, headers={"Content-Type": "text/xml"}, body=body.encode()
    )


_SERIALIZERS: dict[str, Callable[[Service, OperationModel, Result, str], AwsResponse]] = {
    "rest-json": _rest_json,
    "json": _json,
    "query": _query,
}
_ERROR_SERIALIZERS: dict[str, Callable[[Service | None, AwsError, str], AwsResponse]] = {
    "rest-json": _rest_json_error,
    "json": _json_error,
    "query": _query_error,
}
