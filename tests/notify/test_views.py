from __future__ import annotations

from django.urls import reverse

from baogong.accounts.models import Role
from baogong.notify.models import Message
from baogong.notify.services import send
from tests.factories import HouseholdFactory, ResidentFactory, UserFactory, grant

CTX = {"round_title": "第1期", "pickup_code": "K7PQ2M"}


def _in_app(user, subject: str, **fields) -> Message:
    return Message.objects.create(
        recipient=user,
        channel=Message.Channel.IN_APP,
        kind="order_dropped",
        subject=subject,
        dedupe_key=subject,
        state=Message.State.SENT,
        **fields,
    )


def test_inbox_lists_own_messages_unread_first(client, db):
    user, other = UserFactory(), UserFactory()
    old_unread = _in_app(user, "old unread")
    read = _in_app(user, "already read")
    Message.objects.filter(pk=read.pk).update(read_at=read.created_at)
    new_unread = _in_app(user, "new unread")
    _in_app(other, "not mine")
    client.force_login(user)
    page = client.get(reverse("notify:inbox")).content.decode()
    assert "not mine" not in page
    assert page.index("new unread") < page.index("old unread") < page.index("already read")
    assert "2 unread messages" in page
    # The navigation says the count in words, not only with a colour.
    assert "Messages (2 unread)" in page
    assert old_unread and new_unread


def test_nav_count_is_one_query(client, db, django_assert_num_queries):
    from baogong.notify.queries import unread_count

    user = UserFactory()
    _in_app(user, "a")
    with django_assert_num_queries(1):
        assert unread_count(user) == 1


def test_open_marks_read_and_follows_the_link(client, db):
    user = UserFactory()
    message = _in_app(user, "with link", link="/my-orders/")
    client.force_login(user)
    response = client.post(reverse("notify:mark_read", args=[message.pk]), {"next": "/my-orders/"})
    assert response.status_code == 302 and response.url == "/my-orders/"
    message.refresh_from_db()
    assert message.read_at is not None
    page = client.get(reverse("notify:inbox")).content.decode()
    assert "0 unread messages" in page and ">Messages<" in page


def test_open_refuses_foreign_links_and_foreign_messages(client, db):
    user, other = UserFactory(), UserFactory()
    mine, theirs = _in_app(user, "mine"), _in_app(other, "theirs")
    client.force_login(user)
    response = client.post(
        reverse("notify:mark_read", args=[mine.pk]), {"next": "https://evil.example/"}
    )
    assert response.url == reverse("notify:inbox")
    assert client.post(reverse("notify:mark_read", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read(client, db):
    user = UserFactory()
    _in_app(user, "a"), _in_app(user, "b")
    client.force_login(user)
    client.post(reverse("notify:mark_all_read"))
    assert not Message.objects.filter(recipient=user, read_at__isnull=True).exists()


def _no_phone_household(building):
    household = HouseholdFactory(building=building, phone="", phone_alt="")
    ResidentFactory(household=household, phone="", name="测试老人")
    return household


def test_call_list_is_scoped_and_filtered_by_area(client, tree):
    inside = _no_phone_household(tree.building_a)
    outside = _no_phone_household(tree.building_b)
    send("order_dropped", households=[inside.pk, outside.pk], context=CTX, dedupe_key="k")
    staff = UserFactory()
    grant(staff, Role.COMMUNITY_STAFF, area=tree.community_a)
    client.force_login(staff)
    page = client.get(reverse("notify:call_list")).content.decode()
    assert inside.address in page and "测试老人" in page and "No phone: visit" in page
    assert page.count("K7PQ2M") == 1  # the outside household is not listed
    by_compound = client.get(reverse("notify:call_list"), {"area": tree.compound_a.pk})
    assert "K7PQ2M" in by_compound.content.decode()
    assert client.get(reverse("notify:call_list"), {"area": tree.compound_b.pk}).status_code == 404


def test_call_list_refuses_liaisons_and_residents(client, tree):
    for role, scope in ((Role.LIAISON, tree.compound_a), (Role.RESIDENT, tree.household_a)):
        client.force_login(UserFactory())
        user = UserFactory()
        grant(user, role, **({"household": scope} if role == Role.RESIDENT else {"area": scope}))
        client.force_login(user)
        assert client.get(reverse("notify:call_list")).status_code == 403


def test_call_done_takes_the_household_off_the_list(client, tree):
    household = _no_phone_household(tree.building_a)
    send("order_dropped", households=[household.pk], context=CTX, dedupe_key="k")
    call = Message.objects.get(channel=Message.Channel.CALL)
    volunteer = UserFactory()
    grant(volunteer, Role.VOLUNTEER, area=tree.building_a)
    client.force_login(volunteer)
    assert client.post(reverse("notify:call_done", args=[call.pk])).status_code == 302
    call.refresh_from_db()
    assert call.state == Message.State.SENT and call.sent_at is not None
    assert "K7PQ2M" not in client.get(reverse("notify:call_list")).content.decode()


def _failed(household) -> Message:
    send("order_dropped", households=[household.pk], context=CTX, dedupe_key=f"f{household.pk}")
    message = Message.objects.get(household=household, channel=Message.Channel.SMS)
    Message.objects.filter(pk=message.pk).update(
        state=Message.State.FAILED, attempts=5, last_error="HTTP 500"
    )
    return message


def test_failed_sms_page_masks_numbers_and_retries(
    client, tree, django_capture_on_commit_callbacks
):
    inside, outside = _failed(tree.household_a), _failed(tree.household_b)
    staff = UserFactory()
    grant(staff, Role.COMMUNITY_STAFF, area=tree.community_a)
    client.force_login(staff)
    page = client.get(reverse("notify:failed_sms")).content.decode()
    assert inside.masked_phone in page and inside.phone not in page and "HTTP 500" in page
    assert outside.masked_phone not in page
    assert client.post(reverse("notify:retry", args=[outside.pk])).status_code == 404
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(reverse("notify:retry_all"))
    assert len(callbacks) == 1
    inside.refresh_from_db(), outside.refresh_from_db()
    assert inside.state == Message.State.PENDING and inside.attempts == 0
    assert outside.state == Message.State.FAILED


def test_failed_sms_of_a_resident_account_is_in_its_households_scope(client, tree):
    resident = UserFactory()
    grant(resident, Role.RESIDENT, household=tree.household_a)
    send("order_dropped", users=[resident.pk], context=CTX, dedupe_key="u")
    Message.objects.filter(channel=Message.Channel.SMS).update(state=Message.State.FAILED)
    staff_a, staff_b = UserFactory(), UserFactory()
    grant(staff_a, Role.COMMUNITY_STAFF, area=tree.community_a)
    grant(staff_b, Role.COMMUNITY_STAFF, area=tree.community_b)
    client.force_login(staff_a)
    assert resident.name in client.get(reverse("notify:failed_sms")).content.decode()
    client.force_login(staff_b)
    assert resident.name not in client.get(reverse("notify:failed_sms")).content.decode()
