"""Requests to (operation, parameters), for the rest-json, json and query protocols.

Driven entirely by botocore's shapes: where each member lives (URI, query string, header,
body), its type, and how the protocol encodes it. Parameters come out as botocore's
clients take them in: blobs as bytes, timestamps as aware datetimes.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from botocore.model import OperationModel, Shape, StructureShape

from portico.aws.catalog import Service
from portico.aws.errors import SerializationException, UnknownOperationException
from portico.aws.messages import AwsRequest

Params = dict[str, Any]


def parse(service: Service, request: AwsRequest) -> tuple[OperationModel, Params]:
    parser = _PARSERS.get(service.protocol)
    if parser is None:
        raise UnknownOperationException(f"Protocol {service.protocol} is not supported.")
    return parser(service, request)


# -- scalar conversions -------------------------------------------------------------------


def _timestamp(value: Any) -> datetime.datetime:
    if isinstance(value, int | float):
        return datetime.datetime.fromtimestamp(value, datetime.UTC)
    text = str(value)
    try:
        return datetime.datetime.fromtimestamp(float(text), datetime.UTC)
    except ValueError:
        pass
    try:
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        from email.utils import parsedate_to_datetime

        parsed = parsedate_to_datetime(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def _from_text(shape: Shape, text: str) -> Any:
    """A scalar that arrived as text (URI, query string, header, query protocol)."""
    match shape.type_name:
        case "integer" | "long":
            return int(text)
        case "float" | "double":
            return float(text)
        case "boolean":
            return text.lower() == "true"
        case "timestamp":
            return _timestamp(text)
        case "blob":
            return base64.b64decode(text)
        case _:
            return text


def _convert_text(shape: Shape, text: str, where: str) -> Any:
    try:
        return _from_text(shape, text)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise SerializationException(
            f"Could not read {where} as {shape.type_name}: {text!r}"
        ) from exc


# -- JSON documents -------------------------------------------------------------------------


def _from_json(shape: Shape, value: Any, path: str) -> Any:
    """A JSON value read against its shape: blobs decoded, timestamps made datetimes."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise SerializationException(f"Expected an object at {path or 'the top level'}")
        assert isinstance(shape, StructureShape)
        return _structure_from_json(shape, value, path)
    if kind == "list":
        if not isinstance(value, list):
            raise SerializationException(f"Expected a list at {path}")
        member = shape.member
        return [_from_json(member, item, f"{path}[{i}]") for i, item in enumerate(value)]
    if kind == "map":
        if not isinstance(value, dict):
            raise SerializationException(f"Expected a map at {path}")
        value_shape = shape.value
        return {key: _from_json(value_shape, item, f"{path}.{key}") for key, item in value.items()}
    if kind == "blob":
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, TypeError) as exc:
            raise SerializationException(f"Expected base64 data at {path}") from exc
    if kind == "timestamp":
        try:
            return _timestamp(value)
        except (ValueError, TypeError, OverflowError) as exc:
            raise SerializationException(f"Expected a timestamp at {path}") from exc
    return _scalar(kind, value, path)


# JSON's types for the model's scalars (a boolean is no number, though Python's bool is an int).
_SCALARS: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "boolean": bool,
    "integer": int,
    "long": int,
    "float": (int, float),
    "double": (int, float),
}
_SCALAR_NAMES = {
    "string": "a string",
    "boolean": "a boolean",
    "integer": "an integer",
    "long": "an integer",
    "float": "a number",
    "double": "a number",
}


def _scalar(kind: str, value: Any, path: str) -> Any:
    """`value` when JSON gave the type the model says (a boolean is no number)."""
    expected = _SCALARS.get(kind)
    if expected is not None and (
        not isinstance(value, expected) or (isinstance(value, bool) and kind != "boolean")
    ):
        raise SerializationException(f"Expected {_SCALAR_NAMES[kind]} at {path}")
    return value


def _structure_from_json(shape: StructureShape, value: dict[str, Any], path: str) -> Any:
    # Members are named on the wire as their `locationName` says, when it says.
    by_wire = {
        member.serialization.get("name", name): name for name, member in shape.members.items()
    }
    parsed: dict[str, Any] = {}
    for wire_name, item in value.items():
        name = by_wire.get(wire_name)
        if name is not None:
            member_path = f"{path}.{name}" if path else name
            parsed[name] = _from_json(shape.members[name], item, member_path)
    return parsed


def _json_body(body: bytes) -> Any:
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except ValueError as exc:
        raise SerializationException("The request body is not valid JSON.") from exc


# -- rest-json ------------------------------------------------------------------------------


def _parse_rest_json(service: Service, request: AwsRequest) -> tuple[OperationModel, Params]:
    found = service.router.match(request.method, request.path, request.query)
    if found is None:
        raise UnknownOperationException(
            f"No operation of {service.name} answers {request.method} {request.path}"
        )
    name, labels = found
    operation = service.operation(name)
    shape = operation.input_shape
    if shape is None:
        return operation, {}
    params = _rest_located_members(shape, request, labels)
    payload = shape.serialization.get("payload")
    if payload:
        value = _rest_payload(shape.members[payload], request.body)
        if value is not None:
            params[payload] = value
        return operation, params
    body_members = {
        name: member
        for name, member in shape.members.items()
        if member.serialization.get("location") is None
    }
    if body_members:
        document = _json_body(request.body)
        if not isinstance(document, dict):
            raise SerializationException("The request body must be a JSON object.")
        for name, member in body_members.items():
            wire = member.serialization.get("name", name)
            if wire in document:
                params[name] = _from_json(member, document[wire], name)
    return operation, params


