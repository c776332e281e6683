"""A composite-key model's ``find`` (and ``find_or_none``, ``update``, ``delete``) takes the
whole key as a tuple of its fields' types."""

from __future__ import annotations

from tests.composite_models.shop import ArticleLabel, OrderLine


async def load(order_id: int) -> OrderLine:
    await OrderLine.find((order_id, 1))  # the whole key: fine
    await OrderLine.find_or_none((order_id, "1"))  # E: arg-type
    await OrderLine.update(order_id, note=None)  # E: arg-type
    await ArticleLabel.delete(order_id)  # E: arg-type
    return await OrderLine.find(1)  # E: arg-type
