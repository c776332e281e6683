"""Composite keys, db_name columns and server defaults over the generated ``shop`` models
(tests/composite_models): keys are typed tuples, relations over composite foreign keys are
typed like any other.

Checked by ``tests/typing/test_typing.py`` with ``mypy --strict``; never executed.
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import assert_type

from tests.composite_models.shop import (
    Article,
    ArticleLabel,
    Label,
    Order,
    OrderLine,
    OrderLineQuery,
    Shipment,
)


async def lines(order: Order) -> None:
    line = await OrderLine.create(order_id=order.id, line_no=1, price=Decimal("9.90"))
    assert_type(line.placed_at, datetime.datetime)  # filled by the server
    assert_type(line.token, uuid.UUID)
    assert_type(line.note, str | None)
    found = await OrderLine.find((order.id, 1))
    assert_type(found, OrderLine)
    maybe = await OrderLine.find_or_none((order.id, 2))
    assert_type(maybe, OrderLine | None)
    updated = await OrderLine.update((order.id, 1), price=Decimal("1"), note=None)
    assert_type(updated, OrderLine)
    await OrderLine.delete((order.id, 1))
    await found.delete()
    key: tuple[int, int] = (order.id, 3)
    await OrderLine.create(order_id=key[0], line_no=key[1], token=uuid.uuid4())


def queries() -> OrderLineQuery:
    return (
        OrderLine.query()
        .where(OrderLine.c.line_no > 1)
        .where("line_no", ">", 0)
        .order_by("line_no", "desc")
        .with_("shipments", "order.lines")
    )


async def relations() -> None:
    for shipment in await Shipment.query().with_("line.order").get():
        assert_type(shipment.line, OrderLine | None)
        if shipment.line is not None:
            assert_type(shipment.line.shipments, list[Shipment])
    for line in await OrderLine.query().with_count("shipments").get():
        assert_type(line.shipments_count, int)
    for article in await Article.query().with_("labels").get():
        assert_type(article.labels, list[Label])
    link = await ArticleLabel.find((1, 2))
    assert_type(link.weight, int)
    assert_type(link.article, Article | None)
