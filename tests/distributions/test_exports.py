"""The report as Excel: without personal data no room or phone; with it, phones masked
unless the reader may see them in full; the bureau never gets the household rows."""

from __future__ import annotations

import io

from django.urls import reverse
from openpyxl import load_workbook

from baogong.accounts.models import Role
from baogong.distributions import reports
from baogong.distributions.exports import report_workbook
from tests.distributions.test_reports import DAY_2, committed, staff  # noqa: F401 (fixture)


def workbook(response):
    return load_workbook(io.BytesIO(response.content))


def test_export_without_personal_data_has_no_rooms_or_phones(client, street, committed):  # noqa: F811
    client.force_login(staff(Role.STREET_STAFF, street.street))
    url = reverse("distributions:report_export", args=[committed.distribution.pk])
    book = workbook(client.get(url))
    text = " ".join(
        str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v
    )
    for allocation in [*committed.waiting, *committed.served]:
        household = allocation.household
        assert household.phone not in text and household.masked_phone not in text
    assert "10号楼" in text


def test_export_with_personal_data_lists_households_with_phones(client, street, committed):  # noqa: F811
    client.force_login(staff(Role.STREET_STAFF, street.street))
    url = reverse("distributions:report_export", args=[committed.distribution.pk])
    response = client.get(url, {"personal": "1"})
    assert "personal" in response["Content-Disposition"]
    rows = list(workbook(response).worksheets[1].iter_rows(min_row=3, values_only=True))
    phones = {row[4] for row in rows}
    assert phones == {a.household.phone for a in committed.waiting}


def test_export_masks_phones_the_reader_may_not_see_in_full(street, committed):  # noqa: F811
    distribution, top = committed.distribution, street.street
    content = report_workbook(
        distribution,
        reports.coverage(distribution, top),
        reports.not_received(distribution, top, now=DAY_2),
        reports.bag_ledger(reports.distribution_compounds(distribution, top)),
        personal=True,
        full_phone=lambda household: False,
    )
    rows = list(
        load_workbook(io.BytesIO(content)).worksheets[1].iter_rows(min_row=3, values_only=True)
    )
    assert {row[4] for row in rows} == {a.household.masked_phone for a in committed.waiting}
