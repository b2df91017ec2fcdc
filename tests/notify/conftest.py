from tests.orders.conftest import open_round, packages, supplier  # noqa: F401 (fixtures)
