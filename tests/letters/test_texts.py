"""The fixed wording: the same texts in both languages, every text a template reads exists, every
text is read, and none says what a collection letter may not."""

import ast
import re
from pathlib import Path

import pytest

import doorstep.letters.texts
from doorstep.compliance.domain import forbidden_in
from doorstep.letters.documents import RECORD_KINDS
from doorstep.letters.render import TEMPLATES_DIR
from doorstep.letters.texts import TEXTS

# Texts render.py reads itself rather than a template: the record's kind labels and page numbers.
READ_BY_RENDER = {f"kind_{kind}" for kind in RECORD_KINDS} | {"page_of"}


def _placeholders(text) -> set[str]:
    items = text if isinstance(text, tuple) else (text,)
    return {name for item in items for name in re.findall(r"{(\w+)}", item)}


def test_both_languages_have_the_same_texts_with_the_same_placeholders():
    assert TEXTS["zh"].keys() == TEXTS["en"].keys()
    for key, text in TEXTS["zh"].items():
        assert _placeholders(text) == _placeholders(TEXTS["en"][key]), key


def _read_by_templates() -> set[str]:
    return {
        key
        for template in TEMPLATES_DIR.rglob("*.html")
        for key in re.findall(r"\bt\.(\w+)", template.read_text(encoding="utf-8"))
    }


def test_every_text_a_template_reads_exists():
    assert (_read_by_templates() | READ_BY_RENDER) - TEXTS["zh"].keys() == set()


def test_every_text_is_read():
    assert TEXTS["zh"].keys() - _read_by_templates() - READ_BY_RENDER == set()


def test_no_text_is_written_twice():
    """A key given twice in one language's mapping silently keeps only the later text (and the
    earlier document then prints the later document's words)."""
    source = Path(doorstep.letters.texts.__file__).read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict):
            keys = [key.value for key in node.keys if isinstance(key, ast.Constant)]
            assert sorted({key for key in keys if keys.count(key) > 1}) == []


def test_page_numbers_name_both_counters():
    for language in ("zh", "en"):
        assert _placeholders(TEXTS[language]["page_of"]) == {"page", "pages"}


@pytest.mark.parametrize("language", ["zh", "en"])
def test_no_fixed_text_contains_a_forbidden_phrase(language):
    for key, text in TEXTS[language].items():
        items = text if isinstance(text, tuple) else (text,)
        for item in items:
            assert forbidden_in(item) == [], key
