#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and benchmarks.
#
#   scripts/postgres.sh start FOLDER   initdb in FOLDER (empty or missing), start the server on a free
#                                      127.0.0.1 port, create database `moneyreels`, print its URL
#   scripts/postgres.sh stop FOLDER    stop that server and remove FOLDER
#
# Run as root, the server runs as the `postgres` system user (initdb refuses root); created when
# missing. Durability is off (fsync, full-page writes): the data lives only as long as the run.
set -euo pipefail

command=${1:-}
folder=${2:-}
if [ -z "$command" ] || [ -z "$folder" ]; then
    echo "usage: $0 start|stop FOLDER" >&2
    exit 2
fi

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ]; then
    echo "error: no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)" >&2
    exit 1
fi

as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "$command" in
start)
    mkdir -p "$folder"
    folder=$(cd "$folder" && pwd)
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
        chown postgres "$folder"
    fi
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bindir/initdb" -D "$folder/data" -U moneyreels --auth=trust -E UTF8 --no-sync >"$folder/initdb.log"
    as_owner "$bindir/pg_ctl" -D "$folder/data" -l "$folder/server.log" -w -s start -o \
        "-p $port -k $folder -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off \
         -c synchronous_commit=off -c max_connections=300"
    as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U moneyreels moneyreels
    echo "postgresql://moneyreels@127.0.0.1:$port/moneyreels"
    ;;
stop)
    if [ -d "$folder/data" ]; then
        as_owner "$bindir/pg_ctl" -D "$folder/data" -m immediate -w -s stop || true
    fi
    rm -rf "$folder"
    ;;
*)
    echo "usage: $0 start|stop FOLDER" >&2
    exit 2
    ;;
esac
