<?php

namespace App\Http\Controllers;

use App\Models\Deployment;
use Illuminate\Http\JsonResponse;
use Illuminate\Http\Request;

/**
 * GET /deployments: the most recent rows of the demo table (a real database round trip,
 * with the migration and seeder of this application).
 */
final class DeploymentController extends Controller
{
    public function index(Request $request): JsonResponse
    {
        $limit = max(1, min(100, (int) $request->query('limit', '20')));

        $deployments = Deployment::query()
            ->orderByDesc('deployed_at')
            ->orderByDesc('id')
            ->limit($limit)
            ->get(['id', 'service', 'version', 'environment', 'status', 'deployed_at']);

        return new JsonResponse(['data' => $deployments]);
    }
}
