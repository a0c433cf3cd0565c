#!/usr/bin/env bash
# Do this checkout's migrations keep every row of a database seeded on an older commit?
# (A check, not a test: nothing runs it automatically.)
#
#     bench/migration_rowcounts.sh                      # base e5e56fa^, the main before the refactoring
#     bench/migration_rowcounts.sh --base main~5 --scale demo --now 2027-12-31T23:50:00+08:00
#
# What it does, from a shell anywhere (the checkout is found from this file's path):
#   1. `git worktree add --detach` of the base revision in a temporary directory;
#   2. a new, uniquely named PostgreSQL database `fieldservice_migcheck_<time>_<pid>` with
#      PostGIS (as `make database` makes `fieldservice`); every manage.py below runs with
#      DATABASE_URL=postgres:///<that name> and DEBUG=1, so neither checkout reads a `.env`;
#   3. in the base worktree, with this checkout's virtualenv (.venv/bin/python): `migrate`, then
#      what `make demo` writes to the database: `seed_demo --seed 1 --scale small`, tomorrow's
#      plan (`solve_day --date tomorrow --time-limit 2`), twelve months of account health
#      (`compute_health --history-months 12`) and today's renewal milestones (`run_renewals`);
#   4. the exact row count (`count(*)`) of every table in the public schema;
#   5. in this checkout, its working tree as it stands (uncommitted changes included), `migrate`
#      against the same database, and the counts again (--head REV: in a worktree of REV instead,
#      for a committed head while the working tree is mid-edit);
#   6. drops the database and removes the worktree(s) when it ends, failed or interrupted.
#
# Every manage.py runs with the business clock (fieldservice/clock.py, which reads the machine's
# time) pinned by time-machine to one instant, as tests/pinned_process.py does for the tests: the
# same instant for the base's seeding and the head's migrations, so seed_demo seeds the same
# world on every run (the solver's plan may vary, as it stops at its time limit; the check
# compares one database before and after, so that does not matter). The instant is --now, else
# $FIELDSERVICE_TEST_NOW (the suite's pin), else 2027-03-10T10:30:00+08:00 (a Wednesday
# morning: today's jobs partly done).
# The commands also get their own cache key prefix (the Redis cache is shared with the
# developer's demo), an in-process Celery, and mail and media under the temporary directory.
#
# Options:
#   --base REV            the revision to seed on (default e5e56fa^)
#   --head REV            migrate a worktree of REV (default: this checkout's working tree)
#   --now ISO             the pinned instant, with its offset
#   --scale small|demo|large, --seed N    seed_demo's (default small, 1; small takes seconds)
#   --solver-seconds N    solve_day's time limit (default 2)
#   --seed-only           only migrate and seed_demo on the base (no plan, health, renewals)
#   --strict              no table may grow, the migration bookkeeping included (see below)
# Environment: PY, the Python to run manage.py with (default: this checkout's .venv/bin/python).
#
# What it prints: the steps with their times (a step's output is printed only if it fails: its
# last 40 lines), the migrations the head applied, then one line per table:
#     table   before   after   status
# status is blank when the count is the same, CHANGED, GONE (the table is no longer there),
# NEW (a table the head created; "NEW (with rows)" if a migration filled it: reported, not a
# failure), or "grew (bookkeeping)" for django_migrations, django_content_type and
# auth_permission, which gain a row for every migration and every new model's content type and
# permissions (with --strict they count as CHANGED). Then a summary line.
#
# Exit status: 0 every table kept its count; 1 a table's count changed or a table disappeared;
# 2 the check could not run (a step failed; see the log printed above it).

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=${PY:-$ROOT/.venv/bin/python}
BASE='e5e56fa^'
HEAD_REV=
NOW=${FIELDSERVICE_TEST_NOW:-2027-03-10T10:30:00+08:00}
SCALE=small
SEED=1
SOLVER_SECONDS=2
EXTRAS=1
STRICT=0

usage() { sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

while (($#)); do
    case $1 in
        --base) BASE=$2; shift 2 ;;
        --head) HEAD_REV=$2; shift 2 ;;
        --now) NOW=$2; shift 2 ;;
        --scale) SCALE=$2; shift 2 ;;
        --seed) SEED=$2; shift 2 ;;
        --solver-seconds) SOLVER_SECONDS=$2; shift 2 ;;
        --seed-only) EXTRAS=0; shift ;;
        --strict) STRICT=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done

