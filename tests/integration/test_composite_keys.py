"""Composite primary keys, db_name columns, checks and server defaults on every SQL engine,
with the models generated from tests/composite_models/schemas/shop.yaml and the tables made
by a migration written from it: CRUD by composite key, a many-to-many through a pivot model
with no surrogate id, relations over composite foreign keys, checks enforced by the server,
defaults filled by the server, PascalCase and spaced column names read and written."""

from __future__ import annotations

import datetime
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from jadugar import DatabaseManager, IntegrityError, MigrationOptions, NotFoundError
from jadugar.errors import ValidationError
from jadugar.migrations import MigrationManager
from jadugar.models import bind
from jadugar_generator.makemigrations import make_migration

from ..composite_models.shop import (
    Article,
    ArticleLabel,
    Label,
    Order,
    OrderLine,
    Shipment,
)
from .conftest import MakeDb

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "tests" / "composite_models" / "schemas"
PACKAGE = "tests.composite_models.shop"
TABLES = (
    "jck_shipments",
    "JckOrderLines",
    "jck_orders",
    "jck_article_labels",
    "jck_labels",
    "jck_articles",
)


async def _drop_leftovers(db: DatabaseManager) -> None:
    for table in TABLES:  # an interrupted run's tables, children first
        await db.query.raw(f"DROP TABLE IF EXISTS {db.query.quote(table)}").execute()


@dataclass
class Shop:
    db: DatabaseManager
    migrations: MigrationManager
    folder: Path  # the migrations: 0001_shop.py and the snapshot


@pytest.fixture
async def shop(make_db: MakeDb, tmp_path: Path) -> AsyncIterator[Shop]:
    """The shop tables made by a migration written from the schema, the shop models bound
    to this engine's manager; everything dropped afterwards."""
    db = await make_db()
    folder = tmp_path / "migrations"
    make_migration(SCHEMAS, folder, "shop")
    history = f"jm_{uuid.uuid4().hex[:8]}"
    migrations = MigrationManager(MigrationOptions(directory=str(folder), table_name=history), db)
    await _drop_leftovers(db)
    await migrations.migrate()
    bind(db, PACKAGE)
    try:
        yield Shop(db, migrations, folder)
    finally:
        bind(None, PACKAGE)
        await migrations.reset()
        await db.query.raw(f"DROP TABLE {db.query.quote(history)}").execute()


async def _order_with_lines(customer: str = "Ada", lines: int = 2) -> Order:
    order = await Order.create(customer=customer)
    for number in range(1, lines + 1):
        await OrderLine.create(order_id=order.id, line_no=number, price=Decimal(number * 10))
    return order


async def test_the_migration_makes_composite_keys_named_foreign_keys_and_checks(
    shop: Shop,
) -> None:
    columns = {c.name: c for c in await shop.db.schema.columns("JckOrderLines")}
    assert list(columns) == ["OrderId", "Line No", "price", "placed_at", "token", "note"]
    assert [n for n, c in columns.items() if c.primary_key] == ["OrderId", "Line No"]
    assert not any(c.auto_increment for c in columns.values())
    pivot = {c.name: c for c in await shop.db.schema.columns("jck_article_labels")}
    assert [n for n, c in pivot.items() if c.primary_key] == ["article_id", "label_id"]
    assert "id" not in pivot  # no surrogate key
    names = {fk.name: fk for fk in await shop.db.schema.foreign_keys("JckOrderLines")}
    assert names["jck_order_lines_order_fk"].columns == ("OrderId",)
    assert names["jck_order_lines_order_fk"].on_delete == "CASCADE"
    shipments = await shop.db.schema.foreign_keys("jck_shipments")
    assert [(fk.columns, fk.references) for fk in shipments] == [
        (("order_id", "line_no"), ("OrderId", "Line No"))
    ]
    labels = {fk.name for fk in await shop.db.schema.foreign_keys("jck_article_labels")}
    assert labels == {"jck_article_labels_article_fk", "jck_article_labels_label_id_fkey"}
    for column in ("placed_at", "token", "note"):
        assert columns[column].default is not None, column


