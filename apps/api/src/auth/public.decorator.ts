import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'report-jobs:public';

/** Marks a route that needs no API key and counts against no rate limit (health probes). */
export const Public = () => SetMetadata(IS_PUBLIC, true);
