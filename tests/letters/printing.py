"""Reading a rendered document back as a reader would: its text (pdftotext) and fonts (pdffonts)."""

import re
import shutil
import subprocess
from html import unescape

import pytest

from doorstep.letters.render import render_html, render_pdf
from doorstep.money import cents

CJK_TEXT = re.compile(r"[\u4e00-\u9fff]")


def _poppler(tool: str, pdf: bytes, tmp_path_factory) -> str:
    if shutil.which(tool.split()[0]) is None:
        pytest.fail(f"{tool.split()[0]} is missing: install poppler-utils (make install does)")
    path = tmp_path_factory.mktemp("pdf") / "document.pdf"
    path.write_bytes(pdf)
    command, *options = tool.split()
    args = [command, *options, str(path)] + (["-"] if command == "pdftotext" else [])
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout  # noqa: S603


class Printed:
    """A rendered document: the PDF, its text and its font list."""

    def __init__(self, document, tmp_path_factory):
        self.document = document
        self.pdf = render_pdf(document)
        self.html = render_html(document)
        self.text = _poppler("pdftotext", self.pdf, tmp_path_factory)
        self.fonts = _poppler("pdffonts", self.pdf, tmp_path_factory)
        self._tmp_path_factory = tmp_path_factory
        self._layout: str | None = None

    @property
    def layout(self) -> str:
        """The text with each line of the page kept together (pdftotext -layout): a table's row
        reads as one line, its cells apart."""
        if self._layout is None:
            self._layout = _poppler("pdftotext -layout", self.pdf, self._tmp_path_factory)
        return self._layout

    @property
    def layout_pages(self) -> list[str]:
        return [page for page in self.layout.split("\f") if page.strip()]

    @property
    def pages(self) -> list[str]:
        return [page for page in self.text.split("\f") if page.strip()]

    def shows(self, expected: str) -> bool:
        """Whether the text contains `expected`, wherever the lines wrap it."""
        return "".join(expected.split()) in "".join(self.text.split())

    def shows_row(self, *cells: str, page: int | None = None) -> bool:
        """Whether one line of the laid-out text (of `page`, counted from 1) holds `cells` in this
        order, with space between them."""
        text = self.layout if page is None else self.layout_pages[page - 1]
        pattern = r"[ \t]+".join(re.escape(cell) for cell in cells)
        return re.search(pattern, text) is not None


def cells(html: str, table: str) -> list[list[str]]:
    """The text of each row's cells in the HTML table of class `grid {table}`."""
    body = re.search(rf'<table class="grid {table}">(.*?)</table>', html, re.S)
    assert body, table
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    return [[unescape(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)] for row in rows]


def yuan_cents(text: str) -> int:
    """'¥1,698.25' → 169825."""
    return cents(text.replace("¥", "").replace(",", ""))
