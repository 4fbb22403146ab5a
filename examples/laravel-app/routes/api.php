<?php

use App\Http\Controllers\DeploymentController;
use App\Http\Controllers\DiagnosticsController;
use App\Http\Controllers\HealthController;
use App\Http\Controllers\MetricsController;
use Illuminate\Support\Facades\Route;

// Loaded at the root (apiPrefix ''), with the stateless "api" middleware group.

Route::get('/', fn () => ['name' => config('app.name'), 'version' => config('app.version')]);

// Probes and monitoring.
Route::get('/healthz', [HealthController::class, 'healthz']);
Route::get('/readyz', [HealthController::class, 'readyz']);
Route::get('/metrics', MetricsController::class);

// Operational tests.
Route::get('/slow', [DiagnosticsController::class, 'slow']);
Route::get('/error', [DiagnosticsController::class, 'error']);
Route::get('/db-sleep', [DiagnosticsController::class, 'dbSleep']);

// Demo data (migration + seeder).
Route::get('/deployments', [DeploymentController::class, 'index']);
