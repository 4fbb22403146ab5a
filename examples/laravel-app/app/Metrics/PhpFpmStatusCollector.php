<?php

namespace App\Metrics;

/**
 * php-fpm pool gauges, read at scrape time from the pool's status page (pm.status_path), which
 * nginx serves to 127.0.0.1 only; nginx and php-fpm share the pod's network namespace.
 *   phpfpm_up                          1 when the status page answered
 *   phpfpm_processes{state="active"}   workers serving a request (this scrape included)
 *   phpfpm_processes{state="idle"}     workers waiting for one
 *   phpfpm_listen_queue                requests waiting for a free worker
 *   phpfpm_max_children_reached        times the pool hit pm.max_children since php-fpm started
 * A short timeout: the scrape must not hang on a saturated pool, which shows as phpfpm_up 0.
 */
final class PhpFpmStatusCollector
{
    public function __construct(
        private readonly string $url,
        private readonly float $timeoutSeconds = 1.0,
    ) {
    }

    /** @return list<Gauge> */
    public function collect(): array
    {
        $context = stream_context_create(['http' => ['timeout' => $this->timeoutSeconds]]);
        $body = @file_get_contents($this->url, false, $context);
        $status = is_string($body) ? json_decode($body, true) : null;

        $gauges = [new Gauge('phpfpm_up', 'Whether the php-fpm pool status page answered (1) or not (0).', [[[], is_array($status) ? 1 : 0]])];
        if (! is_array($status)) {
            return $gauges;
        }

        $gauges[] = new Gauge('phpfpm_processes', 'php-fpm workers of this pod, by state.', [
            [['state' => 'active'], (int) ($status['active processes'] ?? 0)],
            [['state' => 'idle'], (int) ($status['idle processes'] ?? 0)],
        ]);
        $gauges[] = new Gauge('phpfpm_listen_queue', 'Requests waiting for a free php-fpm worker.', [[[], (int) ($status['listen queue'] ?? 0)]]);
        $gauges[] = new Gauge(
            'phpfpm_max_children_reached',
            'Times the pool reached pm.max_children since php-fpm started.',
            [[[], (int) ($status['max children reached'] ?? 0)]],
        );

        return $gauges;
    }
}
