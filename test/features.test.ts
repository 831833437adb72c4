import { expect } from "chai";
import blog from "../endpoints/blog";
import { Article, Comment } from "../entities";
import { AuditEntry, defineApp, ModelEndpoint, type EndpointFeature } from "../src";
import { Client, loggedIn, startTestApp, type TestApp } from "./support/app";

/** A feature written from scratch, as the README shows one: it touches no file of the core. */
const titleLength = (): EndpointFeature => ({
  name: "titleLength",
  async encode(_endpoint, records, encoded) {
    records.forEach((record, index) => { encoded[index]!.titleLength = String(record.title ?? "").length; });
  },
  recordOps: {
    shout: {
      summary: "The title in capitals",
      data: { type: "string" },
      run: async (endpoint, pk, ctx) => {
        const record = await ctx.manager.findOneByOrFail(endpoint.metadata.target, { id: pk } as never);
        return String((record as Article).title).toUpperCase();
      },
    },
  },
});

class MeasuredArticles extends ModelEndpoint<Article> {
  entity = Article;
  ops = ["get"] as const;
  features = [titleLength()];
}

/** A feature that reads its value in the records' own statement (readAlong), with encode's fallback for other reads. */
const shoutedTitle = (): EndpointFeature => {
  const kept = new WeakMap<object, unknown>();
  return {
    name: "shoutedTitle",
    readAlong(qb, alias) {
      qb.addSelect(`UPPER(${qb.escape(alias)}.${qb.escape("title")})`, "shouted_title");
      return (record, row) => { kept.set(record, row.shouted_title); };
    },
    async encode(_endpoint, records, encoded) {
      records.forEach((record, index) => {
        encoded[index]!.shouted = kept.has(record) ? { from: "row", value: kept.get(record) } : { from: "encode", value: String(record.title).toUpperCase() };
      });
    },
  };
};

class ShoutedArticles extends ModelEndpoint<Article> {
  entity = Article;
  ops = ["get", "list"] as const;
  features = [shoutedTitle()];
}

