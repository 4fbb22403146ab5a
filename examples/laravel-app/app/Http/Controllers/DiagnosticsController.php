<?php

namespace App\Http\Controllers;

use App\Exceptions\IntentionalFailure;
use Illuminate\Database\ConnectionResolverInterface;
use Illuminate\Http\JsonResponse;
use Illuminate\Http\Request;

/**
 * Endpoints for operational tests.
 *
 *   GET /slow?seconds=N  answers after N seconds (0 <= N <= 30, decimals allowed, default 1):
 *                        a request in flight while a pod is stopped, to test graceful shutdown.
 *                        With N close to PHP_FPM_REQUEST_TERMINATE_TIMEOUT (30) php-fpm may
 *                        kill it first, which is the timeout doing its job.
 *   GET /error           throws; the exception is logged (JSON, with the request id) and
 *                        answered with 500, for error-rate metrics and log tests.
 *   GET /db-sleep?seconds=N  holds one database connection for N seconds (0 <= N <= 5) with
 *                        pg_sleep: concurrent calls show how many server connections the
 *                        pods open, and whether a pooler bounds them.
 */
final class DiagnosticsController extends Controller
{
    public const MAX_SECONDS = 30;

    public const MAX_DB_SECONDS = 5;

    public function slow(Request $request): JsonResponse
    {
        $seconds = $request->query('seconds', '1');
        if (! is_string($seconds) || ! is_numeric($seconds) || (float) $seconds < 0 || (float) $seconds > self::MAX_SECONDS) {
            return new JsonResponse([
                'message' => 'seconds must be a number from 0 to '.self::MAX_SECONDS,
            ], 422);
        }

        // Sleep to a deadline: php-fpm's graceful stop (SIGQUIT) interrupts usleep(), and the
        // point of this endpoint is that the request still runs to its end.
        $started = hrtime(true);
        $deadline = $started + (int) round((float) $seconds * 1e9);
        while (($left = $deadline - hrtime(true)) > 0) {
            usleep((int) min(intdiv($left, 1000), 200_000));
        }

        return new JsonResponse([
            'status' => 'ok',
            'slept_seconds' => round((hrtime(true) - $started) / 1e9, 3),
        ]);
    }

    public function dbSleep(Request $request, ConnectionResolverInterface $db): JsonResponse
    {
        $seconds = $request->query('seconds', '0.5');
        if (! is_string($seconds) || ! is_numeric($seconds) || (float) $seconds < 0 || (float) $seconds > self::MAX_DB_SECONDS) {
            return new JsonResponse([
                'message' => 'seconds must be a number from 0 to '.self::MAX_DB_SECONDS,
            ], 422);
        }
        $db->connection()->select('select pg_sleep(?)', [(float) $seconds]);

        return new JsonResponse(['status' => 'ok', 'slept_seconds' => (float) $seconds]);
    }

    public function error(): never
    {
        throw new IntentionalFailure('intentional failure requested through GET /error');
    }
}
