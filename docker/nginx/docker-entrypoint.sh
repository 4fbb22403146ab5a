#!/bin/sh
# nginx-entrypoint: prepares the only writable place nginx needs, then runs the command.
# /tmp is an emptyDir in Kubernetes (fresh and empty at each start) and the root filesystem
# is read-only, so the directory nginx.conf points at (pid file, temp paths) is made here.
# nginx creates the temp sub-directories itself at startup.
set -eu

mkdir -p /tmp/nginx

# Listen on IPv6 too where the pod has it (an IPv6-only or dual-stack cluster); binding [::]
# where the kernel has no IPv6 would stop nginx, so the lines exist only then.
rm -f /tmp/nginx/listen-ipv6-*.conf
if [ -f /proc/net/if_inet6 ]; then
    printf 'listen [::]:8080 default_server;\n' > /tmp/nginx/listen-ipv6-8080.conf
    printf 'listen [::]:9113;\n' > /tmp/nginx/listen-ipv6-9113.conf
fi

# Allow `docker run IMAGE -T` style invocations: options go to nginx.
if [ "${1#-}" != "$1" ]; then
    set -- nginx "$@"
fi

# nginx's error log has no JSON format: its lines go through json-stderr (the access log is JSON).
if [ "$1" = nginx ]; then
    set -- json-stderr nginx "$@"
fi

exec "$@"
