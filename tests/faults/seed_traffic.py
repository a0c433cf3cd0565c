"""Seed the database named by DATABASE_URL for the PostgreSQL restart test and print, as
JSON, what the test needs: per technician a mobile token and one dispatched job, and a
dispatcher's login for the web pages.

Run as `python -m tests.faults.seed_traffic N` (a separate process: the test's own Django is
bound to pytest's database, this one to the private cluster)."""

from __future__ import annotations

import json
import sys

import django


def main(technicians: int) -> dict[str, object]:
    import datetime as dt

    from django.contrib.auth.models import Group, User

    from fieldservice import clock, roles
    from fieldservice.models import ApiToken
    from fieldservice.tokens import token_issue
    from tests import factories
    from tickets import creation, lifecycle

    dispatcher = factories.user(username="dispatcher", role=roles.DISPATCHER)  # password "demo"
    technician_group = Group.objects.get(name=roles.TECHNICIAN)
    start = clock.now().replace(microsecond=0)
    seeded = []
    for n in range(technicians):
        # No password (hashing one costs 0.3 s): the app's token is issued directly.
        person = User.objects.create(username=f"tech{n:02d}")
        person.groups.add(technician_group)
        factories.technician(person=person)
        unit = factories.equipment()
        job = creation.work_order_create(
            site=unit.site, equipment=unit, kind="corrective", title="Compressor trips", by=dispatcher
        )
        job = lifecycle.work_order_schedule(
            work_order=job,
            technician=person,
            planned_start=start,
            planned_end=start + dt.timedelta(hours=1),
            by=dispatcher,
            version=job.version,
        )
        job = lifecycle.work_order_dispatch(work_order=job, by=dispatcher, version=job.version)
        token, _ = token_issue(user=person, kind=ApiToken.Kind.MOBILE, name="fault test")
        seeded.append({"user_id": person.pk, "token": token, "job_id": job.pk, "version": job.version})
    return {"technicians": seeded, "dispatcher": {"username": "dispatcher", "password": "demo"}}


if __name__ == "__main__":
    django.setup()
    print(json.dumps(main(int(sys.argv[1]))))
