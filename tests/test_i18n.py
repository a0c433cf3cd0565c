"""The Simplified Chinese catalog (locale/zh_Hans/LC_MESSAGES): complete, compiled, its
placeholders intact, and in use: key labels translate and pages render in Chinese.

The .mo is built from the .po by `manage.py compilemessages`; a missing or stale .mo fails here."""

from __future__ import annotations

import ast
import gettext
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation

from contracts.models import HealthScore
from tests import factories
from tickets.models import WorkOrder

CATALOG_DIR = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_FILE = CATALOG_DIR / "django.po"
MO_FILE = CATALOG_DIR / "django.mo"

# %(name)s, %(m)02d, %s, %d, %% (python-format) and {0}, {name} (brace format).
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[sdifrx%]|\{\w*\}")
NAMED_PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdifrx]|\{\w*\}")


@dataclass
class Entry:
    msgid: str
    msgid_plural: str | None
    msgstrs: list[str]
    flags: set[str]
    line: int
    msgctxt: str | None = None


def _read_po(path: Path) -> list[Entry]:
    """A tiny .po reader: enough for the catalog makemessages writes (no obsolete entries)."""
    entries: list[Entry] = []
    fields: dict[str, list[str]] = {}
    flags: set[str] = set()
    current = ""
    start = 0

    def flush() -> None:
        if "msgid" in fields:
            msgstrs = ["".join(fields[key]) for key in sorted(k for k in fields if k.startswith("msgstr"))]
            plural = "".join(fields["msgid_plural"]) if "msgid_plural" in fields else None
            context = "".join(fields["msgctxt"]) if "msgctxt" in fields else None
            entries.append(Entry("".join(fields["msgid"]), plural, msgstrs, set(flags), start, context))
        fields.clear()
        flags.clear()

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("#,"):
            flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            fields[current].append(ast.literal_eval(line))
        else:
            keyword, _, value = line.partition(" ")
            if keyword in ("msgid", "msgctxt") and "msgid" not in fields:
                start = number
            current = keyword
            fields[current] = [ast.literal_eval(value)]
    flush()
    return entries


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    return _read_po(PO_FILE)


@pytest.fixture(scope="module")
def messages(entries: list[Entry]) -> list[Entry]:
    """Every entry but the header."""
    return [entry for entry in entries if entry.msgid]


# --- the catalog -------------------------------------------------------------------------------------


def test_header_declares_the_language_and_utf8(entries: list[Entry]) -> None:
    header = entries[0]
    assert header.msgid == "" and "fuzzy" not in header.flags
    assert "Language: zh_Hans\n" in header.msgstrs[0]
    assert "Content-Type: text/plain; charset=UTF-8\n" in header.msgstrs[0]
    assert "Plural-Forms: nplurals=1; plural=0;\n" in header.msgstrs[0]


def test_every_message_is_translated(messages: list[Entry]) -> None:
    assert len(messages) > 500, "the catalog looks truncated"
    untranslated = [e.msgid for e in messages if not all(s.strip() for s in e.msgstrs)]
    fuzzy = [e.msgid for e in messages if "fuzzy" in e.flags]
    assert untranslated == []
    assert fuzzy == []


def test_plural_messages_have_exactly_one_form(messages: list[Entry]) -> None:
    plurals = [e for e in messages if e.msgid_plural is not None]
    assert plurals, "the templates use {% blocktranslate count %}: expected plural entries"
    assert [e.msgid for e in plurals if len(e.msgstrs) != 1] == []


@pytest.mark.parametrize("form", ["msgid", "msgid_plural"])
def test_placeholders_survive_translation(messages: list[Entry], form: str) -> None:
    wrong = []
    for entry in messages:
        source = entry.msgid if form == "msgid" else entry.msgid_plural
        if source is None:
            continue
        # Not a format string (e.g. the literal "%"): a lone "%" is text; named ones still count.
        formatted = "python-format" in entry.flags or "python-brace-format" in entry.flags
        pattern = PLACEHOLDER if formatted else NAMED_PLACEHOLDER
        for msgstr in entry.msgstrs:
            if Counter(pattern.findall(source)) != Counter(pattern.findall(msgstr)):
                wrong.append((entry.line, source, msgstr))
    assert wrong == []


def test_compiled_catalog_matches_the_po(messages: list[Entry]) -> None:
    """The .mo exists and is not stale: run `manage.py compilemessages` after editing the .po."""
    assert MO_FILE.exists(), "run: python manage.py compilemessages --ignore=.venv"
    with MO_FILE.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in messages:
        if entry.msgctxt is not None:
            got = compiled.pgettext(entry.msgctxt, entry.msgid)
        elif entry.msgid_plural is None:
            got = compiled.gettext(entry.msgid)
        else:
            got = compiled.ngettext(entry.msgid, entry.msgid_plural, 1)
        if got != entry.msgstrs[0]:
            stale.append(entry.msgid)
    assert stale == []


# --- in use ------------------------------------------------------------------------------------------


def test_key_labels_translate() -> None:
    with translation.override("zh-hans"):
        assert translation.gettext("Dispatch board") == "派工看板"
        assert translation.gettext("Work order") == "工单"
        assert str(WorkOrder.Status.ON_HOLD.label) == "暂停"
        assert str(WorkOrder.Status.EN_ROUTE.label) == "在途"
        assert str(WorkOrder.Status.ON_SITE.label) == "已到场"
        assert str(HealthScore.Band.RED.label) == "红色"
        assert str(WorkOrder._meta.verbose_name) == "工单"
        assert translation.ngettext("%(counter)s job", "%(counter)s jobs", 3) % {"counter": 3} == "3 个任务"
    with translation.override("en"):
        assert translation.gettext("Dispatch board") == "Dispatch board"
        assert str(WorkOrder.Status.ON_HOLD.label) == "On hold"


def _chinese_client() -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    return client


@pytest.mark.django_db
def test_login_page_renders_in_chinese() -> None:
    page = _chinese_client().get("/login/")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<html lang="zh-CN">' in html
    assert "登录" in html and "用户名" in html and "密码" in html
    assert "User name" not in html


@pytest.mark.django_db
def test_dispatch_board_renders_in_chinese(dispatcher: User) -> None:
    area = factories.territory()
    client = _chinese_client()
    client.force_login(dispatcher)
    page = client.get(f"/dispatch/?territory={area.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "派工看板" in html
    assert "运行优化器" in html
    assert ">Dispatch board<" not in html
