"""Wire compatibility against botocore itself, both ways, for each protocol.

botocore's serializer -> our parser must give back the client's parameters; our serializer
-> botocore's parser must give back the service's result, errors included.
"""

from __future__ import annotations

import datetime
import io
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.awsrequest import create_request_object, prepare_request_dict
from botocore.compat import HTTPHeaders
from botocore.parsers import create_parser
from botocore.response import StreamingBody
from botocore.serialize import create_serializer

from portico.aws.catalog import ServiceCatalog
from portico.aws.messages import AwsRequest, Headers
from portico.aws.parser import parse
from portico.aws.serializer import serialize, serialize_error
from portico.errors import AwsError

CATALOG = ServiceCatalog(["lambda", "sqs", "sns", "logs", "apigatewayv2", "secretsmanager"])
WHEN = datetime.datetime(2024, 5, 17, 12, 30, 45, tzinfo=datetime.UTC)


def wire_request(service: str, operation: str, params: dict[str, Any]) -> AwsRequest:
    """What a boto3 client puts on the wire for this call."""
    model = CATALOG[service]
    operation_model = model.operation(operation)
    serializer = create_serializer(model.protocol, include_validation=True)
    request_dict = serializer.serialize_to_request(params, operation_model)
    prepare_request_dict(request_dict, endpoint_url="http://127.0.0.1:4566")
    prepared = create_request_object(request_dict).prepare()
    url = urlsplit(prepared.url)
    body = prepared.body or b""
    return AwsRequest(
        method=prepared.method,
        path=url.path,
        query=url.query,
        headers=Headers(prepared.headers.items()),
        body=body if isinstance(body, bytes) else body.encode(),
    )


REQUESTS = [
    (
        "lambda",
        "CreateFunction",
        {
            "FunctionName": "my-fn",
            "Runtime": "python3.12",
            "Role": "arn:aws:iam::000000000000:role/r",
            "Handler": "app.handler",
            "Code": {"ZipFile": b"PK\x03\x04binary\x00\xff"},
            "Timeout": 30,
            "MemorySize": 256,
            "Publish": True,
            "Environment": {"Variables": {"A": "1", "B": "two words"}},
            "Layers": ["arn:aws:lambda:us-east-1:000000000000:layer:l:1"],
            "Tags": {"team": "core"},
            "LoggingConfig": {"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG"},
        },
    ),
    (
        "lambda",
        "Invoke",
        {
            "FunctionName": "arn:aws:lambda:us-east-1:000000000000:function:my-fn",
            "InvocationType": "Event",
            "LogType": "Tail",
            "ClientContext": "eyJjdXN0b20iOnt9fQ==",
            "Payload": b'{"key": "value with spaces & symbols?"}',
            "Qualifier": "live",
        },
    ),
    ("lambda", "ListFunctions", {"MaxItems": 5, "Marker": "abc/def=="}),
    ("lambda", "GetFunction", {"FunctionName": "my-fn", "Qualifier": "$LATEST"}),
    ("lambda", "DeleteFunction", {"FunctionName": "my fn:1"}),
    ("lambda", "PutFunctionConcurrency", {"FunctionName": "f", "ReservedConcurrentExecutions": 0}),
    ("lambda", "ListTags", {"Resource": "arn:aws:lambda:us-east-1:000000000000:function:f"}),
    (
        "lambda",
        "UntagResource",
        {"Resource": "arn:aws:lambda:us-east-1:0:function:f", "TagKeys": ["a", "b c"]},
    ),
    (
        "lambda",
        "UpdateAlias",
        {
            "FunctionName": "f",
            "Name": "live",
            "FunctionVersion": "2",
            "RoutingConfig": {"AdditionalVersionWeights": {"3": 0.25}},
        },
    ),
    ("apigatewayv2", "CreateApi", {"Name": "api", "ProtocolType": "HTTP", "Target": "arn:f"}),
    ("apigatewayv2", "GetRoutes", {"ApiId": "abc123", "MaxResults": "10"}),
    (  # nested members are camelCase on the wire
        "apigatewayv2",
        "UpdateApi",
        {
            "ApiId": "abc123",
            "CorsConfiguration": {"AllowOrigins": ["https://a.example"], "MaxAge": 60},
        },
    ),
    (
        "apigatewayv2",
        "UpdateStage",
        {
            "ApiId": "abc123",
            "StageName": "dev",
            "RouteSettings": {"GET /": {"ThrottlingBurstLimit": 5}},
            "AccessLogSettings": {"DestinationArn": "arn:aws:logs:x", "Format": "$context.status"},
        },
    ),
    (
        "sqs",
        "SendMessage",
        {
            "QueueUrl": "http://127.0.0.1:4566/000000000000/q",
            "MessageBody": "héllo",
            "DelaySeconds": 5,
            "MessageAttributes": {
                "n": {"DataType": "Number", "StringValue": "1"},
                "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
            },
        },
    ),
    (
        "sqs",
        "ReceiveMessage",
        {"QueueUrl": "u", "MaxNumberOfMessages": 10, "AttributeNames": ["All"]},
    ),
    (
        "sns",
        "Publish",
        {
            "TopicArn": "arn:aws:sns:us-east-1:000000000000:t",
            "Message": "a & b < c",
            "MessageAttributes": {
                "k": {"DataType": "String", "StringValue": "v"},
                "bin": {"DataType": "Binary", "BinaryValue": b"\xff"},
            },
        },
    ),
    (
        "sns",
        "CreateTopic",
        {"Name": "t", "Attributes": {"FifoTopic": "true"}, "Tags": [{"Key": "a", "Value": "b"}]},
    ),
    ("sns", "ListTopics", {}),
    (
        "logs",
        "FilterLogEvents",
        {
            "logGroupName": "/aws/lambda/f",
            "startTime": 1700000000000,
            "filterPattern": "ERROR",
            "limit": 50,
        },
    ),
    (
        "secretsmanager",
        "CreateSecret",
        {"Name": "s", "SecretBinary": b"\x00secret", "Tags": [{"Key": "k", "Value": "v"}]},
    ),
]


