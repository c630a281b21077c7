#!/bin/sh
# Run once by the postgres image, on an empty data volume: the two roles the gateway uses
# (README: the database roles) and its database, owned by the owner role. The passwords are
# the compose secrets deploy/make-secrets.py wrote; psql quotes them (:'name').
set -eu
psql --set ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    --set owner_password="$(cat /run/secrets/db_owner_password)" \
    --set app_password="$(cat /run/secrets/db_app_password)" <<'SQL'
CREATE ROLE billing_gateway_owner LOGIN PASSWORD :'owner_password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE ROLE billing_gateway_app LOGIN PASSWORD :'app_password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE DATABASE billing_gateway OWNER billing_gateway_owner;
SQL
