<?php

return [

    // Where request counters/histograms are aggregated across php-fpm workers:
    //   "auto"  APCu when it is loaded and enabled (the image), else the file below
    //   "apcu"  same as auto (falls back to the file when APCu is unavailable)
    //   "file"  always the file (flock-protected JSON)
    'store' => env('METRICS_STORE', 'auto'),

    // Key prefix in APCu (one php-fpm master serves one application).
    'apcu_prefix' => env('METRICS_APCU_PREFIX', 'app_metrics:'),

    'file' => storage_path('framework/metrics/metrics.json'),

    // php-fpm's pool status page, through the pod's nginx (which serves it to 127.0.0.1 only).
    'php_fpm_status_url' => env('METRICS_PHP_FPM_STATUS_URL', 'http://127.0.0.1:8080/fpm-status?json'),

    // Histogram buckets of http_request_duration_seconds (seconds). The last finite bucket
    // matches the longest request php-fpm allows (request_terminate_timeout, 30 s).
    'buckets' => [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],

];
