"""Parameter mapping of HTTP API integrations: `RequestParameters` and `ResponseParameters`.

The rules followed are those of the developer guide's page on transforming API requests and
responses for HTTP APIs:

- A request parameter's key is `append|overwrite|remove:header.<name>`,
  `append|overwrite|remove:querystring.<name>` or `overwrite:path`; a response parameter's,
  `append|overwrite|remove:header.<name>` or `overwrite:statuscode`. Response parameters are
  grouped by the integration's status code (200-599) they apply to.
- A value is static text, variables, or both: `$request.header.<name>` (names are
  case-insensitive; repeated headers joined with commas), `$request.querystring.<name>` (names
  are case-sensitive; repeated values joined with commas), `$request.body` or
  `$request.body.<JSONPath>`, `$request.path` (without the stage), `$request.path.<name>` (a
  path parameter), `$context.<name>`, `$stageVariables.<name>`; for responses
  `$response.header.<name>` and `$response.body[.<JSONPath>]` instead of the request ones.
  Each may also be written `${...}`, which is how several variables share one value.
- JSONPath has no recursive descent (`..`) and no filter expressions (`?(...)`); the body is
  cut at 100 KB before a JSONPath is applied.
- `$context` variable names hold only letters, digits, `.` and `_`.
- The reserved headers (`access-control-*`, `apigw-*`, `Authorization`, `Connection`,
  `Content-Encoding`, `Content-Length`, `Content-Location`, `Forwarded`, `Keep-Alive`,
  `Origin`, `Proxy-Authenticate`, `Proxy-Authorization`, `TE`, `Trailers`,
  `Transfer-Encoding`, `Upgrade`, `x-amz-*`, `x-amzn-*`, `X-Forwarded-For`,
  `X-Forwarded-Host`, `X-Forwarded-Proto`, `Via`) cannot be mapped.

Where the guide is silent, Portico does the following. Every value is computed from the
request (or response) as it arrived, then the operations run: removals, then overwrites, then
appends, so that `append:header.b = $request.header.a` with `remove:header.a` renames `a`. A
value whose variables are all missing and that has no static text sets nothing. A mapped
value with several header values is joined with commas. `$request.multivaluequerystring.<name>`
(which the REST API mapping language has) is accepted as well: mapped onto a query string
parameter it repeats the parameter once per value; anywhere else its values are joined with
commas. An `overwrite:statuscode` value that is not a status code leaves the status as it is.

    mapping = compile_request_parameters(integration.get("RequestParameters"))  # at publish
    mapped = mapping.apply(MappableRequest.of(request, path, path_parameters),
                           context_variables, stage_variables)               # per request
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final
from urllib.parse import parse_qsl, quote, urlencode

from portico.gateway.http_events import HttpRequest, HttpResult

JSON_PATH_BODY_LIMIT = 100 * 1024
RESERVED_HEADERS = frozenset(
    {
        "authorization",
        "connection",
        "content-encoding",
        "content-length",
        "content-location",
        "forwarded",
        "keep-alive",
        "origin",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "via",
    }
)
RESERVED_HEADER_PREFIXES = ("access-control-", "apigw-", "x-amz-", "x-amzn-")


class InvalidParameterMapping(ValueError):
    """A mapping key or value the gateway cannot apply (a `BadRequestException` to the
    control plane)."""


# -- what mappings read and change ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MappableRequest:
    """The parts of a request that request parameters read and change."""

    path: str  # without the stage
    headers: tuple[tuple[str, str], ...]
    query: tuple[tuple[str, str], ...]  # decoded (name, value) pairs, in order
    body: bytes = b""
    path_parameters: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(
        cls, request: HttpRequest, path: str, path_parameters: Mapping[str, str] | None = None
    ) -> MappableRequest:
        return cls(
            path,
            tuple(request.headers),
            tuple(parse_qsl(request.raw_query, keep_blank_values=True)),
            request.body,
            path_parameters or {},
        )

    def raw_query(self) -> str:
        """The query string to send on (percent-encoded, no '?')."""
        return urlencode(self.query, quote_via=quote)


class _Sources:
    """One request's (or response's) variables, each parsed at most once."""

    __slots__ = ("_body_json", "_headers", "_query", "context", "request", "result", "variables")

    def __init__(
        self,
        context: Mapping[str, str],
        variables: Mapping[str, str],
        request: MappableRequest | None = None,
        result: HttpResult | None = None,
    ) -> None:
        self.context = context
        self.variables = variables
        self.request = request
        self.result = result
        self._headers: dict[str, str] | None = None
        self._query: dict[str, list[str]] | None = None
        self._body_json: Any = _UNPARSED

    def header(self, name: str) -> str | None:
        if self._headers is None:
            self._headers = self._header_index()
        return self._headers.get(name)

    def _header_index(self) -> dict[str, str]:
        index: dict[str, str] = {}
        if self.request is not None:
            for key, value in self.request.headers:
                lowered = key.lower()
                index[lowered] = f"{index[lowered]},{value}" if lowered in index else value
        elif self.result is not None:
            index.update(self.result.headers)
            if self.result.cookies:
                index["set-cookie"] = ",".join(self.result.cookies)
        return index

    def query(self, name: str) -> list[str]:
        if self._query is None:
            self._query = {}
            for key, value in self.request.query if self.request is not None else ():
                self._query.setdefault(key, []).append(value)
        return self._query.get(name, [])

    def body(self) -> bytes:
        if self.request is not None:
            return self.request.body
        return self.result.body if self.result is not None else b""

    def body_json(self) -> Any:
        if self._body_json is _UNPARSED:
            try:
                self._body_json = json.loads(self.body()[:JSON_PATH_BODY_LIMIT])
            except (ValueError, UnicodeDecodeError):
                self._body_json = _NO_JSON
        return self._body_json


_UNPARSED: Final = object()
_NO_JSON: Final = object()

Value = str | list[str] | None
Reader = Callable[[_Sources], Value]


# -- JSONPath (the subset the gateway applies) ------------------------------------------------

_STEP = re.compile(
    r"""\.?(?:\[(?P<index>-?\d+)\]|\['(?P<single>[^']*)'\]|\["(?P<double>[^"]*)"\]"""
    r"""|\[(?P<star>\*)\]|(?P<name>[^.\[\]]+))"""
)
_WILDCARD: Final = object()
Step = str | int | object


