"""tests/composite_models/schemas/shop.yaml written as Python classes: both forms generate
the same code (tests/generator/test_composite_schema.py)."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

from jadugar_generator.dsl import (
    Check,
    ForeignKey,
    ModelOptions,
    Reference,
    Schema,
    SqlDefault,
    belongs_to,
    belongs_to_many,
    column,
    has_many,
)


class Article(Schema):
    model_options = ModelOptions(table="jck_articles")

    id: int = column(primary_key=True, auto_increment=True)
    title: str = column(max_length=100)
    labels = belongs_to_many(
        "Label", through="jck_article_labels", foreign_key="article_id", other_key="label_id"
    )


class Label(Schema):
    model_options = ModelOptions(table="jck_labels")

    id: int = column(primary_key=True, auto_increment=True)
    name: str = column(max_length=50, unique=True)
    articles = belongs_to_many(
        "Article", through="jck_article_labels", foreign_key="label_id", other_key="article_id"
    )


class ArticleLabel(Schema):
    model_options = ModelOptions(table="jck_article_labels", primary_key=("article_id", "label_id"))

    article_id: int = column(
        references=Reference(
            model="Article", on_delete="cascade", name="jck_article_labels_article_fk"
        )
    )
    label_id: int = column(references=Reference(model="Label", on_delete="cascade"))
    weight: int = 1
    article = belongs_to("Article", foreign_key="article_id")
    label = belongs_to("Label", foreign_key="label_id")


class Order(Schema):
    model_options = ModelOptions(table="jck_orders")

    id: int = column(primary_key=True, auto_increment=True)
    customer: str = column(max_length=100, db_name="CustomerName")
    lines = has_many("OrderLine", foreign_key="order_id")


class OrderLine(Schema):
    model_options = ModelOptions(
        table="JckOrderLines",
        primary_key=("order_id", "line_no"),
        checks=[Check("jck_order_lines_price_not_negative", "price >= 0")],
        foreign_keys=[
            ForeignKey(
                ["order_id"], "Order", ["id"], on_delete="cascade", name="jck_order_lines_order_fk"
            )
        ],
    )

    order_id: int = column(db_name="OrderId")
    line_no: int = column(db_name="Line No")
    price: Decimal = column(precision=10, scale=2, default=0)
    placed_at: datetime.datetime = column(server_default="now")
    token: uuid.UUID = column(server_default="uuid")
    note: str | None = column(max_length=40, server_default=SqlDefault("'none'"))
    order = belongs_to("Order", foreign_key="order_id")
    shipments = has_many("Shipment", foreign_key=["order_id", "line_no"])


class Shipment(Schema):
    model_options = ModelOptions(
        table="jck_shipments",
        foreign_keys=[
            ForeignKey(
                ["order_id", "line_no"], "OrderLine", ["order_id", "line_no"], on_delete="cascade"
            )
        ],
    )

    id: int = column(primary_key=True, auto_increment=True)
    order_id: int
    line_no: int
    carrier: str = column(max_length=30)
    line = belongs_to("OrderLine", foreign_key=["order_id", "line_no"])
