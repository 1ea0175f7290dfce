"""A stage's settings, checked as API Gateway checks them.

StageName            `$default`, or letters, digits, '-' and '_' (128 at most)
StageVariables       at most 100: names [A-Za-z0-9_]+ (64 at most), values
                     [A-Za-z0-9-._~:/?#&=,]+ (512 at most)
DefaultRouteSettings / RouteSettings (by route key)
                     ThrottlingBurstLimit, ThrottlingRateLimit, DetailedMetricsEnabled;
                     LoggingLevel and DataTraceEnabled for WebSocket APIs only
AccessLogSettings    DestinationArn (a log group's ARN) and a Format with $context.requestId
                     (3 KB at most)

The limits are HTTP APIs' quotas that AWS does not raise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from portico.services.apigatewayv2 import validation
from portico.services.apigatewayv2.errors import BadRequestException

DEFAULT_STAGE = "$default"
LOGGING_LEVELS = ("ERROR", "INFO", "OFF")
_STAGE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_VARIABLE_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_VARIABLE_VALUE = re.compile(r"^[A-Za-z0-9\-._~:/?#&=,]+$")
_LOG_GROUP_ARN = re.compile(
    r"^arn:aws[a-z-]*:logs:[a-z0-9-]+:\d{12}:log-group:[.\-_/#A-Za-z0-9]{1,512}(:\*)?$"
)
_REQUEST_ID = re.compile(r"\$\{?context\.(requestId|extendedRequestId)\b")
MAX_VARIABLES = 100
MAX_VARIABLE_NAME = 64
MAX_VARIABLE_VALUE = 512
MAX_ACCESS_LOG_FORMAT = 3 * 1024
EXECUTION_LOGS_HTTP = "Execution logs are not supported on protocolType HTTP"


def check_stage_name(name: str) -> str:
    if name != DEFAULT_STAGE and not _STAGE_NAME.match(name):
        raise BadRequestException(
            f"Invalid stage name specified: {name}. Stage names may contain only letters, "
            "digits, '-' and '_', or be $default."
        )
    return name


def check_stage_variables(variables: Mapping[str, str]) -> None:
    """A stage's variables, all of them (none empty: an empty value removes a variable)."""
    if len(variables) > MAX_VARIABLES:
        raise BadRequestException(
            f"A stage may have at most {MAX_VARIABLES} stage variables, not {len(variables)}."
        )
    for name, value in variables.items():
        if len(name) > MAX_VARIABLE_NAME or not _VARIABLE_NAME.match(name):
            raise BadRequestException(
                f"Stage variable name '{name}' must only contain alphanumeric characters and "
                f"underscores, and be at most {MAX_VARIABLE_NAME} characters long."
            )
        if len(value) > MAX_VARIABLE_VALUE or not _VARIABLE_VALUE.match(value):
            raise BadRequestException(
                f"Stage variable value '{value}' for name '{name}' must only contain "
                "alphanumeric characters and the following special characters -._~:/?#&=, "
                f"and be at most {MAX_VARIABLE_VALUE} characters long."
            )


def check_route_settings(settings: Mapping[str, Any], *, http: bool) -> dict[str, Any]:
    """One RouteSettings structure: only the members given, each checked."""
    checked: dict[str, Any] = {}
    burst = validation.integer(settings, "ThrottlingBurstLimit", 0, 2**31 - 1)
    if burst is not None:
        checked["ThrottlingBurstLimit"] = burst
    rate = validation.number(settings, "ThrottlingRateLimit")
    if rate is not None:
        if rate < 0:
            raise BadRequestException("ThrottlingRateLimit must be greater than or equal to 0.")
        checked["ThrottlingRateLimit"] = rate
    metrics = validation.boolean(settings, "DetailedMetricsEnabled")
    if metrics is not None:
        checked["DetailedMetricsEnabled"] = metrics
    level = validation.choice(settings, "LoggingLevel", LOGGING_LEVELS, "logging level")
    trace = validation.boolean(settings, "DataTraceEnabled")
    if http and (level is not None or trace is not None):
        raise BadRequestException(EXECUTION_LOGS_HTTP)
    if level is not None:
        checked["LoggingLevel"] = level
    if trace is not None:
        checked["DataTraceEnabled"] = trace
    return checked


def check_access_log_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    destination = validation.string(settings, "DestinationArn", max_length=2048)
    log_format = validation.string(settings, "Format", max_length=MAX_ACCESS_LOG_FORMAT)
    if not destination and not log_format:
        return {}
    if not destination or not _LOG_GROUP_ARN.match(destination):
        raise BadRequestException(
            f"Invalid destination ARN specified: {destination}. Access logs go to a "
            "CloudWatch Logs log group: arn:aws:logs:{region}:{account}:log-group:{name}."
        )
    if not log_format or not _REQUEST_ID.search(log_format):
        raise BadRequestException("The access log format must include at least $context.requestId.")
    return {"DestinationArn": destination, "Format": log_format}
