"""CSV import: upsert by external id, every bad row reported, all-or-nothing unless partial,
references within the file and to the database, the templates, the command and the admin page.

The files below (and the templates) are written in 2026, contracts running that year; the
clock is pinned to the middle of it so that they read the same whenever the suite runs.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from assets.models import Account, Contact, Equipment, EquipmentModel, Site
from contracts.models import ContractSLATerm, CoveredEquipment, ServiceContract
from fieldservice import roles
from fieldservice.models import AuditEntry
from importing.kinds import KINDS
from importing.report import ImportReport
from importing.services import csv_import
from scheduling.models import Skill, Technician
from tests import factories
from tests.clock_pin import clock_at

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "deploy" / "import-templates"
ORDER = ["accounts", "contacts", "sites", "equipment", "contracts", "technicians"]
EQUIPMENT_HEADER = (
    "external_id,site_external_id,manufacturer,model_number,serial_number,install_date,warranty_end"
)


_clock_in_mid_2026 = clock_at(dt.datetime(2026, 6, 15, 10, tzinfo=factories.SHANGHAI))


def run(kind: str, text: str, *, dry_run: bool = False, partial: bool = False) -> ImportReport:
    return csv_import(kind=kind, data=text.encode(), dry_run=dry_run, partial=partial)


def problems(report: ImportReport) -> list[str]:
    return [str(problem) for problem in report.problems]


def counts(report: ImportReport) -> tuple[int, int, int]:
    return report.created, report.updated, report.unchanged


def import_templates(*kinds: str) -> dict[str, ImportReport]:
    reports = {}
    for kind in kinds:
        reports[kind] = csv_import(kind=kind, data=(TEMPLATES / f"{kind}.csv").read_bytes())
        assert not reports[kind].problems, problems(reports[kind])
    return reports


@pytest.fixture
def plant() -> Site:
    """A site with an external id, and a model in the catalogue, as equipment files need."""
    factories.equipment_model(manufacturer="Atlas Copco", model_number="GA 75")
    return factories.site(external_id="SITE-1", account=factories.account(external_id="ACC-1"))


# --- the templates -------------------------------------------------------------------------


def test_the_templates_cover_every_kind() -> None:
    assert sorted(ORDER) == sorted(KINDS)
    for kind in ORDER:
        header = (TEMPLATES / f"{kind}.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
        assert header == [column.name for column in KINDS[kind].columns], kind


def test_templates_import_in_order_into_a_fresh_database_and_again_change_nothing() -> None:
    first = import_templates(*ORDER)
    assert {kind: counts(report) for kind, report in first.items()} == {kind: (2, 0, 0) for kind in ORDER}

    site = Site.objects.get(external_id="SITE-1001")
    assert site.account.external_id == "ACC-1001"
    assert site.location.coords == pytest.approx((120.7215, 31.3224))
    assert site.access_weekdays == [0, 1, 2, 3, 4]
    dryer = Equipment.objects.get(external_id="EQ-1002")
    assert dryer.parent == Equipment.objects.get(external_id="EQ-1001")
    assert dryer.manufacturer == "Atlas Copco"
    assert EquipmentModel.objects.filter(manufacturer="Atlas Copco").count() == 2
    contract = ServiceContract.objects.get(external_id="CT-1001")
    assert contract.status == ServiceContract.Status.ACTIVE
    assert set(contract.covered_equipment.values_list("external_id", flat=True)) == {"EQ-1001", "EQ-1002"}
    assert ContractSLATerm.objects.filter(contract=contract).count() == 4
    technician = Technician.objects.select_related("user").get(external_id="TECH-1001")
    assert technician.user.username == "zhang.min"
    assert not technician.user.has_usable_password()
    assert technician.user.groups.filter(name=roles.TECHNICIAN).exists()
    assert dict(technician.skill_levels.values_list("skill__code", "level")) == {"compressor": 2}

    again = import_templates(*ORDER)
    assert {kind: counts(report) for kind, report in again.items()} == {kind: (0, 0, 2) for kind in ORDER}


# --- upsert --------------------------------------------------------------------------------


def test_a_second_import_updates_only_what_changed_and_leaves_absent_columns_alone() -> None:
    run("accounts", "external_id,name,industry,currency\nA-1,Acme,pharma,USD\nA-2,Beta,machinery,EUR\n")
    report = run(
        "accounts", "external_id,name,industry,tier\nA-1,Acme,pharma,key\nA-2,Beta,machinery,standard\n"
    )
    assert counts(report) == (0, 1, 1)
    acme = Account.objects.get(external_id="A-1")
    assert (acme.tier, acme.currency) == ("key", "USD")  # no currency column: left as it was


def test_an_empty_cell_clears_the_field_or_restores_its_default(plant: Site) -> None:
    run(
        "equipment",
        f"{EQUIPMENT_HEADER},status\nEQ-1,SITE-1,Atlas Copco,GA 75,S1,2020-01-01,2022-01-01,down\n",
    )
    report = run("equipment", f"{EQUIPMENT_HEADER},status\nEQ-1,SITE-1,Atlas Copco,GA 75,S1,2020-01-01,,\n")
    assert counts(report) == (0, 1, 0)
    unit = Equipment.objects.get(external_id="EQ-1")
    assert (unit.warranty_end, unit.status) == (None, Equipment.Status.OPERATIONAL)


def test_an_update_writes_points_arrays_and_times() -> None:
    factories.account(external_id="ACC-1")
    header = "external_id,account_external_id,name,address,city,lat,lon,access_opens,access_weekdays\n"
    run("sites", header + "S-1,ACC-1,Plant,Road 1,Suzhou,31.3,120.7,08:00,mon;tue\n")
    report = run("sites", header + "S-1,ACC-1,Plant,Road 1,Suzhou,-33.9,151.2,07:15,sun;Saturday\n")
    assert counts(report) == (0, 1, 0), problems(report)
    site = Site.objects.get(external_id="S-1")
    assert site.location.equals_exact(Point(151.2, -33.9, srid=4326))
    assert (site.access_opens, site.access_weekdays) == (dt.time(7, 15), [5, 6])


def test_the_command_reports_the_counts_and_a_second_run_reports_all_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes((TEMPLATES / "accounts.csv").read_bytes())
    out = io.StringIO()
    call_command("import_csv", "accounts", str(path), stdout=out)
    assert "2 created, 0 updated, 0 unchanged" in out.getvalue()
    out = io.StringIO()
    call_command("import_csv", "accounts", str(path), stdout=out)
    assert "0 created, 0 updated, 2 unchanged" in out.getvalue()


def test_a_dry_run_counts_as_the_import_would_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes((TEMPLATES / "accounts.csv").read_bytes())
    out = io.StringIO()
    call_command("import_csv", "accounts", str(path), "--dry-run", stdout=out)
    assert "would create 2, update 0, leave 0 unchanged" in out.getvalue()
    assert not Account.objects.exists()


# --- every bad row, with its line and column ------------------------------------------------


def test_every_bad_row_is_reported_with_line_and_column_and_nothing_is_written(plant: Site) -> None:
    factories.equipment(
        site=plant, serial_number="TAKEN", model=EquipmentModel.objects.get(model_number="GA 75")
    )
    before = Equipment.objects.count()
    text = (
        f"{EQUIPMENT_HEADER},status,criticality,average_daily_usage,parent_external_id\n"
        "EQ-1,SITE-1,Atlas Copco,GA 75,S1,2020-01-01,2022-01-01,operational,high,12.5,\n"  # good
        "EQ-2,SITE-9,Atlas Copco,GA 75,S2,2020-01-01,,,,,\n"  # unknown site
        "EQ-3,SITE-1,Atlas Copco,GA 75,S3,01/02/2020,,broken,7,,\n"  # date, choices
        "EQ-4,SITE-1,Atlas Copco,GA 75,S4,2020-01-01,2019-12-31,,,-1,\n"  # warranty, negative
        "EQ-5,SITE-1,Atlas Copco,GA 75,,2020-01-01,,,,,\n"  # required
        "EQ-6,SITE-1,Atlas Copco,GA 75,TAKEN,2020-01-01,,,,,\n"  # serial in the database
        "EQ-7,SITE-1,Atlas Copco,GA 99,S7,2020-01-01,,,,,\n"  # unknown model
        "EQ-8,SITE-1,Atlas Copco,GA 75,S8,2020-01-01,,,,,NOPE\n"  # unknown parent
        "EQ-9,SITE-1,Atlas Copco,GA 75,S9,2020-01-01,,,,123.456,\n"  # decimal places
        "EQ-10,SITE-1,Atlas Copco,GA 75,S10,2020-01-01,,,,1,234.5,\n"  # a comma in a number
        "EQ-11,SITE-1,Atlas Copco,GA 75,S11,2020-01-01,9999-12-31,,,,\n"  # past fieldservice.ranges
    )
    report = run("equipment", text)
    assert problems(report) == [
        'line 3, column "site_external_id": no site has the external id "SITE-9"',
        'line 4, column "install_date": "01/02/2020" is not a date (YYYY-MM-DD)',
        'line 4, column "status": "broken" is not one of: operational, degraded, down, decommissioned',
        'line 4, column "criticality": "7" is not one of: 1 (low), 2 (medium), 3 (high), 4 (critical)',
        'line 5, column "average_daily_usage": -1 is below 0',
        'line 5, column "warranty_end": 2019-12-31 is before the install date 2020-01-01',
        'line 6, column "serial_number": is required',
        'line 7, column "serial_number": serial "TAKEN" of Atlas Copco is already on equipment '
        "(without an external id) in the database",
        'line 8, column "model_number": no equipment model "Atlas Copco" "GA 99" in the catalogue; '
        "to add it, fill model_name, category, required_skill",
        'line 9, column "parent_external_id": no equipment has the external id "NOPE", '
        "in this file or in the database",
        'line 10, column "average_daily_usage": 123.456 has more than 2 decimal places',
        "line 11: has 12 cells; the header has 11 (a value with a comma needs quotes)",
        'line 12, column "warranty_end": Enter a date between 1970-01-01 and 2099-12-31.',
    ]
    assert report.bad_rows == 10
    assert not report.written
    assert Equipment.objects.count() == before


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        (
            "sites",
            "external_id,account_external_id,name,address,city,lat,lon,access_opens,access_closes\n"
            "S-1,ACC-1,Plant,Road 1,Suzhou,123.4,120.7,09:00,08:00\n",
            [
                'line 2, column "lat": 123.4 is not a latitude (-90..90)',
                'line 2, column "access_closes": 08:00 is not after the opening time 09:00',
            ],
        ),
        (
            "accounts",
            "external_id,name,industry,annual_contract_value,currency,account_manager\n"
            'A-1,Acme,mining,"1,000.00",R1,nobody\n',
            [
                'line 2, column "industry": "mining" is not one of: semiconductor, electronics_assembly, '
                "automotive_parts, pharma, data_center, machinery, other",
                'line 2, column "annual_contract_value": "1,000.00" is not a number '
                "(use a point for decimals and no thousands separators: 1234.50)",
                'line 2, column "currency": "R1" is not a currency code (three letters, such as CNY)',
                'line 2, column "account_manager": "nobody" is not an active user',
            ],
        ),
        (
            "contacts",
            "external_id,account_external_id,name,email,language,is_primary\nC-1,ACC-1,Wang,wang@,fr,maybe\n",
            [
                'line 2, column "email": "wang@" is not an email address',
                'line 2, column "language": "fr" is not one of: en, zh-hans',
                'line 2, column "is_primary": "maybe" is not yes or no (true/false, yes/no, 1/0)',
            ],
        ),
        (
            "contracts",
            "external_id,number,account_external_id,start_date,end_date,annual_value,uplift_percent,sla_terms\n"
            "CT-1,SC-1,ACC-1,2026-01-01,2025-12-31,100,150,P1:4/2;P9:1/1\n",
            [
                'line 2, column "uplift_percent": 150 is above 100',
                'line 2, column "sla_terms": P1: the resolution time is shorter than the response time',
                'line 2, column "end_date": 2025-12-31 is not after the start date 2026-01-01',
            ],
        ),
        (
            "technicians",
            "external_id,employee_code,username,home_base_lat,home_base_lon,skills,territory\n"
            "T-1,T1,bad name!,31.3,200,cnc:4,Mars\n",
            [
                'line 2, column "username": "bad name!" is not a username '
                "(letters, digits and @ . + - _ only)",
                'line 2, column "home_base_lon": 200 is not a longitude (-180..180)',
                'line 2, column "skills": "cnc:4" is not CODE:LEVEL with a level of 1, 2 or 3',
                'line 2, column "territory": no territory is named "Mars"',
            ],
        ),
    ],
)
def test_bad_cells_of_each_kind(kind: str, text: str, expected: list[str]) -> None:
    factories.account(external_id="ACC-1")
    report = run(kind, text)
    assert problems(report) == expected
    assert (
        KINDS[kind]
        .model._default_manager.filter(external_id__in=["S-1", "A-1", "C-1", "CT-1", "T-1"])
        .count()
        == 0
    )


def test_a_repeated_external_id_refuses_both_rows() -> None:
    report = run(
        "accounts", "external_id,name,industry\nA-1,Acme,pharma\nA-2,Beta,pharma\nA-1,Again,pharma\n"
    )
    assert problems(report) == [
        'line 2, column "external_id": A-1 is also on line 4',
        'line 4, column "external_id": A-1 is also on line 2',
    ]
    assert not Account.objects.exists()


# --- --partial -----------------------------------------------------------------------------


def test_partial_writes_the_good_rows_and_reports_the_bad_ones(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text("external_id,name,industry\nA-1,Acme,pharma\nA-2,Beta,mining\nA-3,Gamma,machinery\n")
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 rows refused; the good rows were written"):
        call_command("import_csv", "accounts", str(path), "--partial", stdout=out)
    assert 'line 3, column "industry": "mining" is not one of' in out.getvalue()
    assert "2 created, 0 updated, 0 unchanged" in out.getvalue()
    assert set(Account.objects.values_list("external_id", flat=True)) == {"A-1", "A-3"}


def test_without_partial_one_bad_row_writes_nothing_and_the_command_fails(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text("external_id,name,industry\nA-1,Acme,pharma\nA-2,Beta,mining\n")
    with pytest.raises(CommandError, match="1 rows refused; nothing was written"):
        call_command("import_csv", "accounts", str(path), stdout=io.StringIO())
    assert not Account.objects.exists()


def test_partial_also_refuses_the_rows_that_need_a_refused_row(plant: Site) -> None:
    text = (
        f"{EQUIPMENT_HEADER},parent_external_id\n"
        "EQ-1,SITE-1,Atlas Copco,GA 75,S1,2020-13-01,,\n"  # bad
        "EQ-2,SITE-1,Atlas Copco,GA 75,S2,2020-01-01,,EQ-1\n"  # its component
        "EQ-3,SITE-1,Atlas Copco,GA 75,S3,2020-01-01,,EQ-2\n"  # and that one's
        "EQ-4,SITE-1,Atlas Copco,GA 75,S4,2020-01-01,,\n"
    )
    report = run("equipment", text, partial=True)
    assert problems(report)[1:] == [
        'line 3, column "parent_external_id": EQ-1 (line 2) is refused, so this row is too',
        'line 4, column "parent_external_id": EQ-2 (line 3) is refused, so this row is too',
    ]
    assert list(Equipment.objects.values_list("external_id", flat=True)) == ["EQ-4"]


# --- references ----------------------------------------------------------------------------


def test_a_parent_may_be_in_the_same_file_or_already_in_the_database(plant: Site) -> None:
    run("equipment", f"{EQUIPMENT_HEADER}\nEQ-1,SITE-1,Atlas Copco,GA 75,S1,,\n")
    text = (
        f"{EQUIPMENT_HEADER},parent_external_id\n"
        "EQ-3,SITE-1,Atlas Copco,GA 75,S3,,,EQ-2\n"  # the parent comes later in the file
        "EQ-2,SITE-1,Atlas Copco,GA 75,S2,,,EQ-1\n"  # the parent is in the database
    )
    report = run("equipment", text)
    assert counts(report) == (2, 0, 0), problems(report)
    parent_of = dict(Equipment.objects.values_list("external_id", "parent__external_id"))
    assert parent_of == {"EQ-1": None, "EQ-2": "EQ-1", "EQ-3": "EQ-2"}
    assert counts(run("equipment", text)) == (0, 0, 2)


def test_a_loop_in_the_hierarchy_is_refused(plant: Site) -> None:
    run("equipment", f"{EQUIPMENT_HEADER},parent_external_id\nEQ-1,SITE-1,Atlas Copco,GA 75,S1,,,\n")
    text = (
        f"{EQUIPMENT_HEADER},parent_external_id\n"
        "EQ-2,SITE-1,Atlas Copco,GA 75,S2,,,EQ-1\n"
        "EQ-1,SITE-1,Atlas Copco,GA 75,S1,,,EQ-2\n"
    )
    report = run("equipment", text)
    assert (
        'column "parent_external_id": "EQ-2" is already below this unit: the hierarchy would loop'
        in " ".join(problems(report))
    )
    assert Equipment.objects.get(external_id="EQ-1").parent is None


def test_a_parent_at_another_site_is_refused(plant: Site) -> None:
    factories.site(external_id="SITE-2", account=plant.account)
    text = (
        f"{EQUIPMENT_HEADER},parent_external_id\n"
        "EQ-1,SITE-1,Atlas Copco,GA 75,S1,,,\n"
        "EQ-2,SITE-2,Atlas Copco,GA 75,S2,,,EQ-1\n"
    )
    assert problems(run("equipment", text)) == [
        'line 3, column "parent_external_id": "EQ-1" is at another site'
    ]


def test_a_contact_refers_to_an_account_and_a_site_of_that_account() -> None:
    plant = factories.site(external_id="SITE-1", account=factories.account(external_id="ACC-1"))
    factories.site(external_id="SITE-X", account=factories.account(external_id="ACC-2"))
    factories.contact(site=plant, external_id=None, name="Old Primary", is_primary=True)
    text = (
        "external_id,account_external_id,site_external_id,name,is_primary\n"
        "C-1,ACC-1,SITE-X,Wang,no\n"
        "C-2,ACC-1,SITE-1,Li,yes\n"
        "C-3,ACC-9,,Zhao,no\n"
    )
    assert problems(run("contacts", text)) == [
        'line 2, column "site_external_id": the site belongs to another account',
        'line 3, column "is_primary": the site already has a primary contact (Old Primary)',
        'line 4, column "account_external_id": no account has the external id "ACC-9"',
    ]


def test_two_primary_contacts_of_one_site_in_a_file_are_refused_and_a_swap_works() -> None:
    factories.site(external_id="SITE-1", account=factories.account(external_id="ACC-1"))
    header = "external_id,account_external_id,site_external_id,name,is_primary\n"
    report = run("contacts", header + "C-1,ACC-1,SITE-1,Wang,yes\nC-2,ACC-1,SITE-1,Li,yes\n")
    assert problems(report) == [
        'line 2, column "is_primary": another primary contact of this site is on line 3',
        'line 3, column "is_primary": another primary contact of this site is on line 2',
    ]
    assert counts(run("contacts", header + "C-1,ACC-1,SITE-1,Wang,yes\nC-2,ACC-1,SITE-1,Li,no\n")) == (
        2,
        0,
        0,
    )
    swapped = run("contacts", header + "C-1,ACC-1,SITE-1,Wang,no\nC-2,ACC-1,SITE-1,Li,yes\n")
    assert counts(swapped) == (0, 2, 0), problems(swapped)
    assert Contact.objects.get(is_primary=True).external_id == "C-2"


# --- serials -------------------------------------------------------------------------------


def test_duplicate_serials_within_the_file_and_against_the_database(plant: Site) -> None:
    model = EquipmentModel.objects.get(model_number="GA 75")
    factories.equipment(site=plant, model=model, serial_number="DB-1", external_id="EQ-OLD")
    text = (
        f"{EQUIPMENT_HEADER}\n"
        "EQ-1,SITE-1,Atlas Copco,GA 75,SAME,,\n"
        "EQ-2,SITE-1,Atlas Copco,GA 75,SAME,,\n"
        "EQ-3,SITE-1,Atlas Copco,GA 75,DB-1,,\n"
        "EQ-OLD,SITE-1,Atlas Copco,GA 75,DB-1,,\n"  # the unit that has it: fine
    )
    report = run("equipment", text)
    assert problems(report) == [
        'line 2, column "serial_number": this serial of this manufacturer is also on line 3',
        'line 3, column "serial_number": this serial of this manufacturer is also on line 2',
        'line 4, column "serial_number": this serial of this manufacturer is also on line 5',
        'line 5, column "serial_number": this serial of this manufacturer is also on line 4',
    ]
    # Another manufacturer may use the same serial.
    factories.equipment_model(manufacturer="Kaeser", model_number="CSD 125")
    other = f"{EQUIPMENT_HEADER}\nEQ-9,SITE-1,Kaeser,CSD 125,DB-1,,\n"
    assert counts(run("equipment", other)) == (1, 0, 0)


def test_an_equipment_row_can_add_a_missing_model_and_its_skill(plant: Site) -> None:
    header = f"{EQUIPMENT_HEADER},model_name,category,required_skill,required_skill_level"
    report = run("equipment", f"{header}\nEQ-1,SITE-1,Trane,CVHE 500,T1,,,Chiller,chiller,hvac,3\n")
    assert counts(report) == (1, 0, 0), problems(report)
    assert EquipmentModel.objects.get(manufacturer="Trane").required_skill_level == 3
    assert Skill.objects.filter(code="hvac").exists()
    assert report.notes == [
        "new equipment model for the catalogue: Trane CVHE 500",
        "new skill for the skill catalogue (a new model requires it): hvac",
    ]


# --- contracts -----------------------------------------------------------------------------


def test_contracts_keep_their_status_sync_coverage_and_guard_active_numbers(plant: Site) -> None:
    model = EquipmentModel.objects.get(model_number="GA 75")
    first = factories.equipment(site=plant, model=model, external_id="EQ-1")
    factories.equipment(site=plant, model=model, external_id="EQ-2")
    factories.equipment(site=factories.site(external_id="SITE-X"), model=model, external_id="EQ-X")
    factories.contract(account=factories.account(), number="SC-LIVE", external_id=None)
    header = (
        "external_id,number,account_external_id,start_date,end_date,annual_value,status,covered_equipment\n"
    )
    created = run("contracts", header + "CT-1,SC-1,ACC-1,2026-01-01,2026-12-31,100.00,active,EQ-1;EQ-2\n")
    assert counts(created) == (1, 0, 0), problems(created)

    narrowed = run("contracts", header + "CT-1,SC-1,ACC-1,2026-01-01,2026-12-31,100.00,active,EQ-1\n")
    assert counts(narrowed) == (0, 1, 0)
    assert list(CoveredEquipment.objects.values_list("equipment", flat=True)) == [first.pk]

    refused = run(
        "contracts",
        header
        + "CT-1,SC-1,ACC-1,2026-01-01,2026-12-31,100.00,cancelled,EQ-X\n"
        + "CT-2,SC-LIVE,ACC-1,2026-01-01,2026-12-31,100.00,active,\n",
    )
    assert problems(refused) == [
        'line 2, column "status": the contract is active; an import does not change a contract\'s status '
        "(activate, renew or cancel it in the application)",
        'line 2, column "covered_equipment": "EQ-X" stands at another account\'s site',
        'line 3, column "number": "SC-LIVE" is the number of another active contract',
    ]


# --- technicians ---------------------------------------------------------------------------


def test_technicians_get_a_login_without_a_usable_password_and_their_skills() -> None:
    factories.skill("cnc")
    factories.skill("hvac")
    header = "external_id,employee_code,username,first_name,email,home_base_lat,home_base_lon,skills\n"
    report = run("technicians", header + "T-1,E1,li.lei,Lei,li@example.com,31.3,120.6,cnc:2;hvac:1\n")
    assert counts(report) == (1, 0, 0), problems(report)
    tech = Technician.objects.select_related("user").get(external_id="T-1")
    assert not tech.user.has_usable_password()
    assert tech.user.groups.filter(name=roles.TECHNICIAN).exists()
    assert tech.home_base.equals_exact(Point(120.6, 31.3, srid=4326))

    changed = run("technicians", header + "T-1,E1,li.lei,Lei,new@example.com,31.3,120.6,cnc:3\n")
    assert counts(changed) == (0, 1, 0)
    tech.user.refresh_from_db()
    assert tech.user.email == "new@example.com"
    assert dict(tech.skill_levels.values_list("skill__code", "level")) == {"cnc": 3}
    assert counts(run("technicians", header + "T-1,E1,li.lei,Lei,new@example.com,31.3,120.6,cnc:3\n")) == (
        0,
        0,
        1,
    )


def test_a_technician_row_cannot_take_a_staff_login_or_another_technicians(admin_user: User) -> None:
    factories.technician(employee_code="E-OLD", person=factories.user(username="taken"))
    header = "external_id,employee_code,username,home_base_lat,home_base_lon,skills\n"
    report = run(
        "technicians",
        header + "T-1,E1,admin,31.3,120.6,\nT-2,E2,taken,31.3,120.6,\nT-3,E-OLD,fresh,31.3,120.6,welding:1\n",
    )
    assert problems(report) == [
        'line 2, column "username": this is a staff login; a technician needs a login of their own',
        'line 3, column "username": this login already belongs to another technician',
        'line 4, column "employee_code": another technician has this employee code',
        'line 4, column "skills": unknown skill codes: welding (the skills are: compressor)',
    ]
    assert not User.objects.filter(username="fresh").exists()


# --- the command ---------------------------------------------------------------------------


def test_the_progress_bar_is_plain_text_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes((TEMPLATES / "accounts.csv").read_bytes())
    err = io.StringIO()
    call_command("import_csv", "accounts", str(path), "--progress", stdout=io.StringIO(), stderr=err)
    assert "[##############################]         2/2 100%" in err.getvalue()
    quiet = io.StringIO()
    call_command("import_csv", "accounts", str(path), stdout=io.StringIO(), stderr=quiet)
    assert quiet.getvalue() == ""  # not a terminal, no --progress


# --- the admin page ------------------------------------------------------------------------

IMPORT_URL = "/admin/assets/account/import/"


def test_an_admin_checks_a_file_reads_the_report_then_imports_it(admin_user: User) -> None:
    client = Client()
    client.force_login(admin_user)
    assert "Import from CSV" in client.get("/admin/assets/account/").content.decode()
    assert client.get(IMPORT_URL).status_code == 200

    upload = SimpleUploadedFile("accounts.csv", (TEMPLATES / "accounts.csv").read_bytes(), "text/csv")
    checked = client.post(IMPORT_URL, {"kind": "accounts", "file": upload, "dry_run": "on"})
    assert checked.status_code == 200
    assert "would create 2" in checked.content.decode()
    assert not Account.objects.exists()

    token = checked.context["next_form"].initial["upload"]
    imported = client.post(IMPORT_URL, {"kind": "accounts", "upload": token})
    assert "2 created, 0 updated, 0 unchanged" in imported.content.decode()
    assert Account.objects.count() == 2


def test_the_admin_page_lists_every_bad_row_and_can_write_the_good_ones(admin_user: User) -> None:
    client = Client()
    client.force_login(admin_user)
    data = b"external_id,name,industry\nA-1,Acme,pharma\nA-2,,mining\n"
    page = client.post(IMPORT_URL, {"kind": "accounts", "file": SimpleUploadedFile("a.csv", data)})
    text = page.content.decode()
    assert "is required" in text and "&quot;mining&quot; is not one of" in text
    assert [(p.line, p.column) for p in page.context["problems"]] == [(3, "name"), (3, "industry")]
    assert not Account.objects.exists()

    report = client.get(f"{IMPORT_URL}report/{page.context['report_token']}/")
    assert report.content.decode("utf-8-sig").splitlines()[1] == "3,name,is required"

    partial = client.post(
        IMPORT_URL, {"kind": "accounts", "file": SimpleUploadedFile("a.csv", data), "partial": "on"}
    )
    assert partial.context["report"].written
    assert list(Account.objects.values_list("external_id", flat=True)) == ["A-1"]


def test_a_dispatcher_may_not_import_even_as_staff(dispatcher: User) -> None:
    dispatcher.is_staff = True  # as in the demo: dispatchers browse the back office
    dispatcher.save()
    client = Client()
    client.force_login(dispatcher)
    assert client.get(IMPORT_URL).status_code == 403
    data = (TEMPLATES / "accounts.csv").read_bytes()
    refused = client.post(IMPORT_URL, {"kind": "accounts", "file": SimpleUploadedFile("a.csv", data)})
    assert refused.status_code == 403
    assert not Account.objects.exists()
    changelist = client.get("/admin/assets/account/")
    assert changelist.status_code == 200
    assert "Import from CSV" not in changelist.content.decode()


def test_dates_and_decimals_are_stored_as_given(plant: Site) -> None:
    text = (
        f"{EQUIPMENT_HEADER},average_daily_usage\n"
        "EQ-1,SITE-1,Atlas Copco,GA 75,S1,2020-02-29,2023-02-28,7.5\n"
    )
    assert counts(run("equipment", text)) == (1, 0, 0)
    unit = Equipment.objects.get(external_id="EQ-1")
    assert (unit.install_date, unit.warranty_end, unit.average_daily_usage) == (
        dt.date(2020, 2, 29),
        dt.date(2023, 2, 28),
        Decimal("7.50"),
    )


# --- audit ----------------------------------------------------------------------------------


def test_imported_equipment_is_in_the_audit_trail_with_who_and_what_changed(
    plant: Site, admin_user: User
) -> None:
    header = "external_id,site_external_id,manufacturer,model_number,serial_number,status"
    first = csv_import(
        kind="equipment",
        data=f"{header}\nEQ-9,{plant.external_id},Atlas Copco,GA 75,S-9,operational\n".encode(),
        by=admin_user,
    )
    assert counts(first) == (1, 0, 0)
    csv_import(
        kind="equipment", data=f"{header}\nEQ-9,{plant.external_id},Atlas Copco,GA 75,S-9,down\n".encode()
    )
    unit = Equipment.objects.get(external_id="EQ-9")
    entries = list(AuditEntry.objects.filter(object_id=unit.pk).order_by("pk"))
    assert [(e.action, e.source, e.by) for e in entries] == [
        ("created", "import", admin_user),
        ("changed", "import", None),
    ]
    assert entries[0].changes["serial_number"] == [None, "S-9"]
    assert entries[1].changes == {"status": ["operational", "down"]}
