import "reflect-metadata";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { Client } from "./pg";
import { DataSource } from "typeorm";
import { dataSourceOptions, migrations } from "../ormconfig";
import { hashPassword } from "../src/auth/passwords";

/** Bump when the seeded data changes; the migrations' names are part of the key too. */
export const SEED_VERSION = 1;
export const USERS = 10_000;
export const ARTICLES = 50_000;
export const CATEGORIES = 50;
export const TAGS = 200;
/** The bench user: not staff, owns the first {@link OWNED} articles, logs in with this password. */
export const BENCH_USER = { id: 1, username: "bench", password: "bench-password" };
export const OWNED = 200;

/** Where cached data lives (gitignored): `<repo>/bench/.data`. */
export const DATA_DIR = resolve(__dirname, "..", "..", "bench", ".data");

/** The seed version and a hash of the compiled migrations: a changed schema seeds a new file. */
export function schemaKey(): string {
  const folder = join(__dirname, "..", "migrations");
  const hash = createHash("sha256");
  for (const file of readdirSync(folder).filter((f) => f.endsWith(".js")).sort()) hash.update(readFileSync(join(folder, file)));
  return `v${SEED_VERSION}-${migrations.length}-${hash.digest("hex").slice(0, 12)}`;
}

export function seededPath(): string {
  return join(DATA_DIR, `bench-${schemaKey()}.sqlite`);
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** A SQLite datetime text as the migrations' default writes it: UTC with milliseconds. */
function sqliteDate(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace("Z", "");
}

const LOREM = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse.";

/** The rows of the bench data, the same on every database: times in ms since the epoch (UTC). */
const SEED_START = Date.UTC(2025, 0, 1);
export interface SeedUser { id: number; username: string; passwordHash: string; email: string; createdAt: number }
export interface SeedArticle {
  id: number; title: string; body: string; published: boolean; publishedAt: number | null; categoryId: number | null; authorId: number; createdAt: number;
}
export interface SeedData {
  users: SeedUser[];
  categories: Array<{ id: number; title: string; description: string | null }>;
  tags: Array<{ id: number; name: string; slug: string }>;
  articles: SeedArticle[];
  /** Tag links in insertion order (the link table's own ids follow it). */
  links: Array<{ tagId: number; objectId: number }>;
}

async function seedData(): Promise<SeedData> {
  const hash = await hashPassword(BENCH_USER.password);
  const users: SeedUser[] = [{ id: BENCH_USER.id, username: BENCH_USER.username, passwordHash: hash, email: "bench@example.com", createdAt: SEED_START }];
  for (let id = 2; id <= USERS; id++) users.push({ id, username: `user${pad(id, 5)}`, passwordHash: "!unusable", email: `user${id}@example.com`, createdAt: SEED_START + id * 1000 });
  const categories = Array.from({ length: CATEGORIES }, (_, i) => ({ id: i + 1, title: `Category ${pad(i + 1, 2)}`, description: (i + 1) % 5 === 0 ? null : `About category ${i + 1}.` }));
  const tags = Array.from({ length: TAGS }, (_, i) => ({ id: i + 1, name: `tag-${pad(i + 1, 3)}`, slug: `tag-${pad(i + 1, 3)}` }));
  const articles: SeedArticle[] = [];
  const links: SeedData["links"] = [];
  for (let id = 1; id <= ARTICLES; id++) {
    const published = id % 10 !== 0;
    const createdAt = SEED_START + id * 60_000 + (id % 1000);
    articles.push({
      id, title: `Article ${id}: ${LOREM.slice(0, 20 + (id % 40))}`, body: LOREM.slice(0, 120 + (id % 180)), published, publishedAt: published ? createdAt : null,
      categoryId: id % 97 === 0 ? null : 1 + (id % CATEGORIES), authorId: id <= OWNED ? BENCH_USER.id : 2 + ((id * 7919) % (USERS - 1)), createdAt,
    });
    const tagIds = new Set<number>();
    for (let j = 0; j < id % 4; j++) tagIds.add(1 + ((id * 31 + j * 17) % TAGS));
    for (const tagId of tagIds) links.push({ tagId, objectId: id });
  }
  return { users, categories, tags, articles, links };
}

/** Seeds the benchmark database once and caches it; returns its path. */
export async function ensureSeeded(log: (line: string) => void = () => {}): Promise<string> {
  const path = seededPath();
  if (existsSync(path)) return path;
  mkdirSync(DATA_DIR, { recursive: true });
  const building = `${path}.building`;
  for (const suffix of ["", "-wal", "-shm"]) rmSync(building + suffix, { force: true });
  log(`seeding ${path} (once) ...`);
  const dataSource = new DataSource(dataSourceOptions(`sqlite:${building}`));
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: "each" });
  await dataSource.destroy();

  const data = await seedData();
  const db = new Database(building);
  db.pragma("journal_mode = WAL");
  db.transaction(() => {
    const user = db.prepare('INSERT INTO "user" (id, username, passwordHash, email, isStaff, isActive, createdAt) VALUES (?, ?, ?, ?, 0, 1, ?)');
    for (const u of data.users) user.run(u.id, u.username, u.passwordHash, u.email, sqliteDate(u.createdAt));
    const category = db.prepare("INSERT INTO category (id, title, description) VALUES (?, ?, ?)");
    for (const c of data.categories) category.run(c.id, c.title, c.description);
    const tag = db.prepare("INSERT INTO ajax_tag (id, name, slug) VALUES (?, ?, ?)");
    for (const t of data.tags) tag.run(t.id, t.name, t.slug);
    const article = db.prepare(`INSERT INTO article (id, title, body, published, publishedAt, categoryId, authorId, createdAt, updatedAt, version)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`);
    const link = db.prepare("INSERT INTO ajax_tagged_item (tagId, model, objectId) VALUES (?, 'article', ?)");
    // Each article, then its links, as the file has always been written (same page layout).
    let next = 0;
    for (const a of data.articles) {
      const created = sqliteDate(a.createdAt);
      article.run(a.id, a.title, a.body, a.published ? 1 : 0, a.publishedAt === null ? null : sqliteDate(a.publishedAt), a.categoryId, a.authorId, created, created);
      for (; next < data.links.length && data.links[next]!.objectId === a.id; next++) link.run(data.links[next]!.tagId, a.id);
    }
  })();
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.exec("ANALYZE");
  db.close();
  renameSync(building, path);
  for (const suffix of ["-wal", "-shm"]) rmSync(building + suffix, { force: true });
  log("seeded.");
  return path;
}