async def test_crud_by_composite_key(shop: Shop) -> None:
    order = await _order_with_lines()
    line = await OrderLine.find((order.id, 2))
    assert (line.order_id, line.line_no, line.price) == (order.id, 2, Decimal("20.00"))
    assert await OrderLine.find_or_none((order.id, 3)) is None
    assert await OrderLine.find_or_none([order.id, 1]) is not None  # type: ignore[arg-type]
    with pytest.raises(NotFoundError, match=r"OrderLine with \(order_id, line_no\)=\(\d+, 9\)"):
        await OrderLine.find((order.id, 9))
    with pytest.raises(TypeError, match="composite primary key"):
        await OrderLine.find(order.id)  # type: ignore[arg-type]

    updated = await OrderLine.update((order.id, 2), price=Decimal("25.50"), note="gift")
    assert updated.price == Decimal("25.50") and updated.note == "gift"
    line.price = Decimal("26")
    await line.save()  # by its key: only that row
    prices = [x.price for x in await OrderLine.query().order_by("line_no").get()]
    assert prices == [Decimal("10.00"), Decimal("26.00")]
    await line.refresh()
    assert line.note == "gift"

    await OrderLine.delete((order.id, 1))
    assert await OrderLine.find_or_none((order.id, 1)) is None
    await line.delete()
    assert await OrderLine.query().count() == 0
    with pytest.raises(IntegrityError):  # the key is unique
        await OrderLine.create(order_id=order.id, line_no=5)
        await OrderLine.create(order_id=order.id, line_no=5)


async def test_server_defaults_are_filled_by_the_server(shop: Shop) -> None:
    order = await Order.create(customer="Ada")
    before = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=5)
    first = await OrderLine.create(order_id=order.id, line_no=1)
    second = await OrderLine.create(order_id=order.id, line_no=2)
    after = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=5)
    for line in (first, second):
        assert isinstance(line.token, uuid.UUID)
        assert before <= line.placed_at <= after, line.placed_at
        assert line.note == "none"  # {sql: "'none'"}
    assert first.token != second.token
    found = await OrderLine.find((order.id, 1))
    assert found.model_dump() == first.model_dump()  # what create returned is what is stored

    token, at = uuid.uuid4(), datetime.datetime(2020, 5, 17, 12, 30, tzinfo=datetime.UTC)
    given = await OrderLine.create(order_id=order.id, line_no=3, token=token, placed_at=at)
    assert (given.token, given.placed_at) == (token, at)
    assert (await OrderLine.find((order.id, 3))).token == token

    assert await OrderLine.create_many([{"order_id": order.id, "line_no": n} for n in (4, 5)]) == 2
    bulk = await OrderLine.query().where(OrderLine.c.line_no >= 4).get()
    assert len({line.token for line in bulk}) == 2 and all(b.note == "none" for b in bulk)
    with pytest.raises(ValidationError, match="token has a server default"):
        await OrderLine.create_many(
            [
                {"order_id": order.id, "line_no": 6, "token": token},
                {"order_id": order.id, "line_no": 7},
            ]
        )


async def test_db_name_columns_are_read_and_written(shop: Shop) -> None:
    order = await _order_with_lines("Grace", lines=3)
    raw = await shop.db.query.table("jck_orders").where({"id": order.id}).first()
    assert raw is not None and raw["CustomerName"] == "Grace"
    rows = await shop.db.query.table("JckOrderLines").order_by("Line No").all()
    assert [(r["OrderId"], r["Line No"]) for r in rows] == [(order.id, n) for n in (1, 2, 3)]

    await shop.db.query.table("JckOrderLines").insert(
        {"OrderId": order.id, "Line No": 7, "price": Decimal("1.00")}
    )  # written by the database's names, read through the model
    assert (await OrderLine.find((order.id, 7))).note == "none"

    query = OrderLine.query()
    assert [x.line_no for x in await query.order_by("line_no", "desc").limit(2).get()] == [7, 3]
    assert [x.line_no for x in await query.where("line_no", ">", 2).order_by("line_no").get()] == [
        3,
        7,
    ]
    assert (await query.where({"line_no": 2}).first()) is not None
    assert (await query.where("line_no", 3).first()) is not None
    assert len(await OrderLine.find_by(order_id=order.id, line_no=1)) == 1
    assert len(await query.filter_by(line_no=1).get()) == 1
    assert await query.where(OrderLine.c.line_no.in_([1, 2])).count() == 2
    assert await query.where(OrderLine.c.order_id == order.id).count() == 4
    selected = await query.select("price").order_by("line_no").first()
    assert selected is not None and selected.__dict__.keys() >= {"order_id", "line_no", "price"}
    assert (selected.line_no, selected.price) == (1, Decimal("10.00"))
    assert await query.where(OrderLine.c.line_no > 2).update(price=Decimal("5")) == 2
    assert [x.price for x in await query.order_by("line_no").get()][-2:] == [Decimal("5.00")] * 2
    page = await query.order_by("line_no").paginate(page=2, per_page=3)
    assert (page.total, [x.line_no for x in page.items]) == (4, [7])

    renamed = await Order.find_by(customer="Grace").first()
    assert renamed is not None and renamed.id == order.id
    assert (await Order.update(order.id, customer="Hopper")).customer == "Hopper"
    raw = await shop.db.query.table("jck_orders").where({"id": order.id}).first()
    assert raw is not None and raw["CustomerName"] == "Hopper"
    assert [o.customer for o in await Order.query().order_by("customer").get()] == ["Hopper"]


