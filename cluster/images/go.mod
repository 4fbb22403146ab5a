module laravel-ops.local/cluster-images

go 1.26.0
