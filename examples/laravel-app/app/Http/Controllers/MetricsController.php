<?php

namespace App\Http\Controllers;

use App\Metrics\DatabasePoolCollector;
use App\Metrics\Gauge;
use App\Metrics\MetricsRegistry;
use App\Metrics\PhpFpmStatusCollector;
use Illuminate\Http\Response;

/**
 * GET /metrics: Prometheus text exposition of this pod (scraped through the
 * ServiceMonitor). Request metrics are aggregated over all php-fpm workers of the pod.
 */
final class MetricsController extends Controller
{
    public function __invoke(MetricsRegistry $metrics, DatabasePoolCollector $database): Response
    {
        $phpFpm = new PhpFpmStatusCollector((string) config('metrics.php_fpm_status_url'));
        $gauges = [...$database->collect(), ...$phpFpm->collect()];
        $gauges[] = new Gauge(
            'app_info',
            'Static information about the running application; the value is always 1.',
            [[[
                'version' => (string) config('app.version', 'dev'),
                'php_version' => PHP_VERSION,
                'metrics_store' => $metrics->store()->name(),
            ], 1]],
        );

        return new Response($metrics->render($gauges), 200, [
            'Content-Type' => MetricsRegistry::CONTENT_TYPE,
            'Cache-Control' => 'no-store',
        ]);
    }
}