[[ -x $PY ]] || { echo "no virtualenv Python at $PY (make venv)" >&2; exit 2; }
BASE_SHA=$(git -C "$ROOT" rev-parse --verify --quiet "$BASE^{commit}") \
    || { echo "not a revision: $BASE" >&2; exit 2; }
if [[ -n $HEAD_REV ]]; then
    HEAD_SHA=$(git -C "$ROOT" rev-parse --verify --quiet "$HEAD_REV^{commit}") \
        || { echo "not a revision: $HEAD_REV" >&2; exit 2; }
fi
"$PY" -c 'import datetime as dt, sys; t = dt.datetime.fromisoformat(sys.argv[1]); sys.exit(t.tzinfo is None)' "$NOW" \
    2>/dev/null || { echo "--now $NOW is not an ISO instant with an offset" >&2; exit 2; }

STARTED=$SECONDS
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fieldservice-migcheck.XXXXXX")
WORKTREE=$TMP/base
HEAD_DIR=$ROOT
[[ -z $HEAD_REV ]] || HEAD_DIR=$TMP/head
LOG=$TMP/steps.log
DB=fieldservice_migcheck_$(date +%Y%m%d%H%M%S)_$$
DB_CREATED=0
WORKTREES=()

# The script's own stdout and stderr: an interrupt runs the traps inside a step, whose output
# goes to the log.
exec 3>&1 4>&2
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    exec 1>&3 2>&4
    if ((DB_CREATED)); then
        psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null \
            && echo "dropped database $DB" || echo "could not drop database $DB: drop it by hand" >&2
    fi
    # Best effort: the cache entries the commands wrote under their own prefix.
    "$PY" - "$DB" <<'EOF' 2>/dev/null || true
import os, sys
import redis
client = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), socket_timeout=2)
keys = list(client.scan_iter(match=sys.argv[1] + ":*", count=1000))
if keys:
    client.delete(*keys)
EOF
    local tree
    for tree in "${WORKTREES[@]}"; do
        git -C "$ROOT" worktree remove --force "$tree" \
            && echo "removed worktree $tree" || echo "could not remove worktree $tree" >&2
    done
    rm -rf "$TMP"
    exit "$status"
}
trap cleanup EXIT
trap 'echo interrupted >&3; exit 130' INT
trap 'echo terminated >&3; exit 143' TERM

# The environment of every manage.py: the scratch database, and nothing shared with the demo.
export DEBUG=1
export DATABASE_URL=postgres:///$DB
export CACHE_KEY_PREFIX=$DB
export CELERY_BROKER_URL=
export MEDIA_ROOT=$TMP/media
export EMAIL_FILE_PATH=$TMP/mail
export FIELDSERVICE_TEST_NOW=$NOW
export PYTHONDONTWRITEBYTECODE=1

# `step LABEL COMMAND...`: run it, its output to a log; on failure print the log's end, exit 2.
step() {
    local label=$1 started=$SECONDS
    shift
    printf '  %-52s ' "$label"
    echo "== $label: $*" >"$LOG"
    if ! "$@" >>"$LOG" 2>&1; then
        echo "FAILED"
        echo "--- the end of its output ($*):"
        tail -n 40 "$LOG"
        exit 2
    fi
    echo "$((SECONDS - started)) s"
}

