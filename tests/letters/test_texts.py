"""The fixed wording: the same texts in both languages, every text a template reads exists, and
none says what a collection letter may not."""

import re

import pytest

from doorstep.compliance.domain import forbidden_in
from doorstep.letters.render import TEMPLATES_DIR
from doorstep.letters.texts import TEXTS


def _placeholders(text) -> set[str]:
    items = text if isinstance(text, tuple) else (text,)
    return {name for item in items for name in re.findall(r"{(\w+)}", item)}


def test_both_languages_have_the_same_texts_with_the_same_placeholders():
    assert TEXTS["zh"].keys() == TEXTS["en"].keys()
    for key, text in TEXTS["zh"].items():
        assert _placeholders(text) == _placeholders(TEXTS["en"][key]), key


def test_every_text_a_template_reads_exists():
    used = {
        key
        for template in TEMPLATES_DIR.rglob("*.html")
        for key in re.findall(r"\bt\.(\w+)", template.read_text(encoding="utf-8"))
    }
    assert used - TEXTS["zh"].keys() == set()


@pytest.mark.parametrize("language", ["zh", "en"])
def test_no_fixed_text_contains_a_forbidden_phrase(language):
    for key, text in TEXTS[language].items():
        items = text if isinstance(text, tuple) else (text,)
        for item in items:
            assert forbidden_in(item) == [], key
