from __future__ import annotations

from baogong.demo.services import demo_load
from baogong.notify.demo import demo_notifications
from baogong.notify.models import Message


def test_demo_has_announcements_calls_and_a_failed_sms(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    district = demo_load().district
    rows = Message.objects.filter(kind="round_opened")
    assert rows.filter(channel=Message.Channel.SMS).exists()
    assert rows.filter(channel=Message.Channel.CALL).exists()
    assert Message.objects.filter(state=Message.State.FAILED).count() == 1
    before = Message.objects.count()
    demo_notifications(district)
    assert Message.objects.count() == before
