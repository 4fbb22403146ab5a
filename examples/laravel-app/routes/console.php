<?php

use Illuminate\Support\Facades\Artisan;
use Illuminate\Support\Facades\DB;

// For the migration/seed Jobs: wait until PostgreSQL answers instead of failing the Job
// on the first connection attempt while the database is still starting.
Artisan::command('app:wait-for-db {--timeout=60 : Seconds to wait before giving up}', function (): int {
    $timeout = max(1, (int) $this->option('timeout'));
    $deadline = microtime(true) + $timeout;
    $error = 'no attempt made';

    do {
        try {
            DB::connection()->getPdo();
            DB::connection()->select('select 1');
            $this->info('database is reachable');

            return 0;
        } catch (Throwable $e) {
            $error = $e->getMessage();
            DB::purge();
            sleep(1);
        }
    } while (microtime(true) < $deadline);

    $this->error("database not reachable after {$timeout}s: {$error}");

    return 1;
})->purpose('Wait until the default database connection answers "select 1"');
