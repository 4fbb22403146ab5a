#!/bin/sh
# laravel-entrypoint: prepares Laravel's writable directories, then runs the command
# (php-fpm by default; `php artisan ...` for the migration/seed Jobs).
#
# It never runs migrations: those are Kubernetes Jobs.
#
# storage/ and bootstrap/cache may be empty volumes (emptyDir) mounted over the image's
# directories, with the rest of the root filesystem read-only: recreate the skeleton Laravel
# expects inside them. Nothing else is written.
#
# Environment:
#   APP_ROOT                 application directory            (default /var/www/html)
#   LARAVEL_CACHE_ON_START   "true": run `php artisan optimize` (config, events, routes, views
#                            cached from the pod's own environment) before the command
#                            (default false)
#   APP_KEY_FILE, DB_PASSWORD_FILE
#                            files holding APP_KEY and DB_PASSWORD (the chart mounts its Secret
#                            so): read into the command's environment, so that no pod spec
#                            carries them
set -eu

APP_ROOT="${APP_ROOT:-/var/www/html}"

for name in APP_KEY DB_PASSWORD; do
    eval "file=\${${name}_FILE:-}"
    if [ -n "$file" ]; then
        if [ ! -r "$file" ]; then
            echo "laravel-entrypoint: ${name}_FILE=$file cannot be read" >&2
            exit 1
        fi
        # The value is not parsed again: a command substitution in double quotes stays as it is.
        eval "export $name=\"\$(cat \"\$file\")\""
        unset "${name}_FILE"
    fi
done

for dir in storage/app/public storage/framework/cache/data storage/framework/sessions \
           storage/framework/views storage/logs bootstrap/cache; do
    if ! mkdir -p "$APP_ROOT/$dir" 2>/dev/null; then
        echo "laravel-entrypoint: warning: cannot create $APP_ROOT/$dir (not writable)" >&2
    fi
done

if [ "${LARAVEL_CACHE_ON_START:-false}" = "true" ]; then
    php "$APP_ROOT/artisan" optimize --no-interaction >&2
fi

# `docker run IMAGE -F -R`-style invocations: options go to php-fpm.
if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
    set -- php-fpm "$@"
fi

# The daemon's own notices as JSON lines too (Jobs keep artisan's plain output for people).
case "$1" in
    php-fpm*) set -- json-stderr php-fpm "$@" ;;
esac

exec "$@"
