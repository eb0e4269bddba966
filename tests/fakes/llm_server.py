"""A scriptable fake LLM provider speaking the Anthropic Messages and OpenAI Chat wire formats.

It listens on a free 127.0.0.1 port in a background thread, so the official
SDKs talk to it unmodified.  Each request takes the next scripted item for its
model (or the shared queue, or a default reply): a ``Reply`` (text, tool calls,
usage) or a ``Fault`` (HTTP status with ``Retry-After``, a delay longer than
the client's timeout, a stream cut in the middle, malformed JSON).  Every
request is recorded with its headers and JSON body.
"""

from __future__ import annotations

import collections
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

__all__ = ["FakeLLMServer", "Fault", "Recorded", "Reply"]


@dataclass(frozen=True)
class Reply:
    """A successful answer."""

    text: str = "Hello from the fake."
    tool_calls: tuple[tuple[str, dict[str, Any]], ...] = ()
    input: int = 12
    output: int = 7
    cache_read: int = 0
    cache_write: int = 0
    delay: float = 0.0


@dataclass(frozen=True)
class Fault:
    """A failure: ``status`` (with ``retry_after``), ``timeout``, ``cut`` or ``malformed``."""

    kind: Literal["status", "timeout", "cut", "malformed"]
    status: int = 500
    retry_after: str | None = None
    delay: float = 2.0
    after_events: int = 3


Item = Reply | Fault


