<?php

namespace App\Http\Middleware;

use App\Metrics\MetricsRegistry;
use Closure;
use Illuminate\Http\Request;
use Illuminate\Routing\Route;
use Illuminate\Support\Facades\Log;
use Symfony\Component\HttpFoundation\Response;
use Throwable;

/**
 * Records http_requests_total and http_request_duration_seconds for every request.
 *
 * Terminable: the observation is stored after the response has been sent to nginx
 * (php-fpm's fastcgi_finish_request), so the client never waits for it. The duration runs
 * from LARAVEL_START (public/index.php) to then. The route label is the route's URI pattern
 * ("/deployments/{id}", not the concrete path) so its cardinality stays bounded; requests that
 * match no route are labelled "unmatched".
 */
final class RecordRequestMetrics
{
    private const START = 'metrics.start';

    public function __construct(private readonly MetricsRegistry $metrics)
    {
    }

    public function handle(Request $request, Closure $next): Response
    {
        $request->attributes->set(self::START, defined('LARAVEL_START') ? (float) LARAVEL_START : microtime(true));

        return $next($request);
    }

    public function terminate(Request $request, Response $response): void
    {
        $start = $request->attributes->get(self::START);
        if (! is_float($start)) {
            return;
        }

        $route = $request->route();
        $label = $route instanceof Route ? '/'.ltrim($route->uri(), '/') : 'unmatched';

        try {
            $this->metrics->observeRequest(
                $request->getMethod(),
                $label,
                $response->getStatusCode(),
                microtime(true) - $start,
            );
        } catch (Throwable $e) {
            // Metrics must never turn a served request into an error.
            Log::warning('metrics: request not recorded', ['exception' => $e::class, 'error' => $e->getMessage()]);
        }
    }
}
