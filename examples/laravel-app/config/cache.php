<?php

return [

    // "file" keeps the application independent of Redis/memcached; storage/ is writable.
    // "apc" (APCu, shared by the php-fpm workers of one pod) is available in the image.
    'default' => env('CACHE_STORE', 'file'),

    'stores' => [

        'array' => [
            'driver' => 'array',
            'serialize' => false,
        ],

        'apc' => [
            'driver' => 'apc',
        ],

        'file' => [
            'driver' => 'file',
            'path' => storage_path('framework/cache/data'),
            'lock_path' => storage_path('framework/cache/data'),
        ],

        'null' => [
            'driver' => 'null',
        ],

    ],

    'prefix' => env('CACHE_PREFIX', 'laravel_cache_'),

];
