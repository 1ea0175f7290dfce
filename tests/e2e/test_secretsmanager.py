"""Secrets Manager end to end: the real server, driven by boto3 as an application drives AWS."""

from __future__ import annotations

import datetime
import json
import os
import re
import signal
import stat
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import (
    ACCESS_KEY_ID,
    SECRET_ACCESS_KEY,
    Server,
    error_of,
    signed,
    wait_until_ready,
)

NOT_FOUND = "Secrets Manager can't find the specified secret."
MARKED = "You can't perform this operation on the secret because it was marked for deletion."
ARN = re.compile(r"^arn:aws:secretsmanager:eu-west-1:000000000000:secret:(.+)-[A-Za-z0-9]{6}$")


@pytest.fixture
def sm(server: Server) -> Any:
    return server.client("secretsmanager")


def _token() -> str:
    return str(uuid.uuid4())


def _stages(sm: Any, name: str, *, deprecated: bool = False) -> dict[str, list[str]]:
    versions = sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=deprecated)["Versions"]
    return {v["VersionId"]: v.get("VersionStages", []) for v in versions}


def test_create_then_read_by_name_full_arn_and_partial_arn(sm: Any) -> None:
    created = sm.create_secret(Name="app/db-password", SecretString="hunter2", Description="db")
    assert ARN.match(created["ARN"]).group(1) == "app/db-password"  # type: ignore[union-attr]
    assert created["Name"] == "app/db-password"
    for secret_id in ("app/db-password", created["ARN"], created["ARN"][:-7]):
        value = sm.get_secret_value(SecretId=secret_id)
        assert value["SecretString"] == "hunter2"
        assert value["VersionId"] == created["VersionId"]
        assert value["VersionStages"] == ["AWSCURRENT"]
        assert value["ARN"] == created["ARN"]
        assert "SecretBinary" not in value

    described = sm.describe_secret(SecretId="app/db-password")
    assert described["Description"] == "db"
    assert described["VersionIdsToStages"] == {created["VersionId"]: ["AWSCURRENT"]}
    accessed = described["LastAccessedDate"]  # the day only, as AWS keeps it
    assert accessed.time() == datetime.time(0, 0)
    assert datetime.datetime.now(datetime.UTC) - accessed < datetime.timedelta(days=1, minutes=1)
    assert {"CreatedDate", "LastChangedDate"} <= described.keys()
    assert not {"Tags", "DeletedDate", "KmsKeyId"} & described.keys()

    other_suffix = created["ARN"][:-6] + ("zzzzzz" if created["ARN"][-6:] != "zzzzzz" else "yyyyyy")
    assert error_of(sm.get_secret_value, SecretId=other_suffix) == (
        400,
        "ResourceNotFoundException",
        NOT_FOUND,
    )


def test_binary_secrets_round_trip(sm: Any) -> None:
    blob = bytes(range(256))
    sm.create_secret(Name="cert", SecretBinary=blob)
    value = sm.get_secret_value(SecretId="cert")
    assert value["SecretBinary"] == blob
    assert "SecretString" not in value


def test_a_secret_without_a_value_gets_its_first_version_from_put(sm: Any) -> None:
    created = sm.create_secret(Name="empty", Description="")
    assert "VersionId" not in created
    described = sm.describe_secret(SecretId=created["ARN"])
    assert not {"VersionIdsToStages", "Description", "Tags"} & described.keys()
    assert error_of(sm.get_secret_value, SecretId="empty") == (
        400,
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
    )
    put = sm.put_secret_value(SecretId="empty", SecretString="v1", VersionStages=["custom"])
    assert put["VersionStages"] == ["AWSCURRENT", "custom"]


def test_put_moves_awscurrent_and_awsprevious(sm: Any) -> None:
    v1 = sm.create_secret(Name="rotating", SecretString="one")["VersionId"]
    put = sm.put_secret_value(SecretId="rotating", SecretString="two")
    v2 = put["VersionId"]
    assert put["VersionStages"] == ["AWSCURRENT"]
    assert _stages(sm, "rotating") == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}
    assert sm.get_secret_value(SecretId="rotating", VersionStage="AWSPREVIOUS")["SecretString"] == (
        "one"
    )

    v3 = sm.put_secret_value(SecretId="rotating", SecretString="three")["VersionId"]
    assert _stages(sm, "rotating") == {v2: ["AWSPREVIOUS"], v3: ["AWSCURRENT"]}
    assert _stages(sm, "rotating", deprecated=True) == {
        v1: [],
        v2: ["AWSPREVIOUS"],
        v3: ["AWSCURRENT"],
    }
    deprecated = sm.get_secret_value(SecretId="rotating", VersionId=v1)
    assert (deprecated["SecretString"], deprecated["VersionStages"]) == ("one", [])
    assert sm.get_secret_value(SecretId="rotating")["SecretString"] == "three"

    versions = sm.list_secret_version_ids(SecretId="rotating")["Versions"]
    assert all(v["KmsKeyIds"] == ["DefaultEncryptionKey"] for v in versions)


