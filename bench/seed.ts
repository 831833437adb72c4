import "reflect-metadata";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
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

  const db = new Database(building);
  db.pragma("journal_mode = WAL");
  const hash = await hashPassword(BENCH_USER.password);
  const start = Date.UTC(2025, 0, 1);
  db.transaction(() => {
    const user = db.prepare('INSERT INTO "user" (id, username, passwordHash, email, isStaff, isActive, createdAt) VALUES (?, ?, ?, ?, 0, 1, ?)');
    user.run(BENCH_USER.id, BENCH_USER.username, hash, "bench@example.com", sqliteDate(start));
    for (let id = 2; id <= USERS; id++) user.run(id, `user${pad(id, 5)}`, "!unusable", `user${id}@example.com`, sqliteDate(start + id * 1000));
    const category = db.prepare("INSERT INTO category (id, title, description) VALUES (?, ?, ?)");
    for (let id = 1; id <= CATEGORIES; id++) category.run(id, `Category ${pad(id, 2)}`, id % 5 === 0 ? null : `About category ${id}.`);
    const tag = db.prepare("INSERT INTO ajax_tag (id, name, slug) VALUES (?, ?, ?)");
    for (let id = 1; id <= TAGS; id++) tag.run(id, `tag-${pad(id, 3)}`, `tag-${pad(id, 3)}`);
    const article = db.prepare(`INSERT INTO article (id, title, body, published, publishedAt, categoryId, authorId, createdAt, updatedAt, version)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`);
    const link = db.prepare("INSERT INTO ajax_tagged_item (tagId, model, objectId) VALUES (?, 'article', ?)");
    for (let id = 1; id <= ARTICLES; id++) {
      const author = id <= OWNED ? BENCH_USER.id : 2 + ((id * 7919) % (USERS - 1));
      const published = id % 10 === 0 ? 0 : 1;
      const categoryId = id % 97 === 0 ? null : 1 + (id % CATEGORIES);
      const created = sqliteDate(start + id * 60_000 + (id % 1000));
      article.run(id, `Article ${id}: ${LOREM.slice(0, 20 + (id % 40))}`, LOREM.slice(0, 120 + (id % 180)), published, published ? created : null, categoryId, author, created, created);
      const tags = new Set<number>();
      for (let j = 0; j < id % 4; j++) tags.add(1 + ((id * 31 + j * 17) % TAGS));
      for (const tagId of tags) link.run(tagId, id);
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
