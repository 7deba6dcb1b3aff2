import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ProblemDetails } from './reports/dto/report-job.responses';

/**
 * Swagger UI at /docs, the OpenAPI document at /docs-json. OpenAPI 3.1, whose schemas are
 * JSON Schema: a value that may be null is said exactly, beside a $ref (customStatus:
 * `anyOf: [{$ref}, {type: 'null'}]`; output: `oneOf` of its outcomes and null), which
 * OpenAPI 3.0's `nullable` cannot say.
 */
export function setUpSwagger(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('report-jobs')
    .setDescription(
      'Long-running report jobs behind an asynchronous API. POST a job, get 202 Accepted with ' +
        'a status URL (Location) and Retry-After, and poll it: 202 while the job is Pending or ' +
        'Running, 200 once it is Completed, Failed or Terminated. Errors are application/problem+json (RFC 9457).',
    )
    .setVersion('1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'API key', description: 'An API key from API_KEYS or ADMIN_API_KEYS.' })
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'The same API key, as a header of its own.' }, 'api-key')
    .build();
  const document = SwaggerModule.createDocument(app, config, { extraModels: [ProblemDetails] });
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
