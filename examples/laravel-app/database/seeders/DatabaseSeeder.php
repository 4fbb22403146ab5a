<?php

namespace Database\Seeders;

use Illuminate\Database\Seeder;
use Illuminate\Support\Carbon;
use Illuminate\Support\Facades\DB;

/**
 * Demo rows. Idempotent (upsert on the unique key), because seeding runs as a Helm hook on
 * every install/upgrade in dev and staging.
 */
class DatabaseSeeder extends Seeder
{
    public function run(): void
    {
        $now = Carbon::now('UTC');

        $rows = [
            ['service' => 'backend', 'version' => '1.0.0', 'environment' => 'dev', 'status' => 'succeeded', 'deployed_at' => $now->copy()->subDays(3)],
            ['service' => 'backend', 'version' => '1.1.0', 'environment' => 'dev', 'status' => 'succeeded', 'deployed_at' => $now->copy()->subDays(2)],
            ['service' => 'backend', 'version' => '1.1.0', 'environment' => 'staging', 'status' => 'succeeded', 'deployed_at' => $now->copy()->subDay()],
            ['service' => 'backend', 'version' => '1.2.0', 'environment' => 'dev', 'status' => 'failed', 'deployed_at' => $now->copy()->subHours(6)],
        ];

        foreach ($rows as &$row) {
            $row['created_at'] = $now;
            $row['updated_at'] = $now;
        }
        unset($row);

        DB::table('deployments')->upsert(
            $rows,
            ['service', 'version', 'environment'],
            ['status', 'deployed_at', 'updated_at'],
        );
    }
}
