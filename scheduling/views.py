"""The dispatch board: a day and territory at a glance, optimizer runs, accepting a plan,
urgent insertion and manual moves. Rules live in the services and scheduling.board; these
views only parse the request, call them and render the answer."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from contracts.models import URGENT_MAX_PRIORITY
from fieldservice import clock, ranges, roles
from fieldservice.errors import DomainError
from fieldservice.web import role_required
from scheduling import board as board_selectors
from scheduling import insertion, moves, services
from scheduling.models import ScheduleRun, Technician, Territory
from scheduling.reasons import unplaced_text
from scheduling.selectors import horizon_origin, run_urgent_placed
from tickets.models import WorkOrder

planner_only = role_required(roles.DISPATCHER, roles.ADMIN)
# The board asks for a short run: the dispatcher waits for it (without a broker the POST
# itself runs the solver).
BOARD_TIME_LIMIT_S = 5
MAX_BOARD_TIME_LIMIT_S = 30
ALL = "all"
DAY_FIELD = ranges.date_field(input_formats=["%Y-%m-%d"])


def _day(value: str | None) -> dt.date:
    """The day asked for (YYYY-MM-DD, inside fieldservice.ranges), or today when none is.
    Raises ValidationError, in the reader's language, for a day that is not one: a board
    one day either side of 0001-01-01 or 9999-12-31 overflowed."""
    if not value:
        return clock.today()
    return DAY_FIELD.clean(value)


def _refused_status(request: HttpRequest) -> int:
    """What a request the view cannot read gets: 400, except that htmx swaps only a 2xx answer
    into the page, and there the refusal is the answer to show (as the services' refusals are)."""
    return 200 if _is_htmx(request) else 400


def _id(value: str | None) -> int | None:
    """A primary key from a form or query string, or None for anything else."""
    return int(value) if value and value.isascii() and value.isdecimal() else None


def _version(value: str | None, work_order: WorkOrder) -> int:
    """The version the dispatcher's board showed; the current one when the form sent none."""
    sent = _id(value)
    return work_order.version if sent is None else sent


def _territory(value: str | None, territories: list[Territory]) -> Territory | None:
    """The chosen territory; `all` means every one; by default the first, which keeps the
    board (and the optimizer run started from it) to one crew."""
    if value == ALL:
        return None
    chosen = _id(value)
    for territory in territories:
        if territory.pk == chosen:
            return territory
    return territories[0] if territories else None


def _board_url(day: dt.date, territory: Territory | None) -> str:
    query = {"day": day.isoformat(), "territory": territory.pk if territory else ALL}
    return f"{reverse('dispatch-board')}?{urlencode(query)}"


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@require_GET
@planner_only
def board(request: HttpRequest) -> HttpResponse:
    territories = list(Territory.objects.order_by("name"))
    status = 200
    try:
        day = _day(request.GET.get("day"))
    except ValidationError as refused:
        messages.error(
            request,
            _("The day asked for cannot be shown: %(reason)s Today is shown instead.")
            % {"reason": " ".join(refused.messages)},
        )
        day, status = clock.today(), 400
    territory = _territory(request.GET.get("territory"), territories)
    data = board_selectors.board_get(day=day, territory=territory)
    context: dict[str, Any] = {
        "board": data,
        "territories": territories,
        "territory_value": territory.pk if territory else ALL,
        "is_today": day == clock.today(),
        "prev_day": day - dt.timedelta(days=1),
        "next_day": day + dt.timedelta(days=1),
        "board_url": _board_url(day, territory),
        "urgent_count": sum(1 for item in data.queue if item.work_order.priority <= URGENT_MAX_PRIORITY),
        # Which jobs get an "Insert urgent" button; scheduling.insertion refuses the others.
        "urgent_max_priority": URGENT_MAX_PRIORITY,
        "day_range": (ranges.EARLIEST_DATE, ranges.LATEST_DATE),  # the picker offers no other
    }
    return render(request, "scheduling/board.html", context, status=status)


@require_POST
@planner_only
def run_create(request: HttpRequest) -> HttpResponse:
    territories = list(Territory.objects.order_by("name"))
    try:
        day = _day(request.POST.get("day"))
    except ValidationError as refused:
        context = {"message": " ".join(refused.messages)}
        return render(request, "scheduling/_run_error.html", context, status=_refused_status(request))
    territory = _territory(request.POST.get("territory"), territories)
    time_limit = _id(request.POST.get("time_limit_s")) or BOARD_TIME_LIMIT_S
    time_limit = min(max(time_limit, 1), MAX_BOARD_TIME_LIMIT_S)
    try:
        run = services.schedule_run_create(
            by=request.user,  # type: ignore[arg-type]
            first_day=day,
            territory=territory,
            time_limit_s=time_limit,
        )
    except DomainError as error:
        return render(request, "scheduling/_run_error.html", {"message": error.message})
    # Without a broker the run was solved on commit, before this line: re-read it.
    run.refresh_from_db()
    return _run_status(request, run, day=day, territory=territory)


@require_GET
@planner_only
def run_status(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(ScheduleRun.objects.select_related("territory"), pk=run_id)
    return _run_status(request, run, day=run.horizon_start, territory=run.territory)


KPI_KEYS = ("placed", "unplaced", "travel_km", "travel_minutes", "sla_at_risk", "utilisation")


def _kpi_rows(run: ScheduleRun) -> list[dict[str, Any]]:
    labels = {
        "placed": _("Placed"),
        "unplaced": _("Unplaced"),
        "travel_km": _("Travel (km)"),
        "travel_minutes": _("Travel (min)"),
        "sla_at_risk": _("SLA at risk"),
        "utilisation": _("Utilisation"),
    }
    before, after = run.kpis.get("before", {}), run.kpis.get("after", {})
    rows = []
    for key in KPI_KEYS:
        old, new = before.get(key), after.get(key)
        if key == "utilisation":
            old = f"{old * 100:.0f} %" if old is not None else "–"
            new = f"{new * 100:.0f} %" if new is not None else "–"
        rows.append({"key": key, "label": labels[key], "before": old, "after": new})
    return rows


def _run_status(
    request: HttpRequest, run: ScheduleRun, *, day: dt.date, territory: Territory | None
) -> HttpResponse:
    finished = run.status in (
        ScheduleRun.Status.SUCCEEDED,
        ScheduleRun.Status.FAILED,
        ScheduleRun.Status.ACCEPTED,
    )
    urgent = run_urgent_placed(run=run) if run.status == ScheduleRun.Status.SUCCEEDED else None
    context = {
        "run": run,
        "finished": finished,
        "kpi_rows": _kpi_rows(run) if run.kpis.get("after") else [],
        "board_url": _board_url(day, territory),
        "accept": run.kpis.get("accept"),
        # The accept service refuses such a plan without the confirmation; the form asks for it.
        "fewer_urgent": urgent if urgent is not None and urgent.fewer else None,
    }
    return render(request, "scheduling/_run_status.html", context)


@require_POST
@planner_only
def run_accept(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(ScheduleRun.objects.select_related("territory"), pk=run_id)
    try:
        result = services.schedule_run_accept(
            run=run,
            by=request.user,  # type: ignore[arg-type]
            confirm_fewer_urgent=request.POST.get("confirm_fewer_urgent") == "1",
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Plan accepted: %(applied)s jobs changed, %(unchanged)s unchanged.")
            % {"applied": result["applied"], "unchanged": result["unchanged"]},
        )
        for conflict in result["conflicts"]:
            messages.warning(
                request,
                _("%(number)s was left as it is: %(message)s")
                % {"number": conflict["number"], "message": conflict["message"]},
            )
    return _back_to_board(request, _board_url(run.horizon_start, run.territory))


def _back_to_board(request: HttpRequest, url: str) -> HttpResponse:
    if _is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


@require_POST
@planner_only
def insert(request: HttpRequest) -> HttpResponse:
    work_order = get_object_or_404(
        WorkOrder.objects.select_related("site"), pk=_id(request.POST.get("work_order"))
    )
    territories = list(Territory.objects.order_by("name"))
    try:
        day = _day(request.POST.get("day"))
    except ValidationError:
        day = clock.today()  # only where to go back to afterwards: the insertion is for today
    url = _board_url(day, _territory(request.POST.get("territory"), territories))
    try:
        result = insertion.schedule_insert(work_order=work_order, by=request.user)  # type: ignore[arg-type]
    except DomainError as error:
        messages.error(request, error.message)
        return _back_to_board(request, url)
    if result["placed"]:
        moved = result["moved"]
        messages.success(
            request,
            _("%(number)s inserted: %(technician)s, %(start)s–%(end)s; %(moved)s other job(s) moved.")
            % {
                "number": work_order.number,
                "technician": result["technician"],
                "start": f"{timezone.localtime(result['planned_start']):%H:%M}",
                "end": f"{timezone.localtime(result['planned_end']):%H:%M}",
                "moved": moved,
            },
        )
        if result["returned_to_queue"]:
            messages.warning(
                request,
                _("No room left for %(numbers)s: back in the unassigned queue.")
                % {"numbers": ", ".join(result["returned_to_queue"])},
            )
    else:
        messages.warning(
            request,
            _("%(number)s could not be placed today: %(message)s")
            % {"number": work_order.number, "message": unplaced_text(result["reason"], result["params"])},
        )
    return _back_to_board(request, url)


def _reassign_context(
    work_order: WorkOrder, day: dt.date, version: int, territory_value: str
) -> dict[str, Any]:
    territory = None
    if (territory_id := _id(territory_value)) is not None:
        territory = Territory.objects.filter(pk=territory_id).first()
    technicians = Technician.objects.filter(active=True, shifts__date=day).select_related("user")
    if territory is not None:
        technicians = technicians.filter(territory=territory)
    start = work_order.planned_start
    return {
        "work_order": work_order,
        "day": day,
        "version": version,
        "territory_value": territory_value,
        "technicians": technicians.order_by("employee_code"),
        "start_value": f"{timezone.localtime(start):%H:%M}" if start else "09:00",
        "current_technician": work_order.assigned_technician_id,
    }


def _reassign_response(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """The form as a fragment for htmx, as a page of its own without JavaScript."""
    template = "scheduling/_reassign.html" if _is_htmx(request) else "scheduling/reassign_page.html"
    return render(request, template, context, status=status)


@require_GET
@planner_only
def reassign_form(request: HttpRequest, work_order_id: int) -> HttpResponse:
    work_order = get_object_or_404(WorkOrder.objects.select_related("site"), pk=work_order_id)
    version = _version(request.GET.get("version"), work_order)
    try:
        day, errors = _day(request.GET.get("day")), []
    except ValidationError as refused:
        day, errors = clock.today(), refused.messages
    context = _reassign_context(work_order, day, version, request.GET.get("territory", ""))
    if errors:
        context["errors"] = errors
        return _reassign_response(request, context, status=_refused_status(request))
    return _reassign_response(request, context)


@require_POST
@planner_only
def reassign(request: HttpRequest, work_order_id: int) -> HttpResponse:
    work_order = get_object_or_404(WorkOrder.objects.select_related("site"), pk=work_order_id)
    territory_value = request.POST.get("territory", "")
    version = _version(request.POST.get("version"), work_order)
    try:
        day = _day(request.POST.get("day"))
    except ValidationError as refused:
        context = _reassign_context(work_order, clock.today(), version, territory_value)
        context["errors"] = refused.messages
        return _reassign_response(request, context, status=_refused_status(request))
    context = _reassign_context(work_order, day, version, territory_value)
    technician = (
        Technician.objects.select_related("user").filter(pk=_id(request.POST.get("technician")) or 0).first()
    )
    try:
        start_clock = dt.time.fromisoformat(request.POST.get("start", ""))
    except ValueError:
        start_clock = None
    if technician is None or start_clock is None:
        context["errors"] = [_("Choose a technician and a start time.")]
        return _reassign_response(request, context)
    planned_start = dt.datetime.combine(day, start_clock, horizon_origin(day).tzinfo)
    duration = dt.timedelta(minutes=work_order.estimated_minutes)
    if work_order.planned_start and work_order.planned_end:
        planned = work_order.planned_end - work_order.planned_start
        # A planned end stored out of the range (9999-12-31) is no guide to the job's length.
        if planned <= dt.timedelta(minutes=ranges.MAX_MINUTES):
            duration = planned
    context["start_value"] = f"{start_clock:%H:%M}"
    context["chosen"] = technician.pk
    try:
        warnings = moves.work_order_reassign(
            work_order=work_order,
            technician=technician,
            planned_start=planned_start,
            planned_end=planned_start + duration,
            by=request.user,  # type: ignore[arg-type]
            version=version,
        )
    except DomainError as error:
        refusals = error.details if isinstance(error.details, list) else [error.message]
        context["errors"] = refusals
        context["conflict"] = error.code == "version_conflict"
        return _reassign_response(request, context)
    messages.success(
        request,
        _("%(number)s moved to %(technician)s at %(start)s.")
        % {"number": work_order.number, "technician": technician, "start": f"{start_clock:%H:%M}"},
    )
    for warning in warnings:
        messages.warning(request, f"{work_order.number}: {warning}")
    territories = list(Territory.objects.order_by("name"))
    return _back_to_board(request, _board_url(day, _territory(territory_value, territories)))
