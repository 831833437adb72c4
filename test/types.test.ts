import { expect } from "chai";
import blog from "../endpoints/blog";
import { AJAXError, decodeDate, encodeDate, registerDateType, WireTypes } from "../src";
import { Client, startTestApp, type TestApp } from "./support/app";
import { createLabApp, labTypes, Money } from "./support/lab";

describe("custom wire types: the codecs", () => {
  const types = labTypes();

  it("encodes registered instances anywhere in plain data, marker first", () => {
    const encoded = types.encode({ price: new Money(250, "EUR"), list: [new Date("2026-01-02T03:04:05.000Z")], n: 1, s: "x", nothing: null });
    expect(encoded).to.deep.equal({
      price: { __type__: "money", cents: 250, currency: "EUR" },
      list: [{ __type__: "date", value: "2026-01-02T03:04:05.000Z" }],
      n: 1, s: "x", nothing: null,
    });
    expect(Object.keys((encoded as { price: object }).price)[0]).to.equal("__type__");
  });

  it("decodes registered values and leaves an unknown __type__ as data", () => {
    const decoded = types.decode({
      price: { __type__: "money", cents: 5, currency: "USD" },
      nested: { at: [{ __type__: "date", value: "2026-11-21T10:00:00.000Z" }] },
      alien: { __type__: "spaceship", warp: 9 },
      odd: { __type__: 42 },
    }) as Record<string, any>;
    expect(decoded.price).to.be.instanceOf(Money).and.deep.include({ cents: 5, currency: "USD" });
    expect(decoded.nested.at[0]).to.be.instanceOf(Date);
    expect(decoded.nested.at[0].toISOString()).to.equal("2026-11-21T10:00:00.000Z");
    expect(decoded.alien).to.deep.equal({ __type__: "spaceship", warp: 9 });
    expect(decoded.odd).to.deep.equal({ __type__: 42 });
  });

  it("a registered value that does not decode is a 400 naming the field", () => {
    let caught: unknown;
    try {
      types.decode({ a: { b: [{ __type__: "date", value: "yesterday" }] }, price: { __type__: "money", cents: "lots" } });
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(AJAXError);
    expect((caught as AJAXError).code).to.equal(400);
    expect((caught as AJAXError).errors).to.deep.equal({ "a.b.0": ['Not a valid "date" value.'], price: ['Not a valid "money" value.'] });
  });

  it("round-trips the built-in date codec", () => {
    const date = new Date("2026-11-21T10:00:00.000Z");
    expect(decodeDate(encodeDate(date)).getTime()).to.equal(date.getTime());
    expect(() => decodeDate({ value: 12 })).to.throw();
  });

  it("register and registerDateType add to a router's own WireTypes; a later class wins for subclasses", () => {
    class Special extends Money {}
    const own = new WireTypes();
    registerDateType(own);
    own.register("money", Money, (m) => ({ cents: m.cents }), (w) => new Money(Number(w.cents), "EUR"));
    own.register("special", Special, (m) => ({ cents: m.cents }), (w) => new Special(Number(w.cents), "EUR"));
    expect(own.encode(new Special(1, "EUR"))).to.deep.equal({ __type__: "special", cents: 1 });
    expect(own.encode(new Money(1, "EUR"))).to.deep.equal({ __type__: "money", cents: 1 });
    expect(own.has("money")).to.equal(true);
    expect(new WireTypes().has("money"), "no registry shared between instances").to.equal(false);
    expect(() => own.register("", Money, () => ({}), () => new Money(0, ""))).to.throw(/needs a name/);
  });
});

describe("custom wire types over HTTP", () => {
  let t: TestApp;
  let client: Client;
  before(async () => {
    t = await startTestApp({ ajax: { apps: [blog, createLabApp()], types: labTypes() } });
    client = new Client(t.app);
  });
  after(() => t.close());

  it("decodes typed values of a request body before the endpoint runs and encodes typed values in its response", async () => {
    const response = await client.post("/ajax/lab/typed.json", {
      price: { __type__: "money", cents: 150, currency: "EUR" },
      when: { __type__: "date", value: "2026-11-21T10:00:00.000Z" },
      alien: { __type__: "spaceship", warp: 9 },
      plain: "text",
    });
    expect(response.status).to.equal(200);
    expect(response.body.data.kinds).to.deep.equal({ price: "money", when: "date", alien: "object", plain: "string" });
    expect(response.body.data.doubled).to.deep.equal({ __type__: "money", cents: 300, currency: "EUR" });
    expect(response.body.data.when).to.deep.equal({ __type__: "date", value: "2026-11-21T10:00:00.000Z" });
    // Round trip: what came in typed goes out typed; the unknown type stays plain data.
    expect(response.body.data.params).to.deep.equal({
      price: { __type__: "money", cents: 150, currency: "EUR" },
      when: { __type__: "date", value: "2026-11-21T10:00:00.000Z" },
      alien: { __type__: "spaceship", warp: 9 },
      plain: "text",
    });
  });

  it("a typed value that does not decode is a 400 with the field, not a 500", async () => {
    const response = await client.post("/ajax/lab/typed.json", { when: { __type__: "date", value: "soon" } });
    expect(response.status).to.equal(400);
    expect(response.body).to.deep.equal({ success: false, data: { code: 400, message: "Invalid input." }, errors: { when: ['Not a valid "date" value.'] } });
  });

  it("encodes typed values in every batch of a stream", async () => {
    const response = await client.agent.post("/ajax/lab/steps.json").set("X-CSRFToken", client.token!)
      .set("Accept", "text/event-stream").send({ count: 1 });
    expect(response.text).to.include('"at":{"__type__":"date","value":"2026-01-01T00:00:00.000Z"}');
  });

  it("model responses keep dates as ISO strings (the contract), whatever types are registered", async () => {
    const alice = new Client(t.app);
    await alice.login("alice");
    const created = await alice.post("/ajax/blog/article.json", { title: "Typed" });
    expect(created.status).to.equal(200);
    expect(created.body.data.createdAt).to.be.a("string");
  });
});