def compile_json_path(path: str) -> tuple[Step, ...]:
    """`a.b[0]['c d'].*` as steps; the `$.` root may be left out."""
    if path.startswith("$"):
        path = path[1:]
    if ".." in path or "?(" in path:
        raise InvalidParameterMapping(
            f"Invalid JSONPath {path!r}: recursive descent and filter expressions are not supported"
        )
    steps: list[Step] = []
    position = 0
    while position < len(path):
        found = _STEP.match(path, position)
        if found is None or found.end() == position:
            raise InvalidParameterMapping(f"Invalid JSONPath {path!r} at position {position}")
        if found.group("index") is not None:
            steps.append(int(found.group("index")))
        elif found.group("star") is not None or found.group("name") == "*":
            steps.append(_WILDCARD)
        else:
            steps.append(found.group("single") or found.group("double") or found.group("name"))
        position = found.end()
    return tuple(steps)


def select(document: Any, steps: Sequence[Step]) -> Any:
    """What `steps` select in `document`: a value, a list (under a wildcard), or _NO_JSON."""
    matches = [document]
    spread = False
    for step in steps:
        following: list[Any] = []
        for value in matches:
            if step is _WILDCARD:
                spread = True
                if isinstance(value, dict):
                    following.extend(value.values())
                elif isinstance(value, list):
                    following.extend(value)
            elif isinstance(step, int):
                if isinstance(value, list) and -len(value) <= step < len(value):
                    following.append(value[step])
            elif isinstance(value, dict) and step in value:
                following.append(value[step])
        matches = following
    if spread:
        return matches
    return matches[0] if matches else _NO_JSON


def _json_text(value: Any) -> str | None:
    if value is _NO_JSON:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


# -- values -----------------------------------------------------------------------------------

_HEADER_CHARS = r"[-!#%&'*+.^_`|~0-9A-Za-z]+"
_VARIABLE = re.compile(
    r"\$\{(?P<braced>[^}]*)\}"
    r"|\$(?P<bare>"
    rf"request\.header\.{_HEADER_CHARS}"
    r"|request\.(?:multivalue)?querystring\.[-.~_0-9A-Za-z]+"
    r"|(?:request|response)\.body(?:[.\[][-\w.\[\]*'\"]*)?"
    r"|request\.path(?:\.\w+)?"
    rf"|response\.header\.{_HEADER_CHARS}"
    r"|context\.\w+(?:\.\w+)*"
    r"|stageVariables\.\w+"
    r")"
    r"|\$(?P<bad>(?:request|response|context|stageVariables)\b[^\s$]*)"
)
_CONTEXT_NAME = re.compile(r"^[A-Za-z0-9._]+$")


def _request_reader(location: str, name: str) -> Reader | None:
    match location:
        case "header" if name:
            lowered = name.lower()
            return lambda s: s.header(lowered)
        case "querystring" if name:
            return lambda s: ",".join(s.query(name)) or None
        case "multivaluequerystring" if name:
            return lambda s: s.query(name) or None
        case "path":
            if not name:
                return lambda s: None if s.request is None else s.request.path
            return lambda s: None if s.request is None else s.request.path_parameters.get(name)
        case "body":
            return _body_reader(name)
    return None