def test_custom_stages_leave_awscurrent_alone(sm: Any) -> None:
    v1 = sm.create_secret(Name="staged", SecretString="S0")["VersionId"]
    v2 = sm.put_secret_value(SecretId="staged", SecretString="S1", VersionStages=["one", "two"])
    assert v2["VersionStages"] == ["one", "two"]
    v3 = sm.put_secret_value(SecretId="staged", SecretString="S2", VersionStages=["two", "three"])
    assert _stages(sm, "staged") == {
        v1: ["AWSCURRENT"],
        v2["VersionId"]: ["one"],
        v3["VersionId"]: ["three", "two"],
    }
    assert sm.get_secret_value(SecretId="staged")["SecretString"] == "S0"
    assert sm.get_secret_value(SecretId="staged", VersionStage="two")["SecretString"] == "S2"
    assert error_of(sm.get_secret_value, SecretId="staged", VersionId=v1, VersionStage="two") == (
        400,
        "InvalidRequestException",
        "You provided a VersionStage that is not associated to the provided VersionId.",
    )


def test_client_request_token_is_the_version_id_and_makes_writes_idempotent(sm: Any) -> None:
    token = _token()
    created = sm.create_secret(Name="idem", SecretString="a", ClientRequestToken=token)
    assert created["VersionId"] == token
    again = sm.create_secret(Name="idem", SecretString="a", ClientRequestToken=token)
    assert again == {**created, "ResponseMetadata": again["ResponseMetadata"]}

    put_token = _token()
    first = sm.put_secret_value(SecretId="idem", SecretString="b", ClientRequestToken=put_token)
    repeat = sm.put_secret_value(SecretId="idem", SecretString="b", ClientRequestToken=put_token)
    assert first["VersionId"] == repeat["VersionId"] == put_token
    assert _stages(sm, "idem") == {token: ["AWSPREVIOUS"], put_token: ["AWSCURRENT"]}

    status, code, message = error_of(
        sm.put_secret_value,
        SecretId="idem",
        SecretString="conflicting-value",
        ClientRequestToken=put_token,
    )
    assert (status, code) == (400, "ResourceExistsException")
    assert message == (
        f"You can't use ClientRequestToken {put_token} because that value is already in use "
        f"for a version of secret {created['ARN']}"
    )
    assert sm.get_secret_value(SecretId="idem")["SecretString"] == "b"


def test_create_refuses_an_existing_name(sm: Any) -> None:
    sm.create_secret(Name="taken", SecretString="x")
    assert error_of(sm.create_secret, Name="taken", SecretString="x") == (
        400,
        "ResourceExistsException",
        "The operation failed because the secret taken already exists.",
    )


def test_update_secret(sm: Any) -> None:
    v1 = sm.create_secret(Name="upd", SecretString="one")["VersionId"]
    described = sm.update_secret(SecretId="upd", Description="new description")
    assert "VersionId" not in described
    assert sm.describe_secret(SecretId="upd")["Description"] == "new description"

    updated = sm.update_secret(SecretId="upd", SecretString="two", KmsKeyId="alias/mine")
    assert _stages(sm, "upd") == {v1: ["AWSPREVIOUS"], updated["VersionId"]: ["AWSCURRENT"]}
    assert sm.get_secret_value(SecretId="upd")["SecretString"] == "two"
    assert sm.describe_secret(SecretId="upd")["KmsKeyId"] == "alias/mine"

    assert error_of(sm.update_secret, SecretId="missing", Description="x") == (
        400,
        "ResourceNotFoundException",
        NOT_FOUND,
    )


