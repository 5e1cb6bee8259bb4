/**
 * A llama.cpp server's parallel slots: a request generates only while it holds a slot, waits first-come first-served
 * when all are busy, and a slot freed by a finished or abandoned request goes to the next waiting one at once.
 */

/** One request's claim on a slot. */
export interface SlotTicket {
  /** The slot held (0-based), or null when it holds none (waiting, left the queue, or released). */
  readonly slot: number | null;
  /**
   * Frees the slot, which the next waiting request gets before this returns; or, while still waiting, leaves the queue
   * (freeing nothing: it held nothing). Calling it again does nothing.
   */
  release(): void;
}

/** Called when a request gets its slot (`ticket.slot`); `queued` is false when a slot was free on arrival. */
export type SlotGranted = (ticket: SlotTicket & { readonly slot: number }, queued: boolean) => void;

interface Waiter {
  readonly ticket: MutableTicket;
  readonly onGranted: SlotGranted;
}

interface MutableTicket extends SlotTicket {
  slot: number | null;
  state: 'waiting' | 'holding' | 'released';
}

/** Parallel slots with a FIFO queue in front of them. */
export class SlotPool {
  private readonly busy = new Set<number>();
  private readonly queue: Waiter[] = [];
  private closed = false;

  /** `limit()` is read on every decision, so that a changed setting applies to the requests that follow. */
  constructor(private readonly limit: () => number) {}

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Slots held. */
  get held(): number {
    return this.busy.size;
  }

  /** Asks for a slot: `onGranted` runs now when one is free (before this returns), else when one frees up. */
  acquire(onGranted: SlotGranted): SlotTicket {
    const ticket: MutableTicket = {
      slot: null,
      state: 'waiting',
      release: () => this.release(ticket),
    };
    if (this.closed) {
      ticket.state = 'released';
      return ticket;
    }
    if (this.queue.length === 0 && this.busy.size < this.limit()) this.grant(ticket, onGranted, false);
    else this.queue.push({ ticket, onGranted });
    return ticket;
  }

  /** Grants waiting requests after the limit has grown. */
  pump(): void {
    while (!this.closed && this.busy.size < this.limit()) {
      const next = this.queue.shift();
      if (next === undefined) return;
      this.grant(next.ticket, next.onGranted, true);
    }
  }

  /** Drops every waiting request without granting it, and grants nothing from now on (the server is closing). */
  close(): void {
    this.closed = true;
    for (const waiter of this.queue) waiter.ticket.state = 'released';
    this.queue.length = 0;
  }

  private grant(ticket: MutableTicket, onGranted: SlotGranted, queued: boolean): void {
    let slot = 0;
    while (this.busy.has(slot)) slot += 1;
    this.busy.add(slot);
    ticket.slot = slot;
    ticket.state = 'holding';
    onGranted({ slot, release: ticket.release }, queued);
  }

  private release(ticket: MutableTicket): void {
    if (ticket.state === 'released') return;
    if (ticket.state === 'waiting') {
      ticket.state = 'released';
      const index = this.queue.findIndex((waiter) => waiter.ticket === ticket);
      if (index >= 0) this.queue.splice(index, 1);
      return;
    }
    ticket.state = 'released';
    if (ticket.slot !== null) this.busy.delete(ticket.slot);
    ticket.slot = null;
    this.pump();
  }
}