def _response_reader(location: str, name: str) -> Reader | None:
    match location:
        case "header" if name:
            lowered = name.lower()
            return lambda s: s.header(lowered)
        case "body":
            return _body_reader(name)
    return None


def _body_reader(path: str) -> Reader:
    if path.startswith("."):  # `$request.body..name`
        raise InvalidParameterMapping(
            f"Invalid JSONPath body.{path}: recursive descent is not supported"
        )
    if not path:
        return lambda s: s.body().decode("utf-8", "replace") or None
    steps = compile_json_path(path)

    def read(sources: _Sources) -> Value:
        document = sources.body_json()
        return None if document is _NO_JSON else _json_text(select(document, steps))

    return read


def _context_reader(name: str) -> Reader:
    return lambda s: s.context.get(name)


def _stage_variable_reader(name: str) -> Reader:
    return lambda s: s.variables.get(name)


def _reader(expression: str, response: bool) -> Reader:
    source, _, rest = expression.partition(".")
    reader: Reader | None = None
    if source == "context" and _CONTEXT_NAME.match(rest):
        reader = _context_reader(rest)
    elif source == "stageVariables" and rest:
        reader = _stage_variable_reader(rest)
    elif source == ("response" if response else "request"):
        location, _, name = rest.partition(".")
        if location.startswith("body["):  # `$request.body[0].name`
            location, name = "body", location[4:] + (f".{name}" if name else "")
        reader = (_response_reader if response else _request_reader)(location, name)
    if reader is None:
        raise InvalidParameterMapping(f"Invalid mapping expression specified: ${expression}")
    return reader


@dataclass(frozen=True, slots=True)
class Template:
    """A compiled parameter value: static text and variable readers."""

    parts: tuple[str | Reader, ...]

    @classmethod
    def compile(cls, value: str, response: bool = False) -> Template:
        parts: list[str | Reader] = []
        position = 0
        for found in _VARIABLE.finditer(value):
            if found.group("bad") is not None:
                raise InvalidParameterMapping(
                    f"Invalid mapping expression specified: ${found.group('bad')}"
                )
            if found.start() > position:
                parts.append(value[position : found.start()])
            parts.append(_reader(found.group("braced") or found.group("bare"), response))
            position = found.end()
        if position < len(value):
            parts.append(value[position:])
        return cls(tuple(parts))

    def render(self, sources: _Sources) -> list[str]:
        """The values to set: none when nothing was found, several only for a lone
        multi-valued variable."""
        if len(self.parts) == 1 and not isinstance(self.parts[0], str):
            found = self.parts[0](sources)
            if found is None:
                return []
            return found if isinstance(found, list) else [found]
        pieces: list[str] = []
        anything = False
        for part in self.parts:
            if isinstance(part, str):
                pieces.append(part)
                anything = True
                continue
            found = part(sources)
            if found is not None:
                pieces.append(",".join(found) if isinstance(found, list) else found)
                anything = True
        return ["".join(pieces)] if anything else []


# -- operations -------------------------------------------------------------------------------

_KEY = re.compile(
    r"^(?:(?P<action>append|overwrite|remove):(?P<location>header|querystring)\.(?P<name>.+)"
    r"|overwrite:(?P<whole>path|statuscode))$"
)
_PHASES = {"remove": 0, "overwrite": 1, "append": 2}
_HEADER_NAME = re.compile(rf"^{_HEADER_CHARS}$")


@dataclass(frozen=True, slots=True)
class Operation:
    action: str  # append | overwrite | remove
    location: str  # header | querystring | path | statuscode
    name: str  # header names lower-cased; "" for path and statuscode
    value: Template


def _operation(key: str, value: str, response: bool) -> Operation:
    found = _KEY.match(key)
    if found is None:
        raise InvalidParameterMapping(f"Invalid mapping key specified: {key}")
    location = found.group("location") or found.group("whole")
    allowed = ("header", "statuscode") if response else ("header", "querystring", "path")
    if location not in allowed:
        raise InvalidParameterMapping(f"Invalid mapping key specified: {key}")
    action = found.group("action") or "overwrite"
    name = found.group("name") or ""
    if location == "header":
        name = name.lower()
        if not _HEADER_NAME.match(name):
            raise InvalidParameterMapping(f"Invalid header name specified: {key}")
        if name in RESERVED_HEADERS or name.startswith(RESERVED_HEADER_PREFIXES):
            raise InvalidParameterMapping(f"Operations on header {name} are restricted")
    template = Template(()) if action == "remove" else Template.compile(value, response)
    return Operation(action, location, name, template)


