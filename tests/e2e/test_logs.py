"""The CloudWatch Logs API through boto3 (and the AWS CLI, when installed) against the real
server."""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.e2e.conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY, Server, error_of

GROUP = "/aws/lambda/echo"
NOW = int(time.time() * 1000)


def put(client: Any, group: str, stream: str, messages: list[str], start: int = NOW) -> Any:
    events = [{"timestamp": start + i, "message": m} for i, m in enumerate(messages)]
    return client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def with_stream(client: Any, group: str = GROUP, *streams: str) -> None:
    client.create_log_group(logGroupName=group)
    for stream in streams:
        client.create_log_stream(logGroupName=group, logStreamName=stream)


@pytest.fixture
def logs(server: Server) -> Any:
    return server.client("logs")


def test_log_groups_are_created_described_paged_and_deleted(logs: Any) -> None:
    names = [f"/aws/lambda/fn-{i}" for i in range(5)] + ["/app/other"]
    for name in names:
        logs.create_log_group(logGroupName=name, tags={"team": "a"})

    described = logs.describe_log_groups()["logGroups"]
    assert [g["logGroupName"] for g in described] == sorted(names)
    first = described[1]
    assert (
        first["arn"] == f"arn:aws:logs:eu-west-1:000000000000:log-group:{first['logGroupName']}:*"
    )
    assert first["logGroupArn"] == first["arn"][:-2]
    assert first["storedBytes"] == 0 and "retentionInDays" not in first
    assert abs(first["creationTime"] - int(time.time() * 1000)) < 60_000

    page = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/", limit=2)
    assert [g["logGroupName"] for g in page["logGroups"]] == names[:2]
    page = logs.describe_log_groups(
        logGroupNamePrefix="/aws/lambda/", limit=2, nextToken=page["nextToken"]
    )
    assert [g["logGroupName"] for g in page["logGroups"]] == names[2:4]
    paginator = logs.get_paginator("describe_log_groups")
    pages = list(
        paginator.paginate(logGroupNamePrefix="/aws/lambda/", PaginationConfig={"PageSize": 2})
    )
    assert [len(p["logGroups"]) for p in pages] == [2, 2, 1]
    assert "nextToken" not in pages[-1]

    matched = logs.describe_log_groups(logGroupNamePattern="fn-3")["logGroups"]
    assert matched == [
        {
            "logGroupName": "/aws/lambda/fn-3",
            "creationTime": matched[0]["creationTime"],
            "arn": "arn:aws:logs:eu-west-1:000000000000:log-group:/aws/lambda/fn-3:*",
        }
    ]
    assert logs.describe_log_groups(logGroupNamePattern="FN")["logGroups"] == []

    status, code, message = error_of(logs.create_log_group, logGroupName=names[0])
    assert (status, code, message) == (
        400,
        "ResourceAlreadyExistsException",
        "The specified log group already exists",
    )
    logs.delete_log_group(logGroupName=names[0])
    status, code, message = error_of(logs.delete_log_group, logGroupName=names[0])
    assert (status, code, message) == (
        400,
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    )
    assert names[0] not in [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]


def test_groups_are_per_region(server: Server) -> None:
    server.client("logs").create_log_group(logGroupName=GROUP)
    other = boto3.client(
        "logs",
        endpoint_url=server.url,
        region_name="us-west-2",
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
    )
    assert other.describe_log_groups()["logGroups"] == []
    other.create_log_group(logGroupName=GROUP)  # no clash with eu-west-1's