describe("endpoint features (issue 15)", () => {
  let t: TestApp;
  let alice: Client;
  let bob: Client;

  before(async () => {
    t = await startTestApp({ ajax: { apps: [blog, defineApp("measure").model("article", MeasuredArticles), defineApp("shout").model("article", ShoutedArticles)] } });
    alice = await loggedIn(t.app, "alice");
    bob = await loggedIn(t.app, "bob");
  });
  after(() => t.close());

  it("runs a feature written from scratch: its encoding and its op", async () => {
    const id = (await bob.post("/ajax/blog/article.json", { title: "Seven!", published: true })).body.data.id;
    const got = await bob.post(`/ajax/measure/article/${id}/get.json`);
    expect(got.body.data.titleLength).to.equal(6);
    expect((await bob.post(`/ajax/measure/article/${id}/shout.json`)).body.data).to.equal("SEVEN!");
    // The blog's own article endpoint does not have it.
    expect((await bob.post(`/ajax/blog/article/${id}/shout.json`)).status).to.equal(404);
  });

  it("gives a feature's readAlong value to its encode from the records' own statement: no statement of its own, on get and list", async () => {
    const id = (await bob.post("/ajax/blog/article.json", { title: "Quiet words", published: true })).body.data.id;
    t.queries.reset();
    const got = await bob.post(`/ajax/shout/article/${id}/get.json`);
    expect(got.body.data.shouted).to.deep.equal({ from: "row", value: "QUIET WORDS" });
    const statements = [...t.queries.queries];
    expect(statements).to.have.length(2);
    expect(statements[1]).to.match(/UPPER\(/);
    const listed = await bob.post("/ajax/shout/article/list.json", { items_per_page: 100 });
    expect(listed.status, JSON.stringify(listed.body)).to.equal(200);
    expect(listed.body.data.length).to.be.above(0);
    const items = listed.body.data as Array<{ id: number; shouted: { from: string; value: string } }>;
    expect(items.every((item) => item.shouted.from === "row")).to.equal(true);
    expect(items.find((item) => item.id === id)!.shouted.value).to.equal("QUIET WORDS");
  });

  describe("soft delete and restore", () => {
    it("hides a deleted record from get, list, total, tag ops, similar, hydration and FK checks; a second delete is a 404", async () => {
      const keep = (await bob.post("/ajax/blog/article.json", { title: "Sibling", published: true, tags: ["soft-shared"] })).body.data;
      const gone = (await bob.post("/ajax/blog/article.json", { title: "Goes away", published: true, tags: ["soft-shared"] })).body.data;
      const comment = (await bob.post("/ajax/blog/comment.json", { article: gone.id, body: "on it" })).body.data;
      const before = (await bob.post("/ajax/blog/article/list.json", { filter: { tags: "soft-shared" } })).body;
      expect(before.total).to.equal(2);
      expect((await bob.post(`/ajax/blog/article/${gone.id}/delete.json`, { _version: gone.version })).status).to.equal(200);
      expect(await t.dataSource.getRepository(Article).countBy({ id: gone.id }), "the row is kept").to.equal(0);
      expect(await t.dataSource.getRepository(Article).count({ where: { id: gone.id }, withDeleted: true })).to.equal(1);
      for (const op of ["get", "update", "delete", "tags/add", "tags/similar", "history"]) {
        expect((await bob.post(`/ajax/blog/article/${gone.id}/${op}.json`, op === "tags/add" ? { tags: "x" } : {})).status, op).to.equal(404);
      }
      const after = (await bob.post("/ajax/blog/article/list.json", { filter: { tags: "soft-shared" } })).body;
      expect(after.total).to.equal(1);
      expect(after.data.map((a: { id: number }) => a.id)).to.deep.equal([keep.id]);
      expect((await bob.post(`/ajax/blog/article/${keep.id}/tags/similar.json`)).body.data).to.deep.equal([]);
      // Its comment is out of sight with it, and a new comment cannot point at it.
      expect((await bob.post(`/ajax/blog/comment/${comment.id}/get.json`)).status).to.equal(404);
      const orphan = await bob.post("/ajax/blog/comment.json", { article: gone.id, body: "late" });
      expect(orphan.status).to.equal(400);
      expect(orphan.body.errors).to.have.property("article");
      expect(await t.dataSource.getRepository(Comment).countBy({ body: "late" })).to.equal(0);
    });

    it("lets staff list deleted records with filter[deleted]=true and restore them; others get a 403", async () => {
      const record = (await bob.post("/ajax/blog/article.json", { title: "Phoenix", published: true, tags: ["ash"] })).body.data;
      await bob.post(`/ajax/blog/article/${record.id}/delete.json`);
      expect((await bob.post("/ajax/blog/article/list.json", { filter: { deleted: true } })).status).to.equal(403);
      const deleted = (await alice.post("/ajax/blog/article/list.json", { filter: { deleted: true } })).body;
      expect(deleted.data.map((a: { id: number }) => a.id)).to.include(record.id);
      expect(deleted.data.every((a: Record<string, unknown>) => !("deletedAt" in a))).to.equal(true);
      expect((await bob.post(`/ajax/blog/article/${record.id}/restore.json`)).status, "bob may not restore").to.equal(403);
      expect((await alice.post(`/ajax/blog/article/${record.id}/restore.json`, { why: 1 })).status, "strict body").to.equal(400);
      const restored = await alice.post(`/ajax/blog/article/${record.id}/restore.json`);
      expect(restored.status).to.equal(200);
      expect(restored.body.data.title).to.equal("Phoenix");
      expect(restored.body.data.tags.map((tag: { name: string }) => tag.name), "tags kept for the restore").to.deep.equal(["ash"]);
      expect((await bob.post(`/ajax/blog/article/${record.id}/get.json`)).status).to.equal(200);
      expect((await alice.post(`/ajax/blog/article/${record.id}/restore.json`)).status, "not deleted any more").to.equal(404);
    });

    it("reads filter[deleted] as every boolean is read: yes/on/1/TRUE ask for deleted records, no/off/0/false do not, other words are a 400", async () => {
      const record = (await alice.post("/ajax/blog/article.json", { title: "Boolean words", published: true })).body.data;
      await alice.post(`/ajax/blog/article/${record.id}/delete.json`);
      const ids = async (deleted: unknown) => {
        const response = await alice.post("/ajax/blog/article/list.json", { filter: { deleted }, items_per_page: 100 });
        expect(response.status, `${JSON.stringify(deleted)}: ${JSON.stringify(response.body)}`).to.equal(200);
        return response.body.data.map((a: { id: number }) => a.id) as number[];
      };
      for (const word of [true, 1, "true", "TRUE", " yes ", "on", "1"]) expect(await ids(word), JSON.stringify(word)).to.include(record.id);
      for (const word of [false, 0, "false", "No", "off", "0"]) expect(await ids(word), JSON.stringify(word)).not.to.include(record.id);
      for (const word of ["maybe", 2, "", null]) {
        const response = await alice.post("/ajax/blog/article/list.json", { filter: { deleted: word } });
        expect(response.status, JSON.stringify(word)).to.equal(400);
        expect(response.body.errors).to.have.property("filter.deleted__eq");
      }
      // The form encoding says the same in words.
      expect((await alice.post("/ajax/blog/article/list.json", "filter[deleted]=yes&items_per_page=100")).body.data
        .map((a: { id: number }) => a.id)).to.include(record.id);
    });
  });

  describe("audit trail", () => {
    it("records create, update, tag changes, delete and restore with old and new values, newest first, in history.json", async () => {
      const created = (await bob.post("/ajax/blog/article.json", { title: "Tracked", body: "v1", published: true, tags: ["a"] })).body.data;
      const updated = (await bob.post(`/ajax/blog/article/${created.id}/update.json`, { title: "Tracked twice", _version: created.version })).body.data;
      await bob.post(`/ajax/blog/article/${created.id}/tags/add.json`, { tags: ["b"] });
      await bob.post(`/ajax/blog/article/${created.id}/delete.json`, { _version: updated.version });
      await alice.post(`/ajax/blog/article/${created.id}/restore.json`);
      const history = await bob.post(`/ajax/blog/article/${created.id}/history.json`);
      expect(history.status).to.equal(200);
      const entries = history.body.data as Array<{ op: string; at: string; user: number | null; changes: Record<string, [unknown, unknown]> }>;
      expect(entries.map((entry) => entry.op)).to.deep.equal(["restore", "delete", "tags", "update", "create"]);
      const [restore, del, tagged, update, create] = entries;
      expect(update!.changes).to.deep.equal({ title: ["Tracked", "Tracked twice"] });
      expect(tagged!.changes).to.deep.equal({ tags: [["a"], ["a", "b"]] });
      expect(create!.changes.title).to.deep.equal([null, "Tracked"]);
      expect(create!.changes.tags).to.deep.equal([[], ["a"]]);
      expect(Object.keys(create!.changes)).not.to.include.members(["deletedAt", "version", "updatedAt", "createdAt"]);
      expect(del!.changes.title).to.deep.equal(["Tracked twice", null]);
      expect(restore!.changes.title).to.deep.equal([null, "Tracked twice"]);
      const bobId = (await bob.post("/ajax/auth/user.json")).body.data.id;
      expect(create!.user).to.equal(bobId);
      expect(restore!.user).to.not.equal(bobId);
      expect(new Date(create!.at).toISOString()).to.equal(create!.at);
      // Paginated.
      const page = await bob.post(`/ajax/blog/article/${created.id}/history.json`, { current_page: 2, items_per_page: 2 });
      expect(page.body.data.map((entry: { op: string }) => entry.op)).to.deep.equal(["tags", "update"]);
      expect((await bob.post(`/ajax/blog/article/${created.id}/history.json`, { page: 2 })).status).to.equal(400);
    });

    it("writes nothing for a change that was refused or rolled back, and answers history only to those who may get the record", async () => {
      const draft = (await bob.post("/ajax/blog/article.json", { title: "Private", published: false })).body.data;
      const entries = () => t.dataSource.getRepository(AuditEntry).countBy({ model: "article", objectId: String(draft.id) });
      const count = await entries();
      expect((await bob.post(`/ajax/blog/article/${draft.id}/update.json`, { title: "x".repeat(500), _version: draft.version })).status).to.equal(400);
      expect((await bob.post(`/ajax/blog/article/${draft.id}/update.json`, { title: "stale", _version: draft.version + 5 })).status).to.equal(409);
      expect(await entries()).to.equal(count);
      const carol = new Client(t.app);
      expect((await carol.post(`/ajax/blog/article/${draft.id}/history.json`)).status).to.equal(401);
      // alice is staff and may get it; another non-staff user may not.
      expect((await alice.post(`/ajax/blog/article/${draft.id}/history.json`)).status).to.equal(200);
    });
  });

  describe("keyset (cursor) pages", () => {
    it("walks every visible row once, in order, while rows are inserted, and ends with next_cursor null", async () => {
      for (let n = 0; n < 7; n++) await bob.post("/ajax/blog/article.json", { title: `Keyset ${n}`, published: true, tags: ["keyset"] });
      const seen: number[] = [];
      let cursor: string | null = "";
      let pages = 0;
      while (cursor !== null) {
        const page: { status: number; body: any } = await bob.post("/ajax/blog/article/list.json", { cursor, items_per_page: 3, filter: { tags: "keyset" } });
        expect(page.status, JSON.stringify(page.body)).to.equal(200);
        expect(page.body).to.have.property("next_cursor");
        expect(page.body).not.to.have.property("current_page");
        seen.push(...page.body.data.map((a: { id: number }) => a.id));
        cursor = page.body.next_cursor;
        // A new row while paging (newest first) lands before the position: the walk neither repeats nor skips.
        if (pages++ === 0) await bob.post("/ajax/blog/article.json", { title: "Keyset late", published: true, tags: ["keyset"] });
      }
      expect(seen).to.have.length(7);
      expect(new Set(seen).size).to.equal(7);
      expect([...seen].sort((a, b) => b - a)).to.deep.equal(seen);
    });

    it("refuses a cursor that was changed, forged, or issued for another ordering or filter", async () => {
      const first = (await bob.post("/ajax/blog/article/list.json", { cursor: "", items_per_page: 2, order: "title" })).body;
      const cursor = first.next_cursor as string;
      expect(cursor).to.be.a("string");
      const [payload, signature] = cursor.split(".");
      const forged = `${Buffer.from(JSON.stringify({ f: "x", v: ["A", 1] })).toString("base64url")}.${signature}`;
      for (const [body, label] of [
        [{ cursor: `${payload}.${signature!.slice(1)}x`, order: "title" }, "changed signature"],
        [{ cursor: forged, order: "title" }, "forged payload"],
        [{ cursor, order: "-title" }, "another ordering"],
        [{ cursor, order: "title", filter: { published: true } }, "another filter"],
        [{ cursor: "garbage", order: "title" }, "garbage"],
        [{ cursor, order: "title", current_page: 2 }, "both kinds of paging"],
        [{ cursor: 7 }, "not a string"],
      ] as const) {
        const response = await bob.post("/ajax/blog/article/list.json", body);
        expect(response.status, label).to.equal(400);
        expect(response.body.errors, label).to.have.property("cursor");
      }
      expect((await bob.post("/ajax/blog/article/list.json", { cursor, order: "title", items_per_page: 2 })).status).to.equal(200);
    });
  });
});
