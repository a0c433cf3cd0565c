#!/usr/bin/env bash
# manage.py with the production environment (/etc/fieldservice/env), as the service user:
#
#   sudo /srv/fieldservice/deploy/manage.sh migrate --noinput
#   sudo /srv/fieldservice/deploy/manage.sh createsuperuser
#
# Run as root (it switches to the fieldservice user) or as that user. Files it writes (static
# files, compiled messages, uploads) belong to the user the services run as.
#   FIELDSERVICE_ENV_FILE  the environment file (default /etc/fieldservice/env)
#   FIELDSERVICE_USER      the service user     (default fieldservice)
set -euo pipefail

env_file=${FIELDSERVICE_ENV_FILE:-/etc/fieldservice/env}
service_user=${FIELDSERVICE_USER:-fieldservice}
deploy_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
app_dir=$(dirname "$deploy_dir")

if [[ "$(id -un)" != "$service_user" ]]; then
  [[ $EUID -eq 0 ]] || { echo "run as root (sudo) or as $service_user" >&2; exit 1; }
  exec runuser -u "$service_user" -- "$deploy_dir/manage.sh" "$@"
fi

# shellcheck source=deploy/common.sh
. "$deploy_dir/common.sh"
load_env_file "$env_file"
# Set whatever the file says, so the settings never read a development .env in the checkout.
export DEBUG=${DEBUG:-0}
cd "$app_dir"
exec "$app_dir/.venv/bin/python" manage.py "$@"
