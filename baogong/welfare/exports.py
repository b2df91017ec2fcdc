"""The two lists as Excel, as they stood at any moment, with or without personal data.

Rows come from the history tables (simple_history's `as_of`), so an export for
last Tuesday shows who was on the register and which needs were open then.
Without personal data a row says where (compound, building) and what, never
who: no name, room, phone, medicine or contact.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from baogong.areas.models import Area, Household
from baogong.welfare.models import Category, Hearing, Mobility, Need, SpecialCare
from baogong.welfare.queries import OPEN_NEED_STATES

_FORMULA_START = ("=", "+", "-", "@")


def _safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value  # a text cell must not run as a formula in a spreadsheet program
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).replace(tzinfo=None)
    return value


def workbook(
    area: Area, which: str, *, when: dt.datetime, personal: bool
) -> tuple[bytes, list[int]]:
    """Return (.xlsx bytes, ids of the records whose details went into it)."""
    households = {
        h.pk: h
        for h in Household.objects.filter(building__path__startswith=area.path).select_related(
            "building", "compound"
        )
    }
    book = Workbook()
    sheet = book.active
    if which == "needs":
        sheet.title = _("Needs list")
        header, rows, care_ids = _needs(households, when=when, personal=personal)
    else:
        sheet.title = _("People list")
        header, rows, care_ids = _people(households, when=when, personal=personal)
    stamp = timezone.localtime(when).strftime("%Y-%m-%d %H:%M")
    sheet.append([_("%(area)s, as of %(when)s") % {"area": area.name, "when": stamp}])
    sheet.append([str(h) for h in header])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_safe(v) for v in row])
    sheet.freeze_panes = "A3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), care_ids


def _labels(values: list[str]) -> str:
    names = dict(Category.choices)
    return "、".join(str(names.get(v, v)) for v in values)


def _people(
    households: dict[int, Household], *, when: dt.datetime, personal: bool
) -> tuple[list, list, list[int]]:
    cares = list(
        SpecialCare.history.as_of(when).filter(household_id__in=list(households), active=True)
    )
    cares.sort(
        key=lambda c: (
            households[c.household_id].compound.name,
            households[c.household_id].building.path,
            households[c.household_id].unit,
            households[c.household_id].room,
        )
    )
    header = [
        _("Compound"),
        _("Building"),
        _("Categories"),
        _("Call every (days)"),
        _("Next call due"),
        _("Last call"),
    ]
    if personal:
        header[2:2] = [_("Entrance"), _("Room"), _("Name"), _("Phone")]
        header += [
            _("Mobility"),
            _("Medicine names"),
            _("Language or dialect"),
            _("Hearing"),
            _("Emergency contact"),
            _("Emergency contact phone"),
            _("Consent date"),
            _("Review date"),
        ]
    from baogong.areas.models import Resident

    names = (
        dict(
            Resident.objects.filter(pk__in=[c.resident_id for c in cares]).values_list("pk", "name")
        )
        if personal
        else {}
    )
    phones = (
        dict(
            Resident.objects.filter(pk__in=[c.resident_id for c in cares]).values_list(
                "pk", "phone"
            )
        )
        if personal
        else {}
    )
    rows = []
    for care in cares:
        household = households[care.household_id]
        row = [
            household.compound.name,
            household.building.name,
            _labels(care.categories),
            care.cadence_days,
            care.due_on,
            care.last_call_at,
        ]
        if personal:
            row[2:2] = [
                household.unit,
                household.room,
                names.get(care.resident_id, ""),
                phones.get(care.resident_id) or household.phone,
            ]
            row += [
                str(dict(Mobility.choices).get(care.mobility, care.mobility)),
                care.medicines,
                care.language,
                str(dict(Hearing.choices).get(care.hearing, care.hearing)),
                care.emergency_name,
                care.emergency_phone,
                care.consent_date,
                care.review_date,
            ]
        rows.append(row)
    return header, rows, [c.pk for c in cares] if personal else []


def _needs(
    households: dict[int, Household], *, when: dt.datetime, personal: bool
) -> tuple[list, list, list[int]]:
    needs = sorted(
        Need.history.as_of(when).filter(
            household_id__in=list(households), state__in=OPEN_NEED_STATES
        ),
        key=lambda n: (n.category, n.created_at, n.pk),
    )
    header = [
        _("Category"),
        _("Item"),
        _("Quantity"),
        _("State"),
        _("Since"),
        _("Handled by"),
        _("Compound"),
        _("Building"),
    ]
    if personal:
        header += [_("Entrance"), _("Room"), _("Name")]
    names = {}
    if personal:
        names = dict(
            SpecialCare.objects.filter(pk__in={n.care_id for n in needs}).values_list(
                "pk", "resident__name"
            )
        )
    rows = []
    for need in needs:
        household = households[need.household_id]
        row = [
            need.get_category_display(),
            need.item,
            need.quantity,
            need.get_state_display(),
            need.created_at,
            need.get_action_display(),
            household.compound.name,
            household.building.name,
        ]
        if personal:
            row += [household.unit, household.room, names.get(need.care_id, "")]
        rows.append(row)
    return header, rows, sorted({n.care_id for n in needs}) if personal else []
