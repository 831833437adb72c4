import { Agent } from "node:http";
import { createSearchIndex, defineApp, hashPassword, ModelEndpoint, type AjaxOptions } from "../../src";
import { User } from "../../entities";
import blog, { ArticleEndpoint } from "../../endpoints/blog";
import { DataSource } from "typeorm";
import { createBlogApp, seedDemoUsers } from "../../app";
import { dataSourceOptions } from "../../ormconfig";
import { QueryCounter, type TestApp } from "../support/app";
import { createTestDatabase, testDatabaseKind, type TestDatabaseKind } from "../support/databases";
import { Caller, listen } from "./support";

/** Articles again, with the body hidden and `published` read-only: hidden fields on a row-scoped model. */
export class SealedArticleEndpoint extends ArticleEndpoint {
  hiddenFields = ["body"];
  readOnlyFields = ["published"];
  searchFields = ["title"];
}

/** Users with hidden fields named by the endpoint (email, isActive) and by the secret-name rule (passwordHash). */
export class AccountEndpoint extends ModelEndpoint<User, User> {
  entity = User;
  ops = ["get", "list"] as const;
  hiddenFields = ["email", "isActive"];
  filterFields = ["username", "isStaff", "createdAt"];
  orderFields = ["id", "username"];
  searchFields = ["username"];
}

/** A second app beside the blog, so that the generated tests see more than one kind of hiding. */
export function vaultApp() {
  return defineApp("vault").model("article", SealedArticleEndpoint).model("account", AccountEndpoint);
}

/** The seeded rows every hardening suite starts from. */
export interface Seed {
  alice: number;
  bob: number;
  carol: number;
  categories: number[];
  /** Published articles of alice and carol. */
  published: number[];
  /** Drafts of alice and carol: bob may not see them. */
  drafts: number[];
  /** Bob's own articles (one draft, one published). */
  bobs: number[];
  comments: number[];
  /** A pk no row has. */
  missing: number;
}

/** A running example app over loopback HTTP, with alice (staff), bob and carol logged in. */
export interface World {
  t: TestApp;
  base: string;
  agent: Agent;
  alice: Caller;
  bob: Caller;
  carol: Caller;
  seed: Seed;
  /** Values of hidden columns (password hashes, emails): no response may contain them. */
  secrets: string[];
  /** Every error the router reported as a 500. */
  crashes: unknown[];
  caller(label?: string): Caller;
  close(): Promise<void>;
}

/** startTestApp, on a database of the given kind. */
async function startApp(kind: TestDatabaseKind, ajax: Partial<AjaxOptions>): Promise<TestApp> {
  const database = await createTestDatabase(kind);
  const queries = new QueryCounter();
  const dataSource = new DataSource({ ...dataSourceOptions(database.url), logger: queries } as never);
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: "each" });
  // The vault's endpoints search other fields than the blog's: their own indexes, as a migration would make them.
  const runner = dataSource.createQueryRunner();
  try {
    await createSearchIndex(runner, { table: "article" }, ["title"]);
    await createSearchIndex(runner, User, ["username"]);
  } finally {
    await runner.release();
  }
  await seedDemoUsers(dataSource);
  const { app, ajax: built } = createBlogApp(dataSource, { ajax });
  return {
    app, ajax: built, dataSource, database, queries,
    async close() {
      await built.close();
      await dataSource.destroy();
      await database.drop();
    },
  };
}

export async function startWorld(options: { ajax?: Partial<AjaxOptions>; kind?: TestDatabaseKind } = {}): Promise<World> {
  const crashes: unknown[] = [];
  const t = await startApp(options.kind ?? testDatabaseKind(), {
    apps: [blog, vaultApp()],
    onError: (error) => { crashes.push(error); },
    ...options.ajax,
  });
  const users = t.dataSource.getRepository(User);
  await users.update({ username: "alice" }, { email: "alice.hidden.marker@example.invalid" });
  await users.update({ username: "bob" }, { email: "bob.hidden.marker@example.invalid" });
  await users.insert({ username: "carol", passwordHash: await hashPassword("carol-password"), email: "carol.hidden.marker@example.invalid", isStaff: false });
  const listening = await listen(t.app);
  // Idle sockets go before the server's 5 s keep-alive timeout does, so that none is reused as the server closes it.
  const agent = new Agent({ keepAlive: true, maxSockets: 32, timeout: 4000 });
  const caller = (label = "anonymous") => new Caller(listening.base, agent, label);
  const alice = caller("alice");
  const bob = caller("bob");
  const carol = caller("carol");
  await alice.login("alice");
  await bob.login("bob");
  await carol.login("carol");

  const ok = async (reply: Promise<import("./support").Reply>) => {
    const r = await reply;
    if (r.status !== 200) throw new Error(`seeding failed: ${r.status} ${r.text}`);
    return r.json.data;
  };
  const categories = [
    (await ok(alice.post("/ajax/blog/category.json", { title: "News", description: "n" }))).id,
    (await ok(alice.post("/ajax/blog/category.json", { title: "Tech" }))).id,
  ];
  const article = async (who: Caller, title: string, published: boolean, tags: string) =>
    (await ok(who.post("/ajax/blog/article.json", { title, body: `${title} body text`, published, category: categories[0], tags }))).id as number;
  const published = [await article(alice, "Alice public", true, "shared alpha"), await article(carol, "Carol public", true, "shared gamma")];
  const drafts = [await article(alice, "Alice secret draft", false, "shared alpha secretive"), await article(carol, "Carol secret draft", false, "shared gamma")];
  const bobs = [await article(bob, "Bob draft", false, "shared beta"), await article(bob, "Bob public", true, "shared beta alpha")];
  const comments = [
    (await ok(alice.post("/ajax/blog/comment.json", { article: published[0], body: "alice on her own" }))).id,
    (await ok(carol.post("/ajax/blog/comment.json", { article: drafts[1], body: "carol on her draft" }))).id,
    (await ok(bob.post("/ajax/blog/comment.json", { article: published[1], body: "bob on carol's" }))).id,
  ];
  const ids = (await users.find()).reduce<Record<string, number>>((acc, user) => ({ ...acc, [user.username]: user.id }), {});
  const secrets = (await users.find()).flatMap((user) => [user.passwordHash, user.email]);
  const seed: Seed = {
    alice: ids.alice!, bob: ids.bob!, carol: ids.carol!, categories, published, drafts, bobs, comments,
    missing: 1_000_000,
  };
  return {
    t, base: listening.base, agent, alice, bob, carol, seed, secrets, crashes, caller,
    async close() {
      agent.destroy();
      await listening.close();
      await t.close();
    },
  };
}

/**
 * The databases a hardening suite runs on: SQLite always; PostgreSQL and MariaDB where they
 * answer (and always under CI=true, where a missing one fails the run). HARDENING_DATABASES
 * narrows it (`sqlite`).
 */
export function hardeningDatabases(): TestDatabaseKind[] {
  const wanted = (process.env.HARDENING_DATABASES ?? "sqlite,postgres,mariadb").split(",").map((kind) => kind.trim());
  return (["sqlite", "postgres", "mariadb"] as const).filter((kind) => wanted.includes(kind));
}
