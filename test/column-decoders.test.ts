import { expect } from "chai";
import { Article, Category, User } from "../entities";
import { valueDecoder } from "../src/model/column-decoders";
import { encodeValue } from "../src/model/hydrate";
import { loggedIn, startTestApp, type TestApp } from "./support/app";
import { testDatabaseKind } from "./support/databases";

/**
 * Records are decoded by decoders worked out once per column (src/model/column-decoders.ts)
 * and dates written out by hand (encodeValue) instead of asking TypeORM's driver per value and
 * `toISOString()`: these tests hold them to the driver's and `toISOString()`'s answers.
 */
describe(`column decoders give the driver's values (now: ${testDatabaseKind()})`, () => {
  let t: TestApp;

  before(async () => {
    t = await startTestApp();
    const alice = await loggedIn(t.app, "alice");
    const category = await alice.post("/ajax/blog/category.json", { title: "Values", description: null });
    for (const [index, published] of [true, false, true].entries()) {
      const created = await alice.post("/ajax/blog/article.json", {
        title: `Values ${index}`, body: index === 1 ? "" : "é 𝄞", published, category: category.body.data.id,
        publishedAt: index === 2 ? null : "2026-03-04T05:06:07.089+02:00", tags: index === 0 ? ["one", "two"] : [],
      });
      expect(created.status, JSON.stringify(created.body)).to.equal(200);
    }
  });
  after(() => t?.close());

  it("every stored value of every table of the example app decodes as the driver's prepareHydratedValue decodes it", async () => {
    let compared = 0;
    for (const metadata of t.dataSource.entityMetadatas) {
      const rows: Array<Record<string, unknown>> = await t.dataSource.query(`SELECT * FROM ${t.dataSource.driver.escape(metadata.tablePath)}`);
      for (const column of metadata.columns) {
        const decode = valueDecoder(t.dataSource, column);
        for (const row of rows) {
          const raw = row[column.databaseName];
          if (raw === null || raw === undefined) continue;
          expect(decode(raw), `${metadata.name}.${column.propertyName} = ${String(raw)}`)
            .to.deep.equal(t.dataSource.driver.prepareHydratedValue(raw, column));
          compared++;
        }
      }
    }
    // Users, sessions, articles, categories, tags, links, audit entries: some eighty values.
    expect(compared).to.be.greaterThan(60);
  });

  it("reads records through the decoders with the same values TypeORM's own find gives", async () => {
    const ours = await t.ajax.registry.endpointFor(t.dataSource.getMetadata(Article)).reader.load(
      t.ajax.registry.endpointFor(t.dataSource.getMetadata(Article)).reader.query(t.dataSource.manager, "a").orderBy("a.id"), t.dataSource.manager);
    const theirs = await t.dataSource.getRepository(Article).find({ order: { id: "ASC" }, loadRelationIds: true, withDeleted: true });
    expect(ours).to.have.length(theirs.length).and.to.have.length.greaterThan(2);
    ours.forEach((record, index) => {
      const found = theirs[index]! as unknown as Record<string, unknown>;
      for (const key of ["id", "title", "body", "published", "publishedAt", "createdAt", "updatedAt", "version", "deletedAt"]) {
        expect(record[key], key).to.deep.equal(found[key]);
      }
      expect(record.author).to.deep.equal({ id: found.author });
      expect(record.category).to.deep.equal({ id: found.category });
    });
    expect(ours.map((record) => record.published)).to.deep.equal([true, false, true]);
    expect(ours[0]!.createdAt).to.be.instanceOf(Date);
  });

  it("SQLite datetime text: 100,000 generated texts decode as TypeORM's SQLite driver decodes them", async function () {
    // The fast path reads digits by position; the generator makes texts of the right shape with
    // out-of-range fields (month 13, 31 April, hour 24, year 0050) and broken ones, which must go TypeORM's way.
    const sqlite = t.database.kind === "sqlite" ? t : await startTestApp({}, "sqlite");
    try {
      const column = sqlite.dataSource.getMetadata(Article).findColumnWithPropertyName("createdAt")!;
      const decode = valueDecoder(sqlite.dataSource, column);
      const driverDecode = (raw: string) => sqlite.dataSource.driver.prepareHydratedValue(raw, column) as Date;
      const random = (below: number) => Math.floor(Math.random() * below);
      const digits = (value: number, width: number) => String(value).padStart(width, "0");
      for (let i = 0; i < 100_000; i++) {
        const year = [random(10_000), 1970 + random(100), random(100), 9999, 1000][random(5)]!;
        let text = `${digits(year, 4)}-${digits(random(14), 2)}-${digits(random(33), 2)} ${digits(random(26), 2)}:${digits(random(62), 2)}:${digits(random(62), 2)}`;
        if (random(2)) text += `.${digits(random(1000), 3)}`;
        if (random(20) === 0) text = text.slice(0, random(text.length)) + ["x", "T", " ", "-", "Z", "+01:00"][random(6)] + text.slice(random(text.length));
        const ours = decode(text) as Date;
        const theirs = driverDecode(text);
        if (Number.isNaN(theirs.getTime())) expect(Number.isNaN(ours.getTime()), text).to.equal(true);
        else expect(ours.getTime(), text).to.equal(theirs.getTime());
      }
    } finally {
      if (sqlite !== t) await sqlite.close();
    }
  });

  it("dates go on the wire exactly as toISOString writes them, for 100,000 instants from -270,000 to +270,000 years", () => {
    const rule = { kind: "datetime" } as never;
    const spans = [8.64e15, 2.6e14, 4e12];
    for (let i = 0; i < 100_000; i++) {
      const date = new Date(Math.round((Math.random() * 2 - 1) * spans[i % 3]!));
      expect(encodeValue(date, rule)).to.equal(date.toISOString());
    }
    for (const year of [0, 999, 1000, 9999, 10_000]) {
      const date = new Date(Date.UTC(2000, 0, 1, 0, 0, 0, 7));
      date.setUTCFullYear(year);
      expect(encodeValue(date, rule)).to.equal(date.toISOString());
    }
    expect(encodeValue(new Date(Number.NaN), rule)).to.equal(null);
  });

  it("user and category values read through the decoders as TypeORM's find reads them", async () => {
    for (const entity of [User, Category]) {
      const endpoint = t.ajax.registry.endpointFor(t.dataSource.getMetadata(entity));
      const ours = await endpoint.reader.load(endpoint.reader.query(t.dataSource.manager, "r").orderBy("r.id"), t.dataSource.manager);
      const theirs = await t.dataSource.getRepository(entity).find({ order: { id: "ASC" } });
      expect(ours.map((record) => ({ ...record }))).to.deep.equal(theirs.map((record) => ({ ...record })));
    }
  });
});
