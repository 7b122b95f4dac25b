"""landing/: content-addressed raw files, a manifest line each, never a credential."""

from __future__ import annotations

import json

import pytest

from ingest.config import Paths
from ingest.landing import LandingError, land, read_manifest, safe_params


def test_refetch_with_new_bytes_writes_a_new_file_and_keeps_the_old(store: Paths) -> None:
    kw = dict(
        source="comtrade",
        dataset="records",
        partition="freq=M/year=2019/reporter=410",
        stem="get",
        params={"period": "2019"},
    )
    first, new1 = land(store, content=b'{"v":1}', **kw)
    second, new2 = land(store, content=b'{"v":2}', **kw)
    same, new3 = land(store, content=b'{"v":1}', **kw)
    assert (new1, new2, new3) == (True, True, False)
    assert first.path != second.path and same.path == first.path
    assert (store.landing / first.path).read_bytes() == b'{"v":1}'
    assert [e.sha256 for e in read_manifest(store)] == [first.sha256, second.sha256]


def test_manifest_never_holds_a_key(store: Paths) -> None:
    params = {
        "reporterCode": "410",
        "subscription-key": "SECRET-1",
        "serviceKey": "SECRET-2",
        "api_key": "SECRET-3",
    }
    land(
        store,
        source="kcs",
        dataset="items",
        partition="year=2019",
        stem="x",
        content=b"<xml/>",
        params=params,
    )
    text = store.manifest.read_text()
    assert "SECRET" not in text
    assert json.loads(text)["params"] == {"reporterCode": "410"}
    assert safe_params({"Ocp-Apim-Subscription-Key": "k", "period": "2019"}) == {"period": "2019"}


@pytest.mark.parametrize("bad", ["../escape", "a b", "x;rm"], ids=["traversal", "space", "semicolon"])
def test_unsafe_path_parts_are_refused(store: Paths, bad: str) -> None:
    with pytest.raises(LandingError, match="not a safe path component"):
        land(store, source="comtrade", dataset="records", partition=bad, stem="x", content=b"{}", params={})


def test_unwritable_landing_is_a_clear_error_and_writes_no_manifest(store: Paths) -> None:
    # GIVEN a landing path that cannot hold files (a plain file where the folder should be; works as root too)
    store.home.mkdir(parents=True)
    store.landing.write_text("not a directory")
    # THEN landing fails with a message naming the file, and nothing is recorded
    with pytest.raises(LandingError, match="could not land comtrade/records/p/x__"):
        land(store, source="comtrade", dataset="records", partition="p", stem="x", content=b"{}", params={})
    assert store.landing.read_text() == "not a directory"
