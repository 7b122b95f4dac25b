"""Data quality gates on the lake (Great Expectations), with no Dagster imports.

``specs`` holds what each lake dataset must satisfy (one ``DatasetSpec`` per source dataset, in one
registry); ``expectations`` turns a spec into the frames and Great Expectations expectations to check;
``gate`` validates every lake file of a dataset in one Great Expectations run, writes the data docs and,
through ``verdict``, the blocklist that staging honours (lake/_gate/<source>/<dataset>.json);
``quarantine`` counts the rows the parsers set aside.
"""
