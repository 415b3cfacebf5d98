#!/usr/bin/env python3
"""Peak memory of `claude-lb serve` against providers that never stop talking.

Each scenario starts a fresh release binary (`target/release/claude-lb serve`) in front of a
fake provider on 127.0.0.1 that misbehaves in one way (an endless body, a flood of events, a
tool call that never gets a name, a listing without end), sends one request, and reports the
serve process's peak resident memory (VmHWM from /proc/PID/status), its resident memory once
the request is over (VmRSS), the time the request took, and what the client got.

    cargo build --release && python3 scripts/bounds_rss.py

Linux only (it reads /proc). Nothing leaves the machine: every server listens on 127.0.0.1.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "claude-lb")
CHUNK = 64 * 1024

MESSAGE_START = json.dumps({
    "type": "message_start",
    "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
                "content": [], "stop_reason": None, "stop_sequence": None,
                "usage": {"input_tokens": 1, "output_tokens": 0}},
})
GOOD_ANSWER = json.dumps({
    "id": "msg_2", "type": "message", "role": "assistant", "model": "m",
    "content": [{"type": "text", "text": "Hello"}], "stop_reason": "end_turn",
    "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1},
}).encode()


def sse(name, data):
    return f"event: {name}\ndata: {data}\n\n".encode()


def openai_chunk(delta):
    return ("data: " + json.dumps({
        "id": "c1", "object": "chat.completion.chunk", "model": "upstream-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
    }) + "\n\n").encode()


def nameless_args(fill):
    return openai_chunk({"tool_calls": [{"index": 1, "id": "call_1", "type": "function",
                                         "function": {"arguments": fill * CHUNK}}]})


# What each fake provider sends: (status, content type, first bytes, bytes repeated forever).
BEHAVIOURS = {
    "whole_200": (200, "application/json", b"", [b" " * CHUNK]),
    "endless_400": (400, "application/json", b"", [b" " * CHUNK]),
    "pings": (200, "text/event-stream", sse("message_start", MESSAGE_START),
              [sse("ping", '{"type": "ping"}') * 256]),
    "nameless_tool": (200, "text/event-stream",
                      openai_chunk({"role": "assistant", "content": "Hello"}),
                      [nameless_args("a"), nameless_args("b")]),
    "models": (200, "application/json", b'{"data":[',
               [b'{"id":"claude-endless","type":"model"},' * 1024]),
    "good": None,
}


class FakeProvider(threading.Thread):
    """Answers every request on its socket as `behaviour` says, until closed."""

    def __init__(self, behaviour):
        super().__init__(daemon=True)
        self.behaviour = behaviour
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.start()

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        try:
            with conn:
                read_request(conn)
                plan = BEHAVIOURS[self.behaviour]
                if plan is None:
                    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                                 b"content-length: %d\r\nconnection: close\r\n\r\n"
                                 % len(GOOD_ANSWER) + GOOD_ANSWER)
                    return
                status, content_type, head, repeated = plan
                conn.sendall(f"HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\n"
                             f"transfer-encoding: chunked\r\n\r\n".encode())
                if head:
                    conn.sendall(chunked(head))
                while True:
                    for piece in repeated:
                        conn.sendall(chunked(piece))
        except OSError:
            pass

    def close(self):
        self.sock.close()


def chunked(data):
    return b"%x\r\n" % len(data) + data + b"\r\n"


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        more = conn.recv(65536)
        if not more:
            return
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        more = conn.recv(65536)
        if not more:
            return
        body += more


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def request(port, method, path, body, slow=False):
    """Sends one request; returns (status line, body). `slow` reads 1 KB a second."""
    sock = socket.create_connection(("127.0.0.1", port))
    if slow:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    payload = body.encode() if isinstance(body, str) else body
    sock.sendall(f"{method} {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                 f"anthropic-version: 2023-06-01\r\nx-api-key: any\r\n"
                 f"content-length: {len(payload)}\r\nconnection: close\r\n\r\n".encode()
                 + payload)
    received = b""
    sock.settimeout(600)
    while True:
        more = sock.recv(1024 if slow else 65536)
        if not more:
            break
        received += more
        if slow:
            time.sleep(1)
    sock.close()
    head, _, rest = received.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode(), rest


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def provider_yaml(name, kind, port):
    base = f"http://127.0.0.1:{port}" + ("/v1" if kind == "openai" else "")
    models = '    models:\n      "*": upstream-model\n' if kind == "openai" else ""
    return (f"  - name: {name}\n    type: {kind}\n    auth_type: api_key\n"
            f"    auth_value: sk-fake\n    base_url: {base}\n{models}")


def messages(stream, max_tokens=1024):
    return json.dumps({"model": "claude-opus-4-1", "max_tokens": max_tokens, "stream": stream,
                       "messages": [{"role": "user", "content": "Say hello"}]})


def count_body(size):
    return json.dumps({"model": "claude-opus-4-1",
                       "messages": [{"role": "user", "content": "word " * (size // 5)}]})


# (name, what the provider does, provider type, method, path, body, slow reader)
SCENARIOS = [
    ("200 non-streaming answer without end", "whole_200", "anthropic", "POST",
     "/v1/messages", messages(False), False),
    ("400 with an endless body", "endless_400", "anthropic", "POST", "/v1/messages",
     messages(False), False),
    ("message_start then endless pings", "pings", "anthropic", "POST", "/v1/messages",
     messages(True), False),
    ("translated stream, nameless tool call, client at 1 KB/s", "nameless_tool", "openai",
     "POST", "/v1/messages", messages(True), True),
    ("endless GET /v1/models listing", "models", "anthropic", "GET", "/v1/models", "", False),
    ("count_tokens of 25 MB, estimated locally", "good", "openai", "POST",
     "/v1/messages/count_tokens", count_body(25_000_000), False),
    ("count_tokens of 7.5 MB, estimated locally", "good", "openai", "POST",
     "/v1/messages/count_tokens", count_body(7_500_000), False),
]


def run(scenario, workdir):
    name, behaviour, kind, method, path, body, slow = scenario
    bad = FakeProvider(behaviour)
    good = FakeProvider("good")
    port = free_port()
    providers = provider_yaml("bad", kind, bad.port)
    if behaviour != "models" and kind == "anthropic":
        providers += provider_yaml("good", "anthropic", good.port)
    config = os.path.join(workdir, "providers.yaml")
    with open(config, "w") as f:
        f.write(f"providers:\n{providers}settings:\n  listen: 127.0.0.1:{port}\n"
                f"  log_level: warn\n")
    os.chmod(config, 0o600)
    serve = subprocess.Popen([BIN, "serve", "--config", config], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env={"PATH": os.environ.get("PATH", "")})
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                break
            except OSError:
                time.sleep(0.05)
        start_kib = status_kib(serve.pid, "VmRSS")
        started = time.monotonic()
        status, answer = request(port, method, path, body, slow)
        took = time.monotonic() - started
        time.sleep(0.5)
        peak_kib = status_kib(serve.pid, "VmHWM")
        after_kib = status_kib(serve.pid, "VmRSS")
        text = answer.decode("utf-8", "replace")
        what = status
        marker = text.find('"message":"')
        if marker >= 0:
            what += ": " + text[marker + 11:marker + 131].split('"}')[0]
        return name, start_kib, peak_kib, after_kib, took, what
    finally:
        serve.terminate()
        serve.wait()
        bad.close()
        good.close()


def main():
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} is missing: run `cargo build --release` first")
    print("| scenario | time | RSS at start | peak RSS (VmHWM) | RSS after | client got |")
    print("| --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as workdir:
        for scenario in SCENARIOS:
            name, start, peak, after, took, what = run(scenario, workdir)
            print(f"| {name} | {took:.1f} s | {start / 1024:.1f} MB | {peak / 1024:.1f} MB "
                  f"| {after / 1024:.1f} MB | {what} |", flush=True)


if __name__ == "__main__":
    main()
