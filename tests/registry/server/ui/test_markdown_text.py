"""Descriptions render as markdown, and nothing in them runs in the reader's browser."""

from __future__ import annotations

import re

import pytest

from registry.server.ui.markdown_text import render_markdown


def test_markdown_renders_emphasis_lists_tables_and_links() -> None:
    html = render_markdown(
        "Tuned with **hyperopt**\n\n- 50 trials\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "[report](https://example.com/r)"
    )
    assert "<strong>hyperopt</strong>" in html
    assert "<li>50 trials</li>" in html
    assert "<td>1</td>" in html
    assert '<a href="https://example.com/r">report</a>' in html


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![x](javascript:alert(1))",
    ],
)
def test_nothing_in_a_description_becomes_markup_that_runs(text: str) -> None:
    html = str(render_markdown(text)).lower()
    tags = re.findall(r"<[a-z][^>]*>", html)  # the elements made, not escaped text
    assert not [tag for tag in tags if tag.startswith(("<script", '<img src="x'))], tags
    assert not [tag for tag in tags if "onerror" in tag], tags
    assert not [tag for tag in tags if re.search(r"(href|src)=\"(javascript|vbscript|data)", tag)]


def test_no_description_renders_nothing() -> None:
    assert render_markdown(None) == ""
    assert render_markdown("") == ""
