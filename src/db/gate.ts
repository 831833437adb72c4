import type { DataSource, EntityManager } from "typeorm";
import { dialectOf, installSqlFunctions } from "../model/dialect";

/**
 * A fair readers-writer lock. Waiters are served in arrival order; a waiting writer holds
 * back readers that come after it, so writes are never starved.
 */
class ReadWriteLock {
  private readers = 0;
  private writing = false;
  private readonly waiting: Array<{ write: boolean; grant: () => void }> = [];

  acquire(write: boolean): Promise<void> {
    if (this.waiting.length === 0 && this.canGrant(write)) {
      this.take(write);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push({ write, grant: resolve }));
  }

  release(write: boolean): void {
    if (write) this.writing = false;
    else this.readers--;
    while (this.waiting.length > 0 && this.canGrant(this.waiting[0]!.write)) {
      const next = this.waiting.shift()!;
      this.take(next.write);
      next.grant();
      if (next.write) break;
    }
  }

  private canGrant(write: boolean): boolean {
    return write ? !this.writing && this.readers === 0 : !this.writing;
  }

  private take(write: boolean): void {
    if (write) this.writing = true;
    else this.readers++;
  }
}

/**
 * The one door to the database for the framework's own work. On PostgreSQL and MariaDB it is
 * a plain pass-through: each transaction has a pooled connection of its own. TypeORM's
 * better-sqlite3 driver has a single connection for everything, so a query of one request
 * would run inside another request's open transaction (and be rolled back with it); there
 * reads share the door and a transaction takes it alone.
 */
export class DatabaseGate {
  private readonly lock?: ReadWriteLock;
  /**
   * MariaDB's default, REPEATABLE READ, reads from a snapshot taken at a transaction's first
   * read: a tag that a concurrent request committed meanwhile stays invisible to it (and its
   * response would leave the tag out). READ COMMITTED, PostgreSQL's default, sees committed
   * rows at every statement, takes no gap locks (fewer deadlocks), and leaves version checks
   * intact: an `UPDATE ... WHERE version = ?` always sees the latest row.
   */
  private readonly isolation?: "READ COMMITTED";

  constructor(readonly dataSource: DataSource) {
    if (dialectOf(dataSource) === "sqlite") this.lock = new ReadWriteLock();
    if (dialectOf(dataSource) === "mysql") this.isolation = "READ COMMITTED";
    // Every framework query passes a gate first, and each DataSource gets its gate once.
    installSqlFunctions(dataSource);
  }

  /** Runs reads (and single autocommit statements) that must not land inside someone's transaction. */
  async read<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!this.lock) return work(this.dataSource.manager);
    await this.lock.acquire(false);
    try {
      return await work(this.dataSource.manager);
    } finally {
      this.lock.release(false);
    }
  }

  /** Runs work in one transaction: all of it is written, or none. */
  async write<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!this.lock) {
      return this.isolation ? this.dataSource.transaction(this.isolation, work) : this.dataSource.transaction(work);
    }
    await this.lock.acquire(true);
    try {
      return await this.dataSource.transaction((manager) => work(manager));
    } finally {
      this.lock.release(true);
    }
  }
}

const gates = new WeakMap<DataSource, DatabaseGate>();

/** The gate of a DataSource (one per DataSource, shared by every router and store on it). */
export function gateOf(dataSource: DataSource): DatabaseGate {
  let gate = gates.get(dataSource);
  if (!gate) {
    gate = new DatabaseGate(dataSource);
    gates.set(dataSource, gate);
  }
  return gate;
}

/**
 * Runs a request's work through its DataSource's gate, in one transaction for `"write"`, with
 * `holder.manager` pointed at the gate's manager (the transaction's), so that every query the
 * work makes through the context lands where it should. A holder with an `ambient` manager
 * (a batch) runs the work in that transaction, whatever the mode.
 */
export function throughGate<T>(
  holder: { dataSource: DataSource; manager: EntityManager; ambient?: EntityManager }, mode: "read" | "write", work: (manager: EntityManager) => Promise<T> | T,
): Promise<T> {
  // Inside a batch the batch's transaction is already open (and on SQLite the gate already
  // held): every op joins it instead of opening its own, or waiting for a door it holds.
  const ambient = holder.ambient;
  if (ambient) {
    holder.manager = ambient;
    return Promise.resolve().then(() => work(ambient));
  }
  const gate = gateOf(holder.dataSource);
  const run = async (manager: EntityManager) => {
    holder.manager = manager;
    return work(manager);
  };
  return mode === "write" ? gate.write(run) : gate.read(run);
}
