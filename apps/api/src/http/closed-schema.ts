import { ApiSchema, type ApiSchemaOptions } from '@nestjs/swagger';

/**
 * Closes a class's schema in the OpenAPI document (`additionalProperties: false`): a
 * response carries exactly the members its class declares, and a request body with any
 * other field is refused. ApiSchema copies every option it is given into the schema; its
 * type names only `name` and `description`, so the option travels in a wider object.
 */
export function ClosedSchema(): ClassDecorator {
  const options: ApiSchemaOptions & { additionalProperties: false } = { additionalProperties: false };
  return ApiSchema(options);
}