def _rest_located_members(
    shape: StructureShape, request: AwsRequest, labels: dict[str, str]
) -> Params:
    """The members that live in the URI, the query string and the headers."""
    query: dict[str, list[str]] = {}
    for key, text in parse_qsl(request.query, keep_blank_values=True):
        query.setdefault(key, []).append(text)
    params: Params = {}
    for member_name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", member_name)
        value: Any = None
        if location == "uri" and wire in labels:
            value = _convert_text(member, labels[wire], wire)
        elif location == "querystring":
            value = _query_member(member, wire, query, shape)
        elif location == "header" and wire in request.headers:
            value = _header_member(member, request.headers[wire])
        elif location == "headers":
            prefix = wire.lower()
            value = {
                key[len(prefix) :]: item
                for key, item in request.headers.items()
                if key.lower().startswith(prefix)
            } or None
        if value is not None:
            params[member_name] = value
    return params


def _rest_payload(member: Shape, body: bytes) -> Any:
    if not body:
        return None
    if member.type_name == "blob":
        return body
    if member.type_name == "string":
        return body.decode()
    return _from_json(member, _json_body(body), member.name) if body.strip() else None


def _query_member(
    member: Shape, wire: str, query: dict[str, list[str]], shape: StructureShape
) -> Any:
    if member.type_name == "map":
        claimed = {
            m.serialization.get("name", n)
            for n, m in shape.members.items()
            if m.serialization.get("location") == "querystring" and m.type_name != "map"
        }
        value_shape = member.value
        rest = {key: values for key, values in query.items() if key not in claimed}
        if not rest:
            return None
        if value_shape.type_name == "list":
            return rest
        return {key: values[0] for key, values in rest.items()}
    if wire not in query:
        return None
    if member.type_name == "list":
        item = member.member
        return [_convert_text(item, value, wire) for value in query[wire]]
    return _convert_text(member, query[wire][0], wire)


def _header_member(member: Shape, value: str) -> Any:
    if member.type_name == "list":
        item = member.member
        return [_convert_text(item, part.strip(), "header") for part in value.split(",")]
    if member.serialization.get("jsonvalue"):
        return json.loads(base64.b64decode(value))
    return _convert_text(member, value, "header")


# -- json -----------------------------------------------------------------------------------


def _parse_json(service: Service, request: AwsRequest) -> tuple[OperationModel, Params]:
    target = request.headers.get("X-Amz-Target", "")
    name = service.operations_by_target.get(target)
    if name is None:
        raise UnknownOperationException(f"Unknown operation {target or '(no X-Amz-Target)'}")
    operation = service.operation(name)
    shape = operation.input_shape
    if shape is None:
        return operation, {}
    document = _json_body(request.body)
    if not isinstance(document, dict):
        raise SerializationException("The request body must be a JSON object.")
    return operation, _from_json(shape, document, "")


# -- query ----------------------------------------------------------------------------------


def _parse_query(service: Service, request: AwsRequest) -> tuple[OperationModel, Params]:
    text = request.body.decode() if request.method == "POST" else request.query
    pairs = dict(parse_qsl(text, keep_blank_values=True))
    if request.method == "POST" and request.query:
        pairs = {**dict(parse_qsl(request.query, keep_blank_values=True)), **pairs}
    action = pairs.get("Action")
    if not action or action not in service.model.operation_names:
        raise UnknownOperationException(f"Could not find operation {action}")
    operation = service.operation(action)
    shape = operation.input_shape
    if shape is None:
        return operation, {}
    return operation, _query_structure(shape, pairs, "")


def _query_value(shape: Shape, pairs: dict[str, str], prefix: str) -> Any:
    match shape.type_name:
        case "structure":
            assert isinstance(shape, StructureShape)
            found = _query_structure(shape, pairs, prefix + ".")
            return found or None
        case "list":
            return _query_list(shape, pairs, prefix)
        case "map":
            return _query_map(shape, pairs, prefix)
        case _:
            return _convert_text(shape, pairs[prefix], prefix) if prefix in pairs else None


def _query_structure(shape: StructureShape, pairs: dict[str, str], prefix: str) -> Params:
    params: Params = {}
    for name, member in shape.members.items():
        wire = member.serialization.get("name", name)
        value = _query_value(member, pairs, prefix + wire)
        if value is not None:
            params[name] = value
    return params


def _query_list(shape: Shape, pairs: dict[str, str], prefix: str) -> list[Any] | None:
    item = shape.member
    if shape.serialization.get("flattened"):
        base = prefix
    else:
        base = f"{prefix}.{item.serialization.get('name', 'member')}"
    items = []
    index = 1
    while True:
        key = f"{base}.{index}"
        if key not in pairs and not any(k.startswith(key + ".") for k in pairs):
            break
        items.append(_query_value(item, pairs, key))
        index += 1
    if not items and prefix in pairs and pairs[prefix] == "":
        return []
    return items or None


def _query_map(shape: Shape, pairs: dict[str, str], prefix: str) -> dict[str, Any] | None:
    key_name = shape.key.serialization.get("name", "key")
    value_name = shape.value.serialization.get("name", "value")
    base = prefix if shape.serialization.get("flattened") else f"{prefix}.entry"
    result: dict[str, Any] = {}
    index = 1
    while f"{base}.{index}.{key_name}" in pairs:
        key = pairs[f"{base}.{index}.{key_name}"]
        result[key] = _query_value(shape.value, pairs, f"{base}.{index}.{value_name}")
        index += 1
    return result or None


_PARSERS: dict[str, Callable[[Service, AwsRequest], tuple[OperationModel, Params]]] = {
    "rest-json": _parse_rest_json,
    "json": _parse_json,
    "query": _parse_query,
}
