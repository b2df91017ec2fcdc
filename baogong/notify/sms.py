"""SMS gateways, chosen by settings.NOTIFY_SMS_BACKEND (a dotted path to a class).

A backend sends one text and raises SmsError on any failure; the worker decides on
retries. Neither backend logs the text or the full number: only the outbox id and a
masked number, since the log is read by people who must not see residents' data.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

from django.conf import settings
from django.utils.module_loading import import_string

from baogong.core.phones import mask_phone

log = logging.getLogger(__name__)

DEFAULT_BACKEND = "baogong.notify.sms.ConsoleBackend"


class SmsError(Exception):
    """Delivery failed; the message is a short technical reason without personal data."""


class ConsoleBackend:
    """Development and demo: pretend to send, log that it happened."""

    def send(self, *, message_id: int, phone: str, text: str) -> None:
        log.info("sms %s to %s (%d chars)", message_id, mask_phone(phone), len(text))


class HttpBackend:
    """A gateway that takes a JSON POST: {"id", "to", "text"} with a bearer key.

    The outbox id goes along so a gateway that deduplicates can drop a resend after a
    lost response. Any 2xx is success; other statuses, timeouts and network errors fail.
    """

    def __init__(self) -> None:
        self.url = settings.NOTIFY_SMS_URL
        self.key = settings.NOTIFY_SMS_KEY
        self.timeout = settings.NOTIFY_SMS_TIMEOUT
        # Only web URLs: urlopen would also read file: URLs.
        if not self.url.startswith(("https://", "http://")):
            raise SmsError("NOTIFY_SMS_URL is not an http(s) URL")

    def send(self, *, message_id: int, phone: str, text: str) -> None:
        payload = json.dumps({"id": str(message_id), "to": phone, "text": text}).encode()
        request = urllib.request.Request(  # noqa: S310 (scheme checked above)
            self.url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Authorization": f"Bearer {self.key}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            raise SmsError(f"HTTP {exc.code}") from None
        except TimeoutError:
            raise SmsError("timeout") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError):
                raise SmsError("timeout") from None
            raise SmsError(f"network error: {type(reason).__name__}") from None
        except OSError as exc:
            raise SmsError(f"network error: {type(exc).__name__}") from None
        if not 200 <= status < 300:
            raise SmsError(f"HTTP {status}")
        log.info("sms %s to %s accepted", message_id, mask_phone(phone))


def get_backend() -> ConsoleBackend | HttpBackend:
    return import_string(getattr(settings, "NOTIFY_SMS_BACKEND", "") or DEFAULT_BACKEND)()
