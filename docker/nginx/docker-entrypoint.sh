#!/bin/sh
# nginx-entrypoint: prepares the only writable place nginx needs, then runs the command.
# /tmp is an emptyDir in Kubernetes (fresh and empty at each start) and the root filesystem
# is read-only, so the directory nginx.conf points at (pid file, temp paths) is made here.
# nginx creates the temp sub-directories itself at startup.
set -eu

mkdir -p /tmp/nginx

# Allow `docker run IMAGE -T` style invocations: options go to nginx.
if [ "${1#-}" != "$1" ]; then
    set -- nginx "$@"
fi

# nginx's error log has no JSON format: its lines go through json-stderr (the access log is JSON).
if [ "$1" = nginx ]; then
    set -- json-stderr nginx "$@"
fi

exec "$@"
