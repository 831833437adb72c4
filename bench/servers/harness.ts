import type { Server } from "node:http";
import type { DataSource, Logger } from "typeorm";
import { RoundTrips, type Pool } from "../pg";

/** What a server process is told on its command line. */
export interface ServerArgs {
  /** A SQLite file path, or a `postgres://` URL (`--db postgres` runs). */
  db: string;
}

export function serverArgs(): ServerArgs {
  const index = process.argv.indexOf("--db");
  const db = index > 0 ? process.argv[index + 1] : undefined;
  if (!db) throw new Error("usage: node <server>.js --db <sqlite file | postgres://...>");
  return { db };
}

export const isPostgres = (db: string) => db.startsWith("postgres://") || db.startsWith("postgresql://");

/** The example's `DATABASE_URL` for `--db`: a PostgreSQL URL as it is, a file as `sqlite:<file>`. */
export const databaseUrl = (db: string) => (isPostgres(db) ? db : `sqlite:${db}`);

/**
 * Counts SQL statements by kind, for the table's "queries per request" column: every
 * statement TypeORM runs reaches its logger (BEGIN / START TRANSACTION and COMMIT included).
 * On PostgreSQL it also counts round trips on the wire ({@link watchPostgres}).
 */
export class StatementCounter implements Logger {
  total = 0;
  session = 0;
  user = 0;
  private roundTrips?: RoundTrips;

  /** Counts the round trips of a PostgreSQL DataSource's pool (after `initialize()`); nothing on SQLite. */
  watchPostgres(dataSource: DataSource): void {
    if (dataSource.options.type !== "postgres") return;
    this.roundTrips = new RoundTrips();
    this.roundTrips.watchPool((dataSource.driver as unknown as { master: Pool }).master);
  }
  logQuery(query: string): void {
    this.total++;
    if (/ajax_session/.test(query)) this.session++;
    else if (/FROM "user" "(account|User)"/.test(query)) this.user++;
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
  reset(): void {
    this.total = this.session = this.user = 0;
    if (this.roundTrips) this.roundTrips.count = 0;
  }
  snapshot(): { total: number; session: number; user: number; roundTrips?: number } {
    return { total: this.total, session: this.session, user: this.user, ...(this.roundTrips ? { roundTrips: this.roundTrips.count } : {}) };
  }
}

/**
 * Reports the port to the bench over IPC once listening, answers statement counts over the
 * same channel (a side channel, so it is never part of the timed traffic) and exits on "stop".
 */
export function serve(server: Server, counter?: { snapshot(): object; reset(): void }, onStop?: () => Promise<void>): void {
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    process.send?.({ type: "ready", port });
  });
  process.on("message", (message: { type: string; id?: number }) => {
    if (message.type === "queries") process.send?.({ type: "queries", id: message.id, counts: counter?.snapshot() ?? null });
    else if (message.type === "resetQueries") { counter?.reset(); process.send?.({ type: "resetQueries", id: message.id }); }
    else if (message.type === "stop") {
      // Requests still running when the load ended (on PostgreSQL a request waits on the
      // database, so some are, their sockets already closed by autocannon) get 300 ms to
      // finish before the pool closes under them. Not timed; the bench kills a server after 5 s.
      server.close(() => setTimeout(() => { void (onStop?.() ?? Promise.resolve()).finally(() => process.exit(0)); }, 300));
    }
  });
  process.on("disconnect", () => process.exit(0));
}