/** A fresh copy of the seeded file for one server in one round (writes stay comparable). */
export function freshCopy(seeded: string, name: string): string {
  const dir = join(DATA_DIR, "run");
  mkdirSync(dir, { recursive: true });
  const target = join(dir, `${name}.sqlite`);
  removeDatabase(target);
  copyFileSync(seeded, target);
  return target;
}

export function removeDatabase(path: string): void {
  for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
}

// ---- PostgreSQL ----------------------------------------------------------------------------

/** The PostgreSQL server of `--db postgres` (its `postgres` database, for CREATE and DROP DATABASE). */
export const POSTGRES_ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
/** The seeded database; every server run gets a copy of it made with `CREATE DATABASE ... TEMPLATE`. */
export const POSTGRES_SEEDED = "ajax_bench";

/** The URL of database `name` on the bench's PostgreSQL server. */
export function postgresUrl(name: string): string {
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function adminClient(url = POSTGRES_ADMIN_URL): Promise<Client> {
  const client = new Client({ connectionString: url });
  await client.connect();
  return client;
}

async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = await adminClient();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Seeds `ajax_bench` once with the same rows, ids and bench user as the SQLite file, through
 * the example app's own migrations on PostgreSQL (search index, soft delete, audit table
 * included); reused while its comment holds the same {@link schemaKey}. Returns its URL.
 */
