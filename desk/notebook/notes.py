"""Markdown cells: an analyst's notes between the SQL cells, shown as inert markdown.

A note is rendered with `st.markdown` (HTML is never allowed there), after `inert_markdown`
has made sure nothing in it can load remote content, run script or leave the page: images,
links (inline, reference and autolinks), raw HTML and bare web addresses show as the text that
was typed. The rest of markdown (headings, emphasis, lists, tables, code, quotes) renders.

How: each piece of syntax that could make a link, an image or an HTML tag is broken by a zero
width space (U+200B) inserted between its characters: `![` , `](`, `][`, `]:` , `<` followed by
anything, `://` and `www.`. Backslash escapes would do the same in prose but show as
backslashes inside code, and telling code from prose needs a full markdown parser (a code span
can cross lines, a list item can end a fence); the zero width space is invisible in both, so
the note never has to be parsed here. What the reader copies out of a rendered note may carry
those spaces; the note's own text (what is saved and edited) never does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

ZERO_WIDTH_SPACE = "\u200b"
# Where a zero width space goes: between the characters of each piece of link, image and HTML
# syntax (see the module docstring).
_BREAK = re.compile(r"(?<=!)(?=\[)|(?<=\])(?=[(\[:])|(?<=<)|(?<=:)(?=//)|(?<=www)(?=\.)",
                    re.IGNORECASE)


def inert_markdown(text: str) -> str:
    """The note as markdown that shows images, links and HTML as the text typed."""
    return _BREAK.sub(ZERO_WIDTH_SPACE, text)


@dataclass(frozen=True)
class MarkdownCell:
    """A note between cells: markdown text, never run. Kept like a SQL cell's text: `\\n`
    line ends, no surrounding blank space."""

    text: str
    kind: ClassVar[Literal["markdown"]] = "markdown"

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise TypeError("a note is text")
        object.__setattr__(self, "text", normal_text(self.text))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MarkdownCell:
        return cls(data["text"])

    def rendered(self) -> str:
        """The note as inert markdown, for st.markdown."""
        return inert_markdown(self.text)


def normal_text(text: str) -> str:
    """`\n` line ends, no surrounding blank space: how a cell keeps its text."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()
