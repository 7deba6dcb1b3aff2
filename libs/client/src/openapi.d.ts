// Generated from the OpenAPI document the API serves (/docs-json) by `npm run generate:client`.
// Do not edit: change the API, then regenerate.

export interface paths {
    "/api/jobs/reports": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List report jobs
         * @description The caller’s jobs (every job for an admin) in creation order, filtered by runtimeStatus and creation time. Pages stay stable while jobs keep arriving: new jobs come after the last page. A page may hold fewer than top items while more remain; continue while a continuationToken is returned.
         */
        get: operations["ReportsController_list"];
        put?: never;
        /**
         * Start a report job
         * @description Validates the request, queues the job and answers 202 once Redis has acknowledged it. Poll statusQueryGetUri (also in Location) no sooner than Retry-After says. With an Idempotency-Key, repeats of the request land on the same job.
         */
        post: operations["ReportsController_start"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/jobs/reports/{instanceId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get the status of a report job
         * @description 202 while the job is Pending or Running (with Location and Retry-After), 200 once it is Completed, Failed or Terminated. With returnInternalServerErrorOnFailure=true a Failed job answers 500. A job removed by retention or purge answers 410 for JOB_GONE_RETENTION_SECONDS.
         */
        get: operations["ReportsController_status"];
        put?: never;
        post?: never;
        /**
         * Cancel a report job (DELETE on the status resource)
         * @description The same as POST …/terminate.
         */
        delete: operations["ReportsController_cancel"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/jobs/reports/{instanceId}/terminate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Terminate a report job (Durable’s terminatePostUri)
         * @description A job not yet running leaves the queue at once and becomes Terminated. A running job is aborted on the worker that runs it and then becomes Terminated; it is not retried. Answers with the current status.
         */
        post: operations["ReportsController_terminate"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/jobs/reports/{instanceId}/history": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Purge a finished report job (Durable’s purgeHistoryDeleteUri)
         * @description Deletes the job’s record now instead of at the end of its retention; its status URL then answers 410.
         */
        delete: operations["ReportsController_purge"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/jobs/reports/{instanceId}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Follow a report job as Server-Sent Events
         * @description A text/event-stream of the job's status, instead of polling. Each event is `id: <version>`, `event: status`, `data: <the status payload as JSON>` (the body the status URL answers). The first event is the current status, sent at once; then one event per change of state, attempt or progress; the final status (Completed, Failed, Terminated) is the last event, and the stream closes. Changes that come faster than they can be read are sent as their latest state. Comment lines (`: heartbeat`) come every SSE_HEARTBEAT_SECONDS. Ids increase along the job’s life: reconnect with `Last-Event-ID` and only newer events are sent (the current status at once if it is newer); an id this API did not send counts as none.
         */
        get: operations["JobEventsController_events"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/health/live": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness: the process answers HTTP */
        get: operations["HealthController_live"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/health/ready": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness: every shard's Redis master accepts a write within a second */
        get: operations["HealthController_ready"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        CreateReportJobDto: {
            /**
             * @description The customer the report is for: 1–128 characters of A–Z, a–z, 0–9, ".", "_", ":", "-".
             * @example cust-123
             */
            customer_id: string;
            /**
             * @description What to do; rebuild-report when omitted.
             * @example rebuild-report
             * @enum {string}
             */
            operation?: "rebuild-report";
            /**
             * @description Simulated work time of the job, in whole seconds; 5 when omitted.
             * @example 5
             */
            delay_seconds?: number;
            /**
             * Format: uri
             * @description Where to POST the final status when the job ends (Completed, Failed or Terminated), signed per Standard Webhooks with the secret of the caller’s principal. An absolute https URL (http only where the deployment allows it), without user or password or fragment, on port 80, 443 or 1024–65535, whose host resolves to public addresses only. Refused (400) for a principal without a webhook secret.
             * @example https://example.com/hooks/reports
             */
            callback_url?: string;
        };
        ReportResultView: {
            /** @example cust-123 */
            customerId: string;
            /**
             * @example rebuild-report
             * @enum {string}
             */
            operation: "rebuild-report";
        };
        CompletedOutput: {
            /** @enum {string} */
            status: "completed";
            /** Format: uuid */
            instanceId: string;
            result: components["schemas"]["ReportResultView"];
        };
        FailureView: {
            /** @description Why the job failed: the last attempt’s error, or the limit it ran into. */
            message: string;
        };
        FailedOutput: {
            /** @enum {string} */
            status: "failed";
            /** Format: uuid */
            instanceId: string;
            error: components["schemas"]["FailureView"];
        };
        TerminatedOutput: {
            /** @enum {string} */
            status: "terminated";
            /** Format: uuid */
            instanceId: string;
            /** @description The reason given when the job was terminated. */
            reason: string;
        };
        ReportJobInputView: {
            /** @example cust-123 */
            customer_id: string;
            /**
             * @example rebuild-report
             * @enum {string}
             */
            operation: "rebuild-report";
            /** @example 5 */
            delay_seconds: number;
        };
        CustomStatusView: {
            /**
             * @description Percent done.
             * @example 40
             */
            progress: number;
            /** @example Rebuilding report (2 of 5 s) */
            message: string;
        };
        CallbackStatusView: {
            /**
             * Format: uri
             * @description The callback_url given when the job was started.
             * @example https://example.com/hooks/reports
             */
            url: string;
            /**
             * @description pending: the job has not ended, or its delivery is queued or waiting for a retry; delivered: the receiver answered 2xx; failed: every attempt failed, or the URL was refused at delivery; disabled: the receiver answered 410.
             * @example delivered
             * @enum {string}
             */
            state: "pending" | "delivered" | "failed" | "disabled";
            /**
             * @description Delivery attempts made so far.
             * @example 1
             */
            attempts: number;
            /**
             * @description Why the last attempt failed.
             * @example answered 500
             */
            lastError?: string;
            /**
             * Format: date-time
             * @description When the receiver accepted the delivery.
             */
            deliveredAt?: string;
            /**
             * Format: date-time
             * @description When the next attempt is due, between retries.
             */
            nextAttemptTime?: string;
        };
        StatusPayload: {
            /** @enum {string} */
            name: "report";
            /** Format: uuid */
            instanceId: string;
            /**
             * @example Running
             * @enum {string}
             */
            runtimeStatus: "Pending" | "Running" | "Completed" | "Failed" | "Terminated";
            input: components["schemas"]["ReportJobInputView"];
            /** @description Progress of the running attempt; null before it reports any. */
            customStatus: components["schemas"]["CustomStatusView"] | null;
            /** @description Null while the job is Pending or Running. Completed: the result; Failed: the error; Terminated: the reason. Tell them apart by status. */
            output: components["schemas"]["CompletedOutput"] | components["schemas"]["FailedOutput"] | components["schemas"]["TerminatedOutput"] | null;
            /**
             * Format: date-time
             * @example 2026-11-26T10:00:00Z
             */
            createdTime: string;
            /**
             * Format: date-time
             * @example 2026-11-26T10:00:02Z
             */
            lastUpdatedTime: string;
            /**
             * @description Number of the current or last attempt; 0 before the first starts.
             * @example 1
             */
            attempt: number;
            /**
             * @description Attempts the job may take in all.
             * @example 3
             */
            maxAttempts: number;
            /** @description Error of the last failed attempt, while the job is not completed. */
            lastError?: string;
            /**
             * Format: date-time
             * @description When the next attempt is due, between retries.
             */
            nextRetryTime?: string;
            /** @description For a job started with a callback_url: where its webhook stands. */
            callback?: components["schemas"]["CallbackStatusView"];
        };
        AcceptedResponse: {
            /**
             * @example accepted
             * @enum {string}
             */
            status: "accepted";
            /**
             * Format: uuid
             * @description The job’s id, a UUID: random (version 4) or, with an Idempotency-Key, derived from the caller’s principal and key with a secret of the deployment (version 8), so that repeats get the same id and nobody without that secret can compute it, not even from the key. Only the principal that started the job, and admin keys, can reach it: other principals get 404.
             * @example 7d7e1b8a-2f7c-4f42-9c3e-0d5a1c2e9f10
             */
            instanceId: string;
            /**
             * Format: uri
             * @description Absolute URL to poll (also in the Location header).
             * @example http://localhost:3000/api/jobs/reports/7d7e1b8a-2f7c-4f42-9c3e-0d5a1c2e9f10
             */
            statusQueryGetUri: string;
            /**
             * @description POST here to terminate the job; replace {text} with a reason (URL-encoded).
             * @example http://localhost:3000/api/jobs/reports/7d7e1b8a-2f7c-4f42-9c3e-0d5a1c2e9f10/terminate?reason={text}
             */
            terminatePostUri: string;
            /**
             * Format: uri
             * @description DELETE here to purge the finished job’s record.
             * @example http://localhost:3000/api/jobs/reports/7d7e1b8a-2f7c-4f42-9c3e-0d5a1c2e9f10/history
             */
            purgeHistoryDeleteUri: string;
        };
        JobListPage: {
            items: components["schemas"]["StatusPayload"][];
            /** @description Pass as continuationToken for the next page; null when there is nothing more. */
            continuationToken: string | null;
        };
        PurgeResult: {
            /** @example 1 */
            instancesDeleted: number;
        };
        ProblemFieldError: {
            /** @example customer_id */
            field: string;
            /** @example customer_id must be longer than or equal to 1 characters */
            message: string;
        };
        ProblemDetails: {
            /**
             * Format: uri-reference
             * @example about:blank
             */
            type: string;
            /** @example Bad Request */
            title: string;
            /** @example 400 */
            status: number;
            /** @example The request is invalid; see errors. */
            detail: string;
            /** @description The request id (also in X-Request-Id); quote it when reporting a problem. */
            requestId: string;
            /** @description On a 400: each bad field. */
            errors?: components["schemas"]["ProblemFieldError"][];
            /**
             * Format: date-time
             * @description On a 410: when the job expired or was purged.
             */
            goneAt?: string;
            /**
             * Format: uuid
             * @description On a 503 whose enqueue may have happened after all: the job it would be; poll statusQueryGetUri.
             */
            instanceId?: string;
            /**
             * Format: uri
             * @description With instanceId: where to look for that job.
             */
            statusQueryGetUri?: string;
        };
        Liveness: {
            /** @enum {string} */
            status: "ok";
        };
        Readiness: {
            /** @enum {string} */
            status: "ok";
            /** @enum {string} */
            redis: "up";
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    ReportsController_list: {
        parameters: {
            query?: {
                /** @description Only jobs in these states; repeat the parameter or separate with commas (runtimeStatus=Running,Pending). */
                runtimeStatus?: ("Pending" | "Running" | "Completed" | "Failed" | "Terminated")[];
                /** @description Only jobs created at or after this time. */
                createdTimeFrom?: string;
                /** @description Only jobs created at or before this time. */
                createdTimeTo?: string;
                /** @description Page size; 100 when omitted. */
                top?: number;
                /** @description Accepted for Durable Functions clients; the input is always shown. */
                showInput?: boolean;
                /** @description Continue after the previous page: its continuationToken (or send it as the x-ms-continuation-token header). */
                continuationToken?: string;
            };
            header?: {
                /** @description The continuationToken of the previous page, as Durable Functions clients send it (the query parameter wins). */
                "x-ms-continuation-token"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of jobs; continue while continuationToken is not null. */
            200: {
                headers: {
                    /** @description The continuationToken of the body, when it is not null. */
                    "x-ms-continuation-token"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JobListPage"];
                };
            };
            /** @description An unknown or invalid query parameter, page size or token. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description No API key, or one that is not valid. */
            401: {
                headers: {
                    /** @description How to authenticate: Bearer. */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description Over the caller’s per-minute budget. */
            429: {
                headers: {
                    /** @description Seconds until the budget’s window turns. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description An unexpected error; the logs have the detail under the problem’s requestId. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description Redis is unreachable. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again (5). */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
        };
    };
    ReportsController_start: {
        parameters: {
            query?: never;
            header?: {
                /** @description RFC 7240 `wait=N` (for instance wait=10): hold the answer up to N seconds (at most MAX_PREFER_WAIT_SECONDS) for the job to end. Other preferences are ignored. */
                Prefer?: string;
                /** @description Makes retries safe: one job per key and caller, kept as long as the job. Repeats with the same body answer like the first; with another body, 422. 1–255 visible ASCII characters but `"` and `\`, bare or in double quotes; use a fresh random value (such as a UUID) per job. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateReportJobDto"];
            };
        };
        responses: {
            /** @description With Prefer: wait, the job ended within the wait: its final status. */
            200: {
                headers: {
                    /** @description The absolute status URL of the job (statusQueryGetUri). */
                    Location: string;
                    /** @description The status URL whose representation the body is. */
                    "Content-Location": string;
                    /** @description Present when a Prefer: wait was honoured: the wait applied, as wait=N. */
                    "Preference-Applied"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["StatusPayload"];
                };
            };
            /** @description The job is durably queued (or, with Prefer: wait, did not end within the wait). */
            202: {
                headers: {
                    /** @description The absolute status URL of the job (statusQueryGetUri). */
                    Location: string;
                    /** @description Seconds to wait before polling, estimated from the job’s state. */
                    "Retry-After": number;
                    /** @description Present when a Prefer: wait was honoured: the wait applied, as wait=N. */
                    "Preference-Applied"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AcceptedResponse"];
                };
            };
            /** @description Invalid fields (named in errors), malformed JSON, a body that is not a JSON object, or a malformed Idempotency-Key. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description No API key, or one that is not valid. */
            401: {
                headers: {
                    /** @description How to authenticate: Bearer. */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description The body is larger than BODY_LIMIT_BYTES. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description Content-Type is not application/json. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description The Idempotency-Key was used with another body. */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description Over the caller’s per-minute budget. */
            429: {
                headers: {
                    /** @description Seconds until the budget’s window turns. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description An unexpected error; the logs have the detail under the problem’s requestId. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description Redis is unreachable: nothing was queued; or, when the problem names an instanceId, the outcome of the enqueue is unknown: look for the job at its statusQueryGetUri, or retry with the same Idempotency-Key. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again (5). */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
        };
    };
    ReportsController_status: {
        parameters: {
            query?: {
                /** @description true: answer 500 instead of 200 when the job Failed (as Durable Functions does). Default: false. */
                returnInternalServerErrorOnFailure?: boolean;
            };
            header?: {
                /** @description RFC 7240 `wait=N` (for instance wait=10): hold the answer up to N seconds (at most MAX_PREFER_WAIT_SECONDS) for the job to end. Other preferences are ignored. */
                Prefer?: string;
            };
            path: {
                /** @description The instanceId returned when the job was started (a lowercase UUID). */
                instanceId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Completed (output holds the result), Failed (output.error) or Terminated (output.reason). */
            200: {
                headers: {
                    /** @description Present when a Prefer: wait was honoured: the wait applied, as wait=N. */
                    "Preference-Applied"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["StatusPayload"];
                };
            };
            /** @description Pending or Running: poll again after Retry-After. */
            202: {
                headers: {
                    /** @description The absolute status URL of the job (statusQueryGetUri). */
                    Location: string;
                    /** @description Seconds to wait before polling, estimated from the job’s state. */
                    "Retry-After": number;
                    /** @description Present when a Prefer: wait was honoured: the wait applied, as wait=N. */
                    "Preference-Applied"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["StatusPayload"];
                };
            };
            /** @description The id is not a lowercase UUID, or the URL is malformed. Or returnInternalServerErrorOnFailure is neither true nor false. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description No API key, or one that is not valid. */
            401: {
                headers: {
                    /** @description How to authenticate: Bearer. */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description No job has this id (or it belongs to another principal). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description The job was removed by retention or purged; goneAt says when. */
            410: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description The URL is too long (an id far longer than a UUID). */
            414: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description Over the caller’s per-minute budget. */
            429: {
                headers: {
                    /** @description Seconds until the budget’s window turns. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description Failed, with returnInternalServerErrorOnFailure=true: the status payload (application/json). Or an unexpected error (application/problem+json). */
            500: {
                headers: {
                    /** @description Present when a Prefer: wait was honoured: the wait applied, as wait=N. */
                    "Preference-Applied"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["StatusPayload"];
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description Redis is unreachable. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again (5). */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
        };
    };
    ReportsController_cancel: {
        parameters: {
            query?: {
                /** @description Why; shown as the Terminated job’s output.reason. Default: "Terminated by the client". */
                reason?: string;
            };
            header?: never;
            path: {
                /** @description The instanceId returned when the job was started (a lowercase UUID). */
                instanceId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Termination done (Terminated) or under way (still Running until the worker has stopped it). */
            202: {
                headers: {
                    /** @description The absolute status URL of the job (statusQueryGetUri). */
                    Location: string;
                    /** @description Seconds to wait before polling, estimated from the job’s state. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["StatusPayload"];
                };
            };
            /** @description The id is not a lowercase UUID, or the URL is malformed. Or the reason is longer than 500 characters. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description No API key, or one that is not valid. */
            401: {
                headers: {
                    /** @description How to authenticate: Bearer. */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description No job has this id (or it belongs to another principal). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description The job has already ended, or is gone. */
            410: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description The URL is too long (an id far longer than a UUID). */
            414: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description Over the caller’s per-minute budget. */
            429: {
                headers: {
                    /** @description Seconds until the budget’s window turns. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description An unexpected error; the logs have the detail under the problem’s requestId. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description Redis is unreachable. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again (5). */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
        };
    };
    ReportsController_terminate: {
        parameters: {
            query?: {
                /** @description Why; shown as the Terminated job’s output.reason. Default: "Terminated by the client". */
                reason?: string;
            };
            header?: never;
            path: {
                /** @description The instanceId returned when the job was started (a lowercase UUID). */
                instanceId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Termination done (Terminated) or under way (still Running until the worker has stopped it). */
            202: {
                headers: {
                    /** @description The absolute status URL of the job (statusQueryGetUri). */
                    Location: string;
                    /** @description Seconds to wait before polling, estimated from the job’s state. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["StatusPayload"];
                };
            };
            /** @description The id is not a lowercase UUID, or the URL is malformed. Or the reason is longer than 500 characters. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description No API key, or one that is not valid. */
            401: {
                headers: {
                    /** @description How to authenticate: Bearer. */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description No job has this id (or it belongs to another principal). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description The job has already ended, or is gone. */
            410: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description The body (none is needed) is larger than BODY_LIMIT_BYTES. */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description The URL is too long (an id far longer than a UUID). */
            414: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description A body (none is needed) whose Content-Type is not application/json. */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description Over the caller’s per-minute budget. */
            429: {
                headers: {
                    /** @description Seconds until the budget’s window turns. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description An unexpected error; the logs have the detail under the problem’s requestId. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description Redis is unreachable. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again (5). */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
        };
    };
    ReportsController_purge: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The instanceId returned when the job was started (a lowercase UUID). */
                instanceId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The job’s record is deleted. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PurgeResult"];
                };
            };
            /** @description The id is not a lowercase UUID, or the URL is malformed. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description No API key, or one that is not valid. */
            401: {
                headers: {
                    /** @description How to authenticate: Bearer. */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description No job has this id (or it belongs to another principal). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description The job is still Pending or Running. */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description Already purged or expired. */
            410: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description The URL is too long (an id far longer than a UUID). */
            414: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description Over the caller’s per-minute budget. */
            429: {
                headers: {
                    /** @description Seconds until the budget’s window turns. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description An unexpected error; the logs have the detail under the problem’s requestId. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description Redis is unreachable. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again (5). */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
        };
    };
    JobEventsController_events: {
        parameters: {
            query?: never;
            header?: {
                /** @description The id of the last event received, when reconnecting (e.g. 1.1.2): only newer events are sent. */
                "Last-Event-ID"?: string;
            };
            path: {
                /** @description The instanceId returned when the job was started. */
                instanceId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The event stream. Each event is `id: <version>`, `event: status`, `data: <the status payload as JSON>` (the body the status URL answers). The first event is the current status, sent at once; then one event per change of state, attempt or progress; the final status (Completed, Failed, Terminated) is the last event, and the stream closes. Changes that come faster than they can be read are sent as their latest state. Comment lines (`: heartbeat`) come every SSE_HEARTBEAT_SECONDS. Ids increase along the job’s life: reconnect with `Last-Event-ID` and only newer events are sent (the current status at once if it is newer); an id this API did not send counts as none. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example id: 1.1.2
                     *     event: status
                     *     data: {"name":"report","instanceId":"3c1f8f0e-6f9a-4b7e-9d55-2a8e0c4b1f27","runtimeStatus":"Running","customStatus":{"progress":40,"message":"Rebuilding report (2 of 5 s)"},"output":null,…}
                     *
                     *     : heartbeat
                     */
                    "text/event-stream": string;
                };
            };
            /** @description The job has ended and Last-Event-ID names its final event: nothing more will come (EventSource stops reconnecting). */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The id is not a UUID. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description No API key, or one that is not valid. */
            401: {
                headers: {
                    /** @description How to authenticate: Bearer. */
                    "WWW-Authenticate": string;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description No job has this id (or it is another principal’s). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description The job was removed by retention or purged; goneAt says when. */
            410: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description The URL is too long (an id far longer than a UUID). */
            414: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description Over the caller’s per-minute budget, or SSE_MAX_STREAMS_PER_PRINCIPAL streams already open on this API process. */
            429: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description An unexpected error; the logs have the detail under the problem’s requestId. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description Redis is unreachable, or the API is shutting down. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again. */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
        };
    };
    HealthController_live: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The process answers. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Liveness"];
                };
            };
            /** @description An unexpected error; the logs have the detail under the problem’s requestId. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
        };
    };
    HealthController_ready: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every shard's Redis master accepts a write. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Readiness"];
                };
            };
            /** @description An unexpected error; the logs have the detail under the problem’s requestId. */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
            /** @description Redis is unreachable, or a shard's master refuses writes. */
            503: {
                headers: {
                    /** @description Seconds to wait before trying again (5). */
                    "Retry-After": number;
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["ProblemDetails"];
                };
            };
        };
    };
}
