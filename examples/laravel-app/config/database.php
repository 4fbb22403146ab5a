<?php

return [

    'default' => env('DB_CONNECTION', 'pgsql'),

    'connections' => [

        // For local experiments only; the deployed application uses PostgreSQL.
        'sqlite' => [
            'driver' => 'sqlite',
            'url' => env('DB_URL'),
            'database' => env('DB_DATABASE', database_path('database.sqlite')),
            'prefix' => '',
            'foreign_key_constraints' => env('DB_FOREIGN_KEYS', true),
        ],

        'pgsql' => [
            'driver' => 'pgsql',
            'url' => env('DB_URL'),
            'host' => env('DB_HOST', '127.0.0.1'),
            'port' => env('DB_PORT', '5432'),
            'database' => env('DB_DATABASE', 'laravel'),
            'username' => env('DB_USERNAME', 'laravel'),
            'password' => env('DB_PASSWORD', ''),
            'charset' => env('DB_CHARSET', 'utf8'),
            'prefix' => '',
            'prefix_indexes' => true,
            'search_path' => env('DB_SEARCH_PATH', 'public'),
            'sslmode' => env('DB_SSLMODE', 'prefer'),
            // The CA that verify-ca / verify-full check the server against (the chart's database.ca).
            'sslrootcert' => env('DB_SSLROOTCERT'),
            // Shows up in pg_stat_activity, to tell this application's connections apart.
            'application_name' => env('DB_APPLICATION_NAME', 'laravel'),
            'options' => [
                // pdo_pgsql turns PDO::ATTR_TIMEOUT into libpq's connect_timeout: a database
                // that is down makes /readyz answer 503 in about this many seconds instead
                // of hanging the worker (libpq's default is to wait indefinitely).
                PDO::ATTR_TIMEOUT => (int) env('DB_CONNECT_TIMEOUT', 2),
            ],
        ],

    ],

    'migrations' => [
        'table' => 'migrations',
        'update_date_on_publish' => true,
    ],

];