export async function ensureSeededPostgres(log: (line: string) => void = () => {}): Promise<string> {
  const key = schemaKey();
  const current = await admin((client) => client.query<{ key: string | null }>(
    "SELECT shobj_description(oid, 'pg_database') AS key FROM pg_database WHERE datname = $1", [POSTGRES_SEEDED]));
  if (current.rows[0]?.key === key) return postgresUrl(POSTGRES_SEEDED);

  const building = `${POSTGRES_SEEDED}_building`;
  log(`seeding PostgreSQL database ${POSTGRES_SEEDED} (once, key ${key}) ...`);
  await admin(async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${building}`);
  });
  const dataSource = new DataSource(dataSourceOptions(postgresUrl(building), { statementTimeoutMs: 0 }));
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: "each" });
  await dataSource.destroy();

  const data = await seedData();
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const client = await adminClient(postgresUrl(building));
  try {
    // One statement per table: the rows go as arrays and unnest() turns them back into rows.
    const column = <R>(rows: R[], pick: (row: R) => unknown) => rows.map(pick);
    await client.query("BEGIN");
    await client.query(`INSERT INTO "user" (id, username, "passwordHash", email, "isStaff", "isActive", "createdAt")
      SELECT id, username, hash, email, false, true, created FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS t(id, username, hash, email, created)`,
    [column(data.users, (u) => u.id), column(data.users, (u) => u.username), column(data.users, (u) => u.passwordHash),
      column(data.users, (u) => u.email), column(data.users, (u) => iso(u.createdAt))]);
    await client.query("INSERT INTO category (id, title, description) SELECT * FROM unnest($1::int[], $2::text[], $3::text[])",
      [column(data.categories, (c) => c.id), column(data.categories, (c) => c.title), column(data.categories, (c) => c.description)]);
    await client.query("INSERT INTO ajax_tag (id, name, slug) SELECT * FROM unnest($1::int[], $2::text[], $3::text[])",
      [column(data.tags, (t) => t.id), column(data.tags, (t) => t.name), column(data.tags, (t) => t.slug)]);
    const a = data.articles;
    await client.query(`INSERT INTO article (id, title, body, published, "publishedAt", "categoryId", "authorId", "createdAt", "updatedAt", version)
      SELECT id, title, body, published, "publishedAt", "categoryId", "authorId", created, created, 1
      FROM unnest($1::int[], $2::text[], $3::text[], $4::bool[], $5::timestamptz[], $6::int[], $7::int[], $8::timestamptz[])
        AS t(id, title, body, published, "publishedAt", "categoryId", "authorId", created)`,
    [column(a, (r) => r.id), column(a, (r) => r.title), column(a, (r) => r.body), column(a, (r) => r.published), column(a, (r) => iso(r.publishedAt)),
      column(a, (r) => r.categoryId), column(a, (r) => r.authorId), column(a, (r) => iso(r.createdAt))]);
    await client.query(`INSERT INTO ajax_tagged_item ("tagId", model, "objectId") SELECT "tagId", 'article', "objectId"
      FROM unnest($1::int[], $2::int[]) WITH ORDINALITY AS t("tagId", "objectId", n) ORDER BY n`,
    [column(data.links, (l) => l.tagId), column(data.links, (l) => l.objectId)]);
    // The ids above were given, not drawn: the sequences continue after them, as SQLite's rowids do.
    for (const table of ["user", "category", "ajax_tag", "article"]) {
      await client.query(`SELECT setval(pg_get_serial_sequence('"${table}"', 'id'), (SELECT max(id) FROM "${table}"))`);
    }
    await client.query("COMMIT");
    await client.query("VACUUM ANALYZE");
  } finally {
    await client.end();
  }
  await admin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${POSTGRES_SEEDED} WITH (FORCE)`);
    await c.query(`ALTER DATABASE ${building} RENAME TO ${POSTGRES_SEEDED}`);
    await c.query(`COMMENT ON DATABASE ${POSTGRES_SEEDED} IS '${key}'`);
  });
  log("seeded.");
  return postgresUrl(POSTGRES_SEEDED);
}

/** A fresh copy of `ajax_bench` for one server in one round; answers its URL. */
export async function freshPostgresCopy(name: string): Promise<string> {
  const database = `${POSTGRES_SEEDED}_${name.replace(/[^a-z0-9]+/gi, "_").toLowerCase()}`;
  await admin(async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${database} TEMPLATE ${POSTGRES_SEEDED}`);
  });
  return postgresUrl(database);
}

/** Drops a copy made by {@link freshPostgresCopy} (never the seeded database itself). */
export async function dropPostgresCopy(url: string): Promise<void> {
  const database = new URL(url).pathname.slice(1);
  if (database === POSTGRES_SEEDED || !database.startsWith(`${POSTGRES_SEEDED}_`)) throw new Error(`not a bench copy: ${database}`);
  await admin((client) => client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
}

/** The articles the bench user may see (published or its own), as in the SQLite file. */
export async function visiblePostgresPks(url: string): Promise<number[]> {
  const client = await adminClient(url);
  try {
    const { rows } = await client.query<{ id: number }>('SELECT id FROM article WHERE published OR "authorId" = $1 ORDER BY id', [BENCH_USER.id]);
    return rows.map((r) => r.id);
  } finally {
    await client.end();
  }
}
