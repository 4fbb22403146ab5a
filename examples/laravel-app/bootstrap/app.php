<?php

use App\Http\Middleware\AssignRequestId;
use App\Http\Middleware\RecordRequestMetrics;
use Illuminate\Foundation\Application;
use Illuminate\Foundation\Configuration\Exceptions;
use Illuminate\Foundation\Configuration\Middleware;
use Illuminate\Http\Request;

return Application::configure(basePath: dirname(__DIR__))
    ->withRouting(
        // An API only: routes/api.php with the stateless "api" middleware group, at the root
        // (/healthz, /readyz, /metrics, ...), no session, cookie or CSRF middleware.
        api: __DIR__.'/../routes/api.php',
        commands: __DIR__.'/../routes/console.php',
        apiPrefix: '',
    )
    ->withMiddleware(function (Middleware $middleware): void {
        // First in the global stack: every log line of the request carries its id, and the
        // measured duration covers all the other middleware.
        $middleware->prepend([
            AssignRequestId::class,
            RecordRequestMetrics::class,
        ]);

        // Requests arrive from nginx in the same pod (127.0.0.1), which forwards what the
        // ingress controller set; NetworkPolicy admits only the ingress controller.
        $middleware->trustProxies(at: '*');
    })
    ->withExceptions(function (Exceptions $exceptions): void {
        // JSON errors for every request (no HTML error pages from an API).
        $exceptions->shouldRenderJsonWhen(fn (Request $request, Throwable $e): bool => true);
    })
    ->create();
