"""Data quality gates on the lake (Great Expectations), with no Dagster imports.

``specs`` holds what each lake dataset must satisfy (one ``DatasetSpec`` per source dataset, in one
registry); ``gate`` validates every lake file of a dataset in one Great Expectations run and writes
the blocklist that staging honours (lake/_gate/<source>/<dataset>.json) and the data docs.
"""
