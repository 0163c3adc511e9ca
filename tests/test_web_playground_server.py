"""The playground's server, started for real and talked to over loopback.

Host allow-list (400), Origin and token checks at the WebSocket (refused, 1008),
message and upload limits, clamped configuration, frames at most 30 a second,
pause answering at once, determinism of reset, and the command line.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
pytest.importorskip("websockets")

from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from glassnet.web.playground.connection import MAX_MESSAGE
from glassnet.web.playground.server import Playground


@pytest.fixture(scope="module")
def server() -> Iterator[Playground]:
    playground = Playground("127.0.0.1", 0, seed=3).start()
    yield playground
    playground.stop()


def get(server: Playground, path: str = "/", host: str | None = None) -> Any:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.putrequest("GET", path, skip_host=True)
    if host is not None:
        connection.putheader("Host", host)
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response, body


def open_socket(server: Playground, origin: str | None = None, **options: Any) -> Any:
    """A connected client socket (websockets' connect, entered as its context manager)."""
    manager = connect(f"ws://127.0.0.1:{server.port}/ws", origin=origin or server.origin,
                      open_timeout=10, **options)  # fmt: skip
    return manager.__enter__()


class Client:
    """A page's side of the socket, collecting what the server sends."""

    def __init__(self, server: Playground, token: str | None = None, config: Any = None,
                 origin: str | None = None) -> None:  # fmt: skip
        self.socket = open_socket(server, origin, max_size=None)
        self.socket.send(json.dumps({"token": server.token if token is None else token,
                                     "config": config or {}}))  # fmt: skip

    def until(self, kind: str, timeout: float = 15, **fields: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(
                self.socket.recv(timeout=max(deadline - time.monotonic(), 0.01))
            )
            if message["type"] == kind and all(
                message.get(k) == v for k, v in fields.items()
            ):
                return message

    def command(self, command_name: str, /, **args: Any) -> None:
        self.socket.send(json.dumps({"command": command_name, "args": args}))

    def close(self) -> None:
        self.socket.close()


@pytest.fixture
def client(server: Playground) -> Iterator[Client]:
    page = Client(server)
    page.until("setup")
    yield page
    page.close()


def test_the_page_has_a_csp_header_and_every_other_host_gets_400(
    server: Playground,
) -> None:
    response, body = get(server, host=f"127.0.0.1:{server.port}")
    assert response.status == 200 and b"glassnet playground" in body
    policy = response.getheader("Content-Security-Policy")
    assert policy.startswith("default-src 'none'") and "connect-src 'self'" in policy
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert get(server, host=f"localhost:{server.port}")[0].status == 200
    for host in (f"evil.example:{server.port}", "127.0.0.1", "localhost:1"):
        response, body = get(server, host=host)
        assert response.status == 400, host
        assert response.getheader("Content-Security-Policy", "").startswith(
            "default-src"
        )
    assert (
        get(server, host=None)[0].status == 400
    )  # uvicorn's own answer: HTTP/1.1 needs a Host
    response, _ = get(server, "/secret", host=f"127.0.0.1:{server.port}")
    assert response.status == 404 and response.getheader("Content-Security-Policy")


def test_a_socket_from_another_origin_or_host_is_refused(server: Playground) -> None:
    for origin in (
        "http://evil.example",
        f"http://127.0.0.1:{server.port + 1}",
        "null",
    ):
        with pytest.raises(InvalidStatus):
            open_socket(server, origin)
    # DNS rebinding: the name resolves to this machine, but the Host is not ours
    with pytest.raises(InvalidStatus):
        open_socket(server, additional_headers={"Host": "evil.example"})


@pytest.mark.parametrize("first", ["wrong", "", None, "not json", {"tok": 1}])
def test_a_missing_or_wrong_token_closes_with_1008(
    server: Playground, first: Any
) -> None:
    socket = open_socket(server)
    if first == "not json":
        socket.send("hello")
    elif isinstance(first, dict):
        socket.send(json.dumps(first))
    else:
        socket.send(json.dumps({"token": first}))
    with pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=10)
    assert closed.value.rcvd.code == 1008


def test_step_reset_and_the_same_start_again(client: Client) -> None:
    first = client.until("frame")
    assert first["epoch"] == 0
    client.command("step")
    assert client.until("frame", epoch=1)["loss_train"] != first["loss_train"]
    client.command("step")
    two = client.until("frame", epoch=2)
    client.command("reset")
    setup = client.until("setup")
    again = client.until("frame", generation=setup["generation"])
    assert again["epoch"] == 0 and again["loss_train"] == first["loss_train"]
    client.command("step")
    client.command("step")
    assert client.until("frame", epoch=2)["loss_train"] == two["loss_train"]


def test_play_streams_at_most_30_frames_a_second_and_pause_answers_at_once(
    client: Client,
) -> None:
    client.command("set", speed=25)
    client.until("config")
    client.command("play")
    client.until("status", playing=True)
    times, epochs = [], []
    started = time.monotonic()
    # 2.5 s of frames, longer on a loaded machine until there are enough to judge
    while (elapsed := time.monotonic() - started) < 2.5 or (
        len(times) <= 10 and elapsed < 20
    ):
        frame = client.until("frame")
        times.append(time.monotonic())
        epochs.append(frame["epoch"])
    assert len(times) > 10 and epochs == sorted(epochs) and epochs[-1] > epochs[0]
    for start in times:
        assert sum(start <= t < start + 1.0 for t in times) <= 30
    asked = time.monotonic()
    client.command("pause")
    client.until("status", playing=False)
    assert time.monotonic() - asked < 0.5
    last = client.until("frame", playing=False)
    client.command("step")
    # The play loop's last frame and pause's own frame may both show the paused
    # epoch (the second can arrive after ``last``): skip repeats of that epoch.
    after = client.until("frame")
    while after["epoch"] == last["epoch"]:
        after = client.until("frame")
    assert after["epoch"] == last["epoch"] + 1 and after["playing"] is False


def test_configuration_from_the_page_is_clamped(client: Client) -> None:
    client.command(
        "set", learning_rate=1e9, hidden=[100, 0], activation="evil()", batch_size=-4
    )
    notice = client.until("notice")
    assert any("activation" in m for m in notice["messages"])
    setup = client.until("setup")
    config = setup["config"]
    assert config["learning_rate"] == 10.0 and config["hidden"] == [32, 1]
    assert config["batch_size"] == 1 and config["activation"] == "tanh"
    assert [layer["units"] for layer in setup["model"]["layers"]] == [32, 1, 1]


def test_unknown_commands_and_bad_messages_get_errors(client: Client) -> None:
    client.command("__class__")
    assert "unknown command" in client.until("error")["message"]
    client.socket.send("[1, 2]")
    assert "must be" in client.until("error")["message"]
    client.command("set_weight", stage=99, to=0, value=1)
    assert client.until("error")["command"] == "set_weight"
    client.command("download", what="../../etc/passwd")
    assert "download takes one of" in client.until("error")["message"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"x,y,label\n" + b"1,nan,a\n" * 5, "not a finite number"),
        (b"1\n2\n3\n4\n5\n", "needs three"),
        (b"\xff\xfe" + os.urandom(2000), "not UTF-8"),
        (b"1,2,3\n" * 5000 + b"x" * 700_000, "not a readable CSV"),
        (os.urandom(1_000_100), "larger than 1,000,000 bytes"),
    ],
)
def test_bad_uploads_get_a_message_and_the_server_keeps_going(
    client: Client, content: bytes, message: str
) -> None:
    client.command("upload", name="bad.csv", base64=base64.b64encode(content).decode())
    error = client.until("error", command="upload")
    assert message in error["message"]
    client.command("step")
    assert client.until("frame")["epoch"] == 1


