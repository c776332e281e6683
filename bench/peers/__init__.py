"""``python -m bench --workloads peers``: Jadugar's generated models against raw asyncpg and
the async ORMs (SQLAlchemy 2, Tortoise, Piccolo) on one PostgreSQL database, in one run.

Workloads: fetch 10k rows into models (a 4-column and a 30-column table); 2,000 lookups by
primary key; insert 10k rows (raw: COPY; each ORM its bulk API); 200 transactions inserting
a parent and a child; eager loading 50 parents with 20 children each (raw: two hand-written
queries grouped into dicts). Every contender's answer is checked against raw asyncpg's, then
rounds run every contender once (the starting one rotating) and medians are compared.

Jadugar's side is generated at start from ``bench/peers/schema/`` into a temporary folder.
The peers come from ``bench/requirements.txt``. The table is printed and written as the
"Peers (PostgreSQL)" section of ``bench/results.md``; the ratios are drawn in
``bench/peers.png``. A Jadugar figure that misses its target is profiled (cProfile).
"""
