#!/bin/sh
# Create ./secrets/ for docker-compose.yml: run once, before the first `docker compose up`.
# Needs only a POSIX shell, head and base64 (no Python, no image, no .env). Existing files are
# kept, so running it again never replaces a key that already encrypted tokens.
#
#   secrets/encryption_keys         kid:base64key (SWITCHYARD_SECURITY__ENCRYPTION_KEYS_FILE)
#   secrets/postgres_password       the switchyard role's password
#   secrets/database_url            postgresql+psycopg://switchyard:<password>@postgres:5432/switchyard
#   secrets/grafana_admin_password  Grafana's admin password (user admin)
#
# The directory is 0700 (only you); files are 0644 so the containers' unprivileged users can
# read their bind-mounted copy. KEEP secrets/encryption_keys (back it up with the database):
# without it the stored tokens cannot be decrypted.
set -eu
cd "$(dirname "$0")/.."
dir=secrets
mkdir -p "$dir"
chmod 700 "$dir"

random() { head -c "$1" /dev/urandom | base64 | tr -d '\n'; }
token() { random 32 | tr -d '/+=' | cut -c1-32; }

write() {  # write NAME VALUE, unless the file exists already
  if [ -s "$dir/$1" ]; then
    echo "kept    $dir/$1"
  else
    printf '%s\n' "$2" > "$dir/$1"
    chmod 644 "$dir/$1"
    echo "created $dir/$1"
  fi
}

write encryption_keys "k1:$(random 32)"
write postgres_password "$(token)"
write database_url "postgresql+psycopg://switchyard:$(cat "$dir/postgres_password")@postgres:5432/switchyard"
write grafana_admin_password "$(token)"
echo "done: keep $dir/encryption_keys safe (and backed up); now run: docker compose up -d"
