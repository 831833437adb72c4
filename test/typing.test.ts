import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { DataSource, Entity, PrimaryGeneratedColumn, Column } from "typeorm";
import { AjaxSession, createAjax, defineApp, ModelEndpoint } from "../src";
import { AJAX_ENDPOINTS_PATHS, scratchApp, tsc, writeFiles } from "./support/tsc";

/** What every snippet starts with: two entities and the app's user type. */
const PRELUDE = `import Joi from "joi";
import type { Relation } from "typeorm";
import { defineApp, endpoint, loginRequired, ModelEndpoint, modelEndpoint } from "ajax-endpoints";
export class Person { id!: number; name!: string; isStaff!: boolean; }
export class Note { id!: number; title!: string; done!: boolean; owner!: Relation<Person>; }
declare module "ajax-endpoints" {
  interface AjaxTypes { user: Person }
}
`;

const GOOD = `${PRELUDE}
// Class fields take plain literals, no \`as const\`.
class NoteEndpoint extends ModelEndpoint<Note, Person> {
  entity = Note;
  ops = ["get", "list"];
  filterFields = { title: ["eq", "icontains"], done: ["eq"] };
  orderFields = ["title"];
}
// modelEndpoint() checks every name against the entity.
class CheckedNoteEndpoint extends modelEndpoint(Note, {
  ops: ["get", "list", "create"],
  ownerField: "owner",
  filterFields: { title: ["eq", "in"], owner: ["eq"] },
  orderFields: ["title", "id"],
  defaultOrder: "-title",
  searchFields: ["title"],
}) {
  override canDelete(user: Person | null) { return user?.isStaff === true; }
}
const add = endpoint({ params: Joi.object<{ a: number; b: number }, true>({ a: Joi.number().required(), b: Joi.number().required() }) },
  (_req, ctx) => {
    const sum: number = ctx.params.a + ctx.params.b;
    const name: string | undefined = ctx.user?.name;
    return { sum, name };
  });
const untyped = endpoint({ params: Joi.object({ a: Joi.number() }) }, (_req, ctx) => {
  const a: unknown = ctx.params.a;
  return a;
});
export default defineApp("notes")
  .model("note", NoteEndpoint)
  .model("checked", CheckedNoteEndpoint)
  .endpoint("add", add)
  .endpoint("untyped", untyped)
  .endpoint("whoami", loginRequired((_req, ctx) => ctx.user?.name ?? null));
`;

/** Snippets that must not compile, each with the error it must give. */
const BAD: Record<string, { code: string; text: string }> = {
  "a misspelt filter field": { code: "TS2820", text: `modelEndpoint(Note, { filterFields: ["titel"] });` },
  "a misspelt filter field in a map": { code: "TS2353", text: `modelEndpoint(Note, { filterFields: { titel: ["eq"] } });` },
  "an unknown filter operator": { code: "TS2322", text: `modelEndpoint(Note, { filterFields: { title: ["equals"] } });` },
  "an unknown op": { code: "TS2322", text: `modelEndpoint(Note, { ops: ["fetch"] });` },
  "an unknown order field": { code: "TS2322", text: `modelEndpoint(Note, { orderFields: ["nope"] });` },
  "an owner field that is not a field": { code: "TS2322", text: `modelEndpoint(Note, { ownerField: "author" });` },
  "a parameter the schema does not have": {
    code: "TS2339",
    text: `endpoint({ params: Joi.object<{ a: number }, true>({ a: Joi.number().required() }) }, (_req, ctx) => ctx.params.b);`,
  },
  "a schema that does not match its type": {
    code: "TS2740",
    text: `endpoint({ params: Joi.object<{ a: number }, true>({ a: Joi.string() }) }, (_req, ctx) => ctx.params.a);`,
  },
  "an untyped schema's parameter used as a number": {
    code: "TS2322",
    text: `endpoint({ params: Joi.object({ a: Joi.number() }) }, (_req, ctx) => { const a: number = ctx.params.a; return a; });`,
  },
  "a user property the app's user type does not have": {
    code: "TS2339", text: `endpoint({}, (_req, ctx) => ctx.user?.email);`,
  },
};

const COMPILER_OPTIONS = {
  module: "nodenext", target: "es2023", types: ["node"], strict: true, exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true, verbatimModuleSyntax: true, skipLibCheck: true, noEmit: true, paths: AJAX_ENDPOINTS_PATHS,
};

describe("types that guide: endpoint settings, ctx.params and ctx.user at compile time", function () {
  this.timeout(60_000);
  let app: string;
  let results: Map<string, string>;

  before(() => {
    app = scratchApp("typing");
    const files: Record<string, string> = { "good.ts": GOOD };
    Object.values(BAD).forEach((bad, index) => { files[`bad-${index}.ts`] = `${PRELUDE}\n${bad.text}\n`; });
    writeFiles(app, files);
    writeFileSync(join(app, "tsconfig.json"), JSON.stringify({ compilerOptions: COMPILER_OPTIONS, include: ["*.ts"] }));
    // One compiler run for every snippet; its errors are sorted out per file.
    const { output } = tsc(["-p", join(app, "tsconfig.json"), "--pretty", "false"]);
    results = new Map();
    for (const line of output.split("\n")) {
      const match = /([\w-]+\.ts)\(\d+,\d+\): error (TS\d+)/.exec(line);
      if (match) results.set(match[1]!, `${results.get(match[1]!) ?? ""}${match[2]} ${line}\n`);
    }
  });

  it("accepts plain literals and types ctx.params from the schema and ctx.user from the app", () => {
    expect(results.get("good.ts") ?? "").to.equal("");
  });

  Object.entries(BAD).forEach(([name, bad], index) => {
    it(`refuses ${name} (${bad.code})`, () => {
      expect(results.get(`bad-${index}.ts`) ?? "no error", bad.text).to.include(bad.code);
    });
  });
});

@Entity("typing_thing")
class Thing {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: "varchar", length: 20 }) name!: string;
}

describe("endpoint settings given as plain strings are checked at start-up", () => {
  let dataSource: DataSource;
  before(async () => {
    dataSource = new DataSource({ type: "better-sqlite3", database: ":memory:", entities: [Thing, AjaxSession], synchronize: true });
    await dataSource.initialize();
  });
  after(() => dataSource.destroy());

  const start = (endpoint: ModelEndpoint) => () => createAjax({
    dataSource, apps: [defineApp("t").model("thing", endpoint)], auth: { userEntity: Thing }, session: { secret: "s" }, openapi: false,
  });

  it("an unknown op", () => {
    const endpoint = Object.assign(new ModelEndpoint<Thing>(), { entity: Thing, ops: ["get", "fetch"] });
    expect(start(endpoint)).to.throw('ajax-endpoints: ops of Thing names "fetch", which is not one of create, get, update, delete, list');
  });

  it("an unknown filter operator", () => {
    const endpoint = Object.assign(new ModelEndpoint<Thing>(), { entity: Thing, filterFields: { name: ["eq", "equals"] } });
    expect(start(endpoint)).to.throw('ajax-endpoints: filterFields of Thing gives "name" the operator "equals"');
  });
});
