<?php

namespace App\Metrics;

use InvalidArgumentException;

/**
 * The application's Prometheus metrics: records requests into a shared Store and renders
 * the text exposition format (version 0.0.4).
 *
 * Request metrics (labels: method, route, status = status class "2xx", "4xx", "5xx", ...):
 *   http_requests_total                  counter
 *   http_request_duration_seconds        histogram (_bucket{le}, _sum, _count)
 *
 * Gauges computed at scrape time (e.g. the database pool) are passed to render() as Gauge
 * objects. Plain PHP, no framework dependency, so it can be tested on its own.
 */
final class MetricsRegistry
{
    public const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

    public const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

    private const REQUESTS = 'http_requests_total';

    private const DURATION = 'http_request_duration_seconds';

    // Separates the parts of a store key; json_encode never emits it raw.
    private const SEP = "\x1f";

    /** @var list<float> */
    private readonly array $buckets;

    /**
     * @param  list<int|float>  $buckets  upper bounds in seconds, ascending
     */
    public function __construct(private readonly Store $store, array $buckets = self::DEFAULT_BUCKETS)
    {
        $buckets = array_values(array_map('floatval', $buckets));
        $sorted = $buckets;
        sort($sorted);
        if ($buckets === [] || $sorted !== $buckets || count(array_unique($buckets, SORT_REGULAR)) !== count($buckets)) {
            throw new InvalidArgumentException('metrics buckets must be a non-empty, strictly ascending list of seconds');
        }
        $this->buckets = $buckets;
    }

    public function store(): Store
    {
        return $this->store;
    }

    public static function statusClass(int $status): string
    {
        return ($status >= 100 && $status <= 599) ? intdiv($status, 100).'xx' : 'other';
    }

    /** Records one finished HTTP request. */
    public function observeRequest(string $method, string $route, int $status, float $seconds): void
    {
        $labels = self::encodeLabels([
            'method' => strtoupper($method),
            'route' => $route,
            'status' => self::statusClass($status),
        ]);
        $seconds = max(0.0, $seconds);

        // Non-cumulative: one bucket per observation (the first bound >= value, or +Inf);
        // render() accumulates. Durations are summed as integer microseconds so every
        // store operation is an atomic integer increment.
        $bucket = 'inf';
        foreach ($this->buckets as $index => $bound) {
            if ($seconds <= $bound) {
                $bucket = (string) $index;
                break;
            }
        }

        $this->store->incrementMany([
            self::REQUESTS.self::SEP.$labels => 1,
            self::DURATION.'_count'.self::SEP.$labels => 1,
            self::DURATION.'_sum'.self::SEP.$labels => (int) round($seconds * 1_000_000),
            self::DURATION.'_bucket'.self::SEP.$labels.self::SEP.$bucket => 1,
        ]);
    }

    /**
     * The whole exposition: request metrics from the store, then the given gauges.
     *
     * @param  list<Gauge>  $gauges
     */
    public function render(array $gauges = []): string
    {
        $requests = [];
        $counts = [];
        $sums = [];
        $buckets = [];
        foreach ($this->store->all() as $key => $value) {
            $parts = explode(self::SEP, $key);
            switch ($parts[0]) {
                case self::REQUESTS:
                    $requests[$parts[1]] = $value;
                    break;
                case self::DURATION.'_count':
                    $counts[$parts[1]] = $value;
                    break;
                case self::DURATION.'_sum':
                    $sums[$parts[1]] = $value;
                    break;
                case self::DURATION.'_bucket':
                    if (isset($parts[2])) {
                        $buckets[$parts[1]][$parts[2]] = $value;
                    }
                    break;
            }
        }
        ksort($requests);
        ksort($counts);

        $out = [];
        $out[] = '# HELP '.self::REQUESTS.' HTTP requests handled by the application, by method, route and status class.';
        $out[] = '# TYPE '.self::REQUESTS.' counter';
        foreach ($requests as $labels => $value) {
            $out[] = self::REQUESTS.self::formatLabels(self::decodeLabels($labels)).' '.$value;
        }

        $out[] = '# HELP '.self::DURATION.' Time from PHP receiving the request to the response being sent, in seconds.';
        $out[] = '# TYPE '.self::DURATION.' histogram';
        foreach ($counts as $labels => $count) {
            $decoded = self::decodeLabels($labels);
            $cumulative = 0;
            foreach ($this->buckets as $index => $bound) {
                $cumulative += $buckets[$labels][(string) $index] ?? 0;
                $out[] = self::DURATION.'_bucket'
                    .self::formatLabels($decoded + ['le' => self::formatNumber($bound)]).' '.$cumulative;
            }
            // +Inf is the total count by definition.
            $out[] = self::DURATION.'_bucket'.self::formatLabels($decoded + ['le' => '+Inf']).' '.$count;
            $out[] = self::DURATION.'_sum'.self::formatLabels($decoded).' '
                .self::formatNumber(($sums[$labels] ?? 0) / 1_000_000);
            $out[] = self::DURATION.'_count'.self::formatLabels($decoded).' '.$count;
        }

        foreach ($gauges as $gauge) {
            $out[] = '# HELP '.$gauge->name.' '.self::escapeHelp($gauge->help);
            $out[] = '# TYPE '.$gauge->name.' gauge';
            foreach ($gauge->samples as [$labels, $value]) {
                $out[] = $gauge->name.self::formatLabels($labels).' '.self::formatNumber($value);
            }
        }

        return implode("\n", $out)."\n";
    }

    /** @param array<string, string> $labels */
    private static function encodeLabels(array $labels): string
    {
        return json_encode($labels, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
    }

    /** @return array<string, string> */
    private static function decodeLabels(string $labels): array
    {
        $decoded = json_decode($labels, true);

        return is_array($decoded) ? array_map('strval', $decoded) : [];
    }

    /** @param array<string, string> $labels */
    public static function formatLabels(array $labels): string
    {
        if ($labels === []) {
            return '';
        }
        $pairs = [];
        foreach ($labels as $name => $value) {
            $pairs[] = $name.'="'.str_replace(['\\', '"', "\n"], ['\\\\', '\\"', '\\n'], (string) $value).'"';
        }

        return '{'.implode(',', $pairs).'}';
    }

    public static function formatNumber(int|float $value): string
    {
        if (is_int($value)) {
            return (string) $value;
        }
        if (is_nan($value)) {
            return 'NaN';
        }
        if (is_infinite($value)) {
            return $value > 0 ? '+Inf' : '-Inf';
        }
        $text = rtrim(rtrim(sprintf('%.6F', $value), '0'), '.');

        return $text === '-0' ? '0' : $text;
    }

    private static function escapeHelp(string $help): string
    {
        return str_replace(['\\', "\n"], ['\\\\', '\\n'], $help);
    }
}
