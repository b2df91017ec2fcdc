from __future__ import annotations

import pytest
from django.utils import translation

from baogong.notify.models import Message
from baogong.notify.services import send
from baogong.notify.templates import TEMPLATES, render, template_for
from tests.factories import UserFactory

# The kinds other apps send, with the context keys contracts.md promises them.
CONTRACT = {
    "round_opened": {"round_title", "supplier", "cutoff"},
    "cutoff_reminder": {"round_title", "cutoff"},
    "order_confirmed": {"round_title", "pickup_code", "amount", "delivery_at"},
    "order_cut": {"round_title", "pickup_code", "cut_items", "amount"},
    "payment_due": {"round_title", "amount", "deadline"},
    "order_dropped": {"round_title", "pickup_code"},
    "refund_issued": {"round_title", "amount", "reason"},
}
ROUND_ACTIONS = ("open", "close", "confirm", "dispatch", "deliver", "settle", "cancel")


def test_contract_kinds_and_keys():
    for kind, keys in CONTRACT.items():
        assert TEMPLATES[kind].keys == keys, kind
        assert TEMPLATES[kind].sms, kind
    for action in ROUND_ACTIONS:
        assert not TEMPLATES[f"round_{action}"].sms


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("kind", sorted(TEMPLATES))
def test_every_kind_renders_in_both_languages(kind, language):
    template = TEMPLATES[kind]
    context = {key: f"<{key}-值>" for key in template.keys}
    subject, body = render(template, context, language)
    text = subject + body
    assert "%(" not in text
    for value in context.values():
        assert value in text
    # Rendering does not leak the language into the caller's request.
    assert translation.get_language() == "en"


def test_extra_context_is_ignored_and_missing_is_an_error():
    assert template_for("order_dropped", {"round_title": "x", "pickup_code": "y", "more": "z"})
    with pytest.raises(ValueError):
        template_for("refund_issued", {"round_title": "x"})


def test_messages_are_written_in_the_site_language(db, settings):
    """Residents' messages are stored in Chinese (no per-user language yet) whatever the
    language of the request that caused them."""
    settings.LANGUAGE_CODE = "zh-hans"
    user = UserFactory()
    with translation.override("en"):
        send(
            "order_dropped",
            users=[user.pk],
            context={"round_title": "t", "pickup_code": "c"},
            dedupe_key="k",
        )
    message = Message.objects.get(channel=Message.Channel.IN_APP)
    with translation.override("zh-hans"):
        expected = render(TEMPLATES["order_dropped"], {"round_title": "t", "pickup_code": "c"})
    assert (message.subject, message.body) == expected
