// A stats sink for tests of the generation services: it keeps what it is told, for the tests that read it back.
import type { LiveRequestView, StatsSink } from '../../../src/core/generation/generationService';
import type { RequestRecord } from '../../../src/core/requestStats';

/** Keeps the view of every request started and every record finished or served from the cache, in order. */
export class RecordingSink implements StatsSink {
  readonly started: LiveRequestView[] = [];
  readonly records: RequestRecord[] = [];

  requestStarted(view: LiveRequestView): void {
    this.started.push(view);
  }

  requestFinished(_id: number, record: RequestRecord): void {
    this.records.push(record);
  }

  cacheServed(record: RequestRecord): void {
    this.records.push(record);
  }
}
