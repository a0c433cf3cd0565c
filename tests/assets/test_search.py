"""The service desk's search finds a caller by a fragment of what they read out, in the
database (trigram indexes under the database's UTF-8 ctype), Chinese included."""

from __future__ import annotations

import pytest
from django.db import connection

from assets.models import Account
from assets.search import installed_base_search
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def book() -> dict[str, object]:
    precision = factories.account(name="苏州精密机械有限公司")
    other = factories.account(name="无锡华润微电子 Wuxi Microelectronics")
    plant = factories.site(account=precision, name="吴中工厂")
    unit = factories.equipment(site=plant, serial_number="CMP-2024-00817", asset_tag="AT-5531")
    factories.equipment(site=factories.site(account=other), serial_number="CHL-2023-00120")
    caller = factories.contact(site=plant, name="李娜", phone="+86 512-6868 1234")
    return {"precision": precision, "other": other, "plant": plant, "unit": unit, "caller": caller}


def search(query: str) -> list[tuple[str, int]]:
    return [(hit.kind, hit.pk) for hit in installed_base_search(query, accounts=Account.objects.all())]


def test_two_chinese_characters_of_an_account_name_find_it(book: dict) -> None:
    assert search("精密")[0] == ("account", book["precision"].pk)
    assert ("account", book["other"].pk) not in search("精密")


def test_a_partial_serial_finds_the_unit_first(book: dict) -> None:
    assert search("00817")[0] == ("equipment", book["unit"].pk)
    assert search("cmp-2024")[0] == ("equipment", book["unit"].pk)  # any case
    assert search("AT-5531")[0] == ("equipment", book["unit"].pk)  # the asset tag, exactly


def test_a_phone_number_as_read_out_finds_the_contact(book: dict) -> None:
    assert ("contact", book["caller"].pk) in search("68681234")
    assert ("contact", book["caller"].pk) in search("6868 1234")


def test_english_names_and_site_names_are_found(book: dict) -> None:
    assert search("wuxi micro")[0] == ("account", book["other"].pk)
    assert search("吴中")[0] == ("site", book["plant"].pk)


def test_a_search_sees_only_the_accounts_it_is_given(book: dict) -> None:
    hits = installed_base_search("00817", accounts=Account.objects.filter(pk=book["other"].pk))
    assert hits == []


def test_wildcards_in_the_query_are_text(book: dict) -> None:
    assert search("%_") == []


def test_the_trigram_indexes_serve_the_search(book: dict) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN SELECT id FROM assets_equipment WHERE serial_number::text ILIKE '%00817%'")
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "equipment_serial_trgm" in plan
