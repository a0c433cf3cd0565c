"""Account health: each component on hand-built data, scoring, bands, overrides, the
nightly snapshot (idempotent, declining, alerts once per entry into red) and risk ranking.

A worked example: the snapshots are of DAY (30 June 2026) and the two days after it. A day's
snapshot reads only what was known at its end, or now while it is not over; the clock is
pinned a week after DAY, when all of them are over, so the example reads the same whenever
the suite runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.mail import EmailMessage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assets.models import Account, Site
from contracts.models import AccountTask, HealthScore, ServiceContract
from fieldservice.models import StaffProfile
from retention import health_alerts
from retention.health import accounts_by_risk, health_compute, health_snapshots
from retention.health_scoring import Snapshot, band_of, component_score, risk_of
from retention.tasks import health_compute_nightly
from tests import factories
from tests.clock_pin import clock_at
from tickets.models import Survey, WorkOrder

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 6, 30)
AS_OF = dt.datetime(2026, 7, 1, tzinfo=TZ)  # the end of DAY
LONG_AGO = dt.datetime(2025, 1, 1, tzinfo=TZ)
CORRECTIVE, PREVENTIVE = WorkOrder.Kind.CORRECTIVE, WorkOrder.Kind.PREVENTIVE
CLOSED, NEW = WorkOrder.Status.CLOSED, WorkOrder.Status.NEW


_clock_a_week_after_day = clock_at(AS_OF + dt.timedelta(days=7, hours=9))


def ago(days: float, *, end: dt.datetime = AS_OF) -> dt.datetime:
    return end - dt.timedelta(days=days)


def customer(**fields: Any) -> Site:
    account = factories.account(created_at=LONG_AGO, **fields)
    return factories.site(account=account)


def order(site: Site, done: float = 8, **fields: Any) -> WorkOrder:
    """A work order with explicit times: by default a corrective one completed `done` days
    before the end of DAY, on time (opened 2 days before, on site half a day later)."""
    defaults: dict[str, Any] = {
        "kind": CORRECTIVE,
        "status": CLOSED,
        "priority": 3,
        "created_at": ago(done + 2),
        "sla_response_due": ago(done + 1),
        "responded_at": ago(done + 1.5),
        "sla_resolution_due": ago(done - 3),
        "completed_at": ago(done),
    }
    return factories.work_order(site=site, **{**defaults, **fields})


def snapshot(site: Site, day: dt.date = DAY) -> Snapshot:
    (found,) = [s for s in health_snapshots([day]) if s.account_id == site.account_id]
    return found


def component(site: Site, key: str) -> dict[str, Any]:
    by_key = {c["key"]: c for c in snapshot(site).components}
    return by_key[key]


# --- scoring --------------------------------------------------------------------------------


def test_component_scores_linearly_between_thresholds_and_clamps() -> None:
    higher = {"good": 0.85, "average": 0.70, "poor": 0.50}
    assert component_score(0.95, **higher) == 100
    assert component_score(0.85, **higher) == 100
    assert component_score(0.70, **higher) == pytest.approx(60)
    assert component_score(0.775, **higher) == pytest.approx(80)
    assert component_score(0.60, **higher) == pytest.approx(30)
    assert component_score(0.50, **higher) == 0
    assert component_score(0.10, **higher) == 0
    lower = {"good": 0.05, "average": 0.15, "poor": 0.30}  # breach rate: lower is better
    assert component_score(0.0, **lower) == 100
    assert component_score(0.10, **lower) == pytest.approx(80)
    assert component_score(0.15, **lower) == pytest.approx(60)
    assert component_score(0.225, **lower) == pytest.approx(30)
    assert component_score(0.5, **lower) == 0


def test_bands() -> None:
    assert [band_of(s) for s in (100, 76, 75, 51, 50, 0)] == [
        "green",
        "green",
        "yellow",
        "yellow",
        "red",
        "red",
    ]


# --- components -------------------------------------------------------------------------------


def test_sla_breach_rate_counts_reactive_work_completed_in_the_window_or_still_open() -> None:
    site = customer()
    for _ in range(6):
        order(site)  # on time
    order(site, responded_at=ago(8.9))  # on site after the response due time
    order(site, completed_at=ago(4))  # resolved after its due time
    order(site, status=NEW, responded_at=None, completed_at=None)  # open, both clocks run out
    order(
        site,
        kind=WorkOrder.Kind.INSPECTION,
        created_at=ago(2),
        sla_response_due=ago(-1),
        sla_resolution_due=ago(-3),
        responded_at=None,
        completed_at=None,
        status=NEW,
    )
    # Not counted: before the window, cancelled, planned work (PM compliance judges it).
    order(site, created_at=ago(120), completed_at=ago(100), responded_at=ago(119))
    order(site, status=WorkOrder.Status.CANCELLED, responded_at=None, completed_at=None)
    plan = factories.calendar_plan(equipment=factories.equipment(site=site))
    order(site, kind=PREVENTIVE, maintenance_plan=plan, pm_due_date=DAY, responded_at=ago(1))

    sla = component(site, "sla_breach_rate")
    assert sla["raw"] == pytest.approx(3 / 10, abs=1e-4)
    assert sla["work_orders"] == 10
    assert sla["score"] == 0
    assert sla["reason"]["en"].startswith("SLA breached on 30 % of work orders in 90 days (−")
    assert "违反 SLA" in sla["reason"]["zh-hans"]


def test_first_time_fix_rate_uses_repeats_known_at_the_date() -> None:
    site = customer()
    unit = factories.equipment(site=site)
    for _ in range(3):
        order(site, done=80, equipment=unit, first_time_fix=True)
    # Not fixed first time: a repeat repair of the unit was opened 3 days later.
    order(site, done=40, equipment=unit, first_time_fix=False)
    order(site, done=35, equipment=unit, first_time_fix=True)
    # Flagged later, but its repeat came after the snapshot's date: still a fix on that date.
    order(site, done=2, equipment=unit, first_time_fix=False)
    order(site, done=-5, equipment=unit, status=NEW, responded_at=None, completed_at=None)
    order(site, kind=PREVENTIVE, first_time_fix=None)  # not a repair

    ftf = component(site, "first_time_fix_rate")
    assert ftf["repairs"] == 6
    assert ftf["raw"] == pytest.approx(5 / 6, abs=1e-4)


def test_reliability_is_mtbf_against_the_fleet_of_the_same_model() -> None:
    model = factories.equipment_model()
    flaky, steady = customer(), customer()
    flaky_unit = factories.equipment(site=flaky, model=model)
    factories.equipment(site=steady, model=model)
    for days in (80, 50, 20):
        order(flaky, done=days, equipment=flaky_unit)
    # Another model's failures do not change this model's baseline.
    other = factories.equipment(site=customer(), model=factories.equipment_model())
    order(other.site, equipment=other)

    # Fleet: 3 failures in 2 units × 90 days; each unit is expected to fail 1.5 times.
    assert component(flaky, "reliability")["raw"] == pytest.approx((1.5 + 1) / (3 + 1), abs=1e-4)
    assert component(steady, "reliability")["raw"] == pytest.approx((1.5 + 1) / (0 + 1), abs=1e-4)
    assert component(steady, "reliability")["score"] == 100
    assert component(flaky, "reliability")["score"] == pytest.approx(3.8, abs=0.1)  # 0.625: near poor


def test_open_urgent_work_past_sla_and_the_p1_override() -> None:
    site = customer()
    order(
        site,
        priority=1,
        status=NEW,
        created_at=ago(4),
        sla_response_due=ago(50 / 24),
        sla_resolution_due=ago(50 / 24),
        responded_at=None,
        completed_at=None,
    )
    order(
        site,
        priority=2,
        status=WorkOrder.Status.DISPATCHED,
        created_at=ago(1),
        sla_response_due=ago(0.5),
        sla_resolution_due=ago(-1),
        responded_at=None,
        completed_at=None,
    )
    order(site, priority=3, status=NEW, sla_response_due=ago(9), responded_at=None, completed_at=None)
    order(site, priority=2, done=0.5)  # done: not open

    snap = snapshot(site)
    urgent = {c["key"]: c for c in snap.components}["open_urgent_past_sla"]
    assert urgent["raw"] == 2
    assert urgent["score"] == pytest.approx(40)  # 60 at 1, 0 at 4: 40 at 2
    assert [o["key"] for o in snap.overrides] == ["p1_past_sla", "breach_rate"]
    assert snap.overrides[0]["raw"] == 50
    assert snap.band == "red"


def test_sentiment_weights_surveys_by_age_with_the_half_life() -> None:
    site = customer()
    recent, older, nps_only = order(site), order(site), order(site)
    Survey.objects.create(work_order=recent, csat=5, submitted_at=AS_OF - dt.timedelta(seconds=1))
    Survey.objects.create(work_order=older, csat=1, submitted_at=ago(90))  # weighs half
    Survey.objects.create(work_order=nps_only, nps=0, submitted_at=ago(180))  # NPS 0 → 1, weighs 1/4
    Survey.objects.create(work_order=order(site), csat=1, submitted_at=ago(400))  # too old

    sentiment = component(site, "sentiment")
    assert sentiment["raw"] == pytest.approx((5 * 1 + 1 * 0.5 + 1 * 0.25) / 1.75, abs=1e-3)
    assert sentiment["surveys"] == 3


def test_sentiment_maps_nps_onto_the_csat_scale() -> None:
    site = customer()
    Survey.objects.create(work_order=order(site), nps=10, csat=3, submitted_at=ago(1))
    assert component(site, "sentiment")["raw"] == pytest.approx(4.0, abs=1e-4)  # (3 + 5) / 2


def test_pm_compliance_counts_planned_visits_done_by_their_latest_end() -> None:
    site = customer()
    plan = factories.calendar_plan(equipment=factories.equipment(site=site))
    due = iter(DAY - dt.timedelta(days=n) for n in range(5, 200, 5))

    def pm(**fields: Any) -> WorkOrder:
        day = next(due)
        return order(
            site,
            kind=PREVENTIVE,
            maintenance_plan=plan,
            pm_due_date=day,
            latest_end=dt.datetime.combine(day + dt.timedelta(days=8), dt.time(), TZ),
            **fields,
        )

    pm(completed_at=ago(4))  # due 5 days ago, done a day later: on time
    pm(completed_at=ago(12))  # due 10 days ago, done early in its window
    pm(completed_at=ago(1))  # due 15 days ago, done after its latest end (8 days ago)
    pm(status=NEW, responded_at=None, completed_at=None)  # due 20 days ago, never done
    order(site, kind=PREVENTIVE, maintenance_plan=plan, pm_due_date=DAY, status=NEW, responded_at=None,
          completed_at=None, latest_end=AS_OF + dt.timedelta(days=8))  # fmt: skip  # not late yet
    order(site, kind=PREVENTIVE, maintenance_plan=plan, pm_due_date=DAY - dt.timedelta(days=120),
          completed_at=ago(100))  # fmt: skip  # due before the window

    pm_component = component(site, "pm_compliance")
    assert (pm_component["planned"], pm_component["on_time"]) == (4, 2)
    assert pm_component["raw"] == pytest.approx(0.5, abs=1e-4)


def test_score_is_the_weighted_mean_over_components_with_data_only() -> None:
    site = customer()
    # One survey on old installation work: only sentiment (15) and open urgent (15) have data.
    old = order(site, done=300, kind=WorkOrder.Kind.INSTALLATION)
    Survey.objects.create(work_order=old, csat=3, submitted_at=AS_OF - dt.timedelta(seconds=1))

    snap = snapshot(site)
    by_key = {c["key"]: c for c in snap.components}
    assert set(by_key) == {"open_urgent_past_sla", "sentiment"}
    sentiment_score = 60 * (3 - 2.5) / (3.8 - 2.5)
    assert by_key["sentiment"]["score"] == pytest.approx(sentiment_score, abs=0.1)
    assert snap.score == round((100 + sentiment_score) / 2)
    assert sum(c["points_lost"] for c in snap.components) == pytest.approx(100 - snap.score, abs=0.6)
    assert by_key["sentiment"]["points_lost"] == pytest.approx((100 - sentiment_score) / 2, abs=0.1)
    assert snap.band == "yellow" and snap.overrides == []


def test_breach_rate_over_the_limit_forces_red_whatever_the_score() -> None:
    site = customer()
    unit = factories.equipment(site=site)
    for _ in range(7):
        order(site, equipment=unit, first_time_fix=True)
    for _ in range(3):
        order(site, done=4.5, equipment=unit, first_time_fix=True, sla_resolution_due=ago(5))
    snap = snapshot(site)
    assert {c["key"]: c["raw"] for c in snap.components}["sla_breach_rate"] == pytest.approx(0.3, abs=1e-4)
    assert [o["key"] for o in snap.overrides] == ["breach_rate"]
    assert snap.band == "red"


# --- the nightly snapshot ---------------------------------------------------------------------


def healthy(site: Site) -> None:
    for _ in range(10):
        order(site)


def test_compute_is_idempotent_for_a_date(account_manager: User) -> None:
    site = customer(account_manager=account_manager)
    healthy(site)
    order(
        site,
        priority=1,
        status=NEW,
        created_at=ago(4),
        sla_response_due=ago(3.9),
        sla_resolution_due=ago(3),
        responded_at=None,
        completed_at=None,
    )
    other = customer()
    assert health_compute(today=DAY) == 2
    first = list(
        HealthScore.objects.order_by("account_id").values("account_id", "score", "band", "components")
    )
    assert health_compute(today=DAY) == 2
    again = list(
        HealthScore.objects.order_by("account_id").values("account_id", "score", "band", "components")
    )
    assert again == first
    assert HealthScore.objects.filter(date=DAY).count() == 2
    assert AccountTask.objects.count() == 1
    assert HealthScore.objects.get(account_id=other.account_id).band == "green"


def test_declining_when_the_score_fell_15_points_in_30_days() -> None:
    falling, stable = customer(), customer()
    for site in (falling, stable):
        order(site, completed_at=ago(4))  # resolved late: breach rate 100 %, score 38
    HealthScore.objects.create(
        account_id=falling.account_id, date=DAY - dt.timedelta(days=30), score=95, band="green"
    )
    HealthScore.objects.create(account_id=stable.account_id, date=DAY - dt.timedelta(days=45), score=95,
                               band="green")  # fmt: skip  # older than 30 days: not compared
    health_compute(today=DAY)
    assert HealthScore.objects.get(account_id=falling.account_id, date=DAY).declining
    assert not HealthScore.objects.get(account_id=stable.account_id, date=DAY).declining


def _red_on(site: Site, day: dt.date) -> None:
    """A P1 open since the day before, 3 days past due at the end of `day`, fixed the next day."""
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), TZ)
    due = end - dt.timedelta(days=3)
    order(
        site,
        priority=1,
        created_at=end - dt.timedelta(days=1),
        sla_response_due=due,
        sla_resolution_due=due,
        responded_at=end + dt.timedelta(hours=2),
        completed_at=end + dt.timedelta(hours=3),
    )


def _run(days: list[dt.date], capture: Callable[..., Any]) -> list[str]:
    bands = []
    for day in days:
        with capture(execute=True):
            health_compute(today=day)
        bands.append(HealthScore.objects.get(date=day).band)
    return bands


def red_candidate(account_manager: User) -> Site:
    """A healthy account whose manager has an email address: `_red_on` turns it red."""
    account_manager.email = "manager@example.com"
    account_manager.save()
    site = customer(account_manager=account_manager)
    healthy(site)
    return site


def test_entering_red_alerts_the_account_manager_once(
    account_manager: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    site = red_candidate(account_manager)
    d1, d2 = DAY, DAY + dt.timedelta(days=1)
    _red_on(site, d1)
    _red_on(site, d2)

    assert _run([d1, d2], django_capture_on_commit_callbacks) == ["red", "red"]
    task = AccountTask.objects.get()
    assert (task.kind, task.owner, task.dedupe_key) == (
        "health_alert",
        account_manager,
        f"health-red:{site.account_id}:{d1}",
    )
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["manager@example.com"]
    assert mail.outbox[0].subject == f"Health alert: {site.account.name} is red"
    score = HealthScore.objects.get(date=d1).score
    assert f"{site.account.name}: health {score} (red) on {d1}." in mail.outbox[0].body
    assert task.title.startswith("Health turned red (")
    assert AccountTask.objects.get().emailed_at is not None


def test_the_alert_is_in_the_managers_language(
    account_manager: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    StaffProfile.objects.create(user=account_manager, language="zh-hans")
    site = red_candidate(account_manager)
    _red_on(site, DAY)

    assert _run([DAY], django_capture_on_commit_callbacks) == ["red"]
    assert mail.outbox[0].subject == f"账户健康度告警：{site.account.name} 已转为红色"
    assert "超出 SLA" in mail.outbox[0].body and "Health" not in mail.outbox[0].body
    assert AccountTask.objects.get().title.startswith("健康度转为红色（")


class BrokenMail(Exception):
    pass


def test_a_failed_alert_email_is_sent_by_the_next_run_and_never_twice(
    account_manager: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site = red_candidate(account_manager)
    d1, d2 = DAY, DAY + dt.timedelta(days=1)
    _red_on(site, d1)
    _red_on(site, d2)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise BrokenMail("SMTP down")

    with monkeypatch.context() as patched:
        patched.setattr(EmailMessage, "send", refuse)
        with pytest.raises(health_alerts.HealthAlertsFailed, match="SMTP down"):
            _run([d1], django_capture_on_commit_callbacks)
    # The snapshot and the task were committed; the email was not sent, and its claim given back.
    task = AccountTask.objects.get()
    assert (HealthScore.objects.get(date=d1).band, task.emailed_at, len(mail.outbox)) == ("red", None, 0)

    assert _run([d2], django_capture_on_commit_callbacks) == ["red"]  # still red: no new task
    assert len(mail.outbox) == 1 and AccountTask.objects.get().emailed_at is not None
    assert health_alerts.alerts_email() == 0  # claimed and sent: never again
    assert len(mail.outbox) == 1


def test_an_alert_claimed_by_another_run_is_left_to_it(account_manager: User) -> None:
    site = red_candidate(account_manager)
    _red_on(site, DAY)
    health_compute(today=DAY)  # the task, its email not sent yet (no commit in this test)
    task = AccountTask.objects.get()
    claimed = list(health_alerts._unsent())
    AccountTask.objects.filter(pk=task.pk).update(emailed_at=AS_OF)  # the other run's claim

    assert [health_alerts._send(t) for t in claimed] == [False]
    assert mail.outbox == []


def test_red_green_red_alerts_twice(
    account_manager: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    site = customer(account_manager=account_manager)
    healthy(site)
    d1, d2, d3 = DAY, DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=2)
    _red_on(site, d1)
    _red_on(site, d3)

    assert _run([d1, d2, d3], django_capture_on_commit_callbacks) == ["red", "green", "red"]
    keys = sorted(str(key) for key in AccountTask.objects.values_list("dedupe_key", flat=True))
    assert keys == [f"health-red:{site.account_id}:{d1}", f"health-red:{site.account_id}:{d3}"]
    # Recomputing the day of entry does not alert again.
    health_compute(today=d3)
    assert AccountTask.objects.count() == 2


def test_query_count_does_not_grow_with_the_number_of_accounts(account_manager: User) -> None:
    def build(count: int) -> int:
        for _ in range(count):
            site = customer(account_manager=account_manager)
            healthy(site)
            _red_on(site, DAY)
            Survey.objects.create(work_order=order(site), csat=4, submitted_at=ago(3))
        with CaptureQueriesContext(connection) as queries:
            health_compute(today=DAY)
        assert AccountTask.objects.filter(due_date=DAY).count() == Account.objects.count()
        return len(queries)

    few = build(3)
    HealthScore.objects.all().delete()
    AccountTask.objects.all().delete()
    many = build(9)  # 12 accounts now
    assert Account.objects.count() == 12
    assert many == few


def test_nightly_task_returns_the_number_of_snapshots() -> None:
    customer()
    customer()
    assert health_compute_nightly(today=DAY.isoformat()) == 2


# --- risk ----------------------------------------------------------------------------------------


def test_risk_weighs_missing_points_by_value_and_urgency() -> None:
    value = Decimal("100000")
    assert risk_of(60, value, 200) == Decimal("4000000.00")
    assert risk_of(60, value, 179) == Decimal("6000000.00")
    assert risk_of(60, value, 90) == Decimal("6000000.00")
    assert risk_of(60, value, 89) == Decimal("8000000.00")
    assert risk_of(60, value, None) == Decimal("4000000.00")
    assert risk_of(100, value, 10) == 0


def test_accounts_rank_by_risk_with_the_key_date_of_their_active_contracts() -> None:
    def ranked_account(score: int, value: str, end: dt.date, **contract: Any) -> Account:
        account = factories.account(annual_contract_value=Decimal(value), created_at=LONG_AGO)
        factories.contract(account=account, start_date=dt.date(2025, 1, 1), end_date=end, **contract)
        HealthScore.objects.create(account=account, date=DAY, score=score, band=band_of(score))
        return account

    soon = ranked_account(70, "100000", DAY + dt.timedelta(days=60))  # 30 × 100k × 2
    big = ranked_account(80, "400000", DAY + dt.timedelta(days=300))  # 20 × 400k × 1
    # Auto-renewing: the key date is the notice deadline, 150 days out → × 1.5.
    notice = ranked_account(50, "60000", DAY + dt.timedelta(days=240), auto_renew=True, notice_days=90)
    healthy_one = ranked_account(100, "900000", DAY + dt.timedelta(days=30))
    expired = ranked_account(40, "50000", DAY + dt.timedelta(days=10), status=ServiceContract.Status.EXPIRED)

    ranking = accounts_by_risk(today=DAY)
    assert [r.account_id for r in ranking] == [big.pk, soon.pk, notice.pk, expired.pk, healthy_one.pk]
    by_id = {r.account_id: r for r in ranking}
    assert by_id[notice.pk].key_date == DAY + dt.timedelta(days=150)
    assert by_id[notice.pk].risk == Decimal("4500000.00")
    assert by_id[expired.pk].key_date is None and by_id[expired.pk].risk == Decimal("3000000.00")


def test_snapshots_leave_out_accounts_created_after_the_date() -> None:
    customer()
    later = factories.site(account=factories.account(created_at=AS_OF + dt.timedelta(days=1)))
    assert later.account_id not in {s.account_id for s in health_snapshots([DAY])}
