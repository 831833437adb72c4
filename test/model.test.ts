import { expect } from "chai";
import { Article, Category, Comment } from "../entities";
import { Client, loggedIn, startTestApp, type TestApp } from "./support/app";

describe("model ops: create, get, update, delete (CONTRACT.md §5, §6)", () => {
  let t: TestApp;
  let alice: Client;
  let bob: Client;
  let anonymous: Client;
  let news: number;

  before(async () => {
    t = await startTestApp();
    alice = await loggedIn(t.app, "alice");
    bob = await loggedIn(t.app, "bob");
    anonymous = new Client(t.app);
    news = (await alice.post("/ajax/blog/category.json", { title: "News", description: "What happened" })).body.data.id;
  });
  after(() => t.close());

  describe("create", () => {
    it("creates from JSON with the owner set by the server, and answers the record hydrated", async () => {
      const response = await bob.post("/ajax/blog/article.json", { title: "Bob's post", body: "Hello", category: news, published: true });
      expect(response.status).to.equal(200);
      const data = response.body.data;
      expect(data).to.include({ title: "Bob's post", body: "Hello", published: true, version: 1 });
      expect(data.author).to.deep.equal({ id: 2, username: "bob", isStaff: false });
      expect(data.category).to.deep.equal({ id: news, title: "News", description: "What happened" });
      expect(data.createdAt).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(data.tags).to.deep.equal([]);
    });

    it("coerces form strings by column type", async () => {
      const response = await bob.post("/ajax/blog/article.json", `title=Form&published=on&category=${news}`, { type: "form" });
      expect(response.status).to.equal(200);
      expect(response.body.data.published).to.equal(true);
      expect(response.body.data.category.id).to.equal(news);
      const off = await bob.post("/ajax/blog/article.json", "title=Form2&published=0&category=", { type: "form" });
      expect(off.body.data.published).to.equal(false);
      expect(off.body.data.category).to.equal(null);
    });

    it("answers 400 with every field error at once, and writes nothing", async () => {
      const before = await t.dataSource.getRepository(Article).count();
      const response = await bob.post("/ajax/blog/article.json", {
        body: 5, published: "maybe", category: "abc", nope: 1, id: 99, author: 1, version: 7, createdAt: "2020-01-01T00:00:00Z",
      });
      expect(response.status).to.equal(400);
      expect(response.body.errors).to.deep.equal({
        title: ["This field is required."],
        body: ["Not a valid string."],
        published: ["Must be a valid boolean."],
        category: ["A valid integer is required."],
        nope: ["Unknown field."],
        id: ["This field is read-only."],
        author: ["This field is read-only."],
        version: ["This field is read-only."],
        createdAt: ["This field is read-only."],
      });
      expect(await t.dataSource.getRepository(Article).count()).to.equal(before);
    });

    it("refuses a blank required text field, but not a blank optional one", async () => {
      const blank = await bob.post("/ajax/blog/article.json", { title: "   ", body: "" });
      expect(blank.status).to.equal(400);
      expect(blank.body.errors).to.deep.equal({ title: ["This field may not be blank."] });
      const comment = await bob.post("/ajax/blog/comment.json", { article: 1, body: "" });
      expect(comment.body.errors.body).to.deep.equal(["This field may not be blank."]);
    });

    it("checks lengths, and treats a hidden field as unknown", async () => {
      const response = await alice.post("/ajax/blog/category.json", { title: "x".repeat(101) });
      expect(response.body.errors).to.deep.equal({ title: ["Ensure this field has no more than 100 characters."] });
      const hidden = await alice.post("/ajax/blog/comment.json", { article: 1, body: "x", passwordHash: "x" });
      expect(hidden.status).to.equal(400);
    });

    it("gives a missing and an invisible foreign key the same 400", async () => {
      const draft = (await alice.post("/ajax/blog/article.json", { title: "Alice's draft" })).body.data.id;
      const invisible = await bob.post("/ajax/blog/comment.json", { article: draft, body: "sneaky" });
      const missing = await bob.post("/ajax/blog/comment.json", { article: 99999, body: "sneaky" });
      expect(invisible.status).to.equal(400);
      expect(missing.status).to.equal(400);
      expect(invisible.body.errors.article).to.deep.equal([`Invalid pk "${draft}" - object does not exist.`]);
      expect(missing.body.errors.article).to.deep.equal([`Invalid pk "99999" - object does not exist.`]);
      expect(await t.dataSource.getRepository(Comment).count()).to.equal(0);
    });

    it("maps a unique violation to 409", async () => {
      const response = await alice.post("/ajax/blog/category.json", { title: "News" });
      expect(response.status).to.equal(409);
      expect(response.body.data.code).to.equal(409);
    });

    it("applies canCreate: anonymous is 401, a non-staff user creating a category is 403", async () => {
      expect((await anonymous.post("/ajax/blog/category.json", { title: "Anon" })).status).to.equal(401);
      expect((await bob.post("/ajax/blog/category.json", { title: "Bob's" })).status).to.equal(403);
      expect(await t.dataSource.getRepository(Category).countBy({ title: "Bob's" })).to.equal(0);
    });
  });

  describe("get", () => {
    it("answers the record hydrated, never with hidden columns", async () => {
      const id = (await bob.post("/ajax/blog/article.json", { title: "Visible", published: true, category: news })).body.data.id;
      const response = await alice.post(`/ajax/blog/article/${id}/get.json`);
      expect(response.body.data.author).to.deep.equal({ id: 2, username: "bob", isStaff: false });
      expect(response.text).not.to.match(/passwordHash|email|isActive|scrypt/);
    });

    it("shows a draft to its author and to staff, and answers 404 to anyone else", async () => {
      const id = (await bob.post("/ajax/blog/article.json", { title: "Bob's draft" })).body.data.id;
      expect((await bob.post(`/ajax/blog/article/${id}/get.json`)).status).to.equal(200);
      expect((await alice.post(`/ajax/blog/article/${id}/get.json`)).status).to.equal(200);
      const carolView = await (await loggedInAs(t, "carol")).post(`/ajax/blog/article/${id}/get.json`);
      const missing = await bob.post("/ajax/blog/article/987654/get.json");
      expect(carolView.status).to.equal(404);
      expect(carolView.body).to.deep.equal(missing.body);
    });

    it("requires login by default (authenticate)", async () => {
      const response = await anonymous.post("/ajax/blog/category/1/get.json");
      expect(response.status).to.equal(401);
      expect(response.headers["www-authenticate"]).to.be.a("string");
    });

    it("user endpoint: id, username and isStaff only; create, update and delete do not exist", async () => {
      const response = await bob.post("/ajax/blog/user/1/get.json");
      expect(response.body.data).to.deep.equal({ id: 1, username: "alice", isStaff: true });
      const list = await bob.post("/ajax/blog/user/list.json");
      for (const user of list.body.data) expect(user).to.have.keys("id", "username", "isStaff");
      expect((await alice.post("/ajax/blog/user.json", { username: "eve" })).status).to.equal(404);
      expect((await alice.post("/ajax/blog/user/2/update.json", { username: "eve" })).status).to.equal(404);
      expect((await alice.post("/ajax/blog/user/2/delete.json")).status).to.equal(404);
    });
  });

  describe("update", () => {
    let id: number;
    beforeEach(async () => {
      id = (await bob.post("/ajax/blog/article.json", { title: "Original", body: "text", published: true })).body.data.id;
    });

    it("updates only what changed, bumps the version, and accepts read-only fields with their current value", async () => {
      const response = await bob.post(`/ajax/blog/article/${id}/update.json`, { title: "Changed", _version: 1, id, author: 2 });
      expect(response.status).to.equal(200);
      expect(response.body.data).to.include({ title: "Changed", body: "text", version: 2 });
    });

    it("refuses a read-only field with another value, and unknown fields", async () => {
      const response = await bob.post(`/ajax/blog/article/${id}/update.json`, { author: 1, id: 5, whatever: 1, _version: 1 });
      expect(response.status).to.equal(400);
      expect(response.body.errors).to.deep.equal({ author: ["This field is read-only."], id: ["This field is read-only."], whatever: ["Unknown field."] });
    });

    it("needs the version read, by If-Match or _version; a stale one is 409", async () => {
      const without = await bob.post(`/ajax/blog/article/${id}/update.json`, { title: "No version" });
      expect(without.status).to.equal(400);
      expect(without.body.errors).to.have.key("_version");
      const viaHeader = await bob.post(`/ajax/blog/article/${id}/update.json`, { title: "Header" }, { headers: { "If-Match": '"1"' } });
      expect(viaHeader.status).to.equal(200);
      const stale = await bob.post(`/ajax/blog/article/${id}/update.json`, { title: "Stale", _version: 1 });
      expect(stale.status).to.equal(409);
      const reread = await bob.post(`/ajax/blog/article/${id}/get.json`);
      expect(reread.body.data.title).to.equal("Header");
    });

    it("lets exactly one of two concurrent updates with the same version win", async () => {
      const results = await Promise.all([
        bob.post(`/ajax/blog/article/${id}/update.json`, { title: "First", _version: 1 }),
        alice.post(`/ajax/blog/article/${id}/update.json`, { title: "Second", _version: 1 }),
      ]);
      expect(results.map((r) => r.status).sort()).to.deep.equal([200, 409]);
    });

    it("lets the owner and staff update, others get 403 (or 404 where they cannot see it)", async () => {
      const carol = await loggedInAs(t, "carol");
      const forbidden = await carol.post(`/ajax/blog/article/${id}/update.json`, { title: "Carol's now", _version: 1 });
      expect(forbidden.status).to.equal(403);
      const staff = await alice.post(`/ajax/blog/article/${id}/update.json`, { title: "Staff edit", _version: 1 });
      expect(staff.status).to.equal(200);
      const draft = (await bob.post("/ajax/blog/article.json", { title: "Draft" })).body.data.id;
      expect((await carol.post(`/ajax/blog/article/${draft}/update.json`, { title: "x", _version: 1 })).status).to.equal(404);
    });

    it("checks a changed foreign key against what the user may see", async () => {
      const response = await bob.post(`/ajax/blog/article/${id}/update.json`, { category: 4242, _version: 1 });
      expect(response.status).to.equal(400);
      expect(response.body.errors.category).to.deep.equal(['Invalid pk "4242" - object does not exist.']);
    });
  });

  describe("delete", () => {
    it("answers {pk}; a second delete is a 404; others get 403", async () => {
      const id = (await bob.post("/ajax/blog/article.json", { title: "Doomed", published: true })).body.data.id;
      const carol = await loggedInAs(t, "carol");
      expect((await carol.post(`/ajax/blog/article/${id}/delete.json`)).status).to.equal(403);
      const response = await bob.post(`/ajax/blog/article/${id}/delete.json`);
      expect(response.body).to.deep.equal({ success: true, data: { pk: id } });
      expect((await bob.post(`/ajax/blog/article/${id}/delete.json`)).status).to.equal(404);
    });

    it("only staff may delete a category", async () => {
      const id = (await alice.post("/ajax/blog/category.json", { title: "Temporary" })).body.data.id;
      expect((await bob.post(`/ajax/blog/category/${id}/delete.json`)).status).to.equal(403);
      expect((await alice.post(`/ajax/blog/category/${id}/delete.json`)).status).to.equal(200);
    });
  });

  describe("comments", () => {
    it("hydrates the article (and its author and category) and the author to depth 2", async () => {
      const article = (await bob.post("/ajax/blog/article.json", { title: "Commented", published: true, category: news })).body.data.id;
      const response = await alice.post("/ajax/blog/comment.json", { article, body: "Nice" });
      expect(response.status).to.equal(200);
      const data = response.body.data;
      expect(data.author).to.deep.equal({ id: 1, username: "alice", isStaff: true });
      expect(data.article.id).to.equal(article);
      expect(data.article.author).to.deep.equal({ id: 2, username: "bob", isStaff: false });
      expect(data.article.category).to.deep.equal({ id: news, title: "News", description: "What happened" });
      expect(response.text).not.to.match(/passwordHash|email|isActive/);
    });

    it("hides the comments of an article the reader may not see, in get, list and filters", async () => {
      const article = (await bob.post("/ajax/blog/article.json", { title: "Soon hidden", published: true })).body.data;
      const comment = (await alice.post("/ajax/blog/comment.json", { article: article.id, body: "Hm" })).body.data.id;
      await bob.post(`/ajax/blog/article/${article.id}/update.json`, { published: false, _version: article.version });
      const carol = await loggedInAs(t, "carol");
      const hidden = await carol.post(`/ajax/blog/comment/${comment}/get.json`);
      const missing = await carol.post("/ajax/blog/comment/987654/get.json");
      expect([hidden.status, hidden.body]).to.deep.equal([missing.status, missing.body]);
      const filtered = await carol.post("/ajax/blog/comment/list.json", { filter: { article: article.id } });
      expect([filtered.body.total, filtered.body.data]).to.deep.equal([0, []]);
      expect((await bob.post(`/ajax/blog/comment/${comment}/get.json`)).body.data.article.id).to.equal(article.id);
      expect((await alice.post(`/ajax/blog/comment/${comment}/get.json`)).status).to.equal(200);
    });
  });
});

/** A third, non-staff user, created on first use. */
async function loggedInAs(t: TestApp, username: string): Promise<Client> {
  const { User } = await import("../entities");
  const { hashPassword } = await import("../src");
  const users = t.dataSource.getRepository(User);
  if (!(await users.findOneBy({ username }))) {
    await users.insert({ username, passwordHash: await hashPassword(`${username}-password`), email: `${username}@example.com` });
  }
  return loggedIn(t.app, username);
}
