import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DataSource } from "typeorm";

/** The databases the suite can run on; `TEST_DATABASE` picks one (default sqlite). */
export type TestDatabaseKind = "sqlite" | "postgres" | "mariadb";

export const POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const MARIADB_ADMIN_URL = process.env.TEST_MARIADB_URL ?? "mysql://root@127.0.0.1:3306/test";

export function testDatabaseKind(): TestDatabaseKind {
  const kind = (process.env.TEST_DATABASE ?? "sqlite").toLowerCase();
  if (kind === "sqlite" || kind === "postgres" || kind === "mariadb") return kind;
  throw new Error(`TEST_DATABASE=${kind}: use sqlite, postgres or mariadb`);
}

/** A database of its own for one test app: created empty, dropped by `drop()`. */
export interface TestDatabase {
  kind: TestDatabaseKind;
  url: string;
  drop(): Promise<void>;
}

async function adminQuery(type: "postgres" | "mysql", url: string, sql: string): Promise<void> {
  const admin = new DataSource({ type, url } as never);
  await admin.initialize();
  try {
    await admin.query(sql);
  } finally {
    await admin.destroy();
  }
}

/** Creates a fresh, empty database of the kind the suite runs on. */
export async function createTestDatabase(kind = testDatabaseKind()): Promise<TestDatabase> {
  const name = `ajax_test_${randomBytes(6).toString("hex")}`;
  if (kind === "sqlite") {
    const folder = mkdtempSync(join(tmpdir(), "ajax-test-"));
    return { kind, url: `sqlite:${join(folder, "test.sqlite")}`, drop: async () => rmSync(folder, { recursive: true, force: true }) };
  }
  if (kind === "postgres") {
    await adminQuery("postgres", POSTGRES_ADMIN_URL, `CREATE DATABASE "${name}"`);
    const url = new URL(POSTGRES_ADMIN_URL);
    url.pathname = `/${name}`;
    return { kind, url: url.toString(), drop: () => adminQuery("postgres", POSTGRES_ADMIN_URL, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
  }
  await adminQuery("mysql", MARIADB_ADMIN_URL, `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const url = new URL(MARIADB_ADMIN_URL.replace(/^mysql:/, "http:"));
  url.pathname = `/${name}`;
  return { kind, url: url.toString().replace(/^http:/, "mariadb:"), drop: () => adminQuery("mysql", MARIADB_ADMIN_URL, `DROP DATABASE IF EXISTS \`${name}\``) };
}
