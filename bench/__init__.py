"""Jadugar benchmarks: ``python -m bench`` (``make bench``).

Each workload runs twice per repetition, once through the raw driver and once through
Jadugar, interleaved, and the table reports Jadugar's throughput as a fraction of the
driver's. See ``python -m bench --help``.
"""
