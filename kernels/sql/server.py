"""A Jupyter kernel's sockets and loop, without IPython or ipykernel.

The SQL kernel needs only a few requests of the protocol: ``kernel_info``, ``execute``,
``interrupt`` and ``shutdown`` (and polite answers to the rest). ipykernel brings an
interactive Python shell, a debugger, a history database, output capture and three
threads, about 30 MB of a kernel's memory and a thread hop on every request, none of which
a preview uses. :class:`KernelServer` is what remains: the five sockets of the connection
file, signed messages (:mod:`.wire`), busy and idle status on IOPub around every request,
a heartbeat, and one loop on the main thread that polls the shell and control sockets and
a wake-up pipe for the subclass's background work (see :meth:`wake`, :meth:`pump`).

The kernel stops itself when the process that started it is gone (the pod died without
shutting it down), so that no kernel outlives its pod.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import zmq

from .wire import ConnectionInfo, Message, Session, WireError

log = logging.getLogger(__name__)

PARENT_CHECK_SECONDS = 1.0  # how often the loop looks for its parent process
_LINGER_MS = 500  # what a closing socket may still take to deliver its last messages


class KernelServer:
    """The protocol's side of a kernel; a subclass runs the executes (:meth:`execute`)."""

    implementation = "kernel"
    implementation_version = "0"
    banner = ""
    language_info: dict[str, Any] = {}

    def __init__(self, connection: ConnectionInfo) -> None:
        self.session = Session(connection.key, connection.signature_scheme)
        self._context = zmq.Context()
        self._shell = self._bind(zmq.ROUTER, connection.url("shell"))
        self._control = self._bind(zmq.ROUTER, connection.url("control"))
        self._stdin = self._bind(zmq.ROUTER, connection.url("stdin"))  # never prompts
        self._iopub = self._bind(zmq.PUB, connection.url("iopub"))
        self._heartbeat = _Heartbeat(self._bind(zmq.ROUTER, connection.url("hb")))
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self._parent_pid = os.getppid()
        self._stopping = False

    # What a subclass provides.

    def execute(self, request: Message) -> None:
        """Start running ``request``; answer it later with :meth:`finish`."""
        self.finish(request, {"status": "error", "ename": "NotImplemented", "evalue": ""})

    def interrupt(self, request: Message) -> None:
        """Cancel what runs (the ``interrupt_request``'s content may say which)."""

    def shutdown(self) -> None:
        """Release what the kernel holds; the loop stops after this."""

    def timeout(self) -> float | None:
        """Seconds until :meth:`pump` has work that is due, None if it waits for a wake-up."""
        return None

    def pump(self) -> None:
        """Called on the loop after every wake-up, message and timeout."""

    # What a subclass uses.

    def wake(self) -> None:
        """Make the loop call :meth:`pump` soon; safe from any thread."""
        try:
            os.write(self._wake_write, b"\0")
        except BlockingIOError:
            pass  # a wake-up is pending already

    def publish(
        self, msg_type: str, content: dict[str, Any], parent: Message | None = None, **extra: Any
    ) -> None:
        """Send a message on IOPub, as the answer to ``parent``."""
        parent_bytes = parent.header_bytes if parent else b"{}"
        topic = f"kernel.{self.implementation}.{msg_type}".encode()
        frames = self.session.frames(msg_type, content, parent_bytes, [topic], **extra)
        self._iopub.send_multipart(frames, copy=False)

    def finish(self, request: Message, content: dict[str, Any]) -> None:
        """Answer an ``execute_request`` (or any shell request) and report idle."""
        self._reply(self._shell, request, content)
        self.publish("status", {"execution_state": "idle"}, request)

    # The loop.

    def serve(self) -> None:
        """Answer requests until shut down or orphaned."""
        self._heartbeat.start()
        self.publish("status", {"execution_state": "starting"})
        poller = zmq.Poller()
        for socket in (self._control, self._shell):
            poller.register(socket, zmq.POLLIN)
        poller.register(self._wake_read, zmq.POLLIN)
        try:
            while not self._stopping:
                due = self.timeout()
                wait = PARENT_CHECK_SECONDS if due is None else min(due, PARENT_CHECK_SECONDS)
                ready = dict(poller.poll(max(0, round(wait * 1000))))
                if self._wake_read in ready:
                    self._drain_wake_ups()
                # Control first: an interrupt must not wait behind queued shell requests.
                if self._control in ready:
                    self._receive(self._control)
                if self._shell in ready and not self._stopping:
                    self._receive(self._shell)
                self.pump()
                if os.getppid() != self._parent_pid:
                    log.warning("the process that started this kernel is gone; stopping")
                    self.shutdown()
                    break
        finally:
            self._close()

    def _receive(self, socket: zmq.Socket[bytes]) -> None:
        while not self._stopping:
            try:
                frames = socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            try:
                request = self.session.parse(frames)
            except WireError as exc:
                log.warning("dropped a message: %s", exc)
                continue
            try:
                self._dispatch(socket, request)
            except Exception:
                log.exception("a %s failed", request.msg_type or "message")

    def _dispatch(self, socket: zmq.Socket[bytes], request: Message) -> None:
        kind = request.msg_type
        self.publish("status", {"execution_state": "busy"}, request)
        if kind == "execute_request" and socket is self._shell:
            self.execute(request)  # answered by finish(), now or later
            return
        if kind == "kernel_info_request":
            self._reply(socket, request, self._kernel_info())
        elif kind == "interrupt_request":
            self.interrupt(request)
            self._reply(socket, request, {"status": "ok"})
        elif kind == "shutdown_request":
            restart = request.content.get("restart") is True
            self.shutdown()
            content = {"status": "ok", "restart": restart}
            self._reply(socket, request, content)
            self.publish("shutdown_reply", content, request)
            self._stopping = True
        elif kind in _EMPTY_REPLIES:
            self._reply(socket, request, {"status": "ok", **_EMPTY_REPLIES[kind]})
        elif kind.endswith("_request"):
            message = f"{kind} is not supported by this kernel"
            error = {"status": "error", "ename": "Unsupported", "evalue": message, "traceback": []}
            self._reply(socket, request, error)
        else:
            log.warning("ignored a message of type %r", kind)
        self.publish("status", {"execution_state": "idle"}, request)

    def _reply(self, socket: zmq.Socket[bytes], request: Message, content: dict[str, Any]) -> None:
        msg_type = request.msg_type.removesuffix("_request") + "_reply"
        frames = self.session.frames(msg_type, content, request.header_bytes, request.idents)
        socket.send_multipart(frames, copy=False)

    def _kernel_info(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "protocol_version": "5.3",
            "implementation": self.implementation,
            "implementation_version": self.implementation_version,
            "language_info": self.language_info,
            "banner": self.banner,
            "help_links": [],
            "debugger": False,
        }

    def _drain_wake_ups(self) -> None:
        try:
            while os.read(self._wake_read, 4096):
                pass
        except BlockingIOError:
            pass

    def _bind(self, kind: int, url: str) -> zmq.Socket[bytes]:
        socket: zmq.Socket[bytes] = self._context.socket(kind)
        socket.linger = _LINGER_MS
        socket.bind(url)
        return socket

    def _close(self) -> None:
        self._heartbeat.stop()
        for socket in (self._shell, self._control, self._stdin, self._iopub):
            socket.close()
        self._context.term()
        os.close(self._wake_read)
        os.close(self._wake_write)


# Requests the kernel answers, with nothing to offer: what a generic client may ask.
_EMPTY_REPLIES: dict[str, dict[str, Any]] = {
    "history_request": {"history": []},  # this kernel keeps none
    "comm_info_request": {"comms": {}},
    "is_complete_request": {"status": "unknown"},
    "complete_request": {"matches": [], "cursor_start": 0, "cursor_end": 0, "metadata": {}},
    "inspect_request": {"found": False, "data": {}, "metadata": {}},
}


class _Heartbeat:
    """Echoes the client's pings on its own thread, so a busy loop still answers them."""

    def __init__(self, socket: zmq.Socket[bytes]) -> None:
        self._socket = socket
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def _serve(self) -> None:
        socket = self._socket
        try:
            while not self._stop.is_set():
                if socket.poll(250):
                    socket.send_multipart(socket.recv_multipart())
        finally:
            socket.close(linger=0)
