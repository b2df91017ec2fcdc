from __future__ import annotations

import pytest

from baogong.accounts import services
from baogong.accounts.models import Role, RoleGrant, User
from baogong.core.errors import Conflict, InvalidInput, NotAllowed
from tests.factories import UserFactory


def test_street_staff_grants_community_staff_inside_their_street(tree, user_with_role):
    staff = user_with_role(Role.STREET_STAFF, tree.street_a)
    grant, password = services.account_grant(
        phone="170 0009 0001",
        name="新同事",
        role=Role.COMMUNITY_STAFF,
        area=tree.community_a,
        by=staff,
    )
    assert grant.user.phone == "17000090001"
    assert grant.user.password_change_required
    assert grant.user.check_password(password)
    assert grant.granted_by == staff
    # The audit trail names who made the account.
    assert grant.user.history.first().history_user == staff


def test_grant_outside_own_subtree_is_refused_and_writes_nothing(tree, user_with_role):
    staff = user_with_role(Role.STREET_STAFF, tree.street_a)
    users_before = User.objects.count()
    with pytest.raises(NotAllowed):
        services.account_grant(
            phone="17000090002",
            name="某人",
            role=Role.COMMUNITY_STAFF,
            area=tree.community_b,
            by=staff,
        )
    assert User.objects.count() == users_before


def test_nobody_grants_their_own_level_or_above(tree, user_with_role):
    community = user_with_role(Role.COMMUNITY_STAFF, tree.community_a)
    assert services.grantable_roles(community, tree.community_a) == []
    assert services.grantable_roles(community, tree.compound_a) == [Role.LIAISON, Role.VOLUNTEER]
    with pytest.raises(NotAllowed):
        services.account_grant(
            phone="17000090003",
            name="某人",
            role=Role.STREET_STAFF,
            area=tree.street_a,
            by=community,
        )


def test_liaison_and_volunteer_grant_nothing(tree, user_with_role):
    for role, node in ((Role.LIAISON, tree.compound_a), (Role.VOLUNTEER, tree.building_a)):
        user = user_with_role(role, node)
        assert services.grantable_roles(user, tree.building_a) == []


def test_existing_account_gets_the_role_added_without_new_password(tree, user_with_role):
    staff = user_with_role(Role.COMMUNITY_STAFF, tree.community_a)
    person = UserFactory()
    grant, password = services.account_grant(
        phone=person.phone, name="ignored", role=Role.LIAISON, area=tree.compound_a, by=staff
    )
    assert grant.user == person and password is None
    with pytest.raises(Conflict):
        services.account_grant(
            phone=person.phone, name="x", role=Role.LIAISON, area=tree.compound_a, by=staff
        )


def test_resident_account_only_for_households_in_register_scope(tree, user_with_role):
    staff = user_with_role(Role.COMMUNITY_STAFF, tree.community_a)
    grant, _ = services.account_grant(
        phone="17000090004", name="居民甲", role=Role.RESIDENT, household=tree.household_a, by=staff
    )
    assert grant.household == tree.household_a
    with pytest.raises(NotAllowed):
        services.account_grant(
            phone="17000090005",
            name="居民乙",
            role=Role.RESIDENT,
            household=tree.household_b,
            by=staff,
        )
    liaison = user_with_role(Role.LIAISON, tree.compound_a)
    with pytest.raises(NotAllowed):
        services.account_grant(
            phone="17000090006",
            name="居民丙",
            role=Role.RESIDENT,
            household=tree.household_a,
            by=liaison,
        )


def test_bad_phone_is_a_clear_error(tree, user_with_role):
    staff = user_with_role(Role.STREET_STAFF, tree.street_a)
    with pytest.raises(InvalidInput) as error:
        services.account_grant(
            phone="12345", name="某人", role=Role.LIAISON, area=tree.compound_a, by=staff
        )
    assert "12345" in error.value.message


def test_reset_password_needs_authority_over_every_grant(tree, user_with_role):
    street_a = user_with_role(Role.STREET_STAFF, tree.street_a)
    liaison = user_with_role(Role.LIAISON, tree.compound_a)
    password = services.account_reset_password(user=liaison, by=street_a)
    liaison.refresh_from_db()
    assert liaison.check_password(password) and liaison.password_change_required
    street_b = user_with_role(Role.STREET_STAFF, tree.street_b)
    with pytest.raises(NotAllowed):
        services.account_reset_password(user=liaison, by=street_b)
    # A second grant outside street A means street A no longer has authority over that person.
    RoleGrant.objects.create(user=liaison, role=Role.LIAISON, area=tree.compound_b)
    with pytest.raises(NotAllowed):
        services.account_reset_password(user=liaison, by=street_a)


def test_revoke_removes_the_grant_and_is_audited(tree, user_with_role):
    staff = user_with_role(Role.COMMUNITY_STAFF, tree.community_a)
    volunteer = user_with_role(Role.VOLUNTEER, tree.building_a)
    grant = volunteer.grants.get()
    grant_pk = grant.pk
    services.grant_revoke(grant=grant, by=staff)
    assert not volunteer.grants.exists()
    assert RoleGrant.history.get(id=grant_pk, history_type="-").history_user == staff
