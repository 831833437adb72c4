import { expect } from "chai";
import { User } from "../entities";
import { Client, loggedIn, startTestApp, type TestApp } from "./support/app";

/** Every key of a JSON value, at any depth. */
function keysOf(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((item) => keysOf(item, into));
  else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      into.add(key);
      keysOf(item, into);
    }
  }
  return into;
}

describe("no hidden column in any response, generated from the registry (CONTRACT.md §5)", () => {
  let t: TestApp;
  let alice: Client;
  let bob: Client;
  let secrets: string[];
  const responses: Array<{ what: string; text: string; body: unknown }> = [];

  before(async () => {
    t = await startTestApp();
    alice = await loggedIn(t.app, "alice");
    bob = await loggedIn(t.app, "bob");
    const record = async (what: string, response: { text: string; body: unknown }) => { responses.push({ what, text: response.text, body: response.body }); return response; };
    const category = (await record("create category", await alice.post("/ajax/blog/category.json", { title: "C" }))).body as { data: { id: number } };
    const article = (await record("create article", await bob.post("/ajax/blog/article.json", { title: "A", category: category.data.id, tags: "t1 t2", published: true }))).body as { data: { id: number } };
    await record("create other", await alice.post("/ajax/blog/article.json", { title: "B", tags: "t1", published: true }));
    await record("create comment", await alice.post("/ajax/blog/comment.json", { article: article.data.id, body: "c" }));
    await record("login", await new Client(t.app).post("/ajax/auth/login.json", { username: "bob", password: "bob-password" }));
    await record("user", await bob.post("/ajax/auth/user.json"));
    await record("similar", await bob.post(`/ajax/blog/article/${article.data.id}/tags/similar.json`));
    await record("tags add", await bob.post(`/ajax/blog/article/${article.data.id}/tags/add.json`, { tags: "t3" }));
    await record("stats", await bob.post("/ajax/blog/stats.json"));
    for (const app of t.ajax.registry.apps.keys()) {
      for (const [name, endpoint] of t.ajax.registry.modelsOf(app)) {
        for (const client of [alice, bob]) {
          if (endpoint.ops.includes("list")) {
            const list = await record(`${app}.${name} list`, await client.post(`/ajax/${app}/${name}/list.json`));
            const first = (list.body as { data: Array<Record<string, unknown>> }).data[0];
            if (first && endpoint.ops.includes("get")) {
              await record(`${app}.${name} get`, await client.post(`/ajax/${app}/${name}/${String(first[endpoint.rules.pk.name])}/get.json`));
            }
          }
        }
      }
    }
    const users = await t.dataSource.getRepository(User).find();
    secrets = users.flatMap((user) => [user.passwordHash, user.email]);
  });
  after(() => t.close());

  it("collected a response for every registered model", () => {
    const models = [...t.ajax.registry.apps.values()].flatMap((app) => [...app.models.keys()]);
    for (const model of models) expect(responses.some((r) => r.what.startsWith(`blog.${model} list`))).to.equal(true);
  });

  it("no response has a hidden field's name as a key, at any depth", () => {
    // Names hidden by some endpoint and shown by none (createdAt is hidden on users but shown on articles).
    const hidden = new Set<string>();
    const shown = new Set<string>();
    for (const app of t.ajax.registry.apps.keys()) {
      for (const endpoint of t.ajax.registry.modelsOf(app).values()) {
        for (const rule of endpoint.rules.all) (rule.readable ? shown : hidden).add(rule.name);
      }
    }
    for (const name of shown) hidden.delete(name);
    expect([...hidden]).to.include.members(["passwordHash", "email", "isActive"]);
    for (const response of responses) {
      const leaked = [...keysOf(response.body)].filter((key) => hidden.has(key));
      expect(leaked, response.what).to.deep.equal([]);
    }
  });

  it("no response contains a password hash or an email address", () => {
    for (const response of responses) {
      for (const secret of secrets) expect(response.text.includes(secret), `${response.what} leaks ${secret}`).to.equal(false);
      expect(response.text, response.what).not.to.include("scrypt$");
    }
  });
});
