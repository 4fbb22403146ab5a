<?php

namespace App\Http\Controllers;

use Illuminate\Database\ConnectionResolverInterface;
use Illuminate\Http\JsonResponse;
use Illuminate\Support\Facades\Log;
use Throwable;

/**
 * Probe endpoints (through nginx, port 8080).
 *
 *   GET /healthz  liveness: the PHP application answers. Never touches the database, so a
 *                 database outage does not restart every pod.
 *   GET /readyz   readiness: the database accepts a connection and answers "select 1"
 *                 (within DB_CONNECT_TIMEOUT, 2 s by default); 503 otherwise, which takes
 *                 the pod out of the Service until the database is back.
 */
final class HealthController extends Controller
{
    private const NO_CACHE = ['Cache-Control' => 'no-store'];

    public function healthz(): JsonResponse
    {
        return new JsonResponse(['status' => 'ok'], 200, self::NO_CACHE);
    }

    public function readyz(ConnectionResolverInterface $db): JsonResponse
    {
        $started = hrtime(true);
        try {
            $connection = $db->connection();
            $connection->getPdo();
            $connection->select('select 1');
        } catch (Throwable $e) {
            Log::warning('readiness: database unavailable', [
                'exception' => $e::class,
                'error' => $e->getMessage(),
            ]);

            return new JsonResponse(
                ['status' => 'unavailable', 'checks' => ['database' => 'fail']],
                503,
                self::NO_CACHE,
            );
        }

        return new JsonResponse([
            'status' => 'ok',
            'checks' => ['database' => 'ok'],
            'duration_ms' => round((hrtime(true) - $started) / 1e6, 1),
        ], 200, self::NO_CACHE);
    }
}
