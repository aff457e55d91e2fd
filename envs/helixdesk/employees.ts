/**
 * The support team (reference `simulator/employee_sim.py`). An employee holds at most
 * `max_employee_load` tickets. Each tick, per employee (rate = base_resolve_rate, minus
 * overload_penalty when the load is above the threshold), per ticket in assignment order:
 *   random() < ignore_probability → left alone this tick;
 *   else now ≥ deadline          → missed (removed);
 *   else random() < rate          → resolved (removed) with CSAT drawn from [3, 4, 4, 4, 5, 5].
 * As in the reference, resolve times are measured from t = 0 (assignment time is never recorded),
 * and CSAT ≤ 2 cannot occur, so bad_autoreply never fires.
 */
import type { RandomStream } from '../core/random/streams.js';
import type { HelixConfig } from './config.js';
import type { Ticket } from './queue.js';

const CSAT_DRAWS = [3, 4, 4, 4, 5, 5] as const;

export interface ResolutionEvent {
  readonly ticket: Ticket;
  readonly employee: number;
  readonly resolved: boolean;
  /** 3–5 when resolved, null when missed. */
  readonly csat: number | null;
}

export interface EmployeeData {
  tickets: number[];
  totalResolveMinutes: number;
  resolveCount: number;
}

export class EmployeeSimulator {
  private assigned: Ticket[][];
  private totalResolveMinutes: Float64Array;
  private resolveCount: Int32Array;

  constructor(private readonly cfg: HelixConfig) {
    const n = cfg.env.n_employees;
    this.assigned = Array.from({ length: n }, () => []);
    this.totalResolveMinutes = new Float64Array(n);
    this.resolveCount = new Int32Array(n);
  }

  get size(): number {
    return this.assigned.length;
  }

  reset(): void {
    for (const list of this.assigned) list.length = 0;
    this.totalResolveMinutes.fill(0);
    this.resolveCount.fill(0);
  }

  load(employee: number): number {
    return (this.assigned[employee] as Ticket[]).length;
  }

  loads(out: Int32Array = new Int32Array(this.assigned.length)): Int32Array {
    this.assigned.forEach((list, i) => {
      out[i] = list.length;
    });
    return out;
  }

  avgResolveMinutes(employee: number): number {
    const n = this.resolveCount[employee] as number;
    return n === 0 ? 0 : (this.totalResolveMinutes[employee] as number) / n;
  }

  /** Hand a ticket to an employee; false (and nothing changes) when they are at max load. */
  assign(employee: number, ticket: Ticket): boolean {
    const list = this.assigned[employee] as Ticket[];
    if (list.length >= this.cfg.sla.max_employee_load) return false;
    list.push(ticket);
    return true;
  }

  tick(rng: RandomStream, now: number): ResolutionEvent[] {
    const events: ResolutionEvent[] = [];
    const e = this.cfg.employee_sim;
    for (let i = 0; i < this.assigned.length; i++) {
      const list = this.assigned[i] as Ticket[];
      const rate =
        list.length > e.overload_threshold
          ? Math.max(0, e.base_resolve_rate - e.overload_penalty)
          : e.base_resolve_rate;
      let keep = 0;
      for (const ticket of list) {
        if (rng.next() < e.ignore_probability) {
          list[keep++] = ticket;
        } else if (now >= ticket.deadline) {
          ticket.done = true;
          events.push({ ticket, employee: i, resolved: false, csat: null });
        } else if (rng.next() < rate) {
          ticket.done = true;
          this.totalResolveMinutes[i] = (this.totalResolveMinutes[i] as number) + Math.max(now, 0);
          this.resolveCount[i] = (this.resolveCount[i] as number) + 1;
          events.push({ ticket, employee: i, resolved: true, csat: CSAT_DRAWS[rng.int(CSAT_DRAWS.length)] as number });
        } else {
          list[keep++] = ticket;
        }
      }
      list.length = keep;
    }
    return events;
  }

  save(): EmployeeData[] {
    return this.assigned.map((list, i) => ({
      tickets: list.map((t) => t.id),
      totalResolveMinutes: this.totalResolveMinutes[i] as number,
      resolveCount: this.resolveCount[i] as number,
    }));
  }

  restore(data: readonly EmployeeData[], tickets: ReadonlyMap<number, Ticket>): void {
    data.forEach((d, i) => {
      this.assigned[i] = d.tickets.map((id) => {
        const t = tickets.get(id);
        if (!t) throw new Error(`employee snapshot refers to unknown ticket ${id}`);
        return t;
      });
      this.totalResolveMinutes[i] = d.totalResolveMinutes;
      this.resolveCount[i] = d.resolveCount;
    });
  }
}