# `manage DIR ARGS...`: manage.py in checkout DIR with the clock pinned to $NOW (time ticks on
# from there), as tests/pinned_process.py does; defined here so both checkouts run it alike.
manage() {
    local dir=$1
    shift
    (cd "$dir" && "$PY" -c '
import datetime as dt, runpy, sys
import time_machine
time_machine.travel(dt.datetime.fromisoformat(sys.argv[1]), tick=True).start()
sys.argv = sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
' "$NOW" manage.py "$@")
}

# Exact counts, one line per table of the public schema: name TAB count.
count_rows() {
    psql -X -q -At -F $'\t' -v ON_ERROR_STOP=1 -d "$DB" -o "$1" -c "
        SELECT table_name,
               (xpath('/row/n/text()', query_to_xml(
                    format('SELECT count(*) AS n FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text
        FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
        ORDER BY table_name"
}

applied_migrations() {
    psql -X -q -At -d "$DB" -c "SELECT app || '.' || name FROM django_migrations" | LC_ALL=C sort >"$1"
}

echo "base $BASE = $(git -C "$ROOT" log -1 --format='%h %s' "$BASE_SHA" | cut -c1-90)"
if [[ -n $HEAD_REV ]]; then
    echo "head $HEAD_REV = $(git -C "$ROOT" log -1 --format='%h %s' "$HEAD_SHA" | cut -c1-90)"
else
    echo "head $ROOT (working tree of $(git -C "$ROOT" log -1 --format=%h HEAD)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ', with uncommitted changes'))"
fi
echo "now  $NOW; database $DB; seed_demo --scale $SCALE --seed $SEED"

step "worktree of the base" git -C "$ROOT" worktree add --detach "$WORKTREE" "$BASE_SHA"
WORKTREES+=("$WORKTREE")
if [[ -n $HEAD_REV ]]; then
    step "worktree of the head" git -C "$ROOT" worktree add --detach "$HEAD_DIR" "$HEAD_SHA"
    WORKTREES+=("$HEAD_DIR")
fi
DB_CREATED=1
step "database with PostGIS" createdb "$DB"
step "  CREATE EXTENSION postgis" psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -c "CREATE EXTENSION IF NOT EXISTS postgis"

echo "base:"
step "migrate" manage "$WORKTREE" migrate --noinput
step "seed_demo --seed $SEED --scale $SCALE" manage "$WORKTREE" seed_demo --seed "$SEED" --scale "$SCALE"
if ((EXTRAS)); then
    step "solve_day --date tomorrow --time-limit $SOLVER_SECONDS" \
        manage "$WORKTREE" solve_day --date tomorrow --time-limit "$SOLVER_SECONDS"
    step "compute_health --history-months 12" manage "$WORKTREE" compute_health --history-months 12
    step "run_renewals" manage "$WORKTREE" run_renewals
fi
step "count rows" count_rows "$TMP/before.tsv"
applied_migrations "$TMP/migrations-before.txt"

echo "head:"
step "migrate" manage "$HEAD_DIR" migrate --noinput
step "count rows" count_rows "$TMP/after.tsv"
applied_migrations "$TMP/migrations-after.txt"

new_migrations=$(LC_ALL=C comm -13 "$TMP/migrations-before.txt" "$TMP/migrations-after.txt")
unapplied=$(LC_ALL=C comm -23 "$TMP/migrations-before.txt" "$TMP/migrations-after.txt")
echo
if [[ -n $new_migrations ]]; then
    echo "the head applied $(wc -l <<<"$new_migrations") migration(s):"
    sed 's/^/  /' <<<"$new_migrations"
else
    echo "the head applied no migration"
fi
[[ -z $unapplied ]] || { echo "recorded by the base, gone at the head:"; sed 's/^/  /' <<<"$unapplied"; }
echo

set +e
awk -F'\t' -v strict="$STRICT" '
    BEGIN { bookkeeping["django_migrations"]; bookkeeping["django_content_type"]; bookkeeping["auth_permission"] }
    FNR == NR { before[$1] = $2; names[$1]; next }
    { after[$1] = $2; names[$1] }
    END {
        n = 0
        for (t in names) list[++n] = t
        # insertion sort: a few hundred names at most
        for (i = 2; i <= n; i++) { v = list[i]; for (j = i - 1; j > 0 && list[j] > v; j--) list[j + 1] = list[j]; list[j + 1] = v }
        width = 5
        for (i = 1; i <= n; i++) if (length(list[i]) > width) width = length(list[i])
        printf "%-" width "s %10s %10s  %s\n", "table", "before", "after", "status"
        same = changed = gone = added = grew = 0
        for (i = 1; i <= n; i++) {
            t = list[i]
            if (!(t in after)) { status = "GONE"; gone++; shown_after = "-" }
            else if (!(t in before)) { status = (after[t] + 0 == 0) ? "NEW" : "NEW (with rows)"; added++; shown_after = after[t] }
            else {
                shown_after = after[t]
                if (after[t] + 0 == before[t] + 0) { status = ""; same++ }
                else if (!strict && (t in bookkeeping) && after[t] + 0 > before[t] + 0) { status = "grew (bookkeeping)"; grew++ }
                else { status = "CHANGED (" sprintf("%+d", after[t] - before[t]) ")"; changed++ }
            }
            printf "%-" width "s %10s %10s  %s\n", t, (t in before) ? before[t] : "-", shown_after, status
        }
        printf "\n%d tables: %d same, %d changed, %d gone, %d new, %d bookkeeping grew\n", n, same, changed, gone, added, grew
        exit ((changed + gone > 0) ? 1 : 0)
    }' "$TMP/before.tsv" "$TMP/after.tsv"
result=$?
set -e

if ((result == 0)); then
    echo "OK: every table of the base kept its row count ($((SECONDS - STARTED)) s)"
else
    echo "FAILED: row counts changed or tables disappeared ($((SECONDS - STARTED)) s)"
fi
exit "$result"
