"""The essential items monitored from the start (the seed plans' grain, oil, meat, eggs,
milk, vegetables and water, plus instant noodles). Names and units are data, in Chinese;
baseline prices are typical pre-emergency retail prices per unit, which the bureau adjusts.
"""

from __future__ import annotations

from decimal import Decimal

# (code, name, category, unit, baseline price in yuan)
DEFAULT_COMMODITIES: tuple[tuple[str, str, str, str, Decimal], ...] = (
    ("rice", "大米", "grain_oil", "kg", Decimal("6.00")),
    ("flour", "面粉", "grain_oil", "kg", Decimal("5.00")),
    ("cooking-oil", "食用油", "grain_oil", "L", Decimal("16.00")),
    ("pork", "猪肉", "meat_eggs", "kg", Decimal("28.00")),
    ("eggs", "鸡蛋", "meat_eggs", "kg", Decimal("11.00")),
    ("milk", "牛奶", "dairy", "L", Decimal("12.00")),
    ("cabbage", "大白菜", "vegetables", "kg", Decimal("2.50")),
    ("potato", "土豆", "vegetables", "kg", Decimal("3.50")),
    ("tomato", "西红柿", "vegetables", "kg", Decimal("6.00")),
    ("greens", "青菜", "vegetables", "kg", Decimal("5.00")),
    ("radish", "白萝卜", "vegetables", "kg", Decimal("2.50")),
    ("bottled-water", "瓶装水", "water", "瓶", Decimal("2.00")),
    ("instant-noodles", "方便面", "convenience", "包", Decimal("3.00")),
)


def load_default_commodities(commodity_model) -> int:
    """Create the default items that do not exist by code; return how many were made.

    Takes the model as an argument so the data migration can pass its historical one.
    """
    existing = set(commodity_model.objects.values_list("code", flat=True))
    new = [
        commodity_model(
            code=code,
            name=name,
            category=category,
            unit=unit,
            baseline_price=price,
            position=position,
        )
        for position, (code, name, category, unit, price) in enumerate(DEFAULT_COMMODITIES)
        if code not in existing
    ]
    commodity_model.objects.bulk_create(new)
    return len(new)