def test_an_upload_trains_at_once(client: Client) -> None:
    rows = [
        f"{x / 10},{(x % 7) - 3},{'left' if x < 50 else 'right'}" for x in range(100)
    ]
    client.command(
        "upload",
        name="mine.csv",
        base64=base64.b64encode(("a,b,side\n" + "\n".join(rows)).encode()).decode(),
    )
    setup = client.until("setup")
    assert setup["config"]["dataset"] == "upload" and setup["classes"] == [
        "left",
        "right",
    ]
    assert len(setup["data"]["points"]) == 100
    client.command("step")
    assert client.until("frame", epoch=1)


def test_the_feature_labels_are_an_uploads_column_names(client: Client) -> None:
    rows = "\n".join(f"{x},{x % 5},{x % 2}" for x in range(20))
    hostile = "<img src=x onerror=alert(1)>"
    header = f'" weight ","{hostile}",sex\n'
    client.command("upload", name="people.csv",
                   base64=base64.b64encode((header + rows).encode()).decode())  # fmt: skip
    setup = client.until("setup")
    assert setup["features"] == ["weight", hostile]
    assert setup["feature_labels"]["x_times_y"] == f"weight·{hostile}"
    assert setup["feature_labels"]["sin_x"] == "sin(weight)"
    client.command("set", features=["x", "y_squared"])
    assert client.until("setup")["features"] == ["weight", f"{hostile}²"]
    client.command("set", dataset="circle")
    setup = client.until("setup")
    assert setup["features"] == ["X1", "X2²"] and setup["feature_labels"]["x"] == "X1"


def test_oversized_messages_close_the_socket_and_the_server_lives(
    server: Playground,
) -> None:
    page = Client(server)
    page.until("setup")
    too_long = "A" * (MAX_MESSAGE + 10)
    page.socket.send(json.dumps({"command": "upload", "args": {"base64": too_long}}))
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            page.socket.recv(timeout=10)
    assert closed.value.rcvd.code == 1009
    again = Client(server)
    assert again.until("setup")["type"] == "setup"
    again.close()


def test_url_state_is_applied_at_connection(server: Playground) -> None:
    page = Client(server, config={"dataset": "spiral", "hidden": "6,6,3", "activation": "relu",
                                  "learning_rate": "0.1", "features": "x,y,sin_x"})  # fmt: skip
    config = page.until("setup")["config"]
    assert config["dataset"] == "spiral" and config["hidden"] == [6, 6, 3]
    assert config["activation"] == "relu" and config["features"] == ["x", "y", "sin_x"]
    page.close()


def test_the_command_line_needs_the_extra_and_never_logs_the_token(monkeypatch) -> None:
    import argparse

    from glassnet.cli import web_commands

    monkeypatch.setattr(
        web_commands, "missing_playground_packages", lambda: ["uvicorn"]
    )
    args = argparse.Namespace(host="127.0.0.1", port=0, browser=False, seed=None)
    assert web_commands.run_playground(args) == 2

    code = ("import argparse, sys; from glassnet.cli.web_commands import run_playground; "
            "sys.exit(run_playground(argparse.Namespace(host='127.0.0.1', port=0, "
            "browser=False, seed=1)))")  # fmt: skip
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        line = process.stdout.readline()
        url = line.split("open ", 1)[1].strip()
        origin, token = url.split("/#token=")
        port = int(origin.rsplit(":", 1)[1])
        with connect(
            f"ws://127.0.0.1:{port}/ws", origin=origin, open_timeout=10
        ) as socket:
            socket.send(json.dumps({"token": token}))
            assert json.loads(socket.recv(timeout=20))["type"] == "thumbnails"
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=20)
    assert token not in errors and token not in line.split("open ")[0]