def test_not_found_and_invalid_names(sm: Any) -> None:
    sm.create_secret(Name="present", SecretString="x")
    missing = (400, "ResourceNotFoundException", NOT_FOUND)
    assert error_of(sm.get_secret_value, SecretId="absent") == missing
    assert error_of(sm.describe_secret, SecretId="absent") == missing
    assert error_of(sm.list_secret_version_ids, SecretId="absent") == missing
    assert error_of(sm.put_secret_value, SecretId="absent", SecretString="x") == missing
    assert error_of(sm.tag_resource, SecretId="absent", Tags=[]) == missing
    assert error_of(sm.restore_secret, SecretId="absent") == missing
    assert error_of(sm.delete_secret, SecretId="absent") == missing
    assert (
        error_of(
            sm.get_secret_value,
            SecretId="arn:aws:secretsmanager:us-east-1:000000000000:secret:present",
        )
        == missing
    )

    version_id = _token()
    assert error_of(sm.get_secret_value, SecretId="present", VersionId=version_id) == (
        400,
        "ResourceNotFoundException",
        f"Secrets Manager can't find the specified secret value for VersionId: {version_id}",
    )
    assert error_of(sm.get_secret_value, SecretId="present", VersionStage="AWSPENDING") == (
        400,
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret value for staging label: AWSPENDING",
    )
    invalid = (
        400,
        "ValidationException",
        "Invalid name. Must be a valid name containing alphanumeric characters, or any of the "
        "following: -/_+=.@!",
    )
    assert error_of(sm.create_secret, Name="Inv Name", SecretString="x") == invalid
    assert error_of(sm.get_secret_value, SecretId="Inv*Name?") == invalid


def test_list_secrets_filters_sorts_and_pages(sm: Any) -> None:
    sm.create_secret(Name="testing1/one", SecretString="s", Description="a secret")
    sm.create_secret(
        Name="/testing2/two",
        SecretString="s",
        Description="an secret",
        Tags=[{"Key": "team", "Value": "Payments"}],
    )
    sm.create_secret(Name="testing3/three", SecretString="s", Description="asecret")
    sm.create_secret(Name="/testing4/four", SecretString="s", Description="thesecret")

    def names(**kwargs: Any) -> list[str]:
        return [s["Name"] for s in sm.list_secrets(**kwargs)["SecretList"]]

    every = ["testing1/one", "/testing2/two", "testing3/three", "/testing4/four"]
    assert names() == every
    assert names(SortOrder="desc") == every[::-1]
    assert names(SortBy="name") == sorted(every)
    assert names(Filters=[{"Key": "name", "Values": ["/"]}]) == ["/testing2/two", "/testing4/four"]
    assert names(Filters=[{"Key": "name", "Values": ["!/"]}]) == ["testing1/one", "testing3/three"]
    assert names(Filters=[{"Key": "description", "Values": ["a"]}]) == every[:3]
    assert names(Filters=[{"Key": "description", "Values": ["A Secret"]}]) == every[:2]
    assert names(Filters=[{"Key": "description", "Values": ["!a"]}]) == every[3:]
    assert names(Filters=[{"Key": "tag-key", "Values": ["te"]}]) == ["/testing2/two"]
    assert names(Filters=[{"Key": "tag-value", "Values": ["pay"]}]) == []
    assert names(Filters=[{"Key": "all", "Values": ["payments"]}]) == ["/testing2/two"]
    assert names(
        Filters=[{"Key": "description", "Values": ["a"]}, {"Key": "name", "Values": ["/"]}]
    ) == ["/testing2/two"]

    entry = sm.list_secrets(Filters=[{"Key": "name", "Values": ["testing1"]}])["SecretList"][0]
    assert list(entry["SecretVersionsToStages"].values()) == [["AWSCURRENT"]]
    assert entry["Description"] == "a secret"

    first = sm.list_secrets(MaxResults=3)
    assert [s["Name"] for s in first["SecretList"]] == every[:3]
    rest = sm.list_secrets(MaxResults=3, NextToken=first["NextToken"])
    assert [s["Name"] for s in rest["SecretList"]] == every[3:]
    assert "NextToken" not in rest
    pages = sm.get_paginator("list_secrets").paginate(PaginationConfig={"PageSize": 1})
    assert [s["Name"] for page in pages for s in page["SecretList"]] == every
    assert error_of(sm.list_secrets, NextToken="bogus")[:2] == (400, "InvalidNextTokenException")
    status, code, _ = error_of(sm.list_secrets, Filters=[{"Key": "nope", "Values": ["x"]}])
    assert (status, code) == (400, "ValidationException")


