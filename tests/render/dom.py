"""What a real CommonMark/GFM renderer (cmark-gfm, GitHub's own, through `cmarkgfm`) makes of markdown the
tool wrote: the elements and the text outside code, which is all a reader of a pull-request comment can be
fooled by. Raw HTML is let through (CMARK_OPT_UNSAFE), so an injected tag shows up as an element."""

from __future__ import annotations

from html.parser import HTMLParser

import cmarkgfm
from cmarkgfm.cmark import Options

# Every element the markdown renderer may make of the tool's own words.
TOOL_ELEMENTS = frozenset(
    {"h3", "p", "strong", "blockquote", "table", "thead", "tbody", "tr", "th", "td", "details", "summary", "code",
     "pre", "ul", "li"}
)
_CODE = frozenset({"code", "pre"})


class _Outline(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[str] = []
        self.depth = 0  # inside <code> or <pre>: text there is shown as written, never as markup

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.items.append(f"<{tag} {sorted(attrs)}>")
        self.depth += tag in _CODE

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.items.append(f"<{tag} {sorted(attrs)}/>")

    def handle_endtag(self, tag: str) -> None:
        self.depth -= tag in _CODE
        self.items.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not self.depth and data.strip():
            self.items.append(data.strip())

    def handle_comment(self, data: str) -> None:
        self.items.append(f"<!--{data}-->")


def render(markdown: str) -> str:
    html: str = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    return html


def outline(markdown: str) -> list[str]:
    """The rendered document without what is inside code: its tags (with attributes), comments and text."""
    parser = _Outline()
    parser.feed(render(markdown))
    parser.close()
    return parser.items


def foreign(markdown: str) -> list[str]:
    """Elements the tool never writes (images, links, other headings, raw HTML), and `@` outside code."""
    found = []
    for item in outline(markdown):
        if item.startswith("<!--"):
            continue
        if item.startswith("<"):
            tag = item.strip("</").split(" ", 1)[0].rstrip(">/")
            if tag not in TOOL_ELEMENTS:
                found.append(item)
        elif "@" in item:
            found.append(item)
    return found
