"""One page's WebSocket: commands in, frames out, training off the event loop.

The first message must be ``{"token": ..., "config": {...}}`` (the page's URL
state); then each message is ``{"command": name, "args": {...}}`` with the names
the page's buttons send: ``reset``, ``step``, ``play``, ``pause``, ``set``
(configuration keys), ``regenerate``, ``set_weight``, ``upload``, ``download``,
``compare``. The server answers with ``setup`` (a new model and data),
``frame`` (epoch, losses, weights), ``status``, ``config``, ``notice``,
``error``, ``file`` and ``compare`` messages.

Training runs in a worker thread (``asyncio.to_thread``), a few epochs at a time,
so the event loop always answers: ``pause`` replies at once and takes effect
within a few epochs. Frames go out at most every :data:`FRAME_INTERVAL` seconds,
and only the newest: a frame computed while another waits replaces it. Frames
carry the session's ``generation`` so the page drops one that belongs to a model
it has already replaced.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import math
import secrets
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from glassnet.web.playground.datasets import MAX_UPLOAD_BYTES, UploadError, thumbnails
from glassnet.web.playground.downloads import download
from glassnet.web.playground.session import Session

if TYPE_CHECKING:
    from starlette.websockets import WebSocket

__all__ = ["AUTH_TIMEOUT", "FRAME_INTERVAL", "MAX_MESSAGE", "Connection"]

#: Seconds between two frames at least: under 30 frames a second.
FRAME_INTERVAL = 0.034
#: The longest message the server reads (an upload's base64 text and its wrapper).
MAX_MESSAGE = (MAX_UPLOAD_BYTES * 4) // 3 + 4096
#: Seconds the page has to send its token.
AUTH_TIMEOUT = 10.0
#: The most epochs one call of the worker trains before it looks for a pause.
EPOCHS_PER_CALL = 5


class Connection:
    """Serves one authenticated WebSocket (see the module docstring)."""

    def __init__(self, websocket: WebSocket, token: str, seed: int | None) -> None:
        self.websocket = websocket
        self.token = token
        self.seed = secrets.randbelow(2**31) if seed is None else seed
        self.session: Session | None = None
        self.playing = False
        self.latest: dict[str, Any] | None = None
        self.frame_ready = asyncio.Event()
        self.send_lock = asyncio.Lock()
        self.work_lock = asyncio.Lock()
        self.player: asyncio.Task[None] | None = None

    async def run(self) -> None:
        from starlette.websockets import WebSocketDisconnect

        await self.websocket.accept()
        try:
            config = await self._authenticate()
        except WebSocketDisconnect:
            return
        if config is None:
            await self.websocket.close(code=1008)
            return
        self.session = await asyncio.to_thread(Session, self.seed)
        sender = asyncio.create_task(self._send_frames())
        try:
            await self.send({"type": "thumbnails", "datasets": thumbnails()})
            await self._apply(config, initial=True)
            while True:
                text = await self.websocket.receive_text()
                if len(text) > MAX_MESSAGE:
                    await self.websocket.close(code=1009)
                    return
                await self._handle(text)
        except (WebSocketDisconnect, RuntimeError):
            pass  # the page went away (RuntimeError: a non-text message after close)
        finally:
            self.playing = False
            sender.cancel()
            if self.player is not None:
                self.player.cancel()

    async def _authenticate(self) -> dict[str, Any] | None:
        """The page's configuration if its first message has the right token."""
        try:
            text = await asyncio.wait_for(self.websocket.receive_text(), AUTH_TIMEOUT)
        except (asyncio.TimeoutError, KeyError, RuntimeError):
            return None
        if len(text) > 65536:
            return None
        try:
            message = json.loads(text)
        except ValueError:
            return None
        given = message.get("token") if isinstance(message, dict) else None
        if not isinstance(given, str) or not secrets.compare_digest(
            given.encode("utf-8", "replace"), self.token.encode("utf-8")
        ):
            return None
        config = message.get("config")
        return config if isinstance(config, dict) else {}

    # -- sending -------------------------------------------------------------------
    async def send(self, message: dict[str, Any]) -> None:
        text = json.dumps(_finite(message), allow_nan=False, separators=(",", ":"))
        async with self.send_lock:
            await self.websocket.send_text(text)

    def publish(self, frame: dict[str, Any]) -> None:
        """Make ``frame`` the next one to send, replacing any still waiting."""
        self.latest = frame
        self.frame_ready.set()

    async def _send_frames(self) -> None:
        loop = asyncio.get_running_loop()
        last = -math.inf
        while True:
            await self.frame_ready.wait()
            delay = last + FRAME_INTERVAL - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self.frame_ready.clear()
            frame, self.latest = self.latest, None
            if frame is not None:
                last = loop.time()
                await self.send(frame)

    # -- work ----------------------------------------------------------------------
    async def work(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run ``function`` on the session in the worker thread, one call at a time."""
        async with self.work_lock:
            return await asyncio.to_thread(function, *args)

    def _frame(self) -> dict[str, Any]:
        assert self.session is not None
        return self.session.frame(playing=self.playing)

    def _train(self, epochs: int) -> dict[str, Any]:
        session = self.session
        assert session is not None
        left = epochs
        while left > 0 and (self.playing or left == epochs):
            count = min(left, EPOCHS_PER_CALL)
            session.train(count)
            left -= count
            if not math.isfinite(session.loss_train):
                break
        return session.frame(playing=self.playing)

    async def _play(self) -> None:
        loop = asyncio.get_running_loop()
        assert self.session is not None
        while self.playing:
            started = loop.time()
            frame = await self.work(self._train, self.session.config["speed"])
            if not math.isfinite(self.session.loss_train):
                self.playing = False
                frame["playing"] = False
                await self._diverged()
            self.publish(frame)
            delay = FRAME_INTERVAL - (loop.time() - started)
            await asyncio.sleep(max(delay, 0))

    async def _diverged(self) -> None:
        assert self.session is not None
        await self.send({
            "type": "error",
            "message": f"The loss became {self.session.loss_train} at epoch "
            f"{self.session.epoch}: try a smaller learning rate, then reset.",
        })  # fmt: skip

    def _pause(self) -> None:
        self.playing = False

    async def _restarted(self) -> None:
        assert self.session is not None
        self.latest = None
        await self.send(self.session.setup())
        self.publish(self._frame())

    # -- commands ------------------------------------------------------------------
    async def _handle(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            await self._error('a message must be JSON: {"command": ..., "args": ...}')
            return
        if not isinstance(message, dict) or not isinstance(message.get("command"), str):
            await self._error('a message must be {"command": name, "args": {...}}')
            return
        name, args = message["command"], message.get("args") or {}
        handler = (
            getattr(self, f"_command_{name}", None) if name.isidentifier() else None
        )
        if handler is None:
            await self._error(f"unknown command {name[:40]!r}", name)
            return
        try:
            await handler(args)
        except (ValueError, TypeError) as error:
            await self._error(str(error), name)
        except Exception as error:  # a bug: say so, keep serving the page
            traceback.print_exc()
            await self._error(f"internal error in {name}: {type(error).__name__}", name)

    async def _error(self, text: str, command: str | None = None) -> None:
        await self.send({"type": "error", "message": text, "command": command})

    async def _command_play(self, args: Any) -> None:
        if self.playing:
            return
        self.playing = True
        await self.send({"type": "status", "playing": True})
        self.player = asyncio.create_task(self._play())

    async def _command_pause(self, args: Any) -> None:
        self._pause()
        await self.send({"type": "status", "playing": False})
        self.publish(await self.work(self._frame))

    async def _command_step(self, args: Any) -> None:
        self._pause()
        await self.send({"type": "status", "playing": False})
        frame = await self.work(self._train, 1)
        self.publish(frame)
        if not math.isfinite(frame["loss_train"]):
            await self._diverged()

    async def _command_reset(self, args: Any) -> None:
        self._pause()
        await self.send({"type": "status", "playing": False})
        assert self.session is not None
        await self.work(self.session.reset)
        await self._restarted()

    async def _command_set(self, args: Any) -> None:
        await self._apply(args)

    async def _apply(self, args: Any, initial: bool = False) -> None:
        assert self.session is not None
        restarted, problems = await self.work(self.session.apply, args)
        if problems:
            await self.send({"type": "notice", "messages": problems})
        if restarted or initial:
            self._pause()
            await self._restarted()
        else:
            await self.send({"type": "config", "config": self.session.config})

    async def _command_regenerate(self, args: Any) -> None:
        assert self.session is not None
        seed = (self.session.config["data_seed"] + 1) % 2**31
        await self._apply({"data_seed": seed})

    async def _command_set_weight(self, args: Any) -> None:
        assert self.session is not None
        await self.work(self.session.set_weight, args)
        self.publish(await self.work(self._frame))

    async def _command_upload(self, args: Any) -> None:
        assert self.session is not None
        encoded = args.get("base64") if isinstance(args, dict) else None
        if not isinstance(encoded, str):
            raise ValueError("upload takes {name, base64}: the file's bytes in base64")
        if len(encoded) > (MAX_UPLOAD_BYTES * 4) // 3 + 8:
            raise ValueError(
                f"The file is larger than {MAX_UPLOAD_BYTES:,} bytes: the playground takes "
                "CSV files of up to 5,000 rows of x, y, label."
            )
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("The upload is not valid base64.") from None
        self._pause()
        try:
            await self.work(self.session.use_upload, data)
        except UploadError as error:
            await self.send(
                {"type": "error", "message": str(error), "command": "upload"}
            )
            return
        await self._restarted()

    async def _command_download(self, args: Any) -> None:
        what = args.get("what") if isinstance(args, dict) else None
        await self.send(await self.work(download, self.session, what))

    async def _command_compare(self, args: Any) -> None:
        assert self.session is not None
        self._pause()
        await self.send({"type": "status", "playing": False})
        await self.send(await self.work(self.session.compare))


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as None (JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value
