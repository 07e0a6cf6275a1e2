"""The Simplified Chinese catalogue (src/doorstep/locale/zh_Hans): complete, compiled, current.

Every check reads the .po itself; msgfmt (Debian's gettext, which makemessages also needs) checks
that it compiles and that the committed .mo says the same."""

import gettext
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import call_command

import doorstep

SOURCE = Path(doorstep.__file__).resolve().parent
MESSAGES = SOURCE / "locale" / "zh_Hans" / "LC_MESSAGES"
PO, MO = MESSAGES / "django.po", MESSAGES / "django.mo"
# %(name)s and friends, a bare %s / %d, and {name} / {}: what Python fills in at run time.
PLACEHOLDER = re.compile(r"%\(\w+\)[#0 +-]*\d*(?:\.\d+)?[sdifreg]|%[sdifr]|\{\w*\}")
HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Entry:
    msgid: str
    msgstr: list[str]
    flags: set[str] = field(default_factory=set)
    msgctxt: str | None = None
    msgid_plural: str | None = None


def _unquote(text: str) -> str:
    assert text.startswith('"'), text
    assert text.endswith('"'), text
    body = text[1:-1]
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes[m.group(1)], body)


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file, header first (msgid ""); obsolete (#~) entries are skipped."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        flags, fields, current = set(), {}, None
        for line in block.strip().splitlines():
            if line.startswith("#,"):
                flags |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                fields[current] += _unquote(line)
            else:
                current, _, value = line.partition(" ")
                fields[current] = _unquote(value)
        if "msgid" not in fields:
            continue
        msgstr = [fields[k] for k in sorted(k for k in fields if k.startswith("msgstr"))]
        entries.append(Entry(fields["msgid"], msgstr, flags, fields.get("msgctxt"),
                             fields.get("msgid_plural")))  # fmt: skip
    return entries


def translated() -> list[Entry]:
    return [e for e in read_po(PO) if e.msgid]


def test_the_catalogue_is_there_and_translates_something():
    assert PO.is_file()
    assert MO.is_file()
    assert len(translated()) > 200


def test_no_entry_is_untranslated_or_fuzzy():
    header, *entries = read_po(PO)
    assert header.msgid == ""
    assert "fuzzy" not in header.flags
    assert "Language: zh_Hans" in header.msgstr[0]
    assert [e.msgid for e in entries if "fuzzy" in e.flags] == []
    assert [e.msgid for e in entries if not all(s.strip() for s in e.msgstr)] == []


def test_every_translation_is_chinese_or_deliberately_the_same():
    """A msgstr without a Chinese character is a name the two languages share."""
    same = {e.msgid for e in translated() if not HAN.search(e.msgstr[0])}
    assert same == {"API"}


def test_every_placeholder_of_a_msgid_is_kept_in_its_msgstr():
    for entry in translated():
        wanted = Counter(PLACEHOLDER.findall(entry.msgid))
        for msgstr in entry.msgstr:
            assert Counter(PLACEHOLDER.findall(msgstr)) == wanted, entry.msgid


def test_the_placeholder_pattern_finds_the_catalogues_placeholders():
    found = {p for e in translated() for p in PLACEHOLDER.findall(e.msgid)}
    assert {"%(as_of)s", "%(day)s", "%(regions)s", "{id}"} <= found


def msgfmt() -> str:
    path = shutil.which("msgfmt")
    if path is None:
        pytest.fail("msgfmt is missing: install Debian's gettext (make install does)")
    return path


def test_the_catalogue_compiles_with_its_format_checks(tmp_path):
    result = subprocess.run(  # noqa: S603 - msgfmt on our own file
        [msgfmt(), "--check", "--statistics", "-o", str(tmp_path / "django.mo"), str(PO)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # "260 translated messages." and nothing fuzzy or untranslated after it.
    assert re.fullmatch(r"\d+ translated messages\.\n", result.stderr), result.stderr


def test_the_committed_mo_says_what_the_po_says(tmp_path):
    fresh = tmp_path / "django.mo"
    subprocess.run([msgfmt(), "-o", str(fresh), str(PO)], check=True)  # noqa: S603
    with MO.open("rb") as committed, fresh.open("rb") as compiled:
        catalogue = gettext.GNUTranslations(committed)._catalog
        expected = gettext.GNUTranslations(compiled)._catalog
    assert catalogue == expected, "run `make messages` and commit django.mo"


def test_django_reads_the_catalogue():
    from django.utils import translation

    with translation.override("zh-hans"):
        assert translation.gettext("Today's visits") == "今日外访"
    with translation.override("en"):
        assert translation.gettext("Today's visits") == "Today's visits"


def test_every_marked_string_of_the_sources_is_in_the_catalogue(tmp_path, monkeypatch, settings):
    """makemessages run on a copy of the sources finds no msgid the catalogue lacks (a string
    marked since the last `make messages` would show in English on a Chinese page)."""
    msgfmt()
    copy = tmp_path / "doorstep"
    shutil.copytree(SOURCE, copy, ignore=shutil.ignore_patterns("__pycache__", "var"))
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["zh_Hans"], no_obsolete=True, verbosity=0)
    fresh = {e.msgid for e in read_po(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")}
    committed = {e.msgid for e in read_po(PO)}
    assert fresh - committed == set(), "run `make messages` and translate the new entries"
    assert committed - fresh == set(), "run `make messages`: the catalogue has stale entries"