def test_list_secret_version_ids_pages(sm: Any) -> None:
    sm.create_secret(Name="many", SecretString="0")
    for n in range(1, 5):
        sm.put_secret_value(SecretId="many", SecretString=str(n))
    ids: list[str] = []
    request: dict[str, Any] = {"SecretId": "many", "IncludeDeprecated": True, "MaxResults": 2}
    while True:
        page = sm.list_secret_version_ids(**request)
        assert len(page["Versions"]) <= 2
        ids += [version["VersionId"] for version in page["Versions"]]
        if "NextToken" not in page:
            break
        request["NextToken"] = page["NextToken"]
    assert len(ids) == len(set(ids)) == 5


def test_delete_schedules_and_restore_cancels(sm: Any) -> None:
    created = sm.create_secret(Name="doomed", SecretString="bye")
    before = datetime.datetime.now(datetime.UTC)
    deleted = sm.delete_secret(SecretId="doomed")
    assert (deleted["ARN"], deleted["Name"]) == (created["ARN"], "doomed")
    window = deleted["DeletionDate"] - before
    assert datetime.timedelta(days=30) - window < datetime.timedelta(minutes=1)

    marked = (400, "InvalidRequestException", MARKED)
    assert error_of(sm.get_secret_value, SecretId="doomed") == marked
    assert error_of(sm.put_secret_value, SecretId="doomed", SecretString="x") == marked
    assert error_of(sm.update_secret, SecretId="doomed", Description="x") == marked
    assert error_of(sm.tag_resource, SecretId="doomed", Tags=[{"Key": "k", "Value": "v"}]) == (
        marked
    )
    assert error_of(sm.untag_resource, SecretId="doomed", TagKeys=["k"]) == marked
    assert error_of(sm.list_secret_version_ids, SecretId="doomed") == marked
    assert sm.describe_secret(SecretId="doomed")["DeletedDate"] == deleted["DeletionDate"]
    assert sm.list_secrets()["SecretList"] == []
    assert [s["Name"] for s in sm.list_secrets(IncludePlannedDeletion=True)["SecretList"]] == [
        "doomed"
    ]
    assert error_of(sm.delete_secret, SecretId="doomed") == (
        400,
        "InvalidRequestException",
        "You tried to perform the operation on a secret that's currently marked deleted.",
    )
    assert error_of(sm.create_secret, Name="doomed", SecretString="again") == (
        400,
        "InvalidRequestException",
        "You can't create this secret because a secret with this name is already scheduled "
        "for deletion.",
    )

    restored = sm.restore_secret(SecretId=created["ARN"])
    assert (restored["ARN"], restored["Name"]) == (created["ARN"], "doomed")
    assert sm.get_secret_value(SecretId="doomed")["SecretString"] == "bye"
    assert "DeletedDate" not in sm.describe_secret(SecretId="doomed")

    seven = sm.delete_secret(SecretId="doomed", RecoveryWindowInDays=7)
    assert datetime.timedelta(days=7) - (seven["DeletionDate"] - before) < datetime.timedelta(
        minutes=1
    )


def test_delete_parameters_and_forced_deletion(sm: Any) -> None:
    first = sm.create_secret(Name="gone", SecretString="x")
    assert error_of(sm.delete_secret, SecretId="gone", RecoveryWindowInDays=6) == (
        400,
        "InvalidParameterException",
        "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).",
    )
    assert error_of(
        sm.delete_secret, SecretId="gone", RecoveryWindowInDays=7, ForceDeleteWithoutRecovery=True
    ) == (
        400,
        "InvalidParameterException",
        "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
    )
    sm.delete_secret(SecretId="gone", RecoveryWindowInDays=7)
    forced = sm.delete_secret(SecretId="gone", ForceDeleteWithoutRecovery=True)
    assert forced["ARN"] == first["ARN"]
    assert error_of(sm.describe_secret, SecretId="gone")[1] == "ResourceNotFoundException"

    second = sm.create_secret(Name="gone", SecretString="new")
    assert second["ARN"] != first["ARN"]
    assert error_of(sm.get_secret_value, SecretId=first["ARN"])[1] == "ResourceNotFoundException"
    assert sm.get_secret_value(SecretId="gone")["SecretString"] == "new"

    unknown = sm.delete_secret(SecretId="never-was", ForceDeleteWithoutRecovery=True)
    assert unknown["Name"] == "never-was"
    assert ARN.match(unknown["ARN"])


