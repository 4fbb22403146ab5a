<?php

namespace App\Http\Middleware;

use Closure;
use Illuminate\Http\Request;
use Illuminate\Support\Facades\Log;
use Illuminate\Support\Str;
use Symfony\Component\HttpFoundation\Response;

/**
 * Gives every request one id shared by nginx and the application logs.
 *
 * nginx passes its id (the caller's X-Request-Id when valid, else its own $request_id) as
 * the X-Request-Id header (fastcgi_param HTTP_X_REQUEST_ID) and logs it in its JSON access
 * log. Here it is added to the context of every log record of the request, so both log
 * streams can be joined on request_id. Without nginx (php-fpm reached directly, tests) a
 * UUID is generated.
 */
final class AssignRequestId
{
    public const HEADER = 'X-Request-Id';

    public const ATTRIBUTE = 'request_id';

    // Same rule as nginx's map in docker/nginx/nginx.conf.
    private const VALID = '/^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$/';

    public function handle(Request $request, Closure $next): Response
    {
        $id = $request->headers->get(self::HEADER);
        if (! is_string($id) || preg_match(self::VALID, $id) !== 1) {
            $id = (string) Str::uuid();
            $request->headers->set(self::HEADER, $id);
        }

        $request->attributes->set(self::ATTRIBUTE, $id);
        Log::shareContext([self::ATTRIBUTE => $id]);

        $response = $next($request);
        // nginx replaces this with the same value (fastcgi_hide_header + add_header).
        $response->headers->set(self::HEADER, $id);

        return $response;
    }
}
