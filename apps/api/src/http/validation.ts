import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import { ProblemException, type FieldError } from './problem-details';
import { validationShortcutOf } from './validation-shortcut';

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

/** Query properties of DTO classes that may be given more than once (?x=a&x=b). */
const repeatableQueryProperties = new Map<DtoClass, Set<string>>();

/**
 * Lets a query DTO property be repeated. Any other query value given twice arrives as an
 * array, which would slip past per-value checks (a length limit, a pattern), so it is
 * refused: named @Query('x') parameters never repeat.
 */
export function RepeatableQueryParameter(): PropertyDecorator {
  return (target, property) => {
    const dto = target.constructor as DtoClass;
    const repeatable = repeatableQueryProperties.get(dto) ?? new Set<string>();
    repeatable.add(String(property));
    repeatableQueryProperties.set(dto, repeatable);
  };
}

const givenOnce = (field: string): FieldError => ({ field, message: `${field} must be given once` });

/**
 * Checks the raw input before class-transformer sees it: a body must be a JSON object,
 * nothing may nest deeper than MAX_DEPTH, every key must be a declared property, and a
 * query value may be repeated only where that is declared. (Keys like "constructor" or
 * "toString" would otherwise pass the whitelist check, because the DTO instance inherits
 * members of those names.)
 */
class StrictValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const dto = metadata.metatype as DtoClass | undefined;
    const isDto = (metadata.type === 'body' || metadata.type === 'query') && typeof dto === 'function' && propertiesOf(dto).size > 0;
    if (metadata.type === 'body' && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw new ProblemException(400, 'The request body must be a JSON object.');
    }
    const shortcut = metadata.type === 'body' && dto ? validationShortcutOf(dto) : undefined;
    if (shortcut?.(value as object)) return Object.assign(new dto!(), value);
    if (metadata.type === 'query' && metadata.data && Array.isArray(value)) {
      throw new ProblemException(400, `The query gives ${metadata.data} more than once.`, [givenOnce(metadata.data)]);
    }
    if (depthOf(value, MAX_DEPTH) > MAX_DEPTH) {
      throw new ProblemException(400, `The request nests deeper than ${MAX_DEPTH} levels.`);
    }
    if (!isDto || typeof value !== 'object' || value === null) return super.transform(value, metadata);
    const known = propertiesOf(dto!);
    const repeatable = metadata.type === 'query' ? (repeatableQueryProperties.get(dto!) ?? new Set<string>()) : undefined;
    const unknown = Object.keys(value).filter((key) => !known.has(key));
    const repeated = repeatable
      ? Object.entries(value).filter(([key, given]) => known.has(key) && Array.isArray(given) && !repeatable.has(key)).map(([key]) => key)
      : [];
    if (unknown.length === 0 && repeated.length === 0) return super.transform(value, metadata);
    // Name every bad field at once: the other declared ones are still validated.
    const checkable = Object.fromEntries(Object.entries(value).filter(([key]) => known.has(key) && !repeated.includes(key)));
    const errors = await super.transform(checkable, metadata).then(
      () => [],
      (error: unknown) => {
        if (error instanceof ProblemException) return (error.getResponse() as { errors?: FieldError[] }).errors ?? [];
        throw error;
      },
    );
    const unknownErrors = unknown.map((field) => ({ field, message: `unknown field ${field} is not allowed` }));
    throw new ProblemException(400, 'The request is invalid; see errors.', [...errors, ...repeated.map(givenOnce), ...unknownErrors]);
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
