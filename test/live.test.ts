import { expect } from "chai";
import { defineApp } from "../src";
import blog, { ArticleEndpoint } from "../endpoints/blog";
import { Article } from "../entities";
import { startTestApp, type TestApp } from "./support/app";
import { cookieHeader, EventReader } from "./support/events";
import { CookieClient, listen } from "./support/http";

class LockedArticles extends ArticleEndpoint {
  canList() { return false; }
}

describe("the change feed: GET /ajax/<app>/<model>/events (CONTRACT.md §10)", () => {
  let t: TestApp;
  let server: { url: string; close(): Promise<void> };
  let alice: CookieClient;
  let bob: CookieClient;
  let news: number;
  let other: number;
  const readers: EventReader[] = [];
  const open = async (client: CookieClient, query = "", headers: Record<string, string> = {}, path = "blog/article") => {
    const reader = await EventReader.open(`${server.url}/ajax/${path}/events${query}`, cookieHeader(client.cookies), headers);
    readers.push(reader);
    return reader;
  };
  const post = async (client: CookieClient, path: string, body: object = {}) => {
    const response = await client.post(server.url, path, body);
    if (response.status !== 200) throw new Error(`${path}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body.data;
  };
  /** An update with the version it read, as a client sends it. */
  const update = async (client: CookieClient, id: number, body: object) => {
    const current = await post(alice, `/ajax/blog/article/${id}/get.json`);
    return post(client, `/ajax/blog/article/${id}/update.json`, { ...body, _version: current.version });
  };
  /** Lets whatever the feed would still send arrive. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 150));

  before(async () => {
    t = await startTestApp({ ajax: { apps: [blog, defineApp("locked").model("article", LockedArticles)], live: { maxPerSession: 4, replay: 5, heartbeatMs: 100 } } });
    server = await listen(t.app);
    alice = new CookieClient();
    await alice.login(server.url, "alice");
    bob = new CookieClient();
    await bob.login(server.url, "bob");
    news = (await post(alice, "/ajax/blog/category.json", { title: "News" })).id;
    other = (await post(alice, "/ajax/blog/category.json", { title: "Other" })).id;
  });
  afterEach(() => { while (readers.length > 0) readers.pop()!.close(); });
  after(async () => {
    await server.close();
    await t.close();
  });

  it("refuses in JSON what list refuses: 401, 403 (canList), 400 on a filter or parameter it does not allow, 404", async () => {
    const anonymous = await open(new CookieClient());
    expect(anonymous.response.statusCode).to.equal(401);
    expect(anonymous.response.headers["content-type"]).to.equal("application/json; charset=utf-8");
    expect(anonymous.body.data.code).to.equal(401);
    expect((await open(bob, "", {}, "locked/article")).response.statusCode).to.equal(403);
    for (const query of ["?filter[body]=x", "?filter[title__regex]=x", "?order=title", "?filter[category]=abc", "?current_page=1", "?filter[author__password]=x"]) {
      const refused = await open(bob, query);
      expect(refused.response.statusCode, query).to.equal(400);
      expect(refused.body.success).to.equal(false);
    }
    expect((await open(bob, "", {}, "blog/nothing")).response.statusCode).to.equal(404);
    expect((await open(bob, "", {}, "blog/user")).response.statusCode).to.equal(200);
    const post = await bob.post(server.url, "/ajax/blog/article/events", {});
    expect(post.status).to.equal(404);
  });

  it("sends created and updated as this subscriber's get answers them, deleted as {pk}, after commit", async () => {
    const bobs = await open(bob);
    const alices = await open(alice);
    const article = await post(alice, "/ajax/blog/article.json", { title: "Live", published: true, category: news, tags: ["x"] });
    const created = await bobs.next((e) => e.event === "created");
    const asBobGetsIt = (await bob.post(server.url, `/ajax/blog/article/${article.id}/get.json`)).body.data;
    expect(created.data).to.deep.equal(asBobGetsIt);
    expect(created.id).to.be.a("string");
    expect((await alices.next((e) => e.event === "created")).data).to.deep.equal(article);

    await update(alice, article.id, { title: "Live 2" });
    expect((await bobs.next((e) => e.event === "updated")).data).to.include({ id: article.id, title: "Live 2" });
    await post(alice, `/ajax/blog/article/${article.id}/tags/add.json`, { tags: ["y"] });
    expect((await bobs.next((e) => e.event === "updated" && e.data.tags.length === 2)).data.tags.map((tag: any) => tag.name)).to.deep.equal(["x", "y"]);
    await post(alice, `/ajax/blog/article/${article.id}/delete.json`);
    expect((await bobs.next((e) => e.event === "deleted")).data).to.deep.equal({ pk: article.id });
    const ids = bobs.events.map((e) => e.id);
    expect(new Set(ids).size).to.equal(ids.length);
  });

  it("never shows another user's draft; a record that leaves the view is deleted for that subscriber", async () => {
    const bobs = await open(bob);
    const draft = await post(alice, "/ajax/blog/article.json", { title: "Draft", published: false });
    await update(alice, draft.id, { published: true });
    expect((await bobs.next((e) => e.event === "updated")).data).to.include({ id: draft.id, published: true });
    expect(bobs.events.some((e) => e.event === "created")).to.equal(false);
    await update(alice, draft.id, { published: false, title: "Secret again" });
    expect((await bobs.next((e) => e.event === "deleted")).data).to.deep.equal({ pk: draft.id });
    await settle();
    expect(JSON.stringify(bobs.events)).not.to.include("Secret again");

    // A draft made while bob listens was never in his view: its edits and its delete tell him nothing.
    const hidden = await post(alice, "/ajax/blog/article.json", { title: "Hidden all along", published: false });
    await update(alice, hidden.id, { title: "Hidden, edited" });
    await post(alice, `/ajax/blog/article/${hidden.id}/tags/add.json`, { tags: ["x"] });
    await post(alice, `/ajax/blog/article/${hidden.id}/delete.json`);
    const marker = await post(alice, "/ajax/blog/article.json", { title: "Marker", published: true });
    await bobs.next((e) => e.event === "created" && e.data.id === marker.id);
    expect(bobs.events.filter((e) => (e.data.id ?? e.data.pk) === hidden.id)).to.deep.equal([]);
  });

  it("applies the list's filters per subscriber: only matching records, deleted when one stops matching", async () => {
    const inNews = await open(bob, `?filter[category]=${news}`);
    const titled = await open(bob, "?filter[title__icontains]=weather");
    const tagged = await open(bob, "?filter[tags__any]=storm,rain&filter[published]=true");
    const unfiltered = await open(bob);
    const elsewhere = await post(bob, "/ajax/blog/article.json", { title: "Elsewhere", published: true, category: other });
    const here = await post(bob, "/ajax/blog/article.json", { title: "Weather here", published: true, category: news, tags: "rain" });
    expect((await inNews.next((e) => e.event === "created")).data.id).to.equal(here.id);
    expect((await titled.next((e) => e.event === "created")).data.id).to.equal(here.id);
    await unfiltered.until(() => unfiltered.events.length === 2, 5000, "two events");
    expect(inNews.events.map((e) => e.data.id)).to.deep.equal([here.id]);
    await update(bob, here.id, { category: other });
    expect((await inNews.next((e) => e.event === "deleted")).data).to.deep.equal({ pk: here.id });
    expect((await titled.next((e) => e.event === "updated")).data.category.id).to.equal(other);
    expect(inNews.events.some((e) => e.data.id === elsewhere.id || e.data.pk === elsewhere.id)).to.equal(false);
    await tagged.until(() => tagged.events.length === 2, 5000, "the tag-filtered feed's two events");
    expect(tagged.events.map((e) => [e.event, e.data.id ?? e.data.pk])).to.deep.equal([["created", here.id], ["updated", here.id]]);
    await post(bob, `/ajax/blog/article/${here.id}/tags/clear.json`);
    expect((await tagged.next((e) => e.event === "deleted")).data).to.deep.equal({ pk: here.id });
  });

  it("sends nothing for a rolled-back batch, and a batch's events once after its commit", async () => {
    const bobs = await open(bob);
    const failed = await bob.post(server.url, "/ajax/batch.json", { ops: [
      { op: "blog/article", body: { title: "Rolled back", published: true } },
      { op: "blog/article", body: { published: "maybe" } },
    ] });
    expect(failed.status).to.equal(400);
    const done = await post(bob, "/ajax/batch.json", { ops: [
      { op: "blog/article", body: { title: "Batched", published: true } },
      { op: "blog/article", body: { title: "Batched too", published: true } },
    ] });
    await bobs.until(() => bobs.events.length === 2, 5000, "the batch's two events");
    await settle();
    expect(bobs.events.map((e) => [e.event, e.data.title])).to.deep.equal([["created", "Batched"], ["created", "Batched too"]]);
    expect(done.map((record: any) => record.id)).to.deep.equal(bobs.events.map((e) => e.data.id));
  });

  it("resumes from Last-Event-ID within the replay window, and past it sends one resync", async () => {
    const first = await open(bob);
    const a = await post(bob, "/ajax/blog/article.json", { title: "Before the cut", published: true });
    const seen = await first.next((e) => e.data.id === a.id);
    first.close();
    const b = await post(bob, "/ajax/blog/article.json", { title: "Missed 1", published: true });
    await update(bob, b.id, { title: "Missed 2" });
    const resumed = await open(bob, "", { "Last-Event-ID": seen.id! });
    await resumed.until(() => resumed.events.length >= 2, 5000, "the missed events");
    expect(resumed.events.map((e) => [e.event, e.data.id])).to.deep.equal([["created", b.id], ["updated", b.id]]);
    const c = await post(bob, "/ajax/blog/article.json", { title: "Live again", published: true });
    expect((await resumed.next((e) => e.data.id === c.id)).event).to.equal("created");

    for (let i = 0; i < 6; i++) await update(bob, c.id, { title: `Churn ${i}` });
    const late = await open(bob, "", { "Last-Event-ID": seen.id! });
    const resync = await late.next((e) => e.event === "resync");
    expect(resync.data).to.deep.equal({});
    const unknown = await open(bob, "", { "Last-Event-ID": "not-an-id" });
    expect((await unknown.next()).event).to.equal("resync");
  });

  it("publishes what other code wrote when it calls ajax.live.publish", async () => {
    const bobs = await open(bob);
    const article = await post(bob, "/ajax/blog/article.json", { title: "Before", published: true });
    await bobs.next((e) => e.event === "created");
    await t.dataSource.getRepository(Article).update({ id: article.id }, { title: "Written behind the ops' back" });
    t.ajax.live!.publish({ app: "blog", model: "article", pk: article.id, op: "updated" });
    expect((await bobs.next((e) => e.event === "updated")).data.title).to.equal("Written behind the ops' back");
  });

  it("holds the per-session limit when one session opens many feeds at once", async () => {
    const statuses = (await Promise.all(Array.from({ length: 7 }, () => open(alice)))).map((reader) => reader.response.statusCode);
    expect(statuses.filter((status) => status === 200)).to.have.length(4);
    expect(statuses.filter((status) => status === 429)).to.have.length(3);
  });

  it("ends a session's feeds when it logs out, and not another session's", async () => {
    const leaving = new CookieClient();
    await leaving.login(server.url, "bob");
    const mine = await open(leaving);
    const others = await open(bob);
    const before = t.ajax.live!.size;
    expect((await leaving.post(server.url, "/ajax/auth/logout.json")).status).to.equal(200);
    await mine.until(() => t.ajax.live!.size === before - 1, 2000, "the logged-out session's feed to end");
    // bob's own session still follows the changes.
    await post(bob, "/ajax/blog/article.json", { title: "Still followed", published: true });
    expect((await others.next((e) => e.event === "created")).data.title).to.equal("Still followed");
  });

  it("bounds feeds per session (429), sends heartbeats, and cuts off a reader that does not keep up", async () => {
    const feeds = [await open(alice), await open(alice), await open(alice), await open(alice)];
    const fifth = await open(alice);
    expect(fifth.response.statusCode).to.equal(429);
    feeds[0]!.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await open(alice)).response.statusCode).to.equal(200);
    await feeds[1]!.until(() => feeds[1]!.comments.includes("heartbeat"), 2000, "a heartbeat");
    while (readers.length > 0) readers.pop()!.close();

    const slow = await open(bob);
    slow.pause();
    const big = "x".repeat(99_000);
    const article = await post(bob, "/ajax/blog/article.json", { title: "Big", body: big, published: true });
    for (let i = 0; i < 200 && t.ajax.live!.size > 0; i++) await update(bob, article.id, { title: `Big ${i}` });
    await slow.until(() => t.ajax.live!.size === 0, 5000, "the slow reader to be cut off");
  });
});

describe("the change feed while its bus is away", () => {
  it("answers 503 quickly while Redis cannot be reached, and writes still succeed", async () => {
    const t = await startTestApp({ ajax: { live: { redisUrl: "redis://127.0.0.1:1" } } });
    const server = await listen(t.app);
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => { errors.push(args); };
    try {
      const bob = new CookieClient();
      await bob.login(server.url, "bob");
      const started = Date.now();
      const reader = await EventReader.open(`${server.url}/ajax/blog/article/events`, cookieHeader(bob.cookies));
      expect(reader.response.statusCode).to.equal(503);
      expect(reader.response.headers["retry-after"]).to.equal("1");
      expect(Date.now() - started).to.be.below(4000);
      const created = await bob.post(server.url, "/ajax/blog/article.json", { title: "Written anyway", published: true });
      expect(created.status).to.equal(200);
    } finally {
      console.error = original;
      await server.close();
      await t.close();
    }
    expect(t.ajax.live!.bus.kind).to.equal("redis");
  });
});

describe("the change feed's cost per event", () => {
  let t: TestApp;
  let server: { url: string; close(): Promise<void> };
  const readers: EventReader[] = [];
  before(async () => {
    t = await startTestApp({ ajax: { live: { maxPerSession: 100 } } });
    server = await listen(t.app);
  });
  after(async () => {
    for (const reader of readers) reader.close();
    await server.close();
    await t.close();
  });

  /** The statements one create and its delivery to every open feed cost. */
  async function statementsOfOneWrite(writer: CookieClient, feeds: EventReader[]): Promise<number> {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const before = feeds.map((feed) => feed.events.length);
    t.queries.reset();
    const created = await writer.post(server.url, "/ajax/blog/article.json", { title: "Counted", published: true, tags: "a" });
    expect(created.status).to.equal(200);
    await Promise.all(feeds.map((feed, index) => feed.until(() => feed.events.length > before[index]!, 5000, "the event")));
    await new Promise((resolve) => setTimeout(resolve, 100));
    return t.queries.count;
  }

  it("reads once per user, however many feeds that user has open", async () => {
    const alice = new CookieClient();
    await alice.login(server.url, "alice");
    const bob = new CookieClient();
    await bob.login(server.url, "bob");
    const open = async (client: CookieClient, query = "") => {
      const reader = await EventReader.open(`${server.url}/ajax/blog/article/events${query}`, cookieHeader(client.cookies));
      readers.push(reader);
      return reader;
    };
    const one = [await open(bob)];
    await statementsOfOneWrite(alice, one); // warms the prepared statements
    const withOne = await statementsOfOneWrite(alice, one);
    const many = [...one];
    for (let i = 0; i < 30; i++) many.push(await open(bob));
    const withMany = await statementsOfOneWrite(alice, many);
    expect(withMany, "31 feeds of one user cost what one does").to.equal(withOne);
    // Another user is another group: one more read; a filter adds one query for its group.
    const another = [...many, await open(alice)];
    const withTwoUsers = await statementsOfOneWrite(alice, another);
    expect(withTwoUsers).to.be.above(withOne);
    const filtered = [...another, await open(bob, "?filter[published]=true"), await open(bob, "?filter[published]=true")];
    expect(await statementsOfOneWrite(alice, filtered)).to.equal(withTwoUsers + 1);
  });
});
