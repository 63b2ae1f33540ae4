"""Markdown from the agent to a Matrix `body` / `formatted_body` pair, sanitised to the spec's allow-list."""

import html
import re
from dataclasses import dataclass

import nh3
from markdown_it import MarkdownIt

# The client-server spec's "HTML tags to permit" for m.room.message. `s` replaced the deprecated
# `strike` in the spec (and is what markdown-it emits for ~~x~~); both are kept for older clients.
# fmt: off
_TAGS = frozenset(
    {
        "font", "del", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "p", "a", "ul", "ol",
        "sup", "sub", "li", "b", "i", "u", "strong", "em", "s", "strike", "code", "hr", "br",
        "div", "table", "thead", "tbody", "tr", "th", "td", "caption", "pre", "span", "img",
        "details", "summary",
    }
)
# fmt: on
_ATTRIBUTES = {
    "a": {"href", "target"},
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},
    "span": {"data-mx-color", "data-mx-bg-color"},
    "font": {"data-mx-color", "data-mx-bg-color"},
    "ol": {"start"},
}
# nh3 checks schemes per URL attribute, not per tag, so `mxc` is admitted here and narrowed to
# img src (and kept off links) in _filter_attribute.
_URL_SCHEMES = frozenset({"http", "https", "ftp", "mailto", "magnet", "mxc"})
_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
# Tags markdown-it wraps plain prose in (as nh3 re-serialises them); they carry nothing a plain
# body lacks.
_PROSE_TAGS = re.compile(r"</?p>|<br>")


@dataclass(frozen=True)
class RenderedMessage:
    body: str
    formatted_body: str | None


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if value.startswith("mxc://") else None
    if tag == "a" and attribute == "href":
        return None if value.lower().startswith("mxc:") else value
    if tag == "code" and attribute == "class":
        # Only language hints: clients use them for highlighting; any other class could style-spoof.
        kept = [c for c in value.split() if c.startswith("language-")]
        return " ".join(kept) or None
    if attribute in ("data-mx-color", "data-mx-bg-color"):
        return value if _COLOUR.fullmatch(value) else None
    return value


# Raw HTML is parsed rather than escaped so the agent's harmless markup (<sub>, <details>) survives;
# the sanitiser, not the parser, is what keeps it safe. Soft breaks become <br /> because chat
# readers expect the agent's line breaks to show, as they do in the plain body.
_MARKDOWN = MarkdownIt("commonmark", {"html": True, "breaks": True}).enable(["table", "strikethrough"])
_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    attributes=_ATTRIBUTES,
    attribute_filter=_filter_attribute,
    url_schemes=_URL_SCHEMES,
    # Relative URLs resolve against nothing meaningful in a Matrix client.
    url_relative="deny",
)


def _adds_nothing(text: str, formatted: str) -> bool:
    if not formatted.strip():
        return True
    stripped = _PROSE_TAGS.sub("", formatted)
    if "<" in stripped:
        return False
    # Whitespace is compared loosely: paragraph vs line break makes no difference in a plain body.
    return html.unescape(stripped).split() == text.split()


# Prose that no Markdown rule (CommonMark, tables, strikethrough, line breaks) and no HTML can act on:
# one line, none of the characters that open syntax, not starting like a block (heading, list, quote,
# indented code). Most chat answers are like this; they skip the parser (a property test checks that the
# parser would have added nothing).
# The first character is held to the same rule as the rest (a leading backslash escape, `\:`, was let through).
INERT_PROSE = re.compile(r"[^\s#>+=\-*0-9\x00_`\[\]!<>&\\~|][^\n\r\x00*_`\[\]!<>&\\~|]*")


def render_markdown(text: str) -> RenderedMessage:
    """Render the agent's Markdown; formatted_body is None when the HTML would say no more than the text."""
    if INERT_PROSE.fullmatch(text):
        return RenderedMessage(body=text, formatted_body=None)
    return parsed_markdown(text)


def parsed_markdown(text: str) -> RenderedMessage:
    """`render_markdown` without the shortcut for inert prose."""
    formatted = _CLEANER.clean(_MARKDOWN.render(text)).strip()
    if _adds_nothing(text, formatted):
        return RenderedMessage(body=text, formatted_body=None)
    return RenderedMessage(body=text, formatted_body=formatted)
