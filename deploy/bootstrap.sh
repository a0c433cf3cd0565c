#!/usr/bin/env bash
# Set up what Fieldservice needs from the system on Debian 12 (bookworm), and start it.
# Safe to run again: it installs only what is missing and starts only what is stopped.
#
#   deploy/bootstrap.sh            system packages, PostgreSQL + PostGIS, Redis
#   deploy/bootstrap.sh --browser  the same plus Chromium for the browser tests
set -euo pipefail

PG_VERSION=15
PACKAGES=(
  python3 python3-venv python3-dev build-essential
  postgresql-$PG_VERSION postgresql-$PG_VERSION-postgis-3 postgresql-client-$PG_VERSION
  libgdal32 libgeos-c1v5 libproj25
  redis-server redis-tools
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-noto-cjk fonts-dejavu-core
  poppler-utils gettext
)
[[ "${1:-}" == "--browser" ]] && PACKAGES+=(chromium)

say() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*"; }
as_root() { if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  say "installing: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  say "system packages present"
fi

# PostgreSQL: containers and CI machines have no systemd, so start the cluster directly.
if ! pg_lsclusters -h 2>/dev/null | awk -v v=$PG_VERSION '$1==v && $2=="main"' | grep -q .; then
  say "creating PostgreSQL $PG_VERSION cluster"
  as_root pg_createcluster $PG_VERSION main
fi
if ! pg_lsclusters -h | awk -v v=$PG_VERSION '$1==v && $2=="main" {print $4}' | grep -q online; then
  say "starting PostgreSQL $PG_VERSION"
  as_root pg_ctlcluster --skip-systemctl-redirect $PG_VERSION main start
fi
for _ in $(seq 30); do pg_isready -q && break; sleep 1; done
pg_isready -q || { echo "PostgreSQL did not come up" >&2; exit 1; }

# A database role for the current Unix user (peer/trust auth on the local socket).
me=$(id -un)
if ! as_root su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='$me'\"" | grep -q 1; then
  say "creating PostgreSQL role $me"
  as_root su postgres -c "createuser --superuser $me"
fi

# Redis: keeps nothing on disk in development; production uses the packaged service.
if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  say "starting Redis"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/fieldservice-dev.log
  for _ in $(seq 20); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.5; done
fi
redis-cli -h 127.0.0.1 ping >/dev/null || { echo "Redis did not come up" >&2; exit 1; }
say "PostgreSQL and Redis are running"
