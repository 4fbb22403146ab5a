<?php

namespace App\Providers;

use App\Metrics\ApcuStore;
use App\Metrics\FileStore;
use App\Metrics\MetricsRegistry;
use App\Metrics\Store;
use Illuminate\Support\ServiceProvider;

class AppServiceProvider extends ServiceProvider
{
    public function register(): void
    {
        $this->app->singleton(Store::class, function (): Store {
            $config = $this->app['config'];
            $choice = (string) $config->get('metrics.store', 'auto');

            if ($choice !== 'file' && ApcuStore::available()) {
                return new ApcuStore((string) $config->get('metrics.apcu_prefix', 'app_metrics:'));
            }

            return new FileStore((string) $config->get('metrics.file', storage_path('framework/metrics/metrics.json')));
        });

        $this->app->singleton(MetricsRegistry::class, fn (): MetricsRegistry => new MetricsRegistry(
            $this->app->make(Store::class),
            $this->app['config']->get('metrics.buckets', MetricsRegistry::DEFAULT_BUCKETS),
        ));
    }
}
