"""A real HTTP receiver for outbound webhooks, in a thread of the test process, that checks
signatures with the verification snippet of README "Outbound webhooks", read from the README
itself: the tests prove what a tenant is told to run."""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_verifier():
    """`ppc_signature_is_valid` exactly as README's "Outbound webhooks" section prints it."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Outbound webhooks", 1)[1].split("\n## ", 1)[0]
    (snippet,) = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    namespace: dict = {}
    exec(compile(snippet, "README.md (Outbound webhooks)", "exec"), namespace)
    return namespace["ppc_signature_is_valid"]


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    # Secret -> whether the README snippet accepts the request with it.
    verified: dict[str, bool]

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """Answers each request with the next of `statuses` (then 200), after `delay` seconds."""

    secrets: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, headers, body: bytes) -> int:
        verify = readme_verifier()
        verified = {secret: verify(headers, body, secret) for secret in self.secrets}
        with self.lock:
            self.received.append(Received(dict(headers.items()), body, verified))
            status = self.statuses.pop(0) if self.statuses else 200
        if self.delay:
            time.sleep(self.delay)
        return status


def start_receiver(receiver: WebhookReceiver) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = receiver.answer(self.headers, body)
            payload = b"ok" if status < 300 else b"receiver says no"
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender timed out and left

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/ppc"
    return server
