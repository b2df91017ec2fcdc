"""Free distribution pages in the permission matrix (tests/test_permission_matrix.py).

Each side gets one distribution for its compound, committed (deliveries and bags made),
with its pack list built, so every page has something to show.
"""

from __future__ import annotations

from baogong.accounts.models import Role
from baogong.distributions import documents, services
from baogong.distributions.models import Distribution, DistributionDocument

# Street and community staff plan for their area; district admins for the district.
PLAN = {Role.DISTRICT_ADMIN, Role.STREET_STAFF, Role.COMMUNITY_STAFF}


def build(side) -> dict:
    distribution = services.distribution_create(
        spec=services.DistributionSpec(
            title="第1批政府保供包",
            source=Distribution.Source.RESERVE,
            targets=[side.compound],
            package=services.PackageSpec("保供包", "大米 5kg ×1", 10),
        ),
        by=None,
    )
    services.distribution_commit(distribution=distribution, by=None)
    [document] = documents.documents_request(
        distribution, by=None, kinds=[DistributionDocument.Kind.PACK_LIST], schedule=False
    )
    documents.document_build(document.pk, document.generation)
    return {"free_distribution": distribution}


def _d(side) -> dict:
    return {"pk": side.extra["free_distribution"].pk}


TARGETS = {
    "distributions:detail": ("get", _d, PLAN),
    # A committed distribution's form sends the user back to its page (302): still reached.
    "distributions:edit": ("get", _d, PLAN),
    "distributions:plan": ("get", _d, PLAN),
    "distributions:commit": ("post", _d, PLAN),  # committed already: idempotent, redirects
    "distributions:documents": ("get", _d, PLAN),
    "distributions:document": (
        "get",
        lambda s: {**_d(s), "kind": DistributionDocument.Kind.PACK_LIST},
        PLAN,
    ),
}
NOT_OBJECT_SCOPED = {
    # The list shows only distributions organised in the user's area; the form offers only
    # the user's areas as targets and refuses others (tests/distributions/test_views*.py).
    "distributions:list",
    "distributions:create",
}

# Reports (distreport): organisers above the compounds and the bureau, which sees counts only.
REPORT = PLAN | {Role.BUREAU_STAFF}
TARGETS.update(
    {
        "distributions:report": ("get", _d, REPORT),
        "distributions:report_export": ("get", _d, REPORT),
    }
)
# Sums over the bags within the user's own grants (tests/distributions/test_reports.py).
NOT_OBJECT_SCOPED |= {"distributions:summary"}
