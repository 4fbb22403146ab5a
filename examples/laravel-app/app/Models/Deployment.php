<?php

namespace App\Models;

use Illuminate\Database\Eloquent\Model;

/**
 * A recorded deployment of a service (the demo table of the example application).
 *
 * @property int $id
 * @property string $service
 * @property string $version
 * @property string $environment
 * @property string $status
 * @property \Illuminate\Support\Carbon|null $deployed_at
 */
class Deployment extends Model
{
    protected $fillable = ['service', 'version', 'environment', 'status', 'deployed_at'];

    protected function casts(): array
    {
        return [
            'deployed_at' => 'datetime',
        ];
    }
}
