from __future__ import annotations

import pytest
from django.utils import timezone

from baogong.areas.models import Household
from baogong.core.bulk import allocate_ids, insert_rows


@pytest.mark.django_db
def test_allocate_ids_hands_out_fresh_ascending_keys(tree):
    highest = Household.objects.order_by("-pk").first().pk

    first = allocate_ids(Household, 3)
    second = allocate_ids(Household, 2)

    assert first == sorted(first) and len(set(first + second)) == 5
    assert min(first) > highest
    assert allocate_ids(Household, 0) == []


@pytest.mark.django_db
def test_insert_rows_writes_tuples_and_keeps_the_sequence_ahead(tree):
    now = timezone.now()
    fields = ("id", "created_at", "updated_at", "building_id", "compound_id", "unit", "floor",
              "room", "members_count", "phone", "phone_alt", "containment", "containment_since",
              "containment_until", "notes")
    ids = allocate_ids(Household, 2)
    rows = [(pk, now, now, tree.building_a.pk, tree.compound_a.pk, "1", 7, f"70{n}", 3,
             "17000000099", "", "none", None, None, "备注\t带制表符\n和换行")
            for n, pk in enumerate(ids, start=1)]

    assert insert_rows(Household, fields, rows) == 2

    stored = Household.objects.get(pk=ids[1])
    assert (stored.room, stored.floor, stored.notes) == ("702", 7, "备注\t带制表符\n和换行")
    assert stored.created_at == now
    # A row saved the ordinary way afterwards gets a key after the inserted ones.
    later = Household.objects.create(building=tree.building_a, compound=tree.compound_a,
                                     room="801")
    assert later.pk > max(ids)
