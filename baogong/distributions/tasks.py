"""Background work of free distributions: building a large distribution's documents."""

from __future__ import annotations

from django_tasks import task


@task()
def distribution_document_task(document_id: int, generation: int) -> bool:
    from baogong.distributions.documents import document_build

    return document_build(document_id, generation)
