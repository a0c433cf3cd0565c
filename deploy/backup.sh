#!/usr/bin/env bash
# Back up Fieldservice: the database (pg_dump, custom format) and the uploaded files (a tar of
# MEDIA_ROOT), into one timestamped directory; then delete the backups older than N days.
#
#   deploy/backup.sh [--env-file /etc/fieldservice/env]
#
# Reads, from the environment (or the file):
#   DATABASE_URL           the database, as the app reads it      (required)
#   MEDIA_ROOT             the uploaded files, as the app reads it (required)
#   BACKUP_DIR             where backups go                        (default /var/backups/fieldservice)
#   BACKUP_RETENTION_DAYS  delete backups older than this          (default 14)
#
# Writes BACKUP_DIR/fieldservice-YYYYMMDDTHHMMSSZ/ with database.dump, media.tar and SHA256SUMS,
# and prints that directory. It is written under a .partial name and renamed only once complete,
# so an interrupted run never looks like a backup, and retention never counts one.
set -euo pipefail
umask 077  # a backup holds everything, password hashes included

# shellcheck source=deploy/common.sh
. "$(dirname "$0")/common.sh"

while (($#)); do
  case "$1" in
    --env-file) load_env_file "${2:?--env-file needs a path}"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done

: "${DATABASE_URL:?DATABASE_URL must be set (or pass --env-file)}"
: "${MEDIA_ROOT:?MEDIA_ROOT must be set (or pass --env-file)}"
BACKUP_DIR=${BACKUP_DIR:-/var/backups/fieldservice}
BACKUP_RETENTION_DAYS=${BACKUP_RETENTION_DAYS:-14}
[[ "$BACKUP_RETENTION_DAYS" =~ ^[1-9][0-9]*$ ]] \
  || die "BACKUP_RETENTION_DAYS=$BACKUP_RETENTION_DAYS is not a whole number of days (1 or more)"
use_database_url "$DATABASE_URL"

mkdir -p "$BACKUP_DIR"
name="fieldservice-$(date -u +%Y%m%dT%H%M%SZ)"
final="$BACKUP_DIR/$name"
partial="$final.partial"
[[ ! -e "$final" ]] || die "$final exists already"
mkdir "$partial"
trap 'rm -rf "$partial"' EXIT

# The database first, then the files: every file a row of the dump refers to was written
# before the dump began (uploads store the file, then the row), so it is in the tar. Files
# uploaded while the backup runs may be in the tar without their rows: harmless orphans.
say "dumping the database"
pg_dump --format=custom --file="$partial/database.dump" --dbname="$PG_URL"
pg_restore --list "$partial/database.dump" >/dev/null  # the archive reads back

say "archiving $MEDIA_ROOT"
if [[ -d "$MEDIA_ROOT" ]]; then
  # Not compressed: photos and PDFs are compressed already.
  tar --create --file="$partial/media.tar" --directory="$MEDIA_ROOT" .
else
  say "warning: $MEDIA_ROOT does not exist (no upload yet?): the media archive is empty"
  tar --create --file="$partial/media.tar" --files-from=/dev/null
fi

(cd "$partial" && sha256sum database.dump media.tar >SHA256SUMS)
mv "$partial" "$final"
trap - EXIT
say "backup complete: $final ($(du -sh "$final" | cut -f1))"

# Retention: whole backups older than N days, and runs that died half-way more than a day ago.
# Never the one just made, whatever the clock says.
find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -type d ! -path "$final" \
  \( \( -name 'fieldservice-*Z' -mmin +$((BACKUP_RETENTION_DAYS * 24 * 60)) \) \
  -o \( -name 'fieldservice-*Z.partial' -mmin +$((24 * 60)) \) \) \
  -print0 | while IFS= read -r -d '' old; do
    say "deleting $old (older than the retention)"
    rm -rf -- "$old"
  done

printf '%s\n' "$final"