def test_tags(sm: Any) -> None:
    sm.create_secret(Name="tagged", Tags=[{"Key": "a", "Value": "1"}])
    sm.tag_resource(
        SecretId="tagged", Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "3"}]
    )
    assert sm.describe_secret(SecretId="tagged")["Tags"] == [
        {"Key": "a", "Value": "3"},
        {"Key": "b", "Value": "2"},
    ]
    sm.untag_resource(SecretId="tagged", TagKeys=["a", "zzz"])
    assert sm.describe_secret(SecretId="tagged")["Tags"] == [{"Key": "b", "Value": "2"}]
    sm.untag_resource(SecretId="tagged", TagKeys=["b"])
    assert sm.describe_secret(SecretId="tagged")["Tags"] == []


def _call(server: Server, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = signed(
        server,
        "POST",
        "/",
        "secretsmanager",
        data=json.dumps(body).encode(),
        headers={
            "X-Amz-Target": f"secretsmanager.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    return response.status_code, response.json()


def test_raw_requests_are_checked_as_aws_checks_them(server: Server) -> None:
    status, body = _call(server, "CreateSecret", {"Name": "raw", "SecretString": "x"})
    assert (status, body["__type"]) == (400, "InvalidRequestException")
    assert "ClientRequestToken" in json.dumps(body)

    both = {
        "Name": "raw",
        "SecretString": "x",
        "SecretBinary": "eA==",
        "ClientRequestToken": _token(),
    }
    status, body = _call(server, "CreateSecret", both)
    assert (status, body["__type"]) == (400, "InvalidParameterException")

    status, body = _call(server, "CreateSecret", {"Name": "raw", "ClientRequestToken": "short"})
    assert (status, body["__type"]) == (400, "InvalidParameterException")

    status, body = _call(server, "GetSecretValue", {})
    assert (status, body["__type"]) == (400, "ValidationException")

    status, body = _call(server, "PutSecretValue", {"SecretId": "raw"})
    assert (status, body["__type"]) == (400, "InvalidRequestException")

    status, body = _call(server, "ListSecrets", {"MaxResults": 101})
    assert (status, body["__type"]) == (400, "ValidationException")
    assert body.get("Message", body.get("message")) == (
        "1 validation error detected: Value '101' at 'maxResults' failed to satisfy constraint: "
        "Member must have value less than or equal to 100"
    )


# -- at rest and across restarts ---------------------------------------------------------------


def _start(data_dir: Path, log: Path) -> tuple[subprocess.Popen[str], Server]:
    with log.open("a") as stream:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "portico.cli.main",
                "up",
                "--port",
                "0",
                "--data-dir",
                str(data_dir),
                "--example",
                "",
            ],
            stdout=subprocess.PIPE,
            stderr=stream,
            text=True,
            env={
                **os.environ,
                "PORTICO_ACCESS_KEY_ID": ACCESS_KEY_ID,
                "PORTICO_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            },
        )
    url = wait_until_ready(process)
    if url is None:
        process.kill()
        process.communicate(timeout=10)
        raise AssertionError(f"the server did not start: {log.read_text()}")
    return process, Server(process, url)


def _stop(process: subprocess.Popen[str], how: signal.Signals = signal.SIGTERM) -> None:
    process.send_signal(how)
    try:
        process.wait(15)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def test_values_are_sealed_at_rest_and_survive_a_restart(tmp_path: Path) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "server.log"
    plaintext = f"plaintext-{uuid.uuid4().hex}"
    process, server = _start(data_dir, log)
    try:
        sm = server.client("secretsmanager")
        sm.create_secret(Name="durable", SecretString=plaintext)
        sm.put_secret_value(SecretId="durable", SecretBinary=plaintext.encode() + b"-binary")
    finally:
        _stop(process, signal.SIGKILL)  # what was acknowledged is on disk, WAL and all

    key = data_dir / "secrets.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    stored = b"".join(path.read_bytes() for path in data_dir.glob("portico.db*"))
    assert stored  # the database was written
    assert plaintext.encode() not in stored
    assert plaintext not in log.read_text()
    assert key.read_text().strip() not in log.read_text()

    process, server = _start(data_dir, log)
    try:
        sm = server.client("secretsmanager")
        assert sm.get_secret_value(SecretId="durable")["SecretBinary"] == (
            plaintext.encode() + b"-binary"
        )
        previous = sm.get_secret_value(SecretId="durable", VersionStage="AWSPREVIOUS")
        assert previous["SecretString"] == plaintext
    finally:
        _stop(process)
