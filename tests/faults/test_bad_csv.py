"""Malformed CSV files of every kind: each gets a clear report naming the problem, the
command exits non-zero, and not one row is written (not even with --partial, for a file
that cannot be read as a table)."""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

from assets.models import Equipment
from importing.kinds import KINDS
from importing.report import ImportReport
from importing.services import csv_import

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "deploy" / "import-templates"
ORDER = ["accounts", "contacts", "sites", "equipment", "contracts", "technicians"]
MEGABYTE = 1024 * 1024


def template(kind: str) -> str:
    return (TEMPLATES / f"{kind}.csv").read_text(encoding="utf-8")


def prepare(kind: str) -> None:
    """Import the templates of the kinds before `kind`, so only the file under test is wrong."""
    for earlier in ORDER[: ORDER.index(kind)]:
        assert not csv_import(kind=earlier, data=template(earlier).encode()).problems


def written() -> dict[str, int]:
    counts = {name: kind.model._default_manager.count() for name, kind in KINDS.items()}
    return {**counts, "users": User.objects.count()}


@pytest.fixture(params=ORDER)
def kind(request: pytest.FixtureRequest) -> Iterator[str]:
    prepare(request.param)
    yield request.param


def refused(kind: str, data: bytes, *, partial: bool = True) -> ImportReport:
    """Import `data`, asserting that it is refused as a file and that nothing is written."""
    before = written()
    report = csv_import(kind=kind, data=data, partial=partial)
    assert report.file_problems, report.summary()
    assert not report.written
    assert written() == before
    return report


def messages(report: ImportReport) -> str:
    return "\n".join(str(problem) for problem in report.problems)


def replace_cell(text: str, *, column: str, value: str, line: int = 2) -> str:
    """The template with one cell replaced (cells of the templates hold no commas)."""
    lines = text.splitlines()
    header = lines[0].split(",")
    cells = lines[line - 1].split(",")
    cells[header.index(column)] = value
    lines[line - 1] = ",".join(cells)
    return "\n".join(lines) + "\n"


# --- every kind ------------------------------------------------------------------------------


def test_a_file_not_in_utf8_is_refused(kind: str) -> None:
    # "号" in GBK, the encoding Chinese Excel saves CSV in by default.
    text = replace_cell(template(kind), column="external_id", value="X-号", line=3)
    data = text.encode("gbk")
    # The first byte beyond ASCII: GBK's lead bytes are never valid UTF-8 starts after ASCII.
    first = next(i for i, byte in enumerate(data) if byte > 0x7F)
    line = data.count(b"\n", 0, first) + 1
    report = refused(kind, data)
    assert messages(report) == (
        f"The file is not UTF-8 text (byte 0x{data[first]:02X} on line {line}; "
        "Chinese Excel saves GBK by default). Save it as “CSV UTF-8” and import it again."
    )


def test_a_utf8_byte_order_mark_is_accepted(kind: str) -> None:
    report = csv_import(kind=kind, data=codecs.BOM_UTF8 + template(kind).encode())
    assert (report.created, report.problems) == (2, [])


def test_missing_required_columns_are_named(kind: str) -> None:
    lines = template(kind).splitlines()
    required = [column.name for column in KINDS[kind].columns if column.required]
    keep = [i for i, name in enumerate(lines[0].split(",")) if name not in required[1:3]]
    text = "\n".join(",".join(line.split(",")[i] for i in keep) for line in lines)
    report = refused(kind, text.encode())
    assert messages(report) == f'The header lacks these required columns: "{required[1]}", "{required[2]}".'


def test_unknown_columns_are_named_with_the_known_ones(kind: str) -> None:
    lines = template(kind).splitlines()
    text = "\n".join([lines[0] + ",colour"] + [line + ",blue" for line in lines[1:]])
    report = refused(kind, text.encode())
    assert messages(report).startswith(
        'The header has unknown columns: "colour". The columns are: external_id,'
    )


def test_a_one_megabyte_cell_refuses_the_file_naming_line_and_column(kind: str) -> None:
    column = KINDS[kind].columns[1]
    text = replace_cell(template(kind), column=column.name, value="x" * MEGABYTE, line=3)
    report = refused(kind, text.encode())
    assert messages(report) == (
        f'line 3, column "{column.name}": the cell is 1,048,576 characters long; this column takes at most '
        f"{column.max_chars}, so the file is refused (is a quote left open?)"
    )


