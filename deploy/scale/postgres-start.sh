#!/bin/sh
# First start: a cluster in $PGDATA (UTF8, C collation, which Synapse requires), POSTGRES_USER as its
# superuser with POSTGRES_PASSWORD, and POSTGRES_DB owned by it. Every start: exec postgres, listening on
# the container's network with password authentication. Extra arguments go to postgres (`-c name=value`).
set -eu
: "${POSTGRES_USER:?}" "${POSTGRES_PASSWORD:?}" "${POSTGRES_DB:?}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp)
  printf '%s' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" --encoding=UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  # Other containers of the stack connect over its private network, always with the password.
  echo 'host all all all scram-sha-256' >>"$PGDATA/pg_hba.conf"
  if [ "$POSTGRES_DB" != postgres ]; then
    echo "CREATE DATABASE \"$POSTGRES_DB\" OWNER \"$POSTGRES_USER\"" | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
  echo "postgres-start: cluster made, database $POSTGRES_DB owned by $POSTGRES_USER"
fi

exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