async def test_checks_are_enforced_by_the_server(shop: Shop) -> None:
    order = await Order.create(customer="Ada")
    with pytest.raises(IntegrityError) as caught:
        await OrderLine.create(order_id=order.id, line_no=1, price=Decimal("-1"))
    assert caught.value.kind == "check"
    assert await OrderLine.query().count() == 0  # nothing left behind
    await OrderLine.create(order_id=order.id, line_no=1, price=Decimal("0"))
    with pytest.raises(IntegrityError) as caught:
        await OrderLine.query().update(price=Decimal("-0.01"))
    assert caught.value.kind == "check"
    assert (await OrderLine.find((order.id, 1))).price == Decimal("0.00")


async def test_belongs_to_many_through_a_pivot_without_a_surrogate_id(
    shop: Shop,
) -> None:
    intro, guide = await Article.create(title="Intro"), await Article.create(title="Guide")
    red, blue = await Label.create(name="red"), await Label.create(name="blue")
    for article, label in ((intro, red), (intro, blue), (guide, blue)):
        await ArticleLabel.create(article_id=article.id, label_id=label.id)
    with pytest.raises(IntegrityError):
        await ArticleLabel.create(article_id=intro.id, label_id=red.id)

    articles = await Article.query().with_("labels").with_count("labels").order_by("id").get()
    assert [sorted(x.name for x in a.labels) for a in articles] == [["blue", "red"], ["blue"]]
    assert [a.labels_count for a in articles] == [2, 1]
    blue_again = await Label.query().with_("articles").where(Label.c.id == blue.id).first()
    assert blue_again is not None
    assert sorted(a.title for a in blue_again.articles) == ["Guide", "Intro"]

    link = await ArticleLabel.find((intro.id, blue.id))
    await link.load("article", "label")
    assert link.article is not None and link.article.title == "Intro"
    assert link.label is not None and link.label.name == "blue"
    link.weight = 5
    await link.save()
    assert (await ArticleLabel.find((intro.id, blue.id))).weight == 5
    assert (await ArticleLabel.find((intro.id, red.id))).weight == 1
    await ArticleLabel.delete((intro.id, blue.id))
    again = await Article.query().with_("labels").where(Article.c.id == intro.id).first()
    assert again is not None and [x.name for x in again.labels] == ["red"]


async def test_relations_through_composite_foreign_keys(shop: Shop) -> None:
    ada, bob = await _order_with_lines("Ada", 2), await _order_with_lines("Bob", 1)
    for order_id, line_no, carrier in (
        (ada.id, 1, "post"),
        (ada.id, 1, "van"),
        (bob.id, 1, "ship"),
    ):
        await Shipment.create(order_id=order_id, line_no=line_no, carrier=carrier)

    shipments = await Shipment.query().with_("line", "line.order").order_by("id").get()
    assert [(s.line.order_id, s.line.line_no) for s in shipments if s.line] == [
        (ada.id, 1),
        (ada.id, 1),
        (bob.id, 1),
    ]
    assert [s.line.order.customer for s in shipments if s.line and s.line.order] == [
        "Ada",
        "Ada",
        "Bob",
    ]
    lines = (
        await OrderLine.query().with_("shipments").with_count("shipments").order_by("price").get()
    )
    found = {(x.order_id, x.line_no): sorted(s.carrier for s in x.shipments) for x in lines}
    assert found == {(ada.id, 1): ["post", "van"], (ada.id, 2): [], (bob.id, 1): ["ship"]}
    assert sorted(x.shipments_count for x in lines) == [0, 1, 2]
    orders = await Order.query().with_("lines.shipments").order_by("id").get()
    assert [[len(x.shipments) for x in o.lines] for o in orders] == [[2, 0], [1]]

    with pytest.raises(IntegrityError) as caught:  # the composite foreign key holds
        await Shipment.create(order_id=ada.id, line_no=9, carrier="lost")
    assert caught.value.kind == "foreign_key"
    await Order.delete(ada.id)  # cascades: its lines, then their shipments
    assert await OrderLine.query().count() == 1
    assert [s.carrier for s in await Shipment.query().get()] == ["ship"]


