"""Models with composite keys, db_name columns, checks and server defaults, generated from
schemas/shop.yaml, for the composite-key tests."""
