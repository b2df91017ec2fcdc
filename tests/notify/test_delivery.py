from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from baogong.notify import tasks
from baogong.notify.models import Message
from baogong.notify.services import send
from tests.factories import UserFactory

CTX = {"round_title": "第1期", "pickup_code": "K7PQ2M"}


class Gateway:
    """A local SMS gateway: answers each POST with the next status, records what it got."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.delay = 0.0
        self.received: list[dict] = []
        self.headers: list[dict] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                gateway.received.append(json.loads(body))
                gateway.headers.append(dict(self.headers))
                if gateway.delay:
                    time.sleep(gateway.delay)
                status = gateway.statuses.pop(0) if gateway.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway(settings):
    gw = Gateway()
    settings.NOTIFY_SMS_BACKEND = "baogong.notify.sms.HttpBackend"
    settings.NOTIFY_SMS_URL = gw.url
    settings.NOTIFY_SMS_KEY = "test-key"
    settings.NOTIFY_SMS_TIMEOUT = 5
    settings.NOTIFY_SMS_MAX_ATTEMPTS = 3
    yield gw
    gw.close()


def _queue_sms(n: int = 1) -> list[Message]:
    users = [UserFactory() for _ in range(n)]
    send("order_dropped", users=[u.pk for u in users], context=CTX, dedupe_key="dropped:1")
    return list(Message.objects.filter(channel=Message.Channel.SMS).order_by("pk"))


def _make_due() -> None:
    Message.objects.filter(state=Message.State.PENDING).update(next_attempt_at=None)


def test_console_backend_logs_only_id_and_masked_number(db, caplog):
    [sms] = _queue_sms()
    with caplog.at_level(logging.INFO, logger="baogong.notify.sms"):
        counts = tasks.deliver_outbox.call()
    assert counts == {"sent": 1, "retry": 0, "failed": 0}
    sms.refresh_from_db()
    assert sms.state == Message.State.SENT and sms.sent_at is not None and sms.attempts == 1
    log = caplog.text
    assert str(sms.pk) in log and f"{sms.phone[:3]}****{sms.phone[-4:]}" in log
    assert sms.phone not in log and "K7PQ2M" not in log


def test_http_gateway_success(db, gateway):
    [sms] = _queue_sms()
    assert tasks.deliver_outbox.call()["sent"] == 1
    [payload] = gateway.received
    assert payload == {"id": str(sms.pk), "to": sms.phone, "text": sms.body}
    assert gateway.headers[0]["Authorization"] == "Bearer test-key"
    sms.refresh_from_db()
    assert sms.state == Message.State.SENT


def test_http_500_is_retried_with_backoff_then_failed(db, gateway):
    [sms] = _queue_sms()
    gateway.statuses = [500, 500, 500]
    assert tasks.deliver_outbox.call() == {"sent": 0, "retry": 1, "failed": 0}
    sms.refresh_from_db()
    assert sms.state == Message.State.PENDING and sms.last_error == "HTTP 500"
    assert sms.next_attempt_at is not None
    # Not due yet: a run now sends nothing.
    assert tasks.deliver_outbox.call() == {"sent": 0, "retry": 0, "failed": 0}
    _make_due()
    assert tasks.deliver_outbox.call()["retry"] == 1
    _make_due()
    assert tasks.deliver_outbox.call()["failed"] == 1
    sms.refresh_from_db()
    assert sms.state == Message.State.FAILED and sms.attempts == 3
    assert len(gateway.received) == 3


def test_http_500_then_success(db, gateway):
    [sms] = _queue_sms()
    gateway.statuses = [503]
    tasks.deliver_outbox.call()
    _make_due()
    assert tasks.deliver_outbox.call()["sent"] == 1
    sms.refresh_from_db()
    assert sms.state == Message.State.SENT and sms.attempts == 2 and sms.last_error == ""


def test_http_timeout_is_a_failure(db, gateway, settings):
    [sms] = _queue_sms()
    settings.NOTIFY_SMS_TIMEOUT = 0.2
    gateway.delay = 1.0
    tasks.deliver_outbox.call()
    sms.refresh_from_db()
    assert sms.state == Message.State.PENDING and sms.last_error == "timeout"


def test_unreachable_gateway_is_a_failure(db, settings):
    settings.NOTIFY_SMS_BACKEND = "baogong.notify.sms.HttpBackend"
    settings.NOTIFY_SMS_URL = "http://127.0.0.1:9/sms"  # discard port: nothing listens
    [sms] = _queue_sms()
    tasks.deliver_outbox.call()
    sms.refresh_from_db()
    assert sms.state == Message.State.PENDING and sms.last_error.startswith("network error")
    assert sms.phone not in sms.last_error


def test_two_runs_never_send_a_row_twice(db, gateway):
    _queue_sms(3)
    first = tasks.claim_batch()
    # A second worker starting meanwhile finds nothing to take.
    assert tasks.claim_batch() == []
    tasks.deliver(first)
    # A retried task after the first one finished sends nothing again.
    assert tasks.deliver_outbox.call() == {"sent": 0, "retry": 0, "failed": 0}
    assert sorted(p["id"] for p in gateway.received) == sorted(str(m.pk) for m in first)
    assert len(gateway.received) == 3


def test_stale_claim_from_a_dead_worker_is_sent_later(db):
    [sms] = _queue_sms()
    tasks.claim_batch()  # the worker dies here
    Message.objects.filter(pk=sms.pk).update(claimed_at=sms.created_at - tasks.STALE_CLAIM)
    assert tasks.deliver_outbox.call()["sent"] == 1


def test_sent_rows_are_marked_in_groups(db, monkeypatch):
    monkeypatch.setattr(tasks, "SENT_FLUSH", 2)
    _queue_sms(5)
    assert tasks.deliver_outbox.call()["sent"] == 5
    assert set(Message.objects.filter(channel="sms").values_list("state", flat=True)) == {"sent"}
