"""Fixtures of the web console tests: one demo company per test process, a browser per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from tests.web.consoleenv import Demo, build_demo

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory, ews_schema: etree.XMLSchema) -> Demo:
    return build_demo(tmp_path_factory.mktemp("console-demo"), ews_schema)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "the browser tests need Debian's chromium: apt-get install -y chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        yield b
        b.close()
