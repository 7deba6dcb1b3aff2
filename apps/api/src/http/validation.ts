import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
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

/** Deeper JSON than any request of this API needs; class-transformer would recurse into it. */
const MAX_DEPTH = 8;

function depthOf(value: unknown, limit: number): number {
  if (typeof value !== 'object' || value === null) return 0;
  if (limit === 0) return 1;
  let deepest = 0;
  for (const child of Object.values(value)) deepest = Math.max(deepest, depthOf(child, limit - 1));
  return deepest + 1;
}

type DtoClass = new (...args: never[]) => object;

/** The properties a DTO class declares (those with validation rules). */
const declaredProperties = new Map<DtoClass, Set<string>>();
function propertiesOf(metatype: DtoClass): Set<string> {
  let known = declaredProperties.get(metatype);
  if (!known) {
    const rules = getMetadataStorage().getTargetValidationMetadatas(metatype, '', true, false);
    known = new Set(rules.map((rule) => rule.propertyName));
    declaredProperties.set(metatype, known);
  }
  return known;
}

/**
 * Checks the raw input before class-transformer sees it: a body must be a JSON object,
 * nothing may nest deeper than MAX_DEPTH, and every key must be a declared property.
 * (Keys like "constructor" or "toString" would otherwise pass the whitelist check,
 * because the DTO instance inherits members of those names.)
 */
class StrictValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const dto = metadata.metatype as DtoClass | undefined;
    const isDto = (metadata.type === 'body' || metadata.type === 'query') && typeof dto === 'function' && propertiesOf(dto).size > 0;
    if (metadata.type === 'body' && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw new ProblemException(400, 'The request body must be a JSON object.');
    }
    if (depthOf(value, MAX_DEPTH) > MAX_DEPTH) {
      throw new ProblemException(400, `The request nests deeper than ${MAX_DEPTH} levels.`);
    }
    if (!isDto || typeof value !== 'object' || value === null) return super.transform(value, metadata);
    const known = propertiesOf(dto!);
    const unknown = Object.keys(value).filter((key) => !known.has(key));
    if (unknown.length === 0) return super.transform(value, metadata);
    // Name every bad field at once: the declared ones are still validated.
    const declared = Object.fromEntries(Object.entries(value).filter(([key]) => known.has(key)));
    const errors = await super.transform(declared, metadata).then(
      () => [],
      (error: unknown) => {
        if (error instanceof ProblemException) return (error.getResponse() as { errors?: FieldError[] }).errors ?? [];
        throw error;
      },
    );
    const unknownErrors = unknown.map((field) => ({ field, message: `unknown field ${field} is not allowed` }));
    throw new ProblemException(400, 'The request is invalid; see errors.', [...errors, ...unknownErrors]);
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
