import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { ProblemException, type FieldError } from './problem-details';

function fieldErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({
      field,
      message: message.replace(/^property (\S+) should not exist$/, 'unknown field $1 is not allowed'),
    }));
    return [...own, ...fieldErrors(error.children ?? [], field)];
  });
}

/** A body that is not a JSON object (an array, null, a number) is rejected before field checks. */
class StrictValidationPipe extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw new ProblemException(400, 'The request body must be a JSON object.');
    }
    return super.transform(value, metadata);
  }
}

/**
 * Strict DTO validation: unknown fields are errors (never silently dropped), no type
 * coercion ("5" is not 5), and every bad field is named in the problem's `errors`.
 */
export function strictValidationPipe(): ValidationPipe {
  return new StrictValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    stopAtFirstError: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) =>
      new ProblemException(400, 'The request is invalid; see errors.', fieldErrors(errors)),
  });
}