@pytest.mark.parametrize(
    ("service", "operation", "params"), REQUESTS, ids=[f"{s}.{o}" for s, o, _ in REQUESTS]
)
def test_botocore_requests_parse_back(service: str, operation: str, params: dict[str, Any]) -> None:
    request = wire_request(service, operation, params)
    parsed_operation, parsed = parse(CATALOG[service], request)
    assert parsed_operation.name == operation
    assert parsed == params


def response_dict(response: Any, streaming: bool = False) -> dict[str, Any]:
    """As botocore's endpoint hands a response to its parsers."""
    body: Any = response.body
    if streaming:
        body = StreamingBody(io.BytesIO(body), len(body))
    headers = HTTPHeaders()
    for name, value in response.headers.items():
        headers[name] = value
    return {"status_code": response.status, "headers": headers, "body": body}


def botocore_reads(service: str, operation: str, response: Any) -> dict[str, Any]:
    model = CATALOG[service]
    operation_model = model.operation(operation)
    parser = create_parser(model.protocol)
    streaming = operation_model.has_streaming_output
    parsed: dict[str, Any] = parser.parse(
        response_dict(response, streaming), operation_model.output_shape
    )
    parsed.pop("ResponseMetadata", None)
    for name, value in parsed.items():
        if isinstance(value, StreamingBody):
            parsed[name] = value.read()
    return parsed


RESULTS = [
    (
        "lambda",
        "Invoke",
        {
            "StatusCode": 200,
            "FunctionError": "Unhandled",
            "LogResult": "U1RBUlQ=",
            "ExecutedVersion": "$LATEST",
            "Payload": b'{"errorMessage": "boom"}',
        },
    ),
    (
        "lambda",
        "GetFunction",
        {
            "Configuration": {
                "FunctionName": "f",
                "FunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:f",
                "Runtime": "python3.12",
                "CodeSize": 123,
                "Timeout": 3,
                "MemorySize": 128,
                "LastModified": "2024-05-17T12:30:45.000+0000",
                "Environment": {"Variables": {"A": "1"}},
                "State": "Active",
                "Layers": [{"Arn": "arn:l:1", "CodeSize": 10}],
            },
            "Code": {"RepositoryType": "S3", "Location": "http://127.0.0.1:4566/code"},
            "Tags": {"team": "core"},
        },
    ),
    (
        "lambda",
        "ListFunctions",
        {"Functions": [{"FunctionName": "a"}, {"FunctionName": "b"}], "NextMarker": "m"},
    ),
    ("lambda", "GetFunctionConcurrency", {"ReservedConcurrentExecutions": 5}),
    (
        "apigatewayv2",
        "CreateApi",
        {"ApiId": "a1", "Name": "api", "ProtocolType": "HTTP", "CreatedDate": WHEN},
    ),
    (
        "sqs",
        "ReceiveMessage",
        {
            "Messages": [
                {
                    "MessageId": "m1",
                    "Body": "héllo",
                    "Attributes": {"SentTimestamp": "1"},
                    "MessageAttributes": {"b": {"DataType": "Binary", "BinaryValue": b"\x00"}},
                }
            ]
        },
    ),
    ("sns", "Publish", {"MessageId": "id-1"}),
    (
        "sns",
        "ListTopics",
        {"Topics": [{"TopicArn": "arn:1"}, {"TopicArn": "arn:2 & <3>"}], "NextToken": "n"},
    ),
    ("sns", "GetTopicAttributes", {"Attributes": {"Policy": "{}", "DisplayName": "d"}}),
    (
        "logs",
        "GetLogEvents",
        {
            "events": [{"timestamp": 1700000000000, "message": "hi\n", "ingestionTime": 1}],
            "nextForwardToken": "f/1",
        },
    ),
    (
        "secretsmanager",
        "GetSecretValue",
        {
            "ARN": "arn",
            "Name": "s",
            "SecretBinary": b"\x00\x01",
            "VersionStages": ["AWSCURRENT"],
            "CreatedDate": WHEN,
        },
    ),
]