SCHEMA_CHANGES = (
    # a check's expression changes (drop + add), another check is added
    (
        '{name: jck_order_lines_price_not_negative, expression: "price >= 0"}',
        '{name: jck_order_lines_price_not_negative, expression: "price >= 1"}\n'
        '      - {name: jck_order_lines_price_bounded, expression: "price < 1000000"}',
    ),
    # a server default changes
    ("server_default: {sql: \"'none'\"}", "server_default: {sql: \"'n/a'\"}"),
    # a foreign key gets another name
    ("name: jck_order_lines_order_fk}", "name: jck_order_lines_order_fk2}"),
    # columns get other names in the database (renames: the data stays), one of them a
    # column that a composite foreign key of another table points at
    (
        "customer: {type: str, max_length: 100, db_name: CustomerName}",
        "customer: {type: str, max_length: 100, db_name: Customer Name}",
    ),
    ('line_no: {type: int, db_name: "Line No"}', "line_no: {type: int, db_name: LineNo}"),
)


async def test_schema_changes_migrate_up_and_down(shop: Shop, tmp_path: Path) -> None:
    """A second migration from edited schemas: checks, a server default, a foreign key's
    name and columns' db_name change, up and down, keeping the rows."""
    order = await _order_with_lines("Ada", 1)
    await Shipment.create(order_id=order.id, line_no=1, carrier="post")
    schemas = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, schemas)
    path = schemas / "shop.yaml"
    text = path.read_text()
    for old, new in SCHEMA_CHANGES:
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text)
    migrations = shop.folder
    result = make_migration(schemas, migrations, "changes")
    assert result.path is not None
    summaries = result.summaries
    assert (
        "drop check JckOrderLines.jck_order_lines_price_not_negative (its expression changed: dropped, then added again)"
        in summaries
    )
    assert "add check JckOrderLines.jck_order_lines_price_bounded" in summaries
    assert "alter column JckOrderLines.note (default)" in summaries
    assert "rename column jck_orders.CustomerName to Customer Name" in summaries
    assert "rename column JckOrderLines.Line No to LineNo" in summaries
    assert not [s for s in summaries if "jck_shipments" in s]  # its foreign key follows
    assert make_migration(schemas, migrations, "again", check=True).empty

    db, manager = shop.db, shop.migrations
    await manager.migrate()
    raw = await db.query.table("jck_orders").where({"id": order.id}).first()
    assert raw is not None and raw["Customer Name"] == "Ada"
    await db.query.table("JckOrderLines").insert({"OrderId": order.id, "LineNo": 2, "price": 3})
    row = await db.query.table("JckOrderLines").where({"LineNo": 2}).first()
    assert row is not None and row["note"] == "n/a"
    with pytest.raises(IntegrityError):
        await db.query.table("JckOrderLines").insert({"OrderId": order.id, "LineNo": 3, "price": 0})
    names = {fk.name for fk in await db.schema.foreign_keys("JckOrderLines")}
    assert names == {"jck_order_lines_order_fk2"}
    (shipments,) = await db.schema.foreign_keys("jck_shipments")
    assert shipments.references == ("OrderId", "LineNo")
    with pytest.raises(IntegrityError):  # still enforced, on the renamed column
        await db.query.table("jck_shipments").insert(
            {"order_id": order.id, "line_no": 9, "carrier": "lost"}
        )

    await manager.rollback()
    raw = await db.query.table("jck_orders").where({"id": order.id}).first()
    assert raw is not None and raw["CustomerName"] == "Ada"
    names = {fk.name for fk in await db.schema.foreign_keys("JckOrderLines")}
    assert names == {"jck_order_lines_order_fk"}
    await db.query.table("JckOrderLines").insert({"OrderId": order.id, "Line No": 3, "price": 0})
    row = await db.query.table("JckOrderLines").where({"Line No": 3}).first()
    assert row is not None and row["note"] == "none"
    assert len(await OrderLine.query().get()) == 3  # the rows stayed through both ways