def test_an_empty_file_and_a_header_alone_are_refused(kind: str) -> None:
    assert messages(refused(kind, b"")) == "The file is empty."
    assert messages(refused(kind, codecs.BOM_UTF8 + b"\r\n \r\n")) == "The file is empty."
    header = template(kind).splitlines()[0]
    assert messages(refused(kind, f"{header}\n,,,\n".encode())) == "The file has a header but no rows."


# --- broken files ------------------------------------------------------------------------------


def test_an_open_quote_is_refused_with_its_line() -> None:
    text = template("accounts").replace("ACC-1002,", 'ACC-1002,"Shanghai ', 1)
    report = refused("accounts", text.encode())
    assert messages(report) == "line 3: the file is not valid CSV (unexpected end of data)"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00", "The file is an Excel workbook, not CSV; save it as “CSV UTF-8”."),
        (
            "external_id,name,industry\nA,B,pharma\n".encode("utf-16"),
            "The file is UTF-16 (Excel's “Unicode text”); save it as “CSV UTF-8” instead.",
        ),
        (
            b"external_id;name;industry\nA;B;pharma\n",
            "The header has one column: the file is separated by semicolons or tabs, not commas.",
        ),
        (
            b"external_id,name,industry\nA,B\x00,pharma\n",
            "The file contains NUL characters: it is not a CSV text file.",
        ),
        (
            b"external_id,name,name,industry\nA,B,B,pharma\n",
            'The header repeats these columns: "name".',
        ),
    ],
    ids=["xlsx", "utf-16", "semicolons", "nul", "repeated-column"],
)
def test_files_that_are_not_comma_separated_utf8_text(data: bytes, message: str) -> None:
    assert messages(refused("accounts", data)) == message


# --- bad rows: reported, and nothing written without --partial -------------------------------


@pytest.mark.parametrize(
    ("kind", "lat_column", "lon_column"),
    [("sites", "lat", "lon"), ("technicians", "home_base_lat", "home_base_lon")],
)
def test_bad_coordinates_are_reported_and_nothing_is_written(
    kind: str, lat_column: str, lon_column: str
) -> None:
    prepare(kind)
    text = replace_cell(template(kind), column=lat_column, value="123.4")
    text = replace_cell(text, column=lon_column, value="-181", line=3)
    text = replace_cell(text, column=lat_column, value="north", line=3)
    before = written()
    report = csv_import(kind=kind, data=text.encode())
    assert [str(problem) for problem in report.row_problems] == [
        f'line 2, column "{lat_column}": 123.4 is not a latitude (-90..90)',
        f'line 3, column "{lat_column}": "north" is not a latitude (-90..90)',
        f'line 3, column "{lon_column}": -181 is not a longitude (-180..180)',
    ]
    assert written() == before


def test_duplicate_serials_are_reported_and_nothing_is_written(tmp_path: Path) -> None:
    prepare("equipment")
    text = replace_cell(template("equipment"), column="serial_number", value="API123456", line=3)
    path = tmp_path / "equipment.csv"
    path.write_text(text, encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError, match="2 rows refused; nothing was written"):
        call_command("import_csv", "equipment", str(path), stdout=out)
    assert out.getvalue().splitlines()[:2] == [
        'line 2, column "serial_number": this serial of this manufacturer is also on line 3',
        'line 3, column "serial_number": this serial of this manufacturer is also on line 2',
    ]
    assert not Equipment.objects.exists()


def test_the_command_exits_non_zero_on_a_refused_file(tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes(template("accounts").encode("utf-16"))
    out = io.StringIO()
    with pytest.raises(CommandError, match="The file was refused; nothing was written."):
        call_command("import_csv", "accounts", str(path), "--partial", stdout=out)
    assert "UTF-16" in out.getvalue()


def test_a_missing_file_is_a_clear_error() -> None:
    with pytest.raises(
        CommandError, match="Cannot read /nonexistent/accounts.csv: No such file or directory"
    ):
        call_command("import_csv", "accounts", "/nonexistent/accounts.csv", stdout=io.StringIO())
