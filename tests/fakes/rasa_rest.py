"""A local server speaking Rasa's REST channel, for the pipeline's fast tests (the e2e tests use real Rasa).

GET /webhooks/rest/ → {"status": "ok"};
POST /webhooks/rest/webhook {"sender", "message", "metadata"} → a list of {"recipient_id", "text"?,
"buttons"?, "custom"?}. Replies are scripted per message text; unscripted messages get "You said: <text>".
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class FakeRasa:
    script: dict[str, list[dict]] = field(default_factory=dict)
    received: list[dict] = field(default_factory=list)
    down: bool = False  # answer 500, like a Rasa server that is starting or broken

    def start(self) -> FakeRasa:
        rasa = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                pass

            def do_GET(self) -> None:
                # Rasa's REST channel's health route, which answers once the model is loaded
                ok = self.path.rstrip("/") == "/webhooks/rest"
                data = json.dumps({"status": "ok"} if ok else {"error": "not found"}).encode()
                self.send_response(200 if ok else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                status, payload = rasa.answer(self.path, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def answer(self, path: str, body: dict) -> tuple[int, object]:
        if path != "/webhooks/rest/webhook":
            return 404, {"error": "not found"}
        if self.down:
            return 500, {"error": "down"}
        self.received.append(body)
        elements = self.script.get(body["message"], [{"text": f"You said: {body['message']}"}])
        return 200, [{"recipient_id": body["sender"], **element} for element in elements]

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
