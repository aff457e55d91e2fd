/**
 * The ticket queue and its SLA watch (reference env.py steps 2, 4 and 6). Every acted-on email
 * becomes a ticket; employees remove the tickets they resolve or miss; queries and review tickets
 * never leave (a reference quirk kept as is: queue depth and the "normal" count only grow).
 */
import type { Priority } from './emails.js';

export type TicketKind = 'query' | 'complaint' | 'pending_review';
export type TicketStatus = 'auto_replied' | 'resolved_auto' | 'assigned' | 'unassigned' | 'pending_review' | 'overdue';

export interface Ticket {
  /** Sequence number within the episode. */
  readonly id: number;
  readonly kind: TicketKind;
  readonly priority: Priority;
  status: TicketStatus;
  readonly createdAt: number;
  /** Absolute SLA deadline in minutes. */
  readonly deadline: number;
  readonly assignedTo: number | null;
  /** Set when an employee resolved or missed it; the queue drops it after the tick. */
  done: boolean;
}

/** Tickets closer than this to their deadline count as near-deadline. */
export const NEAR_DEADLINE_MINUTES = 120;

export interface SlaPass {
  overdue: number;
  nearDeadline: number;
  criticalOverdue: boolean;
}

export class TicketQueue {
  tickets: Ticket[] = [];
  private nextId = 0;

  clear(): void {
    this.tickets = [];
    this.nextId = 0;
  }

  add(
    kind: TicketKind,
    priority: Priority,
    status: TicketStatus,
    createdAt: number,
    deadline: number,
    assignedTo: number | null,
  ): Ticket {
    const ticket: Ticket = { id: this.nextId++, kind, priority, status, createdAt, deadline, assignedTo, done: false };
    this.tickets.push(ticket);
    return ticket;
  }

  /** Drop tickets employees resolved or missed this tick (order kept). */
  removeDone(): void {
    let w = 0;
    for (const t of this.tickets) if (!t.done) this.tickets[w++] = t;
    this.tickets.length = w;
  }

  /**
   * The SLA watch: tickets still being worked (not auto-resolved, not awaiting review) whose
   * deadline has passed become "overdue" (and are recounted every step, as in the reference);
   * those within two hours of it are near-deadline.
   */
  slaPass(now: number): SlaPass {
    let overdue = 0;
    let nearDeadline = 0;
    let criticalOverdue = false;
    for (const t of this.tickets) {
      if (t.status === 'resolved_auto' || t.status === 'pending_review') continue;
      const remaining = t.deadline - now;
      if (remaining <= 0) {
        t.status = 'overdue';
        overdue++;
        if (t.priority === 'critical') criticalOverdue = true;
      } else if (remaining < NEAR_DEADLINE_MINUTES) {
        nearDeadline++;
      }
    }
    return { overdue, nearDeadline, criticalOverdue };
  }

  /** A deep copy (employees refer to tickets by id). */
  save(): { tickets: Ticket[]; nextId: number } {
    return { tickets: this.tickets.map((t) => ({ ...t })), nextId: this.nextId };
  }

  load(data: { tickets: readonly Ticket[]; nextId: number }): Map<number, Ticket> {
    this.tickets = data.tickets.map((t) => ({ ...t }));
    this.nextId = data.nextId;
    return new Map(this.tickets.map((t) => [t.id, t]));
  }
}