def test_log_streams_are_created_ordered_paged_and_deleted(logs: Any) -> None:
    with_stream(logs, GROUP, "b", "a", "c", "d")
    put(logs, GROUP, "c", ["c1"], start=NOW - 3000)
    put(logs, GROUP, "a", ["a1"], start=NOW - 2000)
    put(logs, GROUP, "b", ["b1"], start=NOW - 1000)

    streams = logs.describe_log_streams(logGroupName=GROUP)["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["a", "b", "c", "d"]
    a = streams[0]
    assert a["arn"] == "arn:aws:logs:eu-west-1:000000000000:log-group:/aws/lambda/echo:log-stream:a"
    assert a["firstEventTimestamp"] == a["lastEventTimestamp"] == NOW - 2000
    assert "lastIngestionTime" in a and "firstEventTimestamp" not in streams[3]

    by_time = logs.describe_log_streams(
        logGroupName=GROUP, orderBy="LastEventTime", descending=True
    )["logStreams"]
    assert [s["logStreamName"] for s in by_time] == ["b", "a", "c", "d"]
    desc = logs.describe_log_streams(logGroupName=GROUP, descending=True, limit=3)
    assert [s["logStreamName"] for s in desc["logStreams"]] == ["d", "c", "b"]
    rest = logs.describe_log_streams(
        logGroupName=GROUP, descending=True, limit=3, nextToken=desc["nextToken"]
    )
    assert [s["logStreamName"] for s in rest["logStreams"]] == ["a"] and "nextToken" not in rest
    paginator = logs.get_paginator("describe_log_streams")
    names = [
        s["logStreamName"]
        for p in paginator.paginate(
            logGroupName=GROUP, orderBy="LastEventTime", PaginationConfig={"PageSize": 1}
        )
        for s in p["logStreams"]
    ]
    assert names == ["d", "c", "a", "b"]
    by_id = logs.describe_log_streams(
        logGroupIdentifier=f"arn:aws:logs:eu-west-1:000000000000:log-group:{GROUP}",
        logStreamNamePrefix="c",
    )
    assert [s["logStreamName"] for s in by_id["logStreams"]] == ["c"]

    status, code, message = error_of(
        logs.describe_log_streams,
        logGroupName=GROUP,
        orderBy="LastEventTime",
        logStreamNamePrefix="a",
    )
    assert (status, code, message) == (
        400,
        "InvalidParameterException",
        "Cannot order by LastEventTime with a logStreamNamePrefix.",
    )
    assert error_of(logs.create_log_stream, logGroupName=GROUP, logStreamName="a") == (
        400,
        "ResourceAlreadyExistsException",
        "The specified log stream already exists",
    )
    assert error_of(logs.create_log_stream, logGroupName="/nope", logStreamName="a") == (
        400,
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    )
    logs.delete_log_stream(logGroupName=GROUP, logStreamName="a")
    assert error_of(logs.delete_log_stream, logGroupName=GROUP, logStreamName="a") == (
        400,
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    )
    assert error_of(logs.get_log_events, logGroupName=GROUP, logStreamName="a")[2] == (
        "The specified log stream does not exist."
    )
    assert (
        error_of(logs.describe_log_streams, logGroupName="/nope")[1] == "ResourceNotFoundException"
    )


def test_put_log_events_ignores_sequence_tokens_and_checks_the_batch(logs: Any) -> None:
    with_stream(logs, GROUP, "s")
    first = put(logs, GROUP, "s", ["one", "two"])
    assert len(first["nextSequenceToken"]) == 56 and "rejectedLogEventsInfo" not in first
    again = logs.put_log_events(
        logGroupName=GROUP,
        logStreamName="s",
        logEvents=[{"timestamp": NOW + 10, "message": "three"}],
        sequenceToken="not-the-right-token",
    )
    assert again["nextSequenceToken"] != first["nextSequenceToken"]

    assert error_of(
        logs.put_log_events,
        logGroupName=GROUP,
        logStreamName="s",
        logEvents=[{"timestamp": NOW, "message": "b"}, {"timestamp": NOW - 1, "message": "a"}],
    ) == (
        400,
        "InvalidParameterException",
        "Log events in a single PutLogEvents request must be in chronological order.",
    )
    assert error_of(
        logs.put_log_events,
        logGroupName=GROUP,
        logStreamName="missing",
        logEvents=[{"timestamp": NOW, "message": "x"}],
    ) == (400, "ResourceNotFoundException", "The specified log stream does not exist.")

    old = NOW - 15 * 86_400_000
    rejected = logs.put_log_events(
        logGroupName=GROUP,
        logStreamName="s",
        logEvents=[
            {"timestamp": old, "message": "too old"},
            {"timestamp": old + 1, "message": "x"},
        ],
    )
    assert rejected["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 2}
    got = logs.get_log_events(logGroupName=GROUP, logStreamName="s", startFromHead=True)
    assert [e["message"] for e in got["events"]] == ["one", "two", "three"]


def test_get_log_events_pages_both_ways_with_aws_tokens(logs: Any) -> None:
    with_stream(logs, GROUP, "s")
    put(logs, GROUP, "s", [f"m{i}" for i in range(25)])

    tail = logs.get_log_events(logGroupName=GROUP, logStreamName="s", limit=10)
    assert [e["message"] for e in tail["events"]] == [f"m{i}" for i in range(15, 25)]
    assert tail["nextForwardToken"].startswith("f/") and tail["nextForwardToken"].endswith("/s")
    end = logs.get_log_events(
        logGroupName=GROUP, logStreamName="s", nextToken=tail["nextForwardToken"]
    )
    assert end["events"] == [] and end["nextForwardToken"] == tail["nextForwardToken"]

    seen: list[str] = []
    token = tail["nextBackwardToken"]
    while True:
        page = logs.get_log_events(logGroupName=GROUP, logStreamName="s", limit=10, nextToken=token)
        seen = [e["message"] for e in page["events"]] + seen
        if page["nextBackwardToken"] == token:
            break
        token = page["nextBackwardToken"]
    assert seen == [f"m{i}" for i in range(15)]

    head = logs.get_log_events(logGroupName=GROUP, logStreamName="s", startFromHead=True, limit=4)
    assert [e["message"] for e in head["events"]] == ["m0", "m1", "m2", "m3"]
    event = head["events"][0]
    assert event["timestamp"] == NOW and event["ingestionTime"] >= NOW - 60_000

    window = logs.get_log_events(
        logGroupName=GROUP,
        logStreamName="s",
        startTime=NOW + 5,
        endTime=NOW + 8,
        startFromHead=True,
    )
    assert [e["message"] for e in window["events"]] == ["m5", "m6", "m7"]  # endTime excluded

    forward: list[str] = []
    params: dict[str, Any] = {"startFromHead": True, "limit": 7}
    while True:  # forward until the token comes back unchanged, as SDK iterators do
        page = logs.get_log_events(logGroupName=GROUP, logStreamName="s", **params)
        forward += [e["message"] for e in page["events"]]
        if page["nextForwardToken"] == params.get("nextToken"):
            break
        params["nextToken"] = page["nextForwardToken"]
    assert forward == [f"m{i}" for i in range(25)]

    assert error_of(
        logs.get_log_events, logGroupName=GROUP, logStreamName="s", nextToken="garbage"
    ) == (400, "InvalidParameterException", "The specified nextToken is invalid.")


def test_filter_log_events_across_streams_with_patterns_times_and_pages(logs: Any) -> None:
    with_stream(logs, GROUP, "2024/01/01/[$LATEST]a", "2024/01/01/[$LATEST]b", "other")
    put(logs, GROUP, "2024/01/01/[$LATEST]a", ["START", '{"level": "ERROR", "ms": 250}', "END"])
    put(logs, GROUP, "2024/01/01/[$LATEST]b", ["START", "ERROR timeout", "END"], start=NOW + 1)
    put(logs, GROUP, "other", ["ERROR elsewhere"], start=NOW + 100)

    everything = logs.filter_log_events(logGroupName=GROUP, interleaved=True)
    assert [(e["timestamp"], e["message"]) for e in everything["events"]] == [
        (NOW, "START"),
        (NOW + 1, '{"level": "ERROR", "ms": 250}'),
        (NOW + 1, "START"),
        (NOW + 2, "END"),
        (NOW + 2, "ERROR timeout"),
        (NOW + 3, "END"),
        (NOW + 100, "ERROR elsewhere"),
    ]
    ids = [e["eventId"] for e in everything["events"]]
    assert len(set(ids)) == 7 and all(len(i) == 56 and i.isdigit() for i in ids)

    def messages(**params: Any) -> list[str]:
        return [
            e["message"] for e in logs.filter_log_events(logGroupName=GROUP, **params)["events"]
        ]

    assert messages(filterPattern="ERROR") == [
        '{"level": "ERROR", "ms": 250}',
        "ERROR timeout",
        "ERROR elsewhere",
    ]
    assert messages(filterPattern="ERROR -timeout -elsewhere") == ['{"level": "ERROR", "ms": 250}']
    assert messages(filterPattern="{ $.ms > 100 }") == ['{"level": "ERROR", "ms": 250}']
    assert messages(filterPattern="?START ?timeout") == ["START", "START", "ERROR timeout"]
    assert messages(logStreamNamePrefix="2024/", filterPattern="ERROR") == [
        '{"level": "ERROR", "ms": 250}',
        "ERROR timeout",
    ]
    assert messages(logStreamNames=["other"]) == ["ERROR elsewhere"]
    assert messages(startTime=NOW + 2, endTime=NOW + 3) == ["END", "ERROR timeout", "END"]

    paginator = logs.get_paginator("filter_log_events")
    pages = list(paginator.paginate(logGroupName=GROUP, PaginationConfig={"PageSize": 3}))
    assert [e["eventId"] for p in pages for e in p["events"]] == ids
    assert "nextToken" not in pages[-1]

    status, code, message = error_of(
        logs.filter_log_events, logGroupName=GROUP, filterPattern='{ $.level = "ERROR"'
    )
    assert (status, code) == (400, "InvalidParameterException")
    assert message.startswith("Invalid filter pattern")
    assert error_of(logs.filter_log_events, logGroupName="/nope") == (
        400,
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    )


def test_retention_policies(logs: Any) -> None:
    with_stream(logs, GROUP, "s")
    logs.put_retention_policy(logGroupName=GROUP, retentionInDays=7)
    [group] = logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"]
    assert group["retentionInDays"] == 7

    put(logs, GROUP, "s", ["recent"])
    expired = logs.put_log_events(
        logGroupName=GROUP,
        logStreamName="s",
        logEvents=[{"timestamp": NOW - 8 * 86_400_000, "message": "expired"}],
    )
    assert expired["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 1}

    status, code, message = error_of(
        logs.put_retention_policy, logGroupName=GROUP, retentionInDays=2
    )
    assert (status, code) == (400, "InvalidParameterException")
    assert message == (
        "1 validation error detected: Value '2' at 'retentionInDays' failed to satisfy "
        "constraint: Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, "
        "150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]"
    )
    logs.delete_retention_policy(logGroupName=GROUP)
    [group] = logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"]
    assert "retentionInDays" not in group
    assert error_of(logs.put_retention_policy, logGroupName="/nope", retentionInDays=1)[1] == (
        "ResourceNotFoundException"
    )


def test_tags_by_group_name_and_by_arn(logs: Any) -> None:
    logs.create_log_group(logGroupName=GROUP, tags={"team": "a"})
    logs.tag_log_group(logGroupName=GROUP, tags={"env": "dev"})
    assert logs.list_tags_log_group(logGroupName=GROUP)["tags"] == {"team": "a", "env": "dev"}
    logs.untag_log_group(logGroupName=GROUP, tags=["team"])
    arn = f"arn:aws:logs:eu-west-1:000000000000:log-group:{GROUP}"
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "dev"}
    logs.tag_resource(resourceArn=arn, tags={"owner": "me"})
    logs.untag_resource(resourceArn=arn, tagKeys=["env"])
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"owner": "me"}
    assert (
        error_of(logs.list_tags_log_group, logGroupName="/nope")[1] == "ResourceNotFoundException"
    )


def test_parameters_are_validated_as_aws_validates_them(logs: Any) -> None:
    status, code, message = error_of(logs.create_log_group, logGroupName="bad name!")
    assert (status, code) == (400, "InvalidParameterException")
    assert message == (
        "1 validation error detected: Value 'bad name!' at 'logGroupName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
    )
    logs.create_log_group(logGroupName=GROUP)
    status, code, message = error_of(
        logs.describe_log_streams,
        logGroupIdentifier=f"arn:aws:logs:eu-west-1:000000000000:log-group:{GROUP}:*",
    )
    assert code == "InvalidParameterException" and "at 'logGroupIdentifier'" in message
    message = error_of(logs.describe_log_groups, limit=51)[2]  # botocore checks no maximum
    assert message == (
        "1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 50"
    )


def follow(logs: Any, group: str, start: int, rounds: Iterator[None]) -> list[dict[str, Any]]:
    """`aws logs tail --follow`'s loop (awscli v2, customizations/logs/tail.py) with boto3:
    FilterLogEvents(interleaved, startTime), follow nextToken, and once there is none, poll
    again from the newest timestamp seen, de-duplicating by eventId."""
    kwargs: dict[str, Any] = {"logGroupName": group, "interleaved": True, "startTime": start}
    seen: dict[int, set[str]] = defaultdict(set)
    shown: list[dict[str, Any]] = []
    for _ in rounds:
        response = logs.filter_log_events(**kwargs)
        for event in response["events"]:
            if event["eventId"] not in seen[event["timestamp"]]:
                seen[event["timestamp"]].add(event["eventId"])
                shown.append(event)
        if seen:
            newest = max(seen)
            seen = defaultdict(set, {newest: seen[newest]})
        if "nextToken" in response:
            kwargs["nextToken"] = response["nextToken"]
        else:
            if seen:
                kwargs["startTime"] = max(seen)
            kwargs.pop("nextToken", None)
    return shown


def test_tail_follow_sees_every_event_once(logs: Any) -> None:
    with_stream(logs, GROUP, "s1", "s2")
    put(logs, GROUP, "s1", ["a", "b"])

    def rounds() -> Iterator[None]:
        yield
        put(logs, GROUP, "s2", ["c", "d"], start=NOW + 1)  # same millisecond as "b"
        yield
        yield
        put(logs, GROUP, "s1", ["e"], start=NOW + 5)
        yield

    shown = follow(logs, GROUP, NOW - 600_000, rounds())
    assert [e["message"] for e in shown] == ["a", "b", "c", "d", "e"]


def _aws_cli() -> tuple[list[str], str] | None:
    """The AWS CLI on PATH and its version line, if there is one."""
    found = shutil.which("aws")
    if found is None:
        return None
    try:
        version = subprocess.run(
            [found, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if version.returncode != 0:
        return None
    return [found], (version.stdout or version.stderr).strip()


def _cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
        AWS_DEFAULT_REGION="eu-west-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_PAGER="",
    )
    return env


def _cli(server: Server, command: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command, "--endpoint-url", server.url, "--region", "eu-west-1", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=_cli_env(),
        check=False,
    )


def test_aws_cli_reads_events(server: Server) -> None:
    cli = _aws_cli()
    if cli is None:
        pytest.skip("the AWS CLI (`aws`) is not on PATH")
    command, _version = cli
    logs = server.client("logs")
    with_stream(logs, GROUP, "s")
    put(logs, GROUP, "s", ["hello from the CLI"])
    since = str(NOW - 60_000)
    result = _cli(
        server, command, "logs", "filter-log-events", "--log-group-name", GROUP,
        "--interleaved", "--start-time", since, "--output", "text",
        "--query", "events[].message",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "hello from the CLI"
    result = _cli(
        server, command, "logs", "get-log-events", "--log-group-name", GROUP,
        "--log-stream-name", "s", "--start-from-head", "--output", "text",
        "--query", "events[].message",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "hello from the CLI"


def test_aws_cli_logs_tail(server: Server) -> None:
    cli = _aws_cli()
    if cli is None:
        pytest.skip("the AWS CLI (`aws`) is not on PATH")
    command, version = cli
    if version.startswith("aws-cli/1."):
        pytest.skip(f"`aws logs tail` needs AWS CLI v2; found {version}")
    logs = server.client("logs")
    with_stream(logs, "/aws/lambda/x", "2024/01/01/[$LATEST]abc")
    put(logs, "/aws/lambda/x", "2024/01/01/[$LATEST]abc", ["START", "tailed line", "END"])

    result = _cli(server, command, "logs", "tail", "/aws/lambda/x", "--since", "1h")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(" ", 2)[2] for line in lines] == ["START", "tailed line", "END"]

    process = subprocess.Popen(
        [*command, "--endpoint-url", server.url, "--region", "eu-west-1", "logs", "tail",
         "/aws/lambda/x", "--since", "1h", "--follow", "--format", "short"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_cli_env(),
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout or []])
    reader.start()
    try:
        assert lines.get(timeout=30).rstrip().endswith("START")
        put(logs, "/aws/lambda/x", "2024/01/01/[$LATEST]abc", ["followed"], start=NOW + 10)
        deadline = time.monotonic() + 30  # the CLI polls every 5 seconds
        seen: list[str] = []
        while time.monotonic() < deadline and not any("followed" in line for line in seen):
            with contextlib.suppress(queue.Empty):
                seen.append(lines.get(timeout=1))
        assert [line.rstrip().split(" ", 1)[1] for line in seen] == [
            "tailed line",
            "END",
            "followed",
        ]
    finally:
        process.kill()
        process.wait(timeout=10)
        reader.join(timeout=10)
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
