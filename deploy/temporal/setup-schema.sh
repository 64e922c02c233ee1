#!/bin/sh
# The `temporal-schema` service of docker-compose.yml: creates Temporal's two PostgreSQL databases, or brings their
# schema up to the admin-tools image's version, before the server of the same version starts.
#
# Safe on every `docker compose up`: creating a database that exists does nothing, setup-schema leaves a newer schema
# as it is, and update-schema applies only what is not applied yet. Raising TEMPORAL_VERSION therefore upgrades the
# schema first. temporal-sql-tool reads the connection from SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER and SQL_PASSWORD.
set -eu

: "${SQL_HOST:?SQL_HOST must name the PostgreSQL host}"
schemas=/etc/temporal/schema/postgresql/v12

setup() { # setup <database> <schema directory under $schemas>
  echo "[temporal-schema] $1: creating if missing, then updating to the latest schema"
  temporal-sql-tool --database "$1" create-database
  temporal-sql-tool --database "$1" setup-schema --version 0.0
  temporal-sql-tool --database "$1" update-schema --schema-dir "$schemas/$2/versioned"
}

setup temporal temporal
setup temporal_visibility visibility
echo "[temporal-schema] done"
