"""The plain-text part of an email, from its HTML: what a person reads, with each link's
address after its words. Template tags ({{ ... }}, {% ... %}) in the HTML's text and
links pass through as they are, so a template's text part is made once, when the
template is compiled, and rendered per message like the HTML (emails.rendering)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCKS = frozenset({"p", "div", "br", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
                     "li", "ul", "ol", "blockquote", "hr", "section", "article", "header",
                     "footer", "pre"})
# Their content is not for reading: styles, the document's title, scripts.
_HIDDEN = frozenset({"head", "style", "script", "title", "template"})
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n(\s*\n)+")


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden = 0
        self.links: list[tuple[str, int]] = []  # (href, where its words start in `out`)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BLOCKS:
            self.out.append("\n\n" if tag in ("p", "h1", "h2", "h3", "table") else "\n")
            if tag == "li":
                self.out.append("- ")
            elif tag == "hr":
                self.out.append("----\n")
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.out)))
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt:
                self.out.append(f" {alt} ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS and tag != "li":  # list items follow each other line by line
            self.out.append("\n")
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            words = " ".join("".join(self.out[start:]).split())
            shown = href.removeprefix("mailto:").removeprefix("tel:")
            # "Write to ann@example.com": the address is already in the words.
            said = href.startswith(("mailto:", "tel:")) and ("@" in words or "{" in words)
            if href and not href.startswith("#") and shown != words and not said:
                self.out.append(f" ({shown})")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.out.append(_SPACES.sub(" ", data.replace("\n", " ")))


def html_to_text(html: str) -> str:
    """The words of `html`, paragraphs apart, links as `words (address)`."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    lines = [line.strip() for line in "".join(reader.out).split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip() + "\n"


def word_count(html: str) -> int:
    """How many words a reader sees in `html` (the spam check's "too little text")."""
    return len(re.findall(r"\w+", re.sub(r"\([^)\s]*\)", " ", html_to_text(html))))
