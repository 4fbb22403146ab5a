<?php

namespace App\Metrics;

/**
 * Integer counters shared by all php-fpm workers of a pod.
 *
 * Keys are opaque strings built by MetricsRegistry; values only ever grow (counters,
 * histogram buckets, sums in microseconds), so an atomic integer increment is all a store
 * needs to provide.
 */
interface Store
{
    /**
     * Adds each value to its key (a missing key starts at 0).
     *
     * @param  array<string, int>  $increments
     */
    public function incrementMany(array $increments): void;

    /**
     * Every key of this store with its current value.
     *
     * @return array<string, int>
     */
    public function all(): array;

    /** Short name for the app_metrics_store_info metric ("apcu", "file"). */
    public function name(): string;

    /** Forgets every value (tests, or an operator resetting a pod's counters). */
    public function flush(): void;
}
