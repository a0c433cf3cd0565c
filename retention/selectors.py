"""The account manager's reads: renewal candidates and milestones, the service summary of a
quote, health history, who is told, and what each account manager may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import (
    Case,
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    When,
)
from django.utils import timezone

from assets import visibility
from contracts.models import AccountTask, HealthScore, RenewalOpportunity, RenewalReminder, ServiceContract
from fieldservice import roles
from tickets.models import WorkOrder
from tickets.sla_breach import breached_q

# --- renewals and quotes -------------------------------------------------------------------------


def renewal_key_date_expression() -> Case:
    """The key date in SQL: the end date, or for an auto-renewing contract its notice
    deadline (end date − notice days; date − integer is a date in PostgreSQL)."""
    return renewal_key_date_expression_for("")


def renewal_key_date_expression_for(prefix: str) -> Case:
    """The same, for a query that reaches the contract through `prefix` (e.g. "contract__")."""
    return Case(
        When(
            **{f"{prefix}auto_renew": True},
            then=ExpressionWrapper(
                F(f"{prefix}end_date") - F(f"{prefix}notice_days"), output_field=DateField()
            ),
        ),
        default=F(f"{prefix}end_date"),
        output_field=DateField(),
    )


def renewal_candidates(*, today: dt.date, first_milestone_days: int) -> QuerySet[ServiceContract]:
    """Active contracts whose first renewal milestone has come due and whose last (T0) has
    not happened yet: the only ones the daily renewal run needs to look at. The filter on
    status and end date can use contract_status_end_idx."""
    horizon = today + dt.timedelta(days=first_milestone_days)
    return (
        ServiceContract.objects.filter(status=ServiceContract.Status.ACTIVE, end_date__lte=horizon)
        .annotate(key_date=renewal_key_date_expression())
        .filter(key_date__lte=horizon)
        .exclude(reminders__milestone=RenewalReminder.Milestone.T0)
        .select_related("account__account_manager__profile")
        .prefetch_related("reminders")
        .order_by("end_date", "pk")
    )


def health_latest(*, account_id: int, on: dt.date) -> HealthScore | None:
    """The account's latest health snapshot on or before this date (health_score_one_per_day
    makes the date unique per account)."""
    return HealthScore.objects.filter(account_id=account_id, date__lte=on).order_by("-date").first()


@dataclass(frozen=True)
class ServiceSummary:
    """An account's service record over a period, as the renewal quote shows it."""

    start: dt.date
    end: dt.date
    visits: int
    pm_planned: int
    pm_completed: int
    sla_measured: int
    sla_met: int
    ftf_measured: int
    ftf_fixed: int
    downtime: dt.timedelta

    @staticmethod
    def _share(part: int, whole: int) -> Decimal | None:
        return (Decimal(100) * part / whole).quantize(Decimal("0.1")) if whole else None

    @property
    def sla_compliance_percent(self) -> Decimal | None:
        return self._share(self.sla_met, self.sla_measured)

    @property
    def first_time_fix_percent(self) -> Decimal | None:
        return self._share(self.ftf_fixed, self.ftf_measured)

    @property
    def downtime_hours(self) -> Decimal:
        return (Decimal(self.downtime.total_seconds()) / 3600).quantize(Decimal("0.1"))


