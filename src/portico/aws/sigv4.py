"""AWS Signature Version 4, server side: who signed this request, and is the signature good?

`verify` takes the request as it came off the wire and answers an `Identity`, or raises the
error AWS answers. It checks, in the order AWS's front ends do (so that a request with
several faults gets the same error as from AWS):

    Authorization header  or  presigned query (X-Amz-Algorithm, X-Amz-Credential, ...)
      -> all parts present                       IncompleteSignature
      -> date well-formed, within the window     IncompleteSignature / signature error
      -> 'host' signed, algorithm, credential    signature error / IncompleteSignature
      -> credential scope (date, terminator, and region/service when asked)
      -> access key known                        UnrecognizedClient / InvalidClientTokenId
      -> its session (if any) not expired        ExpiredToken(Exception)
      -> canonical request -> string to sign -> HMAC chain, compared in constant time
      -> x-amz-content-sha256 matches the body   XAmzContentSHA256Mismatch

The canonical request is rebuilt the way clients build it (botocore's rules): the raw path
with dot segments removed, percent-encoded again (so `%20` is signed as `%2520`); the query
decoded and re-encoded (RFC 3986, `-_.~` unreserved) and sorted; the headers the client
listed in SignedHeaders, lowercased, values trimmed with inner whitespace runs collapsed;
and the payload hash from `x-amz-content-sha256` when sent, else sha256(body).

Error codes differ by protocol (a `Dialect`), as AWS's do: Lambda and the other rest-json
services answer `InvalidSignatureException` (403), JSON-1.x services the same codes with
status 400, query services `SignatureDoesNotMatch`, `InvalidClientTokenId`, `ExpiredToken`, ...
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import ClassVar, Literal, Protocol
from urllib.parse import quote, unquote_to_bytes

from botocore.utils import normalize_url_path

from portico.errors import AwsError

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
# Payload hashes that stand for a body whose bytes the signature does not cover.
UNVERIFIED_PAYLOADS = frozenset(
    {
        UNSIGNED_PAYLOAD,
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
    }
)

Dialect = Literal["rest-json", "json", "query"]

_BASIC_FORMAT = "%Y%m%dT%H%M%SZ"
_BASIC_DATE = re.compile(r"\d{8}T\d{6}Z")
_INTEGER = re.compile(r"-?\d+")
_AUTH_SEPARATORS = re.compile(r"[,\s]+")
_QUERY_AUTH_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-SignedHeaders",
    "X-Amz-Date",
)
_MISMATCH_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
_UNKNOWN_KEY_MESSAGE = "The security token included in the request is invalid."
_EXPIRED_KEY_MESSAGE = "The security token included in the request is expired"


# -- what goes in, what comes out ---------------------------------------------------------


class WireRequest(Protocol):
    """A request as read off the wire; `SignedRequest` and the protocol layer's request fit.

    `path` and `query` are raw (percent-encoded as sent, no '?'); bytes outside ASCII, if
    any, decoded as latin-1 (lossless, what ASGI servers hand over). `headers` holds every
    header, repeated ones joined with ',' (no space).
    """

    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def query(self) -> str: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def body(self) -> bytes: ...


@dataclass(frozen=True)
class SignedRequest:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Identity:
    """Who signed, and for which region and service (the signature's credential scope)."""

    access_key_id: str
    region: str
    service: str
    session_token: str | None


class CredentialStore(Protocol):
    def secret_for(self, access_key_id: str, session_token: str | None) -> str | None:
        """The secret access key, or None if the key (or its session token) is not valid;
        raises `ExpiredCredentials` for a session that was valid and has expired."""
        ...


class ExpiredCredentials(Exception):
    """A credential store's answer for session credentials whose time is up."""


# -- errors, one class per AWS code -------------------------------------------------------


class AuthenticationError(AwsError):
    """The request is not (correctly) signed. Signature mismatches carry, for the server's
    log, the canonical request and string to sign the server computed; clients get the
    bare message (Lambda sends them nothing more)."""

    sender_fault: ClassVar[bool] = True
    canonical_request: str | None = None
    string_to_sign: str | None = None


class MissingAuthenticationTokenException(AuthenticationError):
    code: ClassVar[str] = "MissingAuthenticationTokenException"
    status_code: ClassVar[int] = 403


class IncompleteSignatureException(AuthenticationError):
    code: ClassVar[str] = "IncompleteSignatureException"
    status_code: ClassVar[int] = 403


class UnrecognizedClientException(AuthenticationError):
    code: ClassVar[str] = "UnrecognizedClientException"
    status_code: ClassVar[int] = 403


class InvalidSignatureException(AuthenticationError):
    code: ClassVar[str] = "InvalidSignatureException"
    status_code: ClassVar[int] = 403


class MissingAuthenticationToken(AuthenticationError):
    code: ClassVar[str] = "MissingAuthenticationToken"
    status_code: ClassVar[int] = 403


class IncompleteSignature(AuthenticationError):
    code: ClassVar[str] = "IncompleteSignature"
    status_code: ClassVar[int] = 400


class InvalidClientTokenId(AuthenticationError):
    code: ClassVar[str] = "InvalidClientTokenId"
    status_code: ClassVar[int] = 403


class SignatureDoesNotMatch(AuthenticationError):
    code: ClassVar[str] = "SignatureDoesNotMatch"
    status_code: ClassVar[int] = 403


class ExpiredTokenException(AuthenticationError):
    code: ClassVar[str] = "ExpiredTokenException"
    status_code: ClassVar[int] = 403


class ExpiredToken(AuthenticationError):
    code: ClassVar[str] = "ExpiredToken"
    status_code: ClassVar[int] = 403


class XAmzContentSHA256Mismatch(AuthenticationError):
    code: ClassVar[str] = "XAmzContentSHA256Mismatch"
    status_code: ClassVar[int] = 400


# JSON-1.x services (DynamoDB, Kinesis, ECS, Cognito, ...) send the same codes as rest-json
# ones, with status 400: the same errors, answered differently.
class _JsonMissingAuthenticationTokenException(MissingAuthenticationTokenException):
    status_code: ClassVar[int] = 400


class _JsonIncompleteSignatureException(IncompleteSignatureException):
    status_code: ClassVar[int] = 400


class _JsonUnrecognizedClientException(UnrecognizedClientException):
    status_code: ClassVar[int] = 400


class _JsonInvalidSignatureException(InvalidSignatureException):
    status_code: ClassVar[int] = 400


class _JsonExpiredTokenException(ExpiredTokenException):
    status_code: ClassVar[int] = 400


_Fault = Literal["missing", "incomplete", "unrecognized", "expired", "mismatch"]


_DIALECTS: dict[Dialect, dict[_Fault, type[AuthenticationError]]] = {
    "rest-json": {
        "missing": MissingAuthenticationTokenException,
        "incomplete": IncompleteSignatureException,
        "unrecognized": UnrecognizedClientException,
        "expired": ExpiredTokenException,
        "mismatch": InvalidSignatureException,
    },
    "json": {
        "missing": _JsonMissingAuthenticationTokenException,
        "incomplete": _JsonIncompleteSignatureException,
        "unrecognized": _JsonUnrecognizedClientException,
        "expired": _JsonExpiredTokenException,
        "mismatch": _JsonInvalidSignatureException,
    },
    "query": {
        "missing": MissingAuthenticationToken,
        "incomplete": IncompleteSignature,
        "unrecognized": InvalidClientTokenId,
        "expired": ExpiredToken,
        "mismatch": SignatureDoesNotMatch,
    },
}
_MISSING_MESSAGES: dict[Dialect, str] = {
    "rest-json": "Missing Authentication Token",
    "json": "Request is missing Authentication Token",
    "query": "Request is missing Authentication Token",
}
_PROTOCOL_DIALECTS: dict[str, Dialect] = {
    "rest-json": "rest-json",
    "json": "json",
    "query": "query",
    "ec2": "query",
}


def dialect_for_protocol(protocol: str) -> Dialect:
    """The error dialect of a botocore protocol name (a service model's `protocol`)."""
    try:
        return _PROTOCOL_DIALECTS[protocol]
    except KeyError:
        allowed = ", ".join(sorted(_PROTOCOL_DIALECTS))
        raise ValueError(f"protocol must be one of {allowed}; got {protocol!r}") from None


class _Rejected(Exception):
    """A verification failure, before the dialect names it."""

    def __init__(
        self,
        fault: _Fault,
        message: str,
        canonical_request: str | None = None,
        string_to_sign: str | None = None,
    ) -> None:
        super().__init__(message)
        self.fault = fault
        self.message = message
        self.canonical_request = canonical_request
        self.string_to_sign = string_to_sign


# -- verification -------------------------------------------------------------------------


def verify(
    request: WireRequest,
    credentials: CredentialStore,
    now: datetime,
    *,
    max_skew: timedelta = timedelta(minutes=15),
    dialect: Dialect = "rest-json",
    region: str | None = None,
    service: str | None = None,
) -> Identity:
    """Check the request's SigV4 signature; answer who signed it, or raise AWS's error.

    `now` is timezone-aware. `region`/`service`, when given, must be the credential scope's
    (else any scope is accepted and reported in the `Identity`). A presigned URL is good
    from `max_skew` before its X-Amz-Date until X-Amz-Expires after it, at most `max_skew`
    after it: AWS's services other than S3 hold presigned requests to the same window as
    signed ones.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    try:
        return _verify(request, credentials, now, max_skew, dialect, region, service)
    except _Rejected as rejected:
        missing = rejected.fault == "missing"
        message = _MISSING_MESSAGES[dialect] if missing else rejected.message
        error = _DIALECTS[dialect][rejected.fault](message)
        error.canonical_request = rejected.canonical_request
        error.string_to_sign = rejected.string_to_sign
        raise error from None


@dataclass(frozen=True)
class _Claim:
    """What the request says about its signature, parsed but not yet checked."""

    algorithm: str
    credential: str
    signed_headers: str
    signature: str
    date: str
    expires: str | None
    session_token: str | None
    presigned: bool


def _verify(
    request: WireRequest,
    credentials: CredentialStore,
    now: datetime,
    max_skew: timedelta,
    dialect: Dialect,
    region: str | None,
    service: str | None,
) -> Identity:
    headers = _lowercased(request.headers)
    query = _parse_query(request.query)
    claim = _claim(headers, query, dialect)
    signed_at = _parse_date(claim)
    _check_window(signed_at, claim, now, max_skew)
    signed_names = [name.strip().lower() for name in claim.signed_headers.split(";")]
    if "host" not in signed_names:
        raise _Rejected(
            "mismatch", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        )
    if claim.algorithm != ALGORITHM:
        raise _Rejected(
            "incomplete",
            f"Unsupported AWS 'algorithm': '{claim.algorithm}' (only {ALGORITHM} for now). ",
        )
    stamp = signed_at.strftime(_BASIC_FORMAT)
    access_key_id, scope = _check_scope(claim.credential, stamp, region, service)
    try:
        secret = credentials.secret_for(access_key_id, claim.session_token)
    except ExpiredCredentials:
        raise _Rejected("expired", _EXPIRED_KEY_MESSAGE) from None
    if secret is None:
        raise _Rejected("unrecognized", _UNKNOWN_KEY_MESSAGE)

    declared_payload = headers.get("x-amz-content-sha256")
    if declared_payload is None:
        payload_hash = hashlib.sha256(request.body).hexdigest()
    else:
        payload_hash = declared_payload
    canonical = "\n".join(
        (
            request.method.upper(),
            _canonical_uri(request.path),
            _canonical_query(query, claim.presigned),
            "".join(f"{name}:{_trimmed(headers.get(name, ''))}\n" for name in signed_names),
            ";".join(signed_names),
            payload_hash,
        )
    )
    string_to_sign = "\n".join(
        (ALGORITHM, stamp, "/".join(scope), hashlib.sha256(canonical.encode()).hexdigest())
    )
    expected = _signature(secret, scope, string_to_sign)
    if not hmac.compare_digest(expected.encode(), claim.signature.encode("utf-8", "replace")):
        raise _Rejected("mismatch", _MISMATCH_MESSAGE, canonical, string_to_sign)
    if declared_payload is not None and declared_payload not in UNVERIFIED_PAYLOADS:
        _check_payload(declared_payload, request.body)
    return Identity(
        access_key_id=access_key_id,
        region=scope[1],
        service=scope[2],
        session_token=claim.session_token,
    )


def _claim(headers: Mapping[str, str], query: list[tuple[str, str]], dialect: Dialect) -> _Claim:
    authorization = headers.get("authorization", "").strip()
    presigned = any(name == "X-Amz-Algorithm" for name, _ in query)
    if authorization and presigned:
        raise _Rejected(
            "mismatch",
            "Found both 'X-Amz-Algorithm' as a query-string param "
            "and 'Authorization' as HTTP header.",
        )
    if presigned:
        return _claim_from_query(dict(reversed(query)))
    # JSON-1.x front ends take any other scheme (Bearer, Basic, ...) for no signature at all.
    if not authorization or (dialect == "json" and not authorization.startswith("AWS4-")):
        raise _Rejected("missing", "")
    return _claim_from_header(authorization, headers)


def _claim_from_header(authorization: str, headers: Mapping[str, str]) -> _Claim:
    algorithm, _, rest = authorization.partition(" ")
    params: dict[str, str] = {}
    for item in _AUTH_SEPARATORS.split(rest):
        if not item:
            continue
        name, equals, value = item.partition("=")
        if not equals:
            raise _Rejected(
                "incomplete",
                f"'{item}' not a valid key=value pair (missing equal-sign) "
                f"in Authorization header: '{authorization}'.",
            )
        params[name] = value
    date = headers.get("x-amz-date") or headers.get("date") or ""
    missing = [
        f"Authorization header requires '{name}' parameter. "
        for name in ("Credential", "Signature", "SignedHeaders")
        if not params.get(name)
    ]
    if not date:
        missing.append(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        )
    if missing:
        raise _Rejected("incomplete", "".join(missing) + f"Authorization={authorization}")
    return _Claim(
        algorithm=algorithm,
        credential=params["Credential"],
        signed_headers=params["SignedHeaders"],
        signature=params["Signature"],
        date=date,
        expires=None,
        session_token=headers.get("x-amz-security-token"),
        presigned=False,
    )


def _claim_from_query(params: Mapping[str, str]) -> _Claim:
    missing = [
        f"AWS query-string parameters must include '{name}'. "
        for name in _QUERY_AUTH_PARAMS
        if not params.get(name)
    ]
    if missing:
        raise _Rejected("incomplete", "".join(missing) + "Re-examine the query-string parameters.")
    return _Claim(
        algorithm=params["X-Amz-Algorithm"],
        credential=params["X-Amz-Credential"],
        signed_headers=params["X-Amz-SignedHeaders"],
        signature=params["X-Amz-Signature"],
        date=params["X-Amz-Date"],
        expires=params.get("X-Amz-Expires"),
        session_token=params.get("X-Amz-Security-Token"),
        presigned=True,
    )


def _parse_date(claim: _Claim) -> datetime:
    """X-Amz-Date in ISO-8601 basic format; a Date header may be an HTTP date instead."""
    if _BASIC_DATE.fullmatch(claim.date):
        try:
            return datetime.strptime(claim.date, _BASIC_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            pass
    elif not claim.presigned:
        try:
            parsed = parsedate_to_datetime(claim.date)
        except (TypeError, ValueError):
            pass
        else:
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    raise _Rejected(
        "incomplete",
        f"Date must be in ISO-8601 'basic format'. Got '{claim.date}'. "
        "See http://en.wikipedia.org/wiki/ISO_8601",
    )


def _check_window(signed_at: datetime, claim: _Claim, now: datetime, max_skew: timedelta) -> None:
    now = now.astimezone(UTC).replace(microsecond=0)
    lifetime = max_skew
    if claim.expires is not None:
        lifetime = min(max_skew, _expires(claim.expires))
    earliest, latest = now - lifetime, now + max_skew
    if signed_at < earliest:
        raise _Rejected(
            "mismatch",
            f"Signature expired: {_basic(signed_at)} is now earlier than {_basic(earliest)} "
            f"({_basic(now)} - {_span(lifetime)})",
        )
    if signed_at > latest:
        raise _Rejected(
            "mismatch",
            f"Signature not yet current: {_basic(signed_at)} is still later than "
            f"{_basic(latest)} ({_basic(now)} + {_span(max_skew)})",
        )


def _expires(value: str) -> timedelta:
    if not _INTEGER.fullmatch(value):
        raise _Rejected("incomplete", "X-Amz-Expires should be a number")
    seconds = int(value)
    if seconds < 0:
        raise _Rejected("incomplete", "X-Amz-Expires must be non-negative")
    return timedelta(seconds=seconds)


def _check_scope(
    credential: str, stamp: str, region: str | None, service: str | None
) -> tuple[str, tuple[str, str, str, str]]:
    """The access key id and the credential scope (date, region, service, terminator)."""
    parts = credential.rstrip("/").split("/")
    if len(parts) != 5:
        raise _Rejected(
            "incomplete",
            "Credential must have exactly 5 slash-delimited elements, "
            f"e.g. keyid/date/region/service/term, got '{credential}'",
        )
    access_key_id, scope_date, scope_region, scope_service, terminator = parts
    problems = []
    if region is not None and scope_region != region:
        problems.append(f"Credential should be scoped to a valid region, not '{scope_region}'. ")
    if service is not None and scope_service != service:
        problems.append(f"Credential should be scoped to correct service: '{service}'. ")
    if terminator != "aws4_request":
        problems.append(
            f"Credential should be scoped with a valid terminator: 'aws4_request', "
            f"not '{terminator}'. "
        )
    if scope_date != stamp[:8]:
        problems.append(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{scope_date}' != '{stamp[:8]}', from '{stamp}'. "
        )
    if problems:
        raise _Rejected("mismatch", "".join(problems))
    return access_key_id, (scope_date, scope_region, scope_service, terminator)


def _check_payload(declared: str, body: bytes) -> None:
    if declared.lower() == hashlib.sha256(body).hexdigest():
        return
    raise XAmzContentSHA256Mismatch(
        "The provided 'x-amz-content-sha256' header does not match what was computed."
    )


def _signature(secret: str, scope: tuple[str, ...], string_to_sign: str) -> str:
    key = _signing_key(secret, scope)
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


@functools.lru_cache(maxsize=256)
def _signing_key(secret: str, scope: tuple[str, ...]) -> bytes:
    """The derived key of one (secret, date, region, service): the same all day, so derived
    once instead of four HMACs per request."""
    key = f"AWS4{secret}".encode()
    for part in scope:
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


# -- canonical forms ----------------------------------------------------------------------


def _canonical_uri(path: str) -> str:
    # Clients sign the path they send, dot segments and repeated slashes removed, then
    # percent-encoded once more (S3 aside, which Portico does not serve).
    normalized: str = normalize_url_path(path)
    return quote(_wire_bytes(normalized), safe="/~")


def _canonical_query(params: list[tuple[str, str]], presigned: bool) -> str:
    encoded = sorted(
        (_encode(name), _encode(value))
        for name, value in params
        if not (presigned and name == "X-Amz-Signature")
    )
    return "&".join(f"{name}={value}" for name, value in encoded)


def _parse_query(query: str) -> list[tuple[str, str]]:
    """(name, value) pairs in order, percent-decoded ('+' stays '+'), empty pieces skipped."""
    pairs = []
    for piece in query.split("&"):
        if piece:
            name, _, value = piece.partition("=")
            pairs.append((_decode(name), _decode(value)))
    return pairs


def _decode(text: str) -> str:
    return unquote_to_bytes(_wire_bytes(text)).decode("utf-8", "surrogateescape")


def _encode(text: str) -> str:
    return quote(text.encode("utf-8", "surrogateescape"), safe="-_.~")


def _wire_bytes(text: str) -> bytes:
    """The bytes a raw path or query was read from (see `WireRequest`)."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")


def _lowercased(headers: Mapping[str, str]) -> dict[str, str]:
    lowered: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
    return lowered


def _trimmed(value: str) -> str:
    return " ".join(value.split())


def _basic(moment: datetime) -> str:
    return moment.strftime(_BASIC_FORMAT)


def _span(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    return f"{seconds // 60} min." if seconds % 60 == 0 else f"{seconds} sec."