@pytest.mark.parametrize(
    ("service", "operation", "result"), RESULTS, ids=[f"{s}.{o}" for s, o, _ in RESULTS]
)
def test_results_read_back_by_botocore(
    service: str, operation: str, result: dict[str, Any]
) -> None:
    model = CATALOG[service]
    response = serialize(model, model.operation(operation), result, "req-1")
    assert botocore_reads(service, operation, response) == result


class ResourceNotFoundException(AwsError):
    code = "ResourceNotFoundException"
    status_code = 404
    sender_fault = True


@pytest.mark.parametrize("service", ["lambda", "sqs", "sns", "logs", "apigatewayv2"])
def test_errors_read_back_by_botocore(service: str) -> None:
    model = CATALOG[service]
    operation = next(iter(model.model.operation_names))
    error = ResourceNotFoundException("Function not found: arn:aws:lambda:x", Type="User")
    response = serialize_error(model, error, "req-9")
    assert response.status == 404
    shape = model.operation(operation).output_shape
    parsed = create_parser(model.protocol).parse(response_dict(response), shape)
    assert parsed["Error"]["Code"] == "ResourceNotFoundException"
    assert parsed["Error"]["Message"] == "Function not found: arn:aws:lambda:x"


def test_unknown_routes_and_targets() -> None:
    from portico.aws.errors import UnknownOperationException

    request = AwsRequest("GET", "/2015-03-31/nothing", "", Headers())
    with pytest.raises(UnknownOperationException):
        parse(CATALOG["lambda"], request)
    request = AwsRequest("POST", "/", "", Headers([("X-Amz-Target", "AmazonSQS.Nope")]), b"{}")
    with pytest.raises(UnknownOperationException):
        parse(CATALOG["sqs"], request)


def test_bad_json_body_is_a_serialization_error() -> None:
    from portico.aws.errors import SerializationException

    request = AwsRequest(
        "POST", "/", "", Headers([("X-Amz-Target", "AmazonSQS.SendMessage")]), b"{nope"
    )
    with pytest.raises(SerializationException):
        parse(CATALOG["sqs"], request)


LOGS_TARGET = "Logs_20140328.DescribeLogStreams"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"null", "The request body must be a JSON object."),
        (b"[]", "The request body must be a JSON object."),
        (b'{"logGroupName": 7}', "Expected a string at logGroupName"),
        (b'{"logGroupName": "g", "limit": "50"}', "Expected an integer at limit"),
        (b'{"logGroupName": "g", "limit": true}', "Expected an integer at limit"),
        (b'{"logGroupName": "g", "descending": "yes"}', "Expected a boolean at descending"),
    ],
)
def test_json_of_the_wrong_type_is_a_serialization_error(body: bytes, problem: str) -> None:
    from portico.aws.errors import SerializationException

    request = AwsRequest("POST", "/", "", Headers([("X-Amz-Target", LOGS_TARGET)]), body)
    with pytest.raises(SerializationException) as raised:
        parse(CATALOG["logs"], request)
    assert raised.value.message == problem


def test_json_of_the_right_types_parses() -> None:
    body = b'{"logGroupName": "g", "limit": 5, "descending": false}'
    request = AwsRequest("POST", "/", "", Headers([("X-Amz-Target", LOGS_TARGET)]), body)
    _operation, params = parse(CATALOG["logs"], request)
    assert params == {"logGroupName": "g", "limit": 5, "descending": False}


@pytest.mark.parametrize(
    ("service", "operation"),
    [
        ("lambda", "DeleteAlias"),
        ("lambda", "DeleteFunctionConcurrency"),
        ("apigatewayv2", "DeleteApi"),
    ],
)
def test_no_content_answers_have_no_body(service: str, operation: str) -> None:
    """A 204 with bytes after it would make a keep-alive client read them as the start of the
    next response."""
    model = CATALOG[service]
    response = serialize(model, model.operation(operation), {}, "req-1")
    assert (response.status, response.body) == (204, b"")
