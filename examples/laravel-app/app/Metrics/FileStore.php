<?php

namespace App\Metrics;

use RuntimeException;

/**
 * Counters in one JSON file, read-modified-written under an exclusive flock(), for when
 * APCu is not available. All workers of a pod share the file (storage/ is one volume per
 * pod), so the values still aggregate across workers; it costs a lock per request.
 */
final class FileStore implements Store
{
    public function __construct(private readonly string $path)
    {
    }

    public function incrementMany(array $increments): void
    {
        $this->withLock(LOCK_EX, function ($handle) use ($increments): void {
            $values = $this->decode(stream_get_contents($handle));
            foreach ($increments as $key => $by) {
                $values[$key] = ($values[$key] ?? 0) + $by;
            }
            $json = json_encode($values, JSON_THROW_ON_ERROR);
            ftruncate($handle, 0);
            rewind($handle);
            fwrite($handle, $json);
            fflush($handle);
        });
    }

    public function all(): array
    {
        if (! is_file($this->path)) {
            return [];
        }

        return $this->withLock(LOCK_SH, fn ($handle): array => $this->decode(stream_get_contents($handle)));
    }

    public function name(): string
    {
        return 'file';
    }

    public function flush(): void
    {
        if (is_file($this->path)) {
            $this->withLock(LOCK_EX, function ($handle): void {
                ftruncate($handle, 0);
            });
        }
    }

    /**
     * @template T
     *
     * @param  callable(resource): T  $callback
     * @return T
     */
    private function withLock(int $operation, callable $callback): mixed
    {
        $directory = dirname($this->path);
        if (! is_dir($directory) && ! @mkdir($directory, 0775, true) && ! is_dir($directory)) {
            throw new RuntimeException("cannot create the metrics directory $directory");
        }
        $handle = @fopen($this->path, 'c+');
        if ($handle === false) {
            throw new RuntimeException("cannot open the metrics file {$this->path}");
        }
        try {
            if (! flock($handle, $operation)) {
                throw new RuntimeException("cannot lock the metrics file {$this->path}");
            }
            try {
                return $callback($handle);
            } finally {
                flock($handle, LOCK_UN);
            }
        } finally {
            fclose($handle);
        }
    }

    /** @return array<string, int> */
    private function decode(string|false $contents): array
    {
        if ($contents === false || $contents === '') {
            return [];
        }
        $values = json_decode($contents, true);
        if (! is_array($values)) {
            // A torn or foreign file: start again rather than fail every request.
            return [];
        }

        return array_map('intval', $values);
    }
}
