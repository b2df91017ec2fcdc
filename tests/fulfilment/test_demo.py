from __future__ import annotations

from baogong.fulfilment.demo import demo_fulfilment
from baogong.fulfilment.models import Document
from baogong.orders.models import Round
from tests.fulfilment.conftest import close


def test_demo_makes_the_closed_rounds_documents_once(filled_round, tree, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    assert demo_fulfilment(tree.district) == 0  # the round is still open
    close(filled_round.round)
    assert demo_fulfilment(tree.district) == 6
    assert Round.objects.get(pk=filled_round.round.pk).consolidated_at is not None
    assert Document.objects.filter(state=Document.State.DONE).count() == 6
    assert demo_fulfilment(tree.district) == 0