@dataclass(frozen=True)
class Recorded:
    """One request as the server saw it."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class _State:
    queue: collections.deque[Item] = field(default_factory=collections.deque)
    per_model: dict[str, collections.deque[Item]] = field(default_factory=dict)
    sticky: dict[str, Item] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, model: str) -> Item:
        with self.lock:
            if model in self.sticky:
                return self.sticky[model]
            queue = self.per_model.get(model)
            if queue:
                return queue.popleft()
            return self.queue.popleft() if self.queue else Reply()


class _Listener(ThreadingHTTPServer):
    #: The listen backlog. The default of 5 drops SYNs when tests open dozens of connections at
    #: once, and each dropped one waits a second for its retransmit: longer than a client timeout.
    request_queue_size = 128
    daemon_threads = True


class FakeLLMServer:
    """Start with ``with FakeLLMServer() as server:``; script with :meth:`script`."""

    def __init__(self) -> None:
        self.state = _State()
        self._httpd = _Listener(("127.0.0.1", 0), _handler(self.state))
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def anthropic_url(self) -> str:
        """Base URL for ``anthropic.AsyncAnthropic`` (the SDK appends ``/v1/messages``)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_url(self) -> str:
        """Base URL for ``openai.AsyncOpenAI`` (ends in ``/v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> list[Recorded]:
        with self.state.lock:
            return list(self.state.requests)

    def script(self, *items: Item, model: str | None = None) -> None:
        """Queue answers, for one model or for any request."""
        with self.state.lock:
            target = (
                self.state.queue
                if model is None
                else self.state.per_model.setdefault(model, collections.deque())
            )
            target.extend(items)

    def always(self, model: str, item: Item) -> None:
        """Answer every request for ``model`` with ``item``."""
        with self.state.lock:
            self.state.sticky[model] = item

    def __enter__(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def _handler(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        pass

    Handler.state = state
    return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: _State

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and
        # delayed ACKs add ~40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        recorded = Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        with self.state.lock:
            self.state.requests.append(recorded)
        if self.path.endswith("/messages"):
            wire: _Wire = _Anthropic()
        elif self.path.endswith("/chat/completions"):
            wire = _OpenAI()
        else:
            self._send_json(404, {"error": {"message": "no such path"}})
            return
        self._answer(wire, body, self.state.take(str(body.get("model", ""))))

    def _answer(self, wire: _Wire, body: dict[str, Any], item: Item) -> None:
        model = str(body.get("model", ""))
        if isinstance(item, Fault):
            self._fault(wire, body, item)
            return
        time.sleep(item.delay)
        if body.get("stream"):
            self._send_stream(wire.events(model, item, body), cut_after=None)
        else:
            self._send_json(200, wire.message(model, item))

    def _fault(self, wire: _Wire, body: dict[str, Any], fault: Fault) -> None:
        model = str(body.get("model", ""))
        if fault.kind == "status":
            headers = {"retry-after": fault.retry_after} if fault.retry_after else {}
            self._send_json(fault.status, wire.error(fault.status), headers)
        elif fault.kind == "timeout":
            time.sleep(fault.delay)
            self._send_json(200, wire.message(model, Reply(text="too late")))
        elif fault.kind == "cut":
            text = "This answer will be cut off in the middle of a sentence"
            events = wire.events(model, Reply(text=text), body)
            self._send_stream(events, cut_after=fault.after_events)
        elif body.get("stream"):
            self._send_stream([(None, "{not json")], cut_after=None, finish=False)
        else:
            self._send_raw(200, b'{"id": "msg_1", "content": [', "application/json", {})

    def _send_json(
        self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        self._send_raw(status, json.dumps(payload).encode(), "application/json", headers or {})

    def _send_raw(self, status: int, data: bytes, ctype: str, headers: dict[str, str]) -> None:
        try:
            self.send_response(status)
            self.send_header("content-type", ctype)
            self.send_header("content-length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send_stream(
        self, events: list[tuple[str | None, str]], cut_after: int | None, finish: bool = True
    ) -> None:
        try:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            for n, (name, data) in enumerate(events):
                if cut_after is not None and n >= cut_after:
                    self._cut()
                    return
                frame = (f"event: {name}\n" if name else "") + f"data: {data}\n\n"
                self._chunk(frame.encode())
            if finish:
                self._chunk(b"")
            else:
                self._cut()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _cut(self) -> None:
        """Drop the connection without the final chunk: an incomplete body."""
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True


class _Wire:
    def message(self, model: str, reply: Reply) -> dict[str, Any]:
        raise NotImplementedError

    def events(
        self, model: str, reply: Reply, body: dict[str, Any]
    ) -> list[tuple[str | None, str]]:
        raise NotImplementedError

    def error(self, status: int) -> dict[str, Any]:
        raise NotImplementedError


def _pieces(text: str) -> list[str]:
    words = text.split(" ")
    return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]


class _Anthropic(_Wire):
    def _usage(self, reply: Reply, output: int) -> dict[str, int]:
        return {
            "input_tokens": reply.input,
            "output_tokens": output,
            "cache_creation_input_tokens": reply.cache_write,
            "cache_read_input_tokens": reply.cache_read,
        }

    def message(self, model: str, reply: Reply) -> dict[str, Any]:
        content: list[dict[str, Any]] = [{"type": "text", "text": reply.text}] if reply.text else []
        for n, (name, args) in enumerate(reply.tool_calls):
            content.append({"type": "tool_use", "id": f"toolu_{n}", "name": name, "input": args})
        return {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": "tool_use" if reply.tool_calls else "end_turn",
            "stop_sequence": None,
            "usage": self._usage(reply, reply.output),
        }

    def events(
        self, model: str, reply: Reply, body: dict[str, Any]
    ) -> list[tuple[str | None, str]]:
        start = self.message(model, reply) | {"content": [], "stop_reason": None}
        start["usage"] = self._usage(reply, 1)
        out: list[tuple[str | None, str]] = [
            ("message_start", _j({"type": "message_start", "message": start}))
        ]
        index = 0
        if reply.text:
            out.append(
                _ev("content_block_start", index=0, content_block={"type": "text", "text": ""})
            )
            out.append(("ping", _j({"type": "ping"})))
            for piece in _pieces(reply.text):
                out.append(
                    _ev("content_block_delta", index=0, delta={"type": "text_delta", "text": piece})
                )
            out.append(_ev("content_block_stop", index=0))
            index = 1
        for n, (name, args) in enumerate(reply.tool_calls, start=index):
            block = {"type": "tool_use", "id": f"toolu_{n}", "name": name, "input": {}}
            out.append(_ev("content_block_start", index=n, content_block=block))
            raw = json.dumps(args)
            for cut in range(0, len(raw), 8):
                delta = {"type": "input_json_delta", "partial_json": raw[cut : cut + 8]}
                out.append(_ev("content_block_delta", index=n, delta=delta))
            out.append(_ev("content_block_stop", index=n))
        stop = "tool_use" if reply.tool_calls else "end_turn"
        out.append(
            _ev(
                "message_delta",
                delta={"stop_reason": stop, "stop_sequence": None},
                usage={"output_tokens": reply.output},
            )
        )
        out.append(("message_stop", _j({"type": "message_stop"})))
        return out

    def error(self, status: int) -> dict[str, Any]:
        kind = {429: "rate_limit_error", 401: "authentication_error"}.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": f"fake {status}"}}


class _OpenAI(_Wire):
    def _usage(self, reply: Reply) -> dict[str, Any]:
        prompt = reply.input + reply.cache_read
        return {
            "prompt_tokens": prompt,
            "completion_tokens": reply.output,
            "total_tokens": prompt + reply.output,
            "prompt_tokens_details": {"cached_tokens": reply.cache_read},
        }

    def _calls(self, reply: Reply) -> list[dict[str, Any]]:
        return [
            {
                "id": f"call_{n}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(args)},
            }
            for n, (name, args) in enumerate(reply.tool_calls)
        ]

    def message(self, model: str, reply: Reply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
        if reply.tool_calls:
            message["tool_calls"] = self._calls(reply)
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if reply.tool_calls else "stop",
                }
            ],
            "usage": self._usage(reply),
        }

    def _chunk(self, model: str, delta: dict[str, Any], finish: str | None) -> tuple[None, str]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return None, _j(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [choice],
            }
        )

    def events(
        self, model: str, reply: Reply, body: dict[str, Any]
    ) -> list[tuple[str | None, str]]:
        out: list[tuple[str | None, str]] = [
            self._chunk(model, {"role": "assistant", "content": ""}, None)
        ]
        out += [self._chunk(model, {"content": p}, None) for p in _pieces(reply.text) if reply.text]
        for n, call in enumerate(self._calls(reply)):
            head = {
                "index": n,
                "id": call["id"],
                "type": "function",
                "function": {"name": call["function"]["name"], "arguments": ""},
            }
            out.append(self._chunk(model, {"tool_calls": [head]}, None))
            raw = call["function"]["arguments"]
            for cut in range(0, len(raw), 8):
                part = {"index": n, "function": {"arguments": raw[cut : cut + 8]}}
                out.append(self._chunk(model, {"tool_calls": [part]}, None))
        out.append(self._chunk(model, {}, "tool_calls" if reply.tool_calls else "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [],
                "usage": self._usage(reply),
            }
            out.append((None, _j(usage)))
        out.append((None, "[DONE]"))
        return out

    def error(self, status: int) -> dict[str, Any]:
        return {"error": {"message": f"fake {status}", "type": "server_error", "code": status}}


def _j(value: Any) -> str:
    return json.dumps(value)


def _ev(name: str, **fields: Any) -> tuple[str, str]:
    return name, _j({"type": name, **fields})


def main() -> None:
    """Serve default replies in this process until stdin closes (for benchmarks)."""
    import sys

    with FakeLLMServer() as server:
        print(server.port, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
