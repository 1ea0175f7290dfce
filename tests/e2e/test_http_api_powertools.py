"""An aws-lambda-powertools app (`APIGatewayHttpResolver`) behind an HTTP API, unchanged."""

from __future__ import annotations

import aws_lambda_powertools
import httpx
import typing_extensions

from tests.e2e.conftest import Server
from tests.e2e.http_apis import bundle, quick_api
from tests.e2e.test_lambda_api import ROLE

APP = """
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

app = APIGatewayHttpResolver()
TODOS = {"1": {"id": "1", "title": "write tests"}}


@app.get("/todos/<todo_id>")
def get_todo(todo_id: str):
    todo = TODOS.get(todo_id)
    if todo is None:
        return Response(status_code=404, content_type="application/json", body='{"error":"no"}')
    return {**todo, "stage": app.current_event.request_context.stage}


@app.post("/todos")
def create_todo():
    body = app.current_event.json_body
    TODOS[body["id"]] = body
    return Response(
        status_code=201,
        content_type="application/json",
        body=app.current_event.body,
        headers={"location": f"/todos/{body['id']}"},
        cookies=["seen=1"],
    )


@app.get("/whoami")
def whoami():
    event = APIGatewayProxyEventV2(app.current_event.raw_event)
    return {
        "ip": event.request_context.http.source_ip,
        "query": event.query_string_parameters,
        "cookies": event.cookies,
    }


def handler(event, context):
    return app.resolve(event, context)
"""


def test_the_powertools_http_resolver_works_behind_the_gateway(server: Server) -> None:
    created = server.client("lambda").create_function(
        FunctionName="todos",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        # The app with the library in its package, as a user deploys it.
        Code={"ZipFile": bundle({"app.py": APP}, [aws_lambda_powertools, typing_extensions])},
        Timeout=30,
    )
    base = quick_api(server, created["FunctionArn"])["ApiEndpoint"]
    with httpx.Client(timeout=30) as client:
        found = client.get(f"{base}/todos/1")
        assert found.status_code == 200, found.text
        assert found.json() == {"id": "1", "title": "write tests", "stage": "$default"}
        missing = client.get(f"{base}/todos/9")
        assert (missing.status_code, missing.json()) == (404, {"error": "no"})
        made = client.post(f"{base}/todos", json={"id": "2", "title": "ship"})
        assert made.status_code == 201
        assert made.headers["location"] == "/todos/2"
        assert made.headers["set-cookie"] == "seen=1"
        assert client.get(f"{base}/todos/2").json()["title"] == "ship"
        who = client.get(f"{base}/whoami?a=1", headers={"cookie": "x=1; y=2"})
        assert who.json() == {"ip": "127.0.0.1", "query": {"a": "1"}, "cookies": ["x=1", "y=2"]}
        unrouted = client.get(f"{base}/nothing/here")
        assert unrouted.status_code == 404
