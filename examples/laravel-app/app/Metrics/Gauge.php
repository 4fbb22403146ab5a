<?php

namespace App\Metrics;

/**
 * A gauge computed at scrape time.
 */
final class Gauge
{
    /**
     * @param  list<array{0: array<string, string>, 1: int|float}>  $samples  [labels, value] pairs
     */
    public function __construct(
        public readonly string $name,
        public readonly string $help,
        public readonly array $samples,
    ) {
    }
}
