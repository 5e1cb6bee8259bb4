// A generation service whose streams the test writes, for the engines that stream through one (inline, next edit).
import { BackendError } from '../../../src/core/errors';
import type { ResolvedEndpoint } from '../../../src/core/endpoint';
import type {
  GenerationPlan,
  GenerationRun,
  GenerationService,
  GenerationSpec,
} from '../../../src/core/generation/generationService';
import type { RequestRecord } from '../../../src/core/requestStats';
import type { StreamEvent } from '../../../src/core/streamEvents';
import { requestRecord } from './requestRecords';

export interface ScriptedRun {
  readonly spec: GenerationSpec;
  /** True when the engine stopped reading before the stream ended (it had what it needed). */
  stoppedReading: boolean;
  /** The TTFT its record reports. */
  ttftMs: number;
  plan: GenerationPlan | null;
  push(text: string): void;
  end(): void;
  fail(error: BackendError): void;
  readonly aborted: () => boolean;
}

/** A generation service whose streams the test writes; it calls `build` like the real one, when the stream is read. */
export class ScriptedGenerationService implements GenerationService {
  readonly runs: ScriptedRun[] = [];

  constructor(private readonly serving: ResolvedEndpoint) {}

  start(spec: GenerationSpec): GenerationRun {
    const queue: (StreamEvent | BackendError | 'end')[] = [];
    let wake: (() => void) | null = null;
    const poke = () => {
      const resolve = wake;
      wake = null;
      resolve?.();
    };
    spec.signal.addEventListener('abort', poke);
    let resolveFinished: (record: RequestRecord | null) => void = () => undefined;
    const finished = new Promise<RequestRecord | null>((resolve) => {
      resolveFinished = resolve;
    });
    const fake: ScriptedRun = {
      spec,
      stoppedReading: false,
      ttftMs: 150,
      plan: null,
      push: (text) => {
        queue.push({ kind: 'text', text });
        poke();
      },
      end: () => {
        queue.push('end');
        poke();
      },
      fail: (error) => {
        queue.push(error);
        poke();
      },
      aborted: () => spec.signal.aborted,
    };
    this.runs.push(fake);
    const record = (outcome: RequestRecord['outcome']): RequestRecord =>
      requestRecord(
        { startedAtEpochMs: 0, endpointId: this.serving.id, endpointLabel: this.serving.label, outcome },
        { ttftMs: fake.ttftMs, outputTokens: 10, tokensSource: 'estimate', promptTokens: null, totalMs: 200 },
      );
    const serving = this.serving;
    let settled = false;
    async function* events(): AsyncGenerator<StreamEvent> {
      try {
        fake.plan = spec.build(serving);
        for (;;) {
          if (spec.signal.aborted) {
            settled = true;
            throw new BackendError('aborted', 'aborted');
          }
          const next = queue.shift();
          if (next === 'end') {
            settled = true;
            resolveFinished(record('ok'));
            return;
          }
          if (next instanceof BackendError) {
            settled = true;
            throw next;
          }
          if (next !== undefined) {
            yield next;
            continue;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      } catch (error) {
        resolveFinished(record('error'));
        throw error;
      } finally {
        // The engine stopped reading (it had the whole suggestion): the run is over.
        if (!settled) fake.stoppedReading = !spec.signal.aborted;
        resolveFinished(record('ok'));
      }
    }
    return {
      events: events(),
      route: () => ({ endpoint: serving, reason: 'fits' }),
      liveTokensPerSec: () => null,
      outputTokens: () => 0,
      complete: () => undefined,
      finished,
    };
  }
}
