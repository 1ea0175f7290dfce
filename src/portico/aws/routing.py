"""Matching rest-json / rest-xml requests to operations by method and path.

Each operation's `requestUri` (`/2015-03-31/functions/{FunctionName}/invocations`,
`/v2/apis/{apiId}/routes/{routeId}`, `/{Bucket}/{Key+}?tagging`) compiles to a regular
expression; among the operations that match, the most specific wins (more literal
characters, then fewer labels), the way AWS's own front end resolves them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

from botocore.model import ServiceModel

_LABEL = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class Route:
    operation: str
    method: str
    pattern: re.Pattern[str]
    labels: tuple[str, ...]
    required_query: tuple[tuple[str, str | None], ...]  # literal `?key` / `?key=value` parts
    specificity: tuple[int, int]


def _compile(operation: str, method: str, request_uri: str) -> Route:
    path, _, literal_query = request_uri.partition("?")
    regex = ""
    labels: list[str] = []
    position = 0
    literal_chars = 0
    for match in _LABEL.finditer(path):
        literal = path[position : match.start()]
        regex += re.escape(literal)
        literal_chars += len(literal)
        name = match.group(1)
        if name.endswith("+"):
            name = name[:-1]
            regex += f"(?P<{_group(name)}>.+)"
        else:
            regex += f"(?P<{_group(name)}>[^/]+)"
        labels.append(name)
        position = match.end()
    literal = path[position:]
    regex += re.escape(literal)
    literal_chars += len(literal)
    required = tuple(
        (key, value if value else None)
        for key, _, value in (part.partition("=") for part in literal_query.split("&") if part)
    )
    return Route(
        operation=operation,
        method=method,
        pattern=re.compile(f"^{regex}/?$"),
        labels=tuple(labels),
        required_query=required,
        specificity=(literal_chars + 10 * len(required), -len(labels)),
    )


def _group(label: str) -> str:
    return "L_" + re.sub(r"\W", "_", label)


class RestRouter:
    """All of a rest service's routes, tried most specific first."""

    def __init__(self, model: ServiceModel) -> None:
        routes = []
        for name in model.operation_names:
            http = model.operation_model(name).http
            routes.append(_compile(name, http["method"], http["requestUri"]))
        self.routes = sorted(routes, key=lambda route: route.specificity, reverse=True)

    def match(self, method: str, path: str, query: str) -> tuple[str, dict[str, str]] | None:
        """The operation and its (decoded) URI labels, or None."""
        keys = {key: value for key, value in parse_qsl(query, keep_blank_values=True)}
        for route in self.routes:
            if route.method != method:
                continue
            found = route.pattern.match(path)
            if found is None:
                continue
            if any(
                key not in keys or (value is not None and keys[key] != value)
                for key, value in route.required_query
            ):
                continue
            labels = {label: unquote(found.group(_group(label))) for label in route.labels}
            return route.operation, labels
        return None

    def allows_path(self, path: str) -> bool:
        return any(route.pattern.match(path) for route in self.routes)
