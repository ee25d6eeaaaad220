"""The Vega bundle of the HTML report is built once per installed versions, then read back."""

from __future__ import annotations

import pytest

from upsell.report import build


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(build.CACHE_ENV, str(tmp_path / "cache"))
    build.vega_javascript.cache_clear()
    yield tmp_path / "cache"
    build.vega_javascript.cache_clear()


def test_bundle_is_built_once_then_read_from_the_cache(fresh_cache, monkeypatch):
    first = build.vega_javascript()
    files = list(fresh_cache.glob("vega-bundle-*.js"))
    assert len(files) == 1 and files[0].read_text(encoding="utf-8") == first
    assert "vegaEmbed" in first and "</script" not in first

    def no_rebuild(_version: str) -> str:
        raise AssertionError("rebuilt although the cache holds the bundle of these versions")

    monkeypatch.setattr(build, "_bundle", no_rebuild)
    build.vega_javascript.cache_clear()
    assert build.vega_javascript() == first


def test_a_cache_that_cannot_be_written_only_costs_the_rebuild(fresh_cache, monkeypatch):
    fresh_cache.parent.mkdir(parents=True, exist_ok=True)
    fresh_cache.write_text("a file where the cache folder should be")
    monkeypatch.setattr(build, "_bundle", lambda _version: "/* bundle */")
    assert build.vega_javascript() == "/* bundle */"
    assert fresh_cache.read_text() == "a file where the cache folder should be"
