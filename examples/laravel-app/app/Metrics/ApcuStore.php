<?php

namespace App\Metrics;

use APCUIterator;
use RuntimeException;

/**
 * Counters in APCu: the shared memory of the php-fpm master, so every worker of the pod
 * increments the same values (apcu_inc is atomic). Values live until php-fpm restarts,
 * which Prometheus' rate()/increase() treat as a counter reset.
 */
final class ApcuStore implements Store
{
    public function __construct(private readonly string $prefix = 'app_metrics:')
    {
        if (! self::available()) {
            throw new RuntimeException('APCu is not loaded or not enabled (apc.enabled / apc.enable_cli).');
        }
    }

    public static function available(): bool
    {
        return function_exists('apcu_enabled') && apcu_enabled();
    }

    public function incrementMany(array $increments): void
    {
        foreach ($increments as $key => $by) {
            $this->increment($this->prefix.$key, $by);
        }
    }

    private function increment(string $key, int $by): void
    {
        // apcu_add is a no-op when the key exists; apcu_inc then adds atomically. A second
        // round covers an entry expunged between the two calls (cache full).
        for ($attempt = 0; $attempt < 2; $attempt++) {
            apcu_add($key, 0);
            $success = false;
            apcu_inc($key, $by, $success);
            if ($success) {
                return;
            }
        }

        throw new RuntimeException("could not increment APCu key $key");
    }

    public function all(): array
    {
        $values = [];
        $pattern = '/^'.preg_quote($this->prefix, '/').'/';
        foreach (new APCUIterator($pattern, APC_ITER_KEY | APC_ITER_VALUE) as $entry) {
            $values[substr($entry['key'], strlen($this->prefix))] = (int) $entry['value'];
        }

        return $values;
    }

    public function name(): string
    {
        return 'apcu';
    }

    public function flush(): void
    {
        $pattern = '/^'.preg_quote($this->prefix, '/').'/';
        apcu_delete(new APCUIterator($pattern, APC_ITER_KEY));
    }
}
