<?php

use Illuminate\Database\Migrations\Migration;
use Illuminate\Database\Schema\Blueprint;
use Illuminate\Support\Facades\Schema;

return new class extends Migration
{
    public function up(): void
    {
        Schema::create('deployments', function (Blueprint $table): void {
            $table->id();
            $table->string('service', 100);
            $table->string('version', 100);
            $table->string('environment', 50);
            $table->string('status', 30)->default('succeeded');
            $table->timestamp('deployed_at')->nullable();
            $table->timestamps();

            $table->unique(['service', 'version', 'environment']);
            $table->index('deployed_at');
        });
    }

    public function down(): void
    {
        Schema::dropIfExists('deployments');
    }
};