def account_service_summary(*, account_id: int, start: dt.date, end: dt.date) -> ServiceSummary:
    """The account's service from `start` up to (not including) `end`, in one query.

    * visits: work orders completed or closed, by completion time;
    * PM: preventive work orders whose due date falls in the period (planned), and those of
      them completed or closed (completed);
    * SLA: completed corrective and emergency work with a resolution target, met when it was
      resolved by that target and (if it had a response target) responded to by that one;
    * first-time fix: among completed work that has the flag, the share flagged fixed;
    * downtime, approximate: for completed corrective and emergency work on a piece of
      equipment, the elapsed time from the call (created_at) to completion, nights and
      weekends included. Equipment status history is not kept, so this stands in for
      "time the equipment was down"; two overlapping calls on one unit count twice.

    Times are compared at local midnight of the project's time zone.
    """
    zone = timezone.get_current_timezone()
    since = dt.datetime.combine(start, dt.time.min, tzinfo=zone)
    until = dt.datetime.combine(end, dt.time.min, tzinfo=zone)
    done = Q(status__in=WorkOrder.DONE_STATUSES)
    completed = done & Q(completed_at__gte=since, completed_at__lt=until)
    reactive = completed & Q(kind__in=(WorkOrder.Kind.CORRECTIVE, WorkOrder.Kind.EMERGENCY))
    measured = reactive & Q(sla_resolution_due__isnull=False)
    pm = Q(kind=WorkOrder.Kind.PREVENTIVE, pm_due_date__gte=start, pm_due_date__lt=end)
    totals = WorkOrder.objects.filter(account_id=account_id).aggregate(
        visits=Count("pk", filter=completed),
        pm_planned=Count("pk", filter=pm),
        pm_completed=Count("pk", filter=pm & done),
        sla_measured=Count("pk", filter=measured),
        sla_met=Count("pk", filter=measured & ~breached_q(as_of=None)),
        ftf_measured=Count("pk", filter=completed & Q(first_time_fix__isnull=False)),
        ftf_fixed=Count("pk", filter=completed & Q(first_time_fix=True)),
        downtime=Sum(
            ExpressionWrapper(F("completed_at") - F("created_at"), output_field=DurationField()),
            filter=reactive & Q(equipment__isnull=False),
        ),
    )
    return ServiceSummary(
        start=start,
        end=end,
        visits=totals["visits"],
        pm_planned=totals["pm_planned"],
        pm_completed=totals["pm_completed"],
        sla_measured=totals["sla_measured"],
        sla_met=totals["sla_met"],
        ftf_measured=totals["ftf_measured"],
        ftf_fixed=totals["ftf_fixed"],
        downtime=totals["downtime"] or dt.timedelta(0),
    )


def milestone_schedule() -> list[tuple[str, int]]:
    """(milestone, days before the key date), earliest first, from RENEWAL_MILESTONE_DAYS."""
    days = settings.RENEWAL_MILESTONE_DAYS
    milestones = RenewalReminder.Milestone.values
    missing = set(milestones) - set(days)
    if missing:
        raise ValueError(f"RENEWAL_MILESTONE_DAYS lacks {sorted(missing)}")
    return sorted(((m, int(days[m])) for m in milestones), key=lambda item: -item[1])


def key_date(contract: ServiceContract) -> dt.date:
    """The renewal key date (Python twin of renewal_key_date_expression)."""
    if contract.auto_renew:
        return contract.end_date - dt.timedelta(days=contract.notice_days)
    return contract.end_date


def milestone_due_dates(contract: ServiceContract) -> list[tuple[str, dt.date]]:
    """Each renewal milestone with its due date, in the order they happen. T0 is due the
    day after the key date (see retention.renewals)."""
    key = key_date(contract)
    after_key: dict[str, dt.timedelta] = {RenewalReminder.Milestone.T0: dt.timedelta(days=1)}
    return [
        (milestone, key - dt.timedelta(days=days) + after_key.get(milestone, dt.timedelta()))
        for milestone, days in milestone_schedule()
    ]


# --- what an account manager may see -------------------------------------------------------------


def opportunities_visible_to(user: User | AnonymousUser) -> QuerySet[RenewalOpportunity]:
    return RenewalOpportunity.objects.filter(contract__account__in=visibility.accounts_visible_to(user))


def tasks_visible_to(user: User | AnonymousUser) -> QuerySet[AccountTask]:
    """My tasks; admins also see the tasks of accounts without a manager."""
    mine = Q(owner=user)
    if roles.ADMIN in roles.user_roles(user):
        mine |= Q(owner__isnull=True)
    return AccountTask.objects.filter(mine, account__in=visibility.accounts_visible_to(user))
