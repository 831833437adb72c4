import { expect } from "chai";
import request from "supertest";
import { Article, User } from "../entities";
import { Client, startTestApp, type TestApp } from "./support/app";

function sessionCookie(response: request.Response): string | undefined {
  const cookies = ([] as string[]).concat(response.headers["set-cookie"] ?? []);
  return cookies.find((c) => c.startsWith("sessionid="))?.split(";")[0];
}

describe("CSRF, login, logout and sessions (CONTRACT.md §2, §8)", () => {
  let t: TestApp;
  before(async () => { t = await startTestApp(); });
  after(() => t.close());

  it("GET /ajax/csrf.json answers a token and sets the csrftoken cookie", async () => {
    const response = await request(t.app).get("/ajax/csrf.json").expect(200);
    expect(response.body.data.token).to.be.a("string").with.length.above(20);
    const cookies = ([] as string[]).concat(response.headers["set-cookie"] ?? []);
    expect(cookies.some((c) => c.startsWith(`csrftoken=${encodeURIComponent(response.body.data.token)}`))).to.equal(true);
  });

  it("refuses a POST without, or with a wrong, token: 403 'CSRF token missing or incorrect.'", async () => {
    const client = new Client(t.app);
    await client.csrf();
    for (const token of [undefined, "wrong", ""]) {
      let call = client.agent.post("/ajax/auth/login.json");
      if (token !== undefined) call = call.set("X-CSRFToken", token);
      const response = await call.send({ username: "alice", password: "alice-password" });
      expect(response.status).to.equal(403);
      expect(response.body).to.deep.equal({ success: false, data: { code: 403, message: "CSRF token missing or incorrect." } });
    }
  });

  it("refuses the token of another session", async () => {
    const first = new Client(t.app);
    const second = new Client(t.app);
    await first.csrf();
    await second.csrf();
    const response = await second.agent.post("/ajax/blog/say_hi.json").set("X-CSRFToken", first.token!).send({});
    expect(response.status).to.equal(403);
  });

  it("refuses a cross-site Origin even with a valid token", async () => {
    const client = new Client(t.app);
    const response = await client.post("/ajax/blog/say_hi.json", {}, { headers: { Origin: "https://evil.example" } });
    expect(response.status).to.equal(403);
    const same = await client.post("/ajax/blog/say_hi.json", {}, { headers: { Origin: "http://127.0.0.1" } });
    expect([200, 403]).to.include(same.status);
  });

  it("accepts the token as a csrf_token form field for plain form posts", async () => {
    const client = new Client(t.app);
    const token = await client.csrf();
    const response = await client.agent.post("/ajax/blog/say_hi.json").type("form").send({ csrf_token: token });
    expect(response.status).to.equal(200);
  });

  it("logs in: data is the user as the user endpoint shows it; the session id changes", async () => {
    const client = new Client(t.app);
    const before = await client.agent.get("/ajax/csrf.json");
    client.token = before.body.data.token;
    const response = await client.login("alice");
    expect(response.body).to.deep.equal({ success: true, data: { id: 1, username: "alice", isStaff: true } });
    expect(sessionCookie(response)).to.be.a("string").and.not.equal(sessionCookie(before));
    const me = await client.post("/ajax/auth/user.json");
    expect(me.body.data).to.deep.equal({ id: 1, username: "alice", isStaff: true });
  });

  it("answers 401 to a bad password or unknown user, with one message", async () => {
    const client = new Client(t.app);
    const wrong = await client.post("/ajax/auth/login.json", { username: "bob", password: "nope" });
    const unknown = await client.post("/ajax/auth/login.json", { username: "nobody", password: "nope" });
    expect(wrong.status).to.equal(401);
    expect(unknown.status).to.equal(401);
    expect(wrong.body).to.deep.equal(unknown.body);
    expect(wrong.headers["www-authenticate"]).to.be.a("string");
  });

  it("answers 400 to a login without username or password", async () => {
    const response = await new Client(t.app).post("/ajax/auth/login.json", { username: ["a"] });
    expect(response.status).to.equal(400);
    expect(response.body.errors).to.have.keys("username", "password");
  });

  it("user.json is 401 when logged out; logout ends the session for good", async () => {
    const client = new Client(t.app);
    expect((await client.post("/ajax/auth/user.json")).status).to.equal(401);
    await client.login("bob");
    const oldCookie = client.agent.jar.getCookie("sessionid", { domain: "127.0.0.1", path: "/", secure: false, script: false });
    expect((await client.post("/ajax/auth/user.json")).status).to.equal(200);
    const out = await client.post("/ajax/auth/logout.json");
    expect(out.body).to.deep.equal({ success: true, data: null });
    expect((await client.post("/ajax/auth/user.json")).status).to.equal(401);
    // The old session cookie, replayed, is worth nothing.
    if (oldCookie) {
      const replay = await request(t.app).post("/ajax/auth/user.json").set("Cookie", `sessionid=${oldCookie.value}`).set("X-CSRFToken", client.token!).send({});
      expect(replay.status).to.equal(403);
    }
  });

  it("keeps sessions in the database, not in process memory", async () => {
    const client = new Client(t.app);
    await client.login("bob");
    const rows = await t.dataSource.query("SELECT COUNT(*) AS n FROM ajax_session");
    expect(Number(rows[0].n ?? rows[0].N)).to.be.above(0);
  });

  it("rate-limits failed logins with 429 and Retry-After, and never counts successes", async () => {
    const fresh = await startTestApp();
    try {
      const client = new Client(fresh.app);
      for (let i = 0; i < 3; i++) await client.login("alice");
      for (let i = 0; i < 5; i++) {
        expect((await client.post("/ajax/auth/login.json", { username: "bob", password: "wrong" })).status).to.equal(401);
      }
      const limited = await client.post("/ajax/auth/login.json", { username: "bob", password: "bob-password" });
      expect(limited.status).to.equal(429);
      expect(Number(limited.headers["retry-after"])).to.be.above(0);
      expect(limited.body.data.code).to.equal(429);
      // Another username from the same address is not locked out by bob's failures.
      expect((await client.post("/ajax/auth/login.json", { username: "alice", password: "alice-password" })).status).to.equal(200);
    } finally {
      await fresh.close();
    }
  });

  it("model ops read the session's user anew on every request: a change of staff or active flags counts at once", async () => {
    const users = t.dataSource.getRepository(User);
    const alice = await users.findOneByOrFail({ username: "alice" });
    const draft = (await t.dataSource.getRepository(Article).insert({ title: "Alice's draft", published: false, author: { id: alice.id } as User })).identifiers[0]!.id as number;
    const bob = new Client(t.app);
    await bob.login("bob");
    const get = () => bob.post(`/ajax/blog/article/${draft}/get.json`);
    try {
      expect((await get()).status).to.equal(404);
      await users.update({ username: "bob" }, { isStaff: true });
      expect((await get()).status).to.equal(200);
      await users.update({ username: "bob" }, { isActive: false });
      expect((await get()).status).to.equal(401);
      expect((await bob.post("/ajax/blog/article.json", { title: "x", body: "y", published: false })).status).to.equal(401);
      await users.update({ username: "bob" }, { isActive: true, isStaff: false });
      expect((await get()).status).to.equal(404);
    } finally {
      await users.update({ username: "bob" }, { isActive: true, isStaff: false });
    }
  });

  it("treats a deactivated user as logged out and refuses their login", async () => {
    const client = new Client(t.app);
    await client.login("bob");
    await t.dataSource.query(`UPDATE ${t.dataSource.driver.escape("user")} SET ${t.dataSource.driver.escape("isActive")} = ${t.database.kind === "postgres" ? "false" : "0"} WHERE username = 'bob'`);
    try {
      expect((await client.post("/ajax/auth/user.json")).status).to.equal(401);
      expect((await new Client(t.app).post("/ajax/auth/login.json", { username: "bob", password: "bob-password" })).status).to.be.oneOf([401, 429]);
    } finally {
      await t.dataSource.query(`UPDATE ${t.dataSource.driver.escape("user")} SET ${t.dataSource.driver.escape("isActive")} = ${t.database.kind === "postgres" ? "true" : "1"} WHERE username = 'bob'`);
    }
  });
});
