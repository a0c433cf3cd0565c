# Helpers shared by deploy/backup.sh and deploy/restore.sh (sourced, not run).

say() { printf '[%s] %s\n' "${0##*/}" "$*" >&2; }
die() { printf '[%s] error: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# Read an environment file in the format systemd's EnvironmentFile= reads (KEY=value lines,
# # comments, values with spaces in double quotes; see deploy/env.example).
load_env_file() {
  [[ -r "$1" ]] || die "cannot read the environment file $1"
  set -a
  # shellcheck disable=SC1090
  . "$1"
  set +a
}

# Set PG_URL to a libpq connection URL for a Django DATABASE_URL, and PGPASSWORD to its
# password: on a command line the password would show in `ps` for as long as pg_dump or
# pg_restore runs. Query options (sslmode=require...) are libpq's own and pass unchanged.
use_database_url() {
  local assignments
  assignments=$(python3 - "$1" <<'PY'
import shlex
import sys
from urllib.parse import unquote, urlsplit

url = urlsplit(sys.argv[1])
if url.scheme not in ("postgres", "postgresql", "postgis"):
    sys.exit(f"database URL scheme {url.scheme!r} is not supported: use postgres://")
if not url.path.strip("/"):
    sys.exit("the database URL names no database (postgres://host/NAME)")
userinfo, _, hostport = url.netloc.rpartition("@")
user, _, password = userinfo.partition(":")
netloc = f"{user}@{hostport}" if user else hostport
query = f"?{url.query}" if url.query else ""
print("PG_URL=" + shlex.quote(f"postgresql://{netloc}{url.path}{query}"))
if password:
    print("export PGPASSWORD=" + shlex.quote(unquote(password)))
PY
  ) || die "bad database URL"
  eval "$assignments"
}
