"""Real HTTP servers on 127.0.0.1 that speak the OpenAI and Gemini APIs, for tests.

Each server runs `http.server.ThreadingHTTPServer` on an ephemeral port in a
background thread, records every request (path, headers including auth, JSON body,
start/end times) and tracks how many requests were in flight at once.

Answers:
- chat: `server.responder(conversation) -> str` makes the model's text from the
  normalised conversation (system + [(role, text)...]); the default is `judge_answer`,
  a deterministic judge that scores the narrative found between <narrative> tags.
- embeddings: `fake_embedding(text)`, a deterministic unit vector from a hash.
- usage: input tokens = whitespace words of the whole prompt, output = words of the answer.

Fault injection: `server.add_fault(action, times=1, match=None)`; faults are tried in
order, and the first whose `match` (a substring of the raw request body) fits and whose
`times` is not used up handles the request. Actions:
    ("status", 429, {"retry_after": 0.2})   an error status, optionally with Retry-After
                                            (Gemini also {"retry_delay": "0.2s"}: RetryInfo;
                                            both: {"message": ...} for the error text)
    ("status", 500)
    ("sleep", 1.0)                          answer normally, but only after 1 s
    ("text", "not json")                    200 with this model text
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

EMBED_DIM = 8
CRITERIA = ("faithfulness", "relevance", "personalisation", "fluency")
_NARRATIVE = re.compile(r"<narrative>\n?(.*?)\n?</narrative>", re.S)


@dataclass
class Conversation:
    system: str | None
    messages: list[tuple[str, str]]  # (role, text), role "user" or "assistant"

    @property
    def first_user(self) -> str:
        return next(text for role, text in self.messages if role == "user")

    @property
    def last_user(self) -> str:
        return [text for role, text in self.messages if role == "user"][-1]


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    raw: str
    started: float
    finished: float = 0.0
    status: int = 0


@dataclass
class Fault:
    action: tuple
    times: int | None = 1  # None = forever
    match: str | None = None
    used: int = 0


def expected_scores(narrative: str) -> dict[str, int]:
    """The scores `judge_answer` gives a narrative: 1..5 from a hash, per criterion."""
    digest = hashlib.sha256(narrative.encode("utf-8")).digest()
    return {name: 1 + digest[i] % 5 for i, name in enumerate(CRITERIA)}


def judge_answer(conv: Conversation) -> str:
    """A deterministic judge. Words in the narrative steer it:
    GARBAGE -> never valid JSON; FIXABLE -> invalid first, valid once asked to repair;
    OUTOFRANGE -> a score of 9 (invalid) every time."""
    match = _NARRATIVE.search(conv.first_user)
    narrative = match.group(1) if match else ""
    repairing = len(conv.messages) > 1
    if "GARBAGE" in narrative:
        return "I think this narrative is quite good, maybe a four."
    if "FIXABLE" in narrative and not repairing:
        return "Scores: faithfulness four"
    scores = expected_scores(narrative)
    if "OUTOFRANGE" in narrative:
        scores["fluency"] = 9
    return json.dumps(scores)


def fake_embedding(text: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
    vector = np.random.default_rng(seed).standard_normal(EMBED_DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


def _words(text: str) -> int:
    return len(text.split())


class FakeApiServer:
    kind = ""

    def __init__(self):
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.responder: Callable[[Conversation], str] = judge_answer
        self.delay = 0.0  # seconds every request takes (to observe concurrency)
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> "FakeApiServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                server._handle(self)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- scripting -----------------------------------------------------------------
    def add_fault(self, *action, times: int | None = 1, match: str | None = None) -> None:
        with self._lock:
            self.faults.append(Fault(tuple(action), times, match))

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.faults.clear()
            self.max_in_flight = 0

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def count(self, contains: str | None = None) -> int:
        return sum(1 for r in self.requests if contains is None or contains in r.raw)

    def _take_fault(self, raw: str) -> tuple | None:
        with self._lock:
            for fault in self.faults:
                if fault.times is not None and fault.used >= fault.times:
                    continue
                if fault.match is not None and fault.match not in raw:
                    continue
                fault.used += 1
                return fault.action
        return None

    # -- HTTP ----------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode("utf-8") if length else ""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = None
        headers = {k.lower(): v for k, v in handler.headers.items()}  # names lower-cased
        record = Recorded("POST", handler.path, headers, body, raw, time.monotonic())
        with self._lock:
            self.requests.append(record)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            status, payload, headers = self._answer(handler.path, body, raw)
            data = json.dumps(payload).encode("utf-8")
            record.status = status
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                handler.send_header(key, value)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)
        finally:
            record.finished = time.monotonic()
            with self._lock:
                self.in_flight -= 1

    def _answer(self, path: str, body: Any, raw: str) -> tuple[int, Any, dict]:
        if self.delay:
            time.sleep(self.delay)
        action = self._take_fault(raw)
        text_override = None
        if action is not None:
            if action[0] == "status":
                status = int(action[1])
                extra = action[2] if len(action) > 2 else {}
                headers = {}
                if extra.get("retry_after") is not None:
                    headers["Retry-After"] = str(extra["retry_after"])
                return status, self.error_body(status, extra), headers
            if action[0] == "sleep":
                time.sleep(float(action[1]))
            elif action[0] == "text":
                text_override = str(action[1])
        return self.route(path, body, text_override)

    # subclasses
    def route(self, path: str, body: Any, text_override: str | None) -> tuple[int, Any, dict]:
        raise NotImplementedError

    def error_body(self, status: int, extra: dict) -> Any:
        raise NotImplementedError


class FakeOpenAIServer(FakeApiServer):
    """POST /v1/chat/completions and POST /v1/embeddings."""

    kind = "openai"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def error_body(self, status, extra):
        kind = "rate_limit_exceeded" if status == 429 else "server_error" if status >= 500 else "invalid_request_error"
        message = extra.get("message", f"injected {status}")
        return {"error": {"message": message, "type": kind, "code": None, "param": None}}

    def route(self, path, body, text_override):
        if path == "/v1/chat/completions" and isinstance(body, dict):
            conv = Conversation(
                system=next((m["content"] for m in body["messages"] if m["role"] == "system"), None),
                messages=[(m["role"], m["content"]) for m in body["messages"] if m["role"] != "system"],
            )
            text = text_override if text_override is not None else self.responder(conv)
            prompt_words = sum(_words(m["content"]) for m in body["messages"])
            return 200, {
                "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": prompt_words, "completion_tokens": _words(text),
                          "total_tokens": prompt_words + _words(text)},
            }, {}
        if path == "/v1/embeddings" and isinstance(body, dict):
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            data = []
            for i, text in enumerate(inputs):
                vector = fake_embedding(text)
                if body.get("encoding_format") == "base64":
                    embedding = base64.b64encode(vector.astype("<f4").tobytes()).decode("ascii")
                else:
                    embedding = [float(v) for v in vector]
                data.append({"object": "embedding", "index": i, "embedding": embedding})
            tokens = sum(_words(t) for t in inputs)
            return 200, {"object": "list", "data": data, "model": body.get("model"),
                         "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}, {}
        return 404, {"error": {"message": f"no route {path}", "type": "invalid_request_error"}}, {}


_GEMINI_PATH = re.compile(r"^/(?P<version>[^/]+)/models/(?P<model>[^:/]+):(?P<method>\w+)$")


class FakeGeminiServer(FakeApiServer):
    """POST /{version}/models/{model}:generateContent, :batchEmbedContents, :embedContent.

    google-genai 3.x sends `/v1/...` by default (`/v1beta/...` with api_version="v1beta");
    any version segment is accepted and recorded.
    """

    kind = "gemini"

    @property
    def base_url(self) -> str:
        return self.url

    def error_body(self, status, extra):
        names = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 400: "INVALID_ARGUMENT"}
        message = extra.get("message", f"injected {status}")
        error = {"code": status, "message": message, "status": names.get(status, "UNKNOWN")}
        if extra.get("retry_delay") is not None:
            error["details"] = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": extra["retry_delay"]}]
        return {"error": error}

    @staticmethod
    def _text(content: dict) -> str:
        return "".join(part.get("text", "") for part in content.get("parts", []))

    def route(self, path, body, text_override):
        match = _GEMINI_PATH.match(path.split("?")[0])
        if not match or not isinstance(body, dict):
            return 404, self.error_body(404, {}), {}
        method = match.group("method")
        if method == "generateContent":
            system = body.get("systemInstruction")
            conv = Conversation(
                system=self._text(system) if system else None,
                messages=[
                    ("assistant" if c.get("role") == "model" else "user", self._text(c)) for c in body["contents"]
                ],
            )
            text = text_override if text_override is not None else self.responder(conv)
            prompt_words = sum(_words(t) for _, t in conv.messages) + (_words(conv.system) if conv.system else 0)
            return 200, {
                "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP",
                                "index": 0}],
                "usageMetadata": {"promptTokenCount": prompt_words, "candidatesTokenCount": _words(text),
                                  "totalTokenCount": prompt_words + _words(text)},
                "modelVersion": match.group("model"),
            }, {}
        if method == "batchEmbedContents":
            vectors = [fake_embedding(self._text(r["content"])) for r in body["requests"]]
            return 200, {"embeddings": [{"values": [float(v) for v in vec]} for vec in vectors]}, {}
        if method == "embedContent":
            vector = fake_embedding(self._text(body["content"]))
            return 200, {"embedding": {"values": [float(v) for v in vector]}}, {}
        return 404, self.error_body(404, {}), {}


# -- pytest fixtures (import them into a test module to use them) ------------------------
import pytest  # noqa: E402


@pytest.fixture
def openai_server():
    server = FakeOpenAIServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def gemini_server():
    server = FakeGeminiServer().start()
    try:
        yield server
    finally:
        server.stop()