def _operations(parameters: Mapping[str, str], response: bool) -> tuple[Operation, ...]:
    operations = [_operation(key, value, response) for key, value in parameters.items()]
    return tuple(sorted(operations, key=lambda operation: _PHASES[operation.action]))


# -- requests ---------------------------------------------------------------------------------


class RequestMapping:
    """An integration's `RequestParameters`, compiled."""

    __slots__ = ("operations",)

    def __init__(self, operations: tuple[Operation, ...]) -> None:
        self.operations = operations

    def apply(
        self,
        request: MappableRequest,
        context: Mapping[str, str],
        stage_variables: Mapping[str, str],
    ) -> MappableRequest:
        sources = _Sources(context, stage_variables, request=request)
        rendered = [(operation, operation.value.render(sources)) for operation in self.operations]
        headers = list(request.headers)
        query = list(request.query)
        path = request.path
        for operation, values in rendered:
            if operation.action != "remove" and not values:
                continue
            if operation.location == "header":
                headers = _apply_header(headers, operation, [",".join(values)] if values else [])
            elif operation.location == "querystring":
                query = _apply_query(query, operation, values)
            else:
                path = ",".join(values)
        return replace(request, path=path, headers=tuple(headers), query=tuple(query))


def _apply_header(
    headers: list[tuple[str, str]], operation: Operation, values: list[str]
) -> list[tuple[str, str]]:
    if operation.action != "append":
        headers = [item for item in headers if item[0].lower() != operation.name]
    if operation.action != "remove":
        headers.extend((operation.name, value) for value in values)
    return headers


def _apply_query(
    query: list[tuple[str, str]], operation: Operation, values: list[str]
) -> list[tuple[str, str]]:
    if operation.action != "append":
        query = [item for item in query if item[0] != operation.name]
    if operation.action != "remove":
        query.extend((operation.name, value) for value in values)
    return query


def compile_request_parameters(parameters: Mapping[str, str] | None) -> RequestMapping | None:
    """The mapping of an integration without `IntegrationSubtype`; None when it maps
    nothing."""
    if not parameters:
        return None
    return RequestMapping(_operations(parameters, response=False))


# -- responses --------------------------------------------------------------------------------


class ResponseMapping:
    """An integration's `ResponseParameters`, compiled, by the status code they apply to."""

    __slots__ = ("by_status",)

    def __init__(self, by_status: Mapping[int, tuple[Operation, ...]]) -> None:
        self.by_status = dict(by_status)

    def apply(
        self, result: HttpResult, context: Mapping[str, str], stage_variables: Mapping[str, str]
    ) -> HttpResult:
        operations = self.by_status.get(result.status)
        if not operations:
            return result
        sources = _Sources(context, stage_variables, result=result)
        rendered = [(operation, operation.value.render(sources)) for operation in operations]
        headers = dict(result.headers)
        cookies = result.cookies
        status = result.status
        for operation, values in rendered:
            if operation.action != "remove" and not values:
                continue
            if operation.location == "statuscode":
                status = _status(",".join(values), status)
            elif operation.name == "set-cookie":
                cookies = _apply_cookies(cookies, operation, values)
            else:
                _apply_result_header(headers, operation, ",".join(values))
        return replace(result, status=status, headers=headers, cookies=cookies)


def _apply_result_header(headers: dict[str, str], operation: Operation, value: str) -> None:
    for name in [name for name in headers if name.lower() == operation.name]:
        if operation.action == "append":
            value = f"{headers[name]},{value}"
        del headers[name]
    if operation.action != "remove":
        headers[operation.name] = value


def _apply_cookies(
    cookies: tuple[str, ...], operation: Operation, values: list[str]
) -> tuple[str, ...]:
    if operation.action == "remove":
        return ()
    if operation.action == "overwrite":
        return tuple(values)
    return (*cookies, *values)


def _status(value: str, current: int) -> int:
    try:
        status = int(value.strip())
    except ValueError:
        return current
    return status if 100 <= status <= 599 else current


def compile_response_parameters(
    parameters: Mapping[str, Mapping[str, str]] | None,
) -> ResponseMapping | None:
    """The mapping of a `ResponseParameters` document; None when it maps nothing."""
    if not parameters:
        return None
    by_status: dict[int, tuple[Operation, ...]] = {}
    for selection, mapping in parameters.items():
        if not (selection.isdigit() and 200 <= int(selection) <= 599):
            raise InvalidParameterMapping(
                f"Invalid response parameters selection key specified: {selection}; "
                "it must be a status code from 200 to 599"
            )
        if mapping:
            by_status[int(selection)] = _operations(mapping, response=True)
    return ResponseMapping(by_status) if by_status else None
