from __future__ import annotations

import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from baogong.accounts.models import Role
from baogong.areas import tasks
from baogong.areas.models import Area, Household, Resident
from tests.factories import UserFactory

HEADINGS = ["楼栋", "单元", "房号", "户主", "电话", "人数"]
IMPORT_URL = reverse("areas:import")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def english(client, settings):
    """Pages in English, so the assertions below hold once Chinese translations exist."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def staff(tree, client, user_with_role):
    user = user_with_role(Role.COMMUNITY_STAFF, tree.community_a)
    client.force_login(user)
    return user


def _upload(client, area, path_or_bytes, name="register.xlsx"):
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else path_or_bytes.read_bytes()
    return client.post(IMPORT_URL, {"into": area.pk, "file": SimpleUploadedFile(name, data)})


def _status_url(response) -> str:
    assert response.status_code == 302, response.content.decode()[:2000]
    return response.url


# --- upload, check, confirm ----------------------------------------------------------

def test_import_page_offers_only_areas_the_user_keeps(staff, client, tree):
    response = client.get(IMPORT_URL)

    assert response.status_code == 200
    options = response.context["form"].fields["into"].queryset
    assert set(options) == {tree.community_a, tree.compound_a}
    html = response.content.decode()
    assert '<label for="id_file">' in html and 'name="file"' in html
    assert reverse("areas:import_template") in html


def test_check_then_confirm_imports_once(staff, client, tree, make_register, media):
    path = make_register(HEADINGS, [["3号楼", 1, 101, "张三", "17000000001", 2],
                                    ["3号楼", 2, 502, "", "", 4],
                                    ["3号楼", 1, "楼顶", "", "", 1]], title="登记表")
    before = Household.objects.count()

    status_url = _status_url(_upload(client, tree.compound_a, path))
    page = client.get(status_url)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert (media / "imports" / f"{sha}.xlsx").exists()  # kept between check and import

    html = page.content.decode()
    assert page.status_code == 200
    assert Household.objects.count() == before  # the check wrote nothing
    assert page.context["report"]["counts"] == {
        "created": 1, "updated": 1, "unchanged": 0, "rejected": 1}
    assert "楼顶" in html and 'role="alert"' in html
    assert "<th scope=\"row\">5</th>" in html
    assert "Confirm import of 2 households" in html

    first = client.post(status_url)
    second = client.post(status_url)  # a double click

    assert first.status_code == second.status_code == 302
    assert Household.objects.count() == before + 1
    assert Household.history.filter(history_type="+").count() >= 1
    assert Household.history.filter(history_type="~").count() == 1
    latest = Household.objects.get(room="101", building=tree.building_a).history.get()
    assert latest.history_user == staff
    done = client.get(status_url)
    assert "has been imported" in done.content.decode()
    assert done.context["imported"]["report"]["counts"]["created"] == 1


def test_status_partial_for_htmx(staff, client, tree, make_register):
    status_url = _status_url(_upload(client, tree.compound_a,
                                     make_register(HEADINGS, [["3号楼", 1, 101, "", "", 1]])))

    response = client.get(status_url, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="register-status"' in html


# The worker closes its database connection after each task, as in production; only a
# transactional test survives that on PostgreSQL.
@pytest.mark.django_db(transaction=True)
def test_a_big_file_is_checked_and_imported_by_the_task_worker(staff, client, tree,
                                                                make_register):
    rows = [["7号楼", 1 + n // 1000, f"{n % 1000 + 100}", "", "", 1]
            for n in range(tasks.INLINE_MAX_ROWS + 1)]
    status_url = _status_url(_upload(client, tree.compound_a, make_register(HEADINGS, rows)))

    waiting = client.get(status_url, headers={"HX-Request": "true"})
    assert waiting.context["polling"]
    assert 'hx-trigger="every 2s"' in waiting.content.decode()

    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    checked = client.get(status_url)
    assert not checked.context["polling"]
    assert checked.context["report"]["counts"]["created"] == tasks.INLINE_MAX_ROWS + 1
    assert len(checked.context["report"]["rows"]) == tasks.REPORT_ROW_LIMIT

    client.post(status_url)
    client.post(status_url)
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)

    assert Household.objects.filter(building__name="7号楼").count() == tasks.INLINE_MAX_ROWS + 1
    assert client.get(status_url).context["imported"]["state"] == "done"


@pytest.mark.django_db(transaction=True)
def test_a_task_that_dies_is_reported_as_failed(staff, client, tree, make_register, monkeypatch):
    monkeypatch.setattr(tasks, "INLINE_MAX_ROWS", 0)
    status_url = _status_url(_upload(client, tree.compound_a,
                                     make_register(HEADINGS, [["3号楼", 1, 101, "", "", 1]])))

    def crash(*args, **kwargs):
        raise RuntimeError("worker lost")

    monkeypatch.setattr(tasks, "register_import", crash)
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)

    page = client.get(status_url)
    assert page.context["check"]["state"] == "failed"
    assert 'role="alert"' in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_big_bad_file_is_reported_by_the_worker(staff, client, tree, monkeypatch):
    monkeypatch.setattr(tasks, "QUICK_CHECK_MAX_BYTES", 10)  # as if it were megabytes

    status_url = _status_url(_upload(client, tree.compound_a, "随便\n写点\n".encode() * 10,
                                     name="notes.csv"))
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)

    page = client.get(status_url)
    assert page.context["check"]["state"] == "failed"
    assert "No heading row" in page.content.decode()


# --- bad input never becomes a 500 ----------------------------------------------------

@pytest.mark.parametrize(("data", "name", "words"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.png", "not a spreadsheet"),
    (b"", "empty.xlsx", "is empty"),
    ("随便写点什么\n第二行\n".encode(), "notes.csv", "No heading row"),
    (b"PK\x03\x04not really a zip", "broken.xlsx", "could not be read"),
])
def test_bad_files_are_refused_with_a_message(staff, client, tree, data, name, words):
    response = _upload(client, tree.compound_a, data, name=name)

    html = response.content.decode()
    assert response.status_code == 400
    assert words in html and 'role="alert"' in html
    assert not list((tasks.imports_dir()).glob("*.json"))


def test_a_too_big_file_is_refused(staff, client, tree, settings):
    settings.IMPORT_MAX_BYTES = 100

    response = _upload(client, tree.compound_a, b"x" * 101, name="big.csv")

    assert response.status_code == 400
    assert "files up to" in response.content.decode()


def test_a_community_target_without_a_compound_column_is_refused(staff, client, tree,
                                                                 make_register):
    response = _upload(client, tree.community_a,
                       make_register(HEADINGS, [["3号楼", 1, 101, "", "", 1]]))

    assert response.status_code == 400
    assert "小区" in response.content.decode()


# --- permissions ---------------------------------------------------------------------

def test_a_stranger_is_refused(tree, client):
    client.force_login(UserFactory())

    assert client.get(IMPORT_URL).status_code == 403
    assert client.get(reverse("areas:import_template")).status_code == 403
    assert client.get(reverse("areas:export", args=[tree.compound_a.pk])).status_code == 403


def test_anonymous_users_are_sent_to_log_in(client):
    assert client.get(IMPORT_URL).status_code == 302


def test_a_user_of_another_area_cannot_import_there_or_see_the_job(tree, client, user_with_role,
                                                                   make_register):
    owner = user_with_role(Role.COMMUNITY_STAFF, tree.community_a)
    other = user_with_role(Role.COMMUNITY_STAFF, tree.community_b)
    path = make_register(HEADINGS, [["3号楼", 1, 101, "", "", 1]])
    client.force_login(owner)
    status_url = _status_url(_upload(client, tree.compound_a, path))

    client.force_login(other)
    refused = _upload(client, tree.compound_a, path)
    assert refused.status_code == 400
    assert client.get(status_url).status_code == 404
    assert client.post(status_url).status_code == 404
    assert not Household.objects.filter(room="101", building=tree.building_a).exists()
    assert client.get(reverse("areas:import_status", args=["deadbeef-1"])).status_code == 404
    assert client.get("/areas/import/..%2F..%2Fsecret/").status_code == 404


def test_a_liaison_sees_the_compound_but_cannot_import(tree, client, user_with_role):
    client.force_login(user_with_role(Role.LIAISON, tree.compound_a))

    assert client.get(IMPORT_URL).status_code == 403


# --- template and export ------------------------------------------------------------

def _workbook(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)


def test_template_has_chinese_headings_an_example_and_instructions(staff, client):
    workbook = _workbook(client.get(reverse("areas:import_template")))

    sheet, instructions = workbook.worksheets
    rows = list(sheet.values)
    assert rows[0][:4] == ("小区", "楼栋", "单元", "房号")
    assert rows[1][0] == "阳光小区"
    assert len(list(instructions.values)) > 5


def test_export_with_and_without_personal_data(staff, client, tree):
    url = reverse("areas:export", args=[tree.community_a.pk])
    contact = tree.household_a.residents.get()

    full = list(_workbook(client.get(url)).active.values)
    bare = list(_workbook(client.get(url + "?personal=0")).active.values)

    assert full[1] == ("社区", "小区", "楼栋", "单元", "房号", "户主", "电话", "备用电话", "人数",
                       "管控状态", "备注")
    assert full[2][:7] == ("社区a", "小区a", "3号楼", "2", "502", contact.name,
                           tree.household_a.phone)
    assert len(full) == 3  # title, headings, the one household of community a
    assert "户主" not in bare[1] and "电话" not in bare[1]
    flat = [str(v) for row in bare for v in row if v is not None]
    assert contact.name not in flat and tree.household_a.phone not in flat


def test_an_export_imports_back_unchanged(staff, client, tree):
    from baogong.areas.importer import register_import

    # As the importer leaves them: the contact's phone is the household's.
    tree.household_a.residents.update(phone=tree.household_a.phone)
    response = client.get(reverse("areas:export", args=[tree.compound_a.pk]))
    data = b"".join(response.streaming_content)
    counts_before = (Household.objects.count(), Resident.objects.count(), Area.objects.count())

    report = register_import(data, filename="export.xlsx", into=tree.compound_a, by=staff)

    assert report.counts == {"created": 0, "updated": 0, "unchanged": 1, "rejected": 0}
    assert (Household.objects.count(), Resident.objects.count(), Area.objects.count()) \
        == counts_before


def test_export_of_another_area_is_not_found(staff, client, tree):
    response = client.get(reverse("areas:export", args=[tree.compound_b.pk]))

    assert response.status_code == 404


def test_a_volunteer_may_export_without_personal_data_only(tree, client, user_with_role):
    client.force_login(user_with_role(Role.VOLUNTEER, tree.building_a))
    url = reverse("areas:export", args=[tree.building_a.pk])

    assert client.get(url).status_code == 403
    assert client.get(url + "?personal=0").status_code == 200
