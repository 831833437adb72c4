/**
 * The parts of node-postgres (`pg`, a peer dependency without bundled types) that the bench
 * uses, typed here rather than adding @types/pg for a few calls; and the round-trip counter
 * every PostgreSQL server of the bench reports.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pg = require("pg") as PgModule;

export interface QueryConfig { name?: string; text: string; values?: unknown[] }
export interface QueryResult<R> { rows: R[]; rowCount: number | null }
export interface Queryable {
  query<R = Record<string, any>>(config: QueryConfig): Promise<QueryResult<R>>;
  query<R = Record<string, any>>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
}
export interface Client extends Queryable {
  connect(): Promise<void>;
  end(): Promise<void>;
  /** The protocol connection: emits one `readyForQuery` at the end of every exchange with the server. */
  connection: { on(event: "readyForQuery", listener: () => void): void };
}
export interface PoolClient extends Client { release(error?: Error | boolean): void }
export interface Pool extends Queryable {
  connect(): Promise<PoolClient>;
  end(): Promise<void>;
  on(event: "connect" | "acquire", listener: (client: Client) => void): void;
}
interface PgModule {
  Client: new (config: { connectionString: string }) => Client;
  Pool: new (config: { connectionString: string; max?: number }) => Pool;
}

export const Client = pg.Client;
export const Pool = pg.Pool;

/**
 * Round trips of a pool: the server's `ReadyForQuery` messages on each of its connections
 * (one per extended-protocol query, BEGIN and COMMIT included, and one per simple query even
 * if it holds several statements). Counted on the wire, so it does not depend on what a
 * library's query hook reports. A connection is watched from its first checkout after
 * `watchPool` (idle connections a pool opened earlier included).
 */
export class RoundTrips {
  count = 0;
  private readonly watched = new WeakSet<Client>();
  /** A connected pg client (its start-up exchange is not counted). */
  readonly watch = (client: Client): void => {
    if (this.watched.has(client)) return;
    this.watched.add(client);
    client.connection.on("readyForQuery", () => { this.count++; });
  };
  watchPool(pool: Pool): void {
    pool.on("acquire", this.watch);
  }
}
