import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** Swagger UI at /docs, the OpenAPI document at /docs-json. */
export function setUpSwagger(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('report-jobs')
    .setDescription(
      'Long-running report jobs behind an asynchronous API. POST a job, get 202 Accepted with ' +
        'a status URL (Location) and Retry-After, and poll it: 202 while the job is Pending or ' +
        'Running, 200 when it is Completed or Failed. Errors are application/problem+json (RFC 9457).',
    )
    .setVersion('1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key from API_KEYS or ADMIN_API_KEYS.' })
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'api-key')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
