"""Celery beat that fires the schedule only while it holds a lock in Redis.

A second `celery beat` (started by mistake, or kept on another host as a standby) must not
send every periodic task twice. Each beat process calls `tick()` in a loop; this scheduler's
tick first makes sure the process holds the lock `<BEAT_KEY_PREFIX>:lock`: a Redis key with
a TTL, taken with SET NX and renewed only by the process whose token it holds. The holder
renews it at least every third of the TTL (it never sleeps longer than that between ticks).
A beat that does not hold the lock sends nothing and tries again a third of a TTL later, so
when the holder dies its key expires and a standby takes over within about 1⅓ TTL; a beat
that stops cleanly (SIGTERM, SIGINT) releases the lock at once.

When each entry last ran is kept in Redis beside the lock (`<BEAT_KEY_PREFIX>:last-run`), not
in a local `celerybeat-schedule` file: a beat that takes over, on this host or another, goes
on from where the last one stopped instead of starting every daily entry's clock afresh.

The race that remains, by design: the holder renews the lock, then sends what is due. A
process frozen between the two for longer than the TTL (a paused VM, a swap storm) can send
one entry after a standby has taken over. Every periodic task is safe to run twice (a unique
key or a conditional update in the database decides), so that costs a second run, not a
second effect.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import redis
from celery.beat import ScheduleEntry, Scheduler
from django.conf import settings
from redis.exceptions import LockError, LockNotOwnedError, RedisError
from redis.lock import Lock

logger = logging.getLogger(__name__)


class LockedScheduler(Scheduler):
    """`celery.beat.Scheduler` that ticks only while it holds the beat lock."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.lock_ttl = float(settings.BEAT_LOCK_TTL_SECONDS)
        self.lock_key = f"{settings.BEAT_KEY_PREFIX}:lock"
        self.state_key = f"{settings.BEAT_KEY_PREFIX}:last-run"
        # A Redis that stops answering must not hold the loop past the TTL: by then another
        # beat may have the lock, and this one has to find out before it sends anything.
        timeout = min(5.0, self.lock_ttl / 3)
        self._redis = redis.Redis.from_url(
            settings.BEAT_REDIS_URL,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            decode_responses=True,
        )
        self._lock = Lock(self._redis, self.lock_key, timeout=self.lock_ttl, thread_local=False)
        self._holding = False
        self._standing_by = False
        super().__init__(*args, **kwargs)  # builds the schedule unless lazy; connects nothing
        self.max_interval: float = min(float(self.max_interval), self.lock_ttl / 3)

    # --- the lock ---------------------------------------------------------------------------

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self._hold_lock():
            return self.max_interval
        return super().tick(*args, **kwargs)

    def _hold_lock(self) -> bool:
        """Renew the lock if this beat holds it, else try to take it. True if held."""
        try:
            if self._holding:
                try:
                    self._lock.reacquire()
                    return True
                except LockNotOwnedError:
                    self._holding = False
                    logger.error(
                        "beat: lost the lock %s (it expired, or another beat holds it now); "
                        "sending nothing until it is this beat's again",
                        self.lock_key,
                    )
            if self._lock.acquire(blocking=False):
                # Held from here only once the state is loaded: if Redis fails in between, this
                # beat stands by until its own lock expires rather than send from stale times.
                self._load_state()
                self._holding = True
                self._standing_by = False
                logger.info("beat: holding the lock %s; this beat sends the schedule", self.lock_key)
                return True
        except RedisError as error:
            # Not holding a lock we cannot renew: stand by rather than risk a double run.
            logger.warning(
                "beat: Redis did not answer for the lock %s (%s); sending nothing", self.lock_key, error
            )
            return False
        if not self._standing_by:
            self._standing_by = True
            logger.info(
                "beat: another beat holds the lock %s; standing by (retrying every %.1f s)",
                self.lock_key,
                self.max_interval,
            )
        return False

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release()

    def _release(self) -> None:
        if not self._holding:
            return
        self._holding = False
        try:
            self._lock.release()
            logger.info("beat: released the lock %s", self.lock_key)
        except (LockError, RedisError) as error:  # LockNotOwnedError is a LockError
            logger.warning(
                "beat: could not release the lock %s (%s); it expires by itself", self.lock_key, error
            )

    # --- the schedule's state, shared by every beat -------------------------------------------

    def _load_state(self) -> None:
        """Take each entry's last run from Redis; record the ones Redis does not know yet."""
        stored: dict[str, str] = self._redis.hgetall(self.state_key)  # type: ignore[assignment]
        for name, entry in self.schedule.items():
            if name in stored:
                entry.last_run_at = dt.datetime.fromisoformat(stored[name])
            else:
                self._redis.hset(self.state_key, name, entry.last_run_at.isoformat())
        self._heap = None  # rebuilt from the loaded times on this tick

    def reserve(self, entry: ScheduleEntry) -> ScheduleEntry:
        new_entry = super().reserve(entry)
        try:
            self._redis.hset(self.state_key, entry.name, new_entry.last_run_at.isoformat())
        except RedisError as error:
            # The task is still sent; a beat taking over before the next write may send it again.
            logger.warning("beat: could not record the run of %s (%s)", entry.name, error)
        return new_entry

    @property
    def info(self) -> str:
        return f"    . lock -> {self.lock_key} (ttl {self.lock_ttl:g} s)"
