"""How long the service report PDF takes to render.

    DEBUG=1 .venv/bin/python bench/service_report.py --count 100 [--output report.pdf]

Builds one realistic completed work order (Chinese customer, contract, checklist, parts,
four 12-megapixel phone photos, a signature) through the lifecycle and on-site record
services, as the app's uploads are stored, inside a transaction that is rolled back at the
end, and deletes the files it stored. `--raw-photos` stores the photos as they came instead,
as uploads were stored before issue 14. Prints the WeasyPrint import time separately (a
worker pays it once), the first render (fonts and templates load), then `--count` renders
in a row.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import logging
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldservice.settings")

import django

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.contrib.gis.geos import Point  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.core.files.storage import default_storage  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from PIL import Image  # noqa: E402

from assets.models import Account, Contact, Equipment, EquipmentModel, Site  # noqa: E402
from contracts.models import ContractSLATerm, CoveredEquipment, ServiceContract  # noqa: E402
from fieldservice import clock, roles  # noqa: E402
from tickets import creation, lifecycle, site_visit  # noqa: E402
from tickets.models import Attachment, ChecklistItem, PartUsage, Signature, WorkOrder  # noqa: E402
from tickets.records import files  # noqa: E402

CHECKS = [
    ("Inlet filter condition 进气滤芯状态", "pass_fail", ""),
    ("Oil level 油位", "pass_fail", ""),
    ("Discharge temperature 排气温度", "value", "°C"),
    ("Discharge pressure 排气压力", "value", "bar"),
    ("Belt tension 皮带张力", "pass_fail", ""),
    ("Condensate drain 冷凝水排放", "pass_fail", ""),
    ("Leak check 泄漏检查", "pass_fail", ""),
    ("Notes 备注", "text", ""),
]
PARTS = [
    ("AC-1622-0654-01", "Thermostatic valve kit 温控阀组件", "1", "1850.00"),
    ("AC-2901-0341-00", "Oil filter 油滤", "2", "236.50"),
    ("AC-2901-0521-00", "Roto-Xtend fluid 5 L 润滑油", "1.5", "980.00"),
]


def _photo() -> bytes:
    """A 12-megapixel phone-camera-sized JPEG (~1.8 MB): gradients with sensor-like noise."""
    size = (4032, 3024)
    channels = [
        Image.linear_gradient("L").resize(size),
        Image.radial_gradient("L").resize(size),
        Image.linear_gradient("L").rotate(90).resize(size),
    ]
    scene = Image.blend(Image.merge("RGB", channels), Image.effect_noise(size, 12).convert("RGB"), 0.25)
    out = io.BytesIO()
    scene.save(out, format="JPEG", quality=90)
    return out.getvalue()


def _signature() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (600, 180), (255, 255, 255, 0)).save(out, format="PNG")
    return out.getvalue()


def build_completed_work_order(stored: list[str], *, raw_photos: bool = False) -> WorkOrder:
    # Yesterday 09:00 in the company's zone: the visit is over, and no time is in the future.
    now = (clock.local_now() - dt.timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    stamp = time.time_ns()
    technician = User.objects.create_user(username=f"bench-tech-{stamp}", first_name="Jun", last_name="Chen")
    technician.groups.add(Group.objects.get(name=roles.TECHNICIAN))
    account = Account.objects.create(
        name="苏州精密电子有限公司", industry=Account.Industry.ELECTRONICS_ASSEMBLY
    )
    site = Site.objects.create(
        account=account,
        name="二号厂房",
        address="苏州工业园区星湖街328号",
        city="苏州",
        location=Point(120.72, 31.32, srid=4326),
    )
    Contact.objects.create(account=account, site=site, name="王伟", email="wang@example.cn", is_primary=True)
    model = EquipmentModel.objects.create(
        manufacturer="Atlas Copco",
        model_number=f"GA37VSD-{stamp}",
        name="Rotary screw compressor",
        category=EquipmentModel.Category.COMPRESSOR,
        required_skill="compressor",
    )
    unit = Equipment.objects.create(
        site=site, equipment_model=model, manufacturer=model.manufacturer, serial_number=f"API{stamp}"
    )
    contract = ServiceContract.objects.create(
        number=f"SC-BENCH-{stamp}",
        account=account,
        start_date=now.date() - dt.timedelta(days=180),
        end_date=now.date() + dt.timedelta(days=180),
        annual_value=Decimal("100000.00"),
        status=ServiceContract.Status.ACTIVE,
    )
    for priority, (response, resolution) in {1: (4, 24), 2: (8, 48), 3: (24, 120), 4: (72, 240)}.items():
        ContractSLATerm.objects.create(
            contract=contract, priority=priority, response_hours=response, resolution_hours=resolution
        )
    CoveredEquipment.objects.create(contract=contract, equipment=unit)

    job = creation.work_order_create(
        site=site,
        kind=WorkOrder.Kind.CORRECTIVE,
        title="Compressor trips on high temperature 高温停机",
        by=None,
        priority=2,
        equipment=unit,
        at=now,
        checklist=[{"label": label, "kind": kind, "unit": unit_} for label, kind, unit_ in CHECKS],
    )
    job = lifecycle.work_order_schedule(
        work_order=job,
        technician=technician,
        planned_start=now + dt.timedelta(hours=2),
        planned_end=now + dt.timedelta(hours=4),
        by=None,
        version=job.version,
        at=now,
    )
    for step, minutes in (
        (lifecycle.work_order_dispatch, 5),
        (site_visit.work_order_start_travel, 60),
        (site_visit.work_order_arrive, 110),
        (site_visit.work_order_start_work, 120),
    ):
        job = step(work_order=job, by=technician, version=job.version, at=now + dt.timedelta(minutes=minutes))
    for item in ChecklistItem.objects.filter(work_order=job):
        item.result = ChecklistItem.Result.PASS if item.kind != ChecklistItem.Kind.TEXT else ""
        item.value = Decimal("82.5") if item.kind == ChecklistItem.Kind.VALUE else None
        item.text = "运行 30 分钟，无异常。" if item.kind == ChecklistItem.Kind.TEXT else ""
        item.answered_at = now + dt.timedelta(minutes=140)
        item.save()
    for number, description, quantity, cost in PARTS:
        PartUsage.objects.create(
            work_order=job,
            part_number=number,
            description=description,
            quantity=Decimal(quantity),
            unit_cost=Decimal(cost),
            recorded_at=now + dt.timedelta(minutes=150),
        )
    data = _photo()
    for n in range(4):
        taken = now + dt.timedelta(minutes=160 + n)
        if raw_photos:
            name = default_storage.save(f"bench/photo-{stamp}-{n}.jpg", ContentFile(data))
            Attachment.objects.create(
                work_order=job,
                kind=Attachment.Kind.PHOTO,
                file=name,
                content_type="image/jpeg",
                size_bytes=len(data),
                sha256="0" * 64,
                caption=f"照片 {n + 1}",
                uploaded_at=taken,
            )
        else:
            upload = SimpleUploadedFile(f"IMG_{n:04d}.JPG", data, content_type="image/jpeg")
            name = files.attachment_add(
                work_order=job, upload=upload, caption=f"照片 {n + 1}", by=technician, at=taken
            ).file.name
        stored.append(name)
    if raw_photos:
        signature = default_storage.save(f"bench/signature-{stamp}.png", ContentFile(_signature()))
        Signature.objects.create(
            work_order=job, image=signature, signer_name="李娜", signed_at=now + dt.timedelta(minutes=175)
        )
    else:
        signature = files.signature_capture(
            work_order=job,
            png=_signature(),
            signer_name="李娜",
            by=technician,
            at=now + dt.timedelta(minutes=175),
        ).image.name
    stored.append(signature)
    return site_visit.work_order_complete(
        work_order=job,
        by=technician,
        version=job.version,
        at=now + dt.timedelta(minutes=180),
        resolution="Replaced the thermostatic valve and oil filters; ran 30 minutes under load at 82 °C.\n"
        "已更换温控阀和油滤，带载运行 30 分钟，排气温度 82 °C。",
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=100, help="renders in a row after the first (100)")
    parser.add_argument("--language", default="zh-hans", choices=["en", "zh-hans"])
    parser.add_argument("--output", type=Path, help="also write the rendered PDF here")
    parser.add_argument(
        "--raw-photos",
        action="store_true",
        help="store the photos as uploaded (before issue 14), not re-encoded",
    )
    args = parser.parse_args()
    # WeasyPrint logs eight INFO lines per document; keep the output readable.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

    already = "weasyprint" in sys.modules
    started = time.perf_counter()
    import weasyprint

    from tickets.pdf import render_service_report

    import_s = time.perf_counter() - started
    stored: list[str] = []
    try:
        with transaction.atomic():
            work_order = build_completed_work_order(stored, raw_photos=args.raw_photos)
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                pdf = render_service_report(work_order, language=args.language)
            first_s = time.perf_counter() - started
            times, cpu_times = [], []
            for _ in range(args.count):
                started, cpu_started = time.perf_counter(), time.process_time()
                render_service_report(work_order, language=args.language)
                times.append(time.perf_counter() - started)
                cpu_times.append(time.process_time() - cpu_started)
            transaction.set_rollback(True)
    finally:
        for name in stored:
            default_storage.delete(name)
    if args.output:
        args.output.write_bytes(pdf)

    print(
        f"weasyprint {weasyprint.__version__}; import + tickets.pdf: {import_s:.3f} s"
        + (" (already imported by django.setup)" if already else "")
    )
    print(f"report: {work_order.number}, {len(pdf) / 1024:.0f} kB, {len(queries)} queries per render")
    print(f"first render:          {first_s:.3f} s")
    if times:
        total = sum(times)
        print(f"{args.count} renders in a row: {total:.2f} s total")
        print(
            f"per render: mean {statistics.mean(times):.3f} s, median {statistics.median(times):.3f} s, "
            f"min {min(times):.3f} s, max {max(times):.3f} s"
        )
        # CPU time is this process's own: steadier than the wall clock on a shared machine.
        cpu_mean, cpu_median = statistics.mean(cpu_times), statistics.median(cpu_times)
        print(f"CPU per render: mean {cpu_mean:.3f} s, median {cpu_median:.3f} s")


if __name__ == "__main__":
    main()
