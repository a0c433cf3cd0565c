"""Jobs as the app receives them, as plain JSON-able dicts (stored for idempotent replays)."""

from __future__ import annotations

from typing import Any

from mobile_api.steps import next_steps
from tickets.models import WorkOrder
from tickets.site_visit import completion_missing


def job_dict(job: WorkOrder) -> dict[str, Any]:
    """Expects a job loaded by mobile_api.selectors (its relations are prefetched)."""
    site = job.site
    contacts = getattr(site, "contact_list", [])
    equipment = job.equipment
    signature = getattr(job, "signature", None)
    report = getattr(job, "service_report", None)
    return {
        "id": job.pk,
        "number": job.number,
        "title": job.title,
        "description": job.description,
        "kind": job.kind,
        "priority": job.priority,
        "status": job.status,
        "version": job.version,
        "next_steps": next_steps(job.status),
        "planned_start": job.planned_start,
        "planned_end": job.planned_end,
        "earliest_start": job.earliest_start,
        "latest_end": job.latest_end,
        "sla_response_due": job.sla_response_due,
        "sla_resolution_due": job.sla_resolution_due,
        "estimated_minutes": job.estimated_minutes,
        "account_name": job.account.name,
        "site": {
            "id": site.pk,
            "name": site.name,
            "address": site.address,
            "city": site.city,
            "lat": site.location.y,
            "lon": site.location.x,
            "time_zone": site.time_zone,
            "access_opens": site.access_opens.strftime("%H:%M"),
            "access_closes": site.access_closes.strftime("%H:%M"),
            "access_weekdays": site.access_weekdays,
            "access_notes": site.access_notes,
        },
        "contact": (
            {"name": c.name, "title": c.title, "phone": c.phone, "email": c.email}
            if (c := next(iter(contacts), None))
            else None
        ),
        "equipment": None
        if equipment is None
        else {
            "id": equipment.pk,
            "serial_number": equipment.serial_number,
            "asset_tag": equipment.asset_tag,
            "manufacturer": equipment.equipment_model.manufacturer,
            "model_number": equipment.equipment_model.model_number,
            "model_name": equipment.equipment_model.name,
            "status": equipment.status,
            "last_visits": [
                {
                    "id": visit.pk,
                    "number": visit.number,
                    "kind": visit.kind,
                    "completed_at": visit.completed_at,
                    "resolution": visit.resolution,
                    "technician": visit.assigned_technician.get_full_name()
                    or visit.assigned_technician.username
                    if visit.assigned_technician
                    else None,
                }
                for visit in getattr(equipment, "last_visits", [])
            ],
            "last_meter_readings": [
                {"kind": reading.kind, "value": reading.value, "read_at": reading.read_at}
                for reading in getattr(equipment, "last_meter_readings", [])
            ],
        },
        "checklist": [
            {
                "position": item.position,
                "label": item.label,
                "kind": item.kind,
                "unit": item.unit,
                "required": item.required,
                "result": item.result,
                "value": item.value,
                "text": item.text,
            }
            for item in job.checklist.all()
        ],
        "parts": [
            {
                "part_number": part.part_number,
                "description": part.description,
                "quantity": part.quantity,
                "unit_cost": part.unit_cost,
                "currency": part.currency,
            }
            for part in job.parts.all()
        ],
        "attachments": [
            {
                "id": a.pk,
                "kind": a.kind,
                "content_type": a.content_type,
                "size_bytes": a.size_bytes,
                "caption": a.caption,
            }
            for a in job.attachments.all()
        ],
        "requires_signature": bool(job.contract and job.contract.requires_signature),
        "signed_by": signature.signer_name if signature else None,
        # The app decides from this what a queued completion waits for, and what to ask for
        # before completing: the server's own rule, not a copy of it.
        "completion_needs": [
            gap["field"]
            for gap in completion_missing(job, resolution=job.resolution)
            if gap["field"] != "resolution"
        ],
        "resolution": job.resolution,
        "report_url": f"/api/mobile/v1/jobs/{job.pk}/report.pdf" if report else None,
    }
