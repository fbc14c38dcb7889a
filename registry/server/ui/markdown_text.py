"""Descriptions as markdown, rendered safely: raw HTML is escaped, never passed through."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup

# CommonMark with tables and strikethrough; "html": False turns any <tag> in the text into
# escaped text, and markdown-it's link check drops javascript:, vbscript:, file: and data: URLs.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def render_markdown(text: str | None) -> Markup:
    """``text`` as HTML that is safe to put in a page."""
    return Markup(_MARKDOWN.render(text or ""))
