import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Environment } from '@report-jobs/config';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard';
import { SharedRateCounter } from '../rate-limit/shared-rate-counter';
import { ReportsModule } from '../reports/reports.module';
import { ApiKeyGuard } from './api-key.guard';
import { ApiKeyRegistry } from './api-key-registry';
import { AuthFailureThrottle } from './auth-failure-throttle';

/** Authentication, then rate limiting, in front of every route not marked @Public(). */
@Module({
  imports: [ReportsModule],
  providers: [
    { provide: ApiKeyRegistry, inject: [Environment], useFactory: ApiKeyRegistry.fromEnvironment },
    SharedRateCounter,
    AuthFailureThrottle,
    // Guards run in this order: the rate limit needs the authenticated principal.
    { provide: APP_GUARD, useClass: ApiKeyGuard },
    { provide: APP_GUARD, useClass: RateLimitGuard },
  ],
})
export class AuthModule {}
