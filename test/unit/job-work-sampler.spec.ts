import { ROOT_CONTEXT, SpanKind, trace, TraceFlags, type Context } from '@opentelemetry/api';
import { AlwaysOnSampler, SamplingDecision, type Sampler } from '@opentelemetry/sdk-trace';
import { JobWorkSampler, samplerFromEnvironment } from '../../libs/tracing/src/job-work-sampler';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';

function under(parent: { sampled: boolean; remote: boolean }): Context {
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: TRACE_ID,
    spanId: 'b7ad6b7169203331',
    traceFlags: parent.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: parent.remote,
  });
}

const decide = (sampler: Sampler, context: Context, kind: SpanKind, name = 'span') =>
  sampler.shouldSample(context, TRACE_ID, name, kind, {}, []).decision;

describe('JobWorkSampler', () => {
  // Always on underneath: whatever is dropped here is dropped by JobWorkSampler itself.
  const sampler = new JobWorkSampler(new AlwaysOnSampler());

  it('drops the root spans of BullMQ’s polling and timers', () => {
    for (const name of ['getNextJob reports', 'extendLocks reports', 'moveStalledJobsToWait reports']) {
      expect(decide(sampler, ROOT_CONTEXT, SpanKind.INTERNAL, name)).toBe(SamplingDecision.NOT_RECORD);
    }
    expect(decide(sampler, ROOT_CONTEXT, SpanKind.CLIENT)).toBe(SamplingDecision.NOT_RECORD);
    expect(decide(sampler, ROOT_CONTEXT, SpanKind.PRODUCER)).toBe(SamplingDecision.NOT_RECORD);
  });

  it('keeps requests and job attempts that start a trace', () => {
    expect(decide(sampler, ROOT_CONTEXT, SpanKind.SERVER)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(sampler, ROOT_CONTEXT, SpanKind.CONSUMER)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it('drops what runs under a span of this process that was dropped', () => {
    expect(decide(sampler, under({ sampled: false, remote: false }), SpanKind.CLIENT)).toBe(SamplingDecision.NOT_RECORD);
    expect(decide(sampler, under({ sampled: true, remote: false }), SpanKind.CLIENT)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it('leaves a span continuing another process’s trace to the configured sampler', () => {
    const parentBased = new JobWorkSampler(samplerFromEnvironment({}));
    expect(decide(parentBased, under({ sampled: true, remote: true }), SpanKind.CONSUMER)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(parentBased, under({ sampled: false, remote: true }), SpanKind.SERVER)).toBe(SamplingDecision.NOT_RECORD);
  });
});

describe('samplerFromEnvironment', () => {
  it.each([
    [{}, 'ParentBased{root=AlwaysOnSampler'],
    [{ OTEL_TRACES_SAMPLER: 'always_off' }, 'AlwaysOffSampler'],
    [{ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }, 'TraceIdRatioBased{0.25}'],
    [{ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' }, 'ParentBased{root=TraceIdRatioBased{0.1}'],
    [{ OTEL_TRACES_SAMPLER: 'parentbased_always_off' }, 'ParentBased{root=AlwaysOffSampler'],
  ])('%j → %s', (env, description) => {
    expect(samplerFromEnvironment(env).toString()).toContain(description);
  });
});
