import type { DataSource, Migration } from "typeorm";
import { dialectOf } from "../model/dialect";

/** The name of the lock that start-up migrations take (PostgreSQL hashes it to an advisory lock key). */
const MIGRATION_LOCK = "ajax-endpoints:migrations";
/** How long a server waits for another one's migrations before giving up. */
const MIGRATION_LOCK_TIMEOUT_SECONDS = 120;

/**
 * Runs the pending migrations while holding a database-wide lock, so that several servers
 * starting at once against one PostgreSQL or MariaDB database run them once: TypeORM itself
 * takes no lock, and two servers would both try to create the same tables. The one that waits
 * finds nothing left to do. `thenUnderLock` runs after them, still under the lock (seeding
 * rows that must exist once). On SQLite (one process, or `npm run cluster`, which migrates in the
 * primary before forking) no lock is needed.
 */
export async function runMigrationsExclusively(
  dataSource: DataSource, options: { thenUnderLock?: () => Promise<void> } = {},
): Promise<Migration[]> {
  const migrate = async () => {
    const migrations = await dataSource.runMigrations({ transaction: "each" });
    await options.thenUnderLock?.();
    return migrations;
  };
  const dialect = dialectOf(dataSource);
  if (dialect === "sqlite") return migrate();
  // The lock belongs to a session, so it is taken and released on one connection of its own.
  const runner = dataSource.createQueryRunner();
  try {
    if (dialect === "postgres") {
      await runner.query(`SET lock_timeout = '${MIGRATION_LOCK_TIMEOUT_SECONDS}s'`);
      await runner.query("SELECT pg_advisory_lock(hashtext($1))", [MIGRATION_LOCK]);
    } else {
      const [row] = await runner.query("SELECT GET_LOCK(?, ?) AS taken", [MIGRATION_LOCK, MIGRATION_LOCK_TIMEOUT_SECONDS]);
      if (Number(row?.taken) !== 1) throw new Error(`another server held the migration lock for ${MIGRATION_LOCK_TIMEOUT_SECONDS}s`);
    }
    try {
      return await migrate();
    } finally {
      await runner.query(dialect === "postgres" ? "SELECT pg_advisory_unlock(hashtext($1))" : "SELECT RELEASE_LOCK(?)", [MIGRATION_LOCK]);
    }
  } finally {
    await runner.release();
  }
}
