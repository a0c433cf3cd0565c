#!/usr/bin/env bash
# Restore a backup made by deploy/backup.sh into a fresh database and an empty media directory.
#
#   deploy/restore.sh --backup DIR --database-url URL --media-root DIR
#
#   --backup DIR        a backup directory (BACKUP_DIR/fieldservice-YYYYMMDDTHHMMSSZ)
#   --database-url URL  the database to restore into, as postgres://user:pass@host/name; it must
#                       exist and hold no table yet (createdb it first). The tables will belong
#                       to the URL's user: give the app's own role.
#   --media-root DIR    where the uploaded files go; must be missing or empty
#
# It refuses a database that has tables and a media directory that has files: it never
# overwrites. PostGIS (and pg_trgm) are created in the database first; if the URL's user may not create it
# (it takes a superuser on PostgreSQL 15), create it beforehand as postgres:
#   sudo -u postgres psql -d NAME -c 'CREATE EXTENSION postgis'
set -euo pipefail

# shellcheck source=deploy/common.sh
. "$(dirname "$0")/common.sh"

backup="" database_url="" media_root=""
while (($#)); do
  case "$1" in
    --backup) backup=${2:?--backup needs a directory}; shift 2 ;;
    --database-url) database_url=${2:?--database-url needs a URL}; shift 2 ;;
    --media-root) media_root=${2:?--media-root needs a directory}; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
[[ -n "$backup" && -n "$database_url" && -n "$media_root" ]] \
  || die "--backup, --database-url and --media-root are all required (see --help)"
use_database_url "$database_url"

say "checking $backup"
for file in database.dump media.tar SHA256SUMS; do
  [[ -f "$backup/$file" ]] || die "$backup/$file is missing: not a complete backup"
done
(cd "$backup" && sha256sum --check --quiet SHA256SUMS) || die "$backup does not match its SHA256SUMS"

psql_target() { psql --dbname="$PG_URL" --no-psqlrc --quiet --tuples-only --no-align -v ON_ERROR_STOP=1 "$@"; }

# Fresh means no relation of its own in any schema (PostGIS's spatial_ref_sys belongs to the
# extension and does not count).
tables=$(psql_target --command="
  SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                    AND d.objid = c.oid AND d.deptype = 'e')") || die "cannot connect to the target database"
[[ "$tables" == 0 ]] || die "the target database is not fresh ($tables tables, sequences or views): restore into a new one"
if [[ -e "$media_root" ]]; then
  [[ -d "$media_root" ]] || die "$media_root is not a directory"
  [[ -z "$(find "$media_root" -mindepth 1 -print -quit)" ]] || die "$media_root is not empty"
fi

say "creating PostGIS"
psql_target --command="CREATE EXTENSION IF NOT EXISTS postgis" \
  || die "could not create PostGIS as this user; as postgres: psql -d NAME -c 'CREATE EXTENSION postgis'"
# The search's trigram indexes (assets/migrations/0004) need pg_trgm, a trusted extension.
psql_target --command="CREATE EXTENSION IF NOT EXISTS pg_trgm" || die "could not create pg_trgm"

# Everything but the extension itself (created above; only its owner may comment on it) and
# spatial_ref_sys's rows (PostGIS fills that table; a dump holds only SRIDs added by hand, which
# Fieldservice never adds, and writing them would take a superuser).
list=$(mktemp)
trap 'rm -f "$list"' EXIT
pg_restore --list "$backup/database.dump" \
  | grep -v -E ' (EXTENSION - |COMMENT - EXTENSION |TABLE DATA [^ ]+ spatial_ref_sys )' >"$list"

say "restoring the database"
pg_restore --dbname="$PG_URL" --use-list="$list" --no-owner --no-privileges \
  --single-transaction --exit-on-error "$backup/database.dump"
# pg_restore brings no planner statistics; without them the first queries plan badly.
psql_target --command="ANALYZE"

say "restoring the files into $media_root"
mkdir -p -m 0750 "$media_root"  # nginx must not read uploads (deploy/nginx/fieldservice.conf)
tar --extract --file="$backup/media.tar" --directory="$media_root"

say "restore complete: $(psql_target --command="SELECT count(*) FROM django_migrations") migrations applied,"\
" $(find "$media_root" -type f | wc -l) files"
