import { requireOptional } from "../optional";

/** The part of the mysql2 module that TypeORM's MySQL driver uses. */
export interface Mysql2Module {
  createPool(options: object): MysqlPool;
  createPoolCluster(options?: object): unknown;
}

interface MysqlPool {
  on(event: "connection", listener: (connection: MysqlPoolConnection) => void): unknown;
}

interface MysqlPoolConnection {
  query(sql: string, callback: (error: Error | null) => void): unknown;
  destroy(): void;
}

/**
 * mysql2 with every pooled connection's session in UTC, for TypeORM's `driver` option on
 * MySQL and MariaDB.
 *
 * mysql2's `timezone: "Z"` only says how the client converts JavaScript dates; the server still
 * evaluates `CURRENT_TIMESTAMP` (column defaults, `ON UPDATE`, TypeORM's `updatedAt`) in its own
 * zone, so on a server that is not in UTC those times would read back hours off. The `SET`
 * is queued on a new connection before the query that asked for it.
 *
 * @example new DataSource({ type: "mariadb", url, timezone: "Z", driver: mysqlDriverWithUtcSessions() })
 */
export function mysqlDriverWithUtcSessions(mysql2: Mysql2Module = requireOptional<Mysql2Module>("mysql2", "MySQL and MariaDB")): Mysql2Module {
  return runOnEachConnection(mysql2, "SET time_zone = '+00:00'");
}

/**
 * mysql2 whose pools run `sql` (a session `SET`) on every new connection before the query
 * that asked for it. A connection where it failed is closed, never used: the pool opens another.
 */
export function runOnEachConnection(mysql2: Mysql2Module, sql: string): Mysql2Module {
  return {
    ...mysql2,
    createPool(options: object) {
      const pool = mysql2.createPool(options);
      pool.on("connection", (connection) => {
        connection.query(sql, (error) => {
          if (error) connection.destroy();
        });
      });
      return pool;
    },
  };
}
