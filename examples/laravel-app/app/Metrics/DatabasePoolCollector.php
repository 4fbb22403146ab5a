<?php

namespace App\Metrics;

use Illuminate\Database\ConnectionResolverInterface;
use Illuminate\Support\Facades\Log;
use Throwable;

/**
 * Database gauges, read at scrape time:
 *   app_db_up                                    1 when the default connection answers "select 1"
 *   app_db_pool_connections{state="active"}      server connections of this application's
 *   app_db_pool_connections{state="idle"}        database user on its database, by state
 *   app_db_pool_connections{state="idle_in_transaction"}  (pg_stat_activity)
 *   app_db_pool_connections{state="max"}         the server's max_connections
 *
 * php-fpm keeps no connection pool of its own (one connection per busy worker), so the
 * server side is where "pool usage" is visible; with PgBouncer in front, the same gauge can
 * later be fed from SHOW POOLS. When the database is down only app_db_up 0 is exported.
 */
final class DatabasePoolCollector
{
    private const POOL_SQL = <<<'SQL'
        select
            count(*) filter (where state = 'active') as active,
            count(*) filter (where state = 'idle') as idle,
            count(*) filter (where state like 'idle in transaction%') as idle_in_transaction,
            (select setting::int from pg_settings where name = 'max_connections') as max
        from pg_stat_activity
        where datname = current_database() and usename = current_user
        SQL;

    public function __construct(private readonly ConnectionResolverInterface $db)
    {
    }

    /** @return list<Gauge> */
    public function collect(): array
    {
        $up = 0;
        $pool = [];
        try {
            $connection = $this->db->connection();
            $connection->getPdo();
            $connection->select('select 1');
            $up = 1;

            if ($connection->getDriverName() === 'pgsql') {
                $row = (array) $connection->selectOne(self::POOL_SQL);
                foreach (['active', 'idle', 'idle_in_transaction', 'max'] as $state) {
                    $pool[] = [['state' => $state], (int) ($row[$state] ?? 0)];
                }
            }
        } catch (Throwable $e) {
            Log::warning('metrics: database gauges unavailable', [
                'exception' => $e::class,
                'error' => $e->getMessage(),
            ]);
        }

        $gauges = [new Gauge('app_db_up', 'Whether the default database connection answers (1) or not (0).', [[[], $up]])];
        if ($pool !== []) {
            $gauges[] = new Gauge(
                'app_db_pool_connections',
                'PostgreSQL connections of the application user on its database, by state; state="max" is max_connections.',
                $pool,
            );
        }

        return $gauges;
    }
}
