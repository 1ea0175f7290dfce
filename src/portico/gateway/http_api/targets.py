"""Which function an integration or authorizer URI names.

arn:aws:lambda:eu-west-1:000000000000:function:my-fn[:qualifier]
arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/<the function ARN>/invocations
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FUNCTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):function:"
    r"(?P<name>[A-Za-z0-9_-]{1,140})(?::(?P<qualifier>\$LATEST|[A-Za-z0-9_-]{1,128}))?$"
)
_INVOCATION_URI = re.compile(
    r"^arn:aws[a-z-]*:apigateway:[a-z0-9-]+:lambda:path/2015-03-31/functions/(?P<arn>.+)/invocations$"
)


@dataclass(frozen=True, slots=True)
class LambdaTarget:
    region: str
    account_id: str
    function_name: str
    qualifier: str  # "" for the unqualified function ($LATEST)


def lambda_target(uri: str) -> LambdaTarget | None:
    """The function `uri` names, or None when it names none."""
    wrapped = _INVOCATION_URI.match(uri)
    found = _FUNCTION_ARN.match(wrapped.group("arn") if wrapped else uri)
    if found is None:
        return None
    return LambdaTarget(
        found.group("region"),
        found.group("account"),
        found.group("name"),
        found.group("qualifier") or "",
    )
