"""``make bench``: Portico under gunicorn, measured against baselines of the same run.

Shared machines drift, so every target is a ratio of two figures measured in
one run (``bench/run.py``); ``bench/results.md`` holds the last full run.
Never part of ``make test``.
"""
