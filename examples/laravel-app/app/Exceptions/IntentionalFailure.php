<?php

namespace App\Exceptions;

use RuntimeException;

/** Thrown on purpose by GET /error (error-rate metrics and exception-log tests). */
final class IntentionalFailure extends RuntimeException
{
}
