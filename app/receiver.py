"""`timeline receive`: a webhook receiver on this machine, for trying subscriptions end to end.

It does what any receiver should: checks each request's Standard Webhooks signature with the
`standardwebhooks` package (against the subscription's secret, or any of several during a
rotation), reads the body as a CloudEvent with the `cloudevents` package, and answers 204 only
then. Each delivery is printed (what, about which incident, its `webhook-id`, then the CloudEvent);
a request that does not verify is answered 401 and printed as refused, so the service retries it.
It is a tool for one machine, not a production endpoint: it keeps nothing and deduplicates nothing.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Sequence
from typing import TextIO

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from app.webhooks.signing import check_secret

__all__ = ["MAX_BODY_BYTES", "make_server"]

MAX_BODY_BYTES = 1024 * 1024


def make_server(host: str, port: int, secrets: Sequence[str], out: TextIO) -> http.server.ThreadingHTTPServer:
    """A server (not yet serving) that verifies, prints to `out` and answers every POST, on any path.

    ValueError for a secret that is not `whsec_` + base64 (a mangled paste would never verify).
    """
    if not secrets:
        raise ValueError("give the subscription's signing secret (whsec_...)")
    for secret in secrets:
        try:
            check_secret(secret)
        except ValueError as error:
            raise ValueError(f"{error}: {secret[:12]!r}…") from None
    hooks = [Webhook(secret) for secret in secrets]
    printing = threading.Lock()  # one delivery's lines stay together

    def say(text: str) -> None:
        with printing:
            try:
                out.write(text + "\n")
            except UnicodeEncodeError:  # a terminal that cannot show the text: escape it, still answer
                out.write(text.encode("ascii", "backslashreplace").decode("ascii") + "\n")
            out.flush()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the dispatcher's client expects

        def do_POST(self) -> None:  # noqa: N802
            given = self.headers.get("content-length") or "0"
            if not given.isascii() or not given.isdigit():
                say(f"refused (400) a request with Content-Length {given!r} on {self.path}")
                self.close_connection = True
                return self._answer(400)
            length = int(given)
            if length > MAX_BODY_BYTES:
                say(f"refused (413) a request of {length} bytes on {self.path}")
                self.close_connection = True
                return self._answer(413)
            raw = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            webhook_id = headers.get("webhook-id", "(no webhook-id)")
            try:
                body = raw.decode("utf-8")
                if not any(_verifies(hook, body, headers) for hook in hooks):
                    raise WebhookVerificationError("the signature does not verify with the given secret(s)")
            except (UnicodeDecodeError, WebhookVerificationError) as error:
                say(f"refused (401) {webhook_id} on {self.path}: {error}")
                return self._answer(401)
            try:
                event = _cloudevent(headers, raw)
            except ValueError as error:
                say(f"refused (400) {webhook_id} on {self.path}: signed, but not a CloudEvent: {error}")
                return self._answer(400)
            say(
                f"verified {webhook_id}: {event.get('type')} about {event.get('subject')} "
                f"(version {event.get('incidentversion')}, position {event.get('position')})\n"
                + json.dumps(event, indent=2, ensure_ascii=False)
            )
            self._answer(204)

        def _answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass  # the lines above say what happened

    class Server(http.server.ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        daemon_threads = True

    return Server((host, port), Handler)


def _verifies(hook: Webhook, body: str, headers: dict[str, str]) -> bool:
    try:
        hook.verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


def _cloudevent(headers: dict[str, str], raw: bytes) -> dict:
    """The body as a CloudEvent: parsed by the `cloudevents` package, returned as the JSON sent."""
    from cloudevents.core.bindings.http import HTTPMessage, from_http_event

    try:
        from_http_event(HTTPMessage(headers=headers, body=raw))
        event = json.loads(raw)
    except Exception as error:  # the package raises several kinds for a malformed event
        raise ValueError(f"{type(error).__name__}: {error}") from None
    if not isinstance(event, dict) or event.get("specversion") != "1.0":
        raise ValueError("not a structured CloudEvents 1.0 JSON body")
    return event
