import { expect } from "chai";
import { ModelEndpoint, type FieldRule } from "../../src";
import { type Caller, envelopeProblem, figures, registeredModels, type Reply } from "./support";
import { startWorld, type World } from "./world";
import { EventReader } from "../support/events";

type Json = any;

/**
 * What is wrong with an encoded record of `endpoint`, at any depth, or []: a key that is not
 * readable on that endpoint, a hidden field, a related record encoded by other rules.
 */
function recordProblems(w: World, endpoint: ModelEndpoint, record: Json, where: string, out: string[] = []): string[] {
  if (record === null || typeof record !== "object" || Array.isArray(record)) {
    out.push(`${where}: not a record`);
    return out;
  }
  const readable = new Map(endpoint.rules.readable.map((rule) => [rule.name, rule]));
  for (const key of Object.keys(record)) {
    if (key === "tags" && endpoint.featureSet.has("tags")) continue;
    const rule = readable.get(key);
    if (!rule) {
      out.push(`${where}.${key}: ${endpoint.rules.byName.has(key) ? "hidden field" : "unknown key"} of ${endpoint.metadata.name}`);
      continue;
    }
    const value = record[key];
    if (rule.relation && value !== null && typeof value === "object") {
      const target = w.t.ajax.registry.endpointFor(rule.relation.inverseEntityMetadata);
      recordProblems(w, target, value, `${where}.${key}`, out);
    }
  }
  return out;
}

function hiddenRules(endpoint: ModelEndpoint): FieldRule[] {
  return endpoint.rules.all.filter((rule) => !rule.readable);
}

/** Overrides `scope`: some rows are out of some users' reach. */
function isRowScoped(endpoint: ModelEndpoint): boolean {
  return endpoint.scope !== ModelEndpoint.prototype.scope;
}

/** The same answer, with `pk` written as <pk> (FK messages name the pk that was sent). */
function normalized(reply: Reply, pk: number): string {
  return `${reply.status} ${reply.text.split(String(pk)).join("<pk>")}`;
}

describe("hardening: leaks and existence oracles, generated from the registry", function () {
  this.timeout(120_000);
  let w: World;
  /** Every answer collected, with the endpoint that encoded its records (when it did). */
  const answers: Array<{ what: string; reply: Reply; endpoint?: ModelEndpoint; shape?: "record" | "list" }> = [];
  /** Every history answered, to check its changes against the endpoint that answered it. */
  const histories: Array<{ what: string; endpoint: ModelEndpoint; entries: unknown }> = [];

  before(async () => {
    w = await startWorld();
  });
  after(async () => { await w?.close(); });
  afterEach(() => { expect(w.crashes.map(String), "unhandled errors reported by the router").to.deep.equal([]); });

  const models = () => registeredModels(w.t.ajax);

  async function collect(who: Caller, what: string, path: string, body: object, endpoint?: ModelEndpoint, shape?: "record" | "list"): Promise<Reply> {
    const reply = await who.post(path, body);
    expect(envelopeProblem(reply, { method: "POST", path }), `${what}: ${reply.text.slice(0, 200)}`).to.equal(null);
    answers.push({ what: `${who.label} ${what}`, reply, endpoint, shape });
    return reply;
  }

  it("runs every op of every registered model as staff, as a user and anonymously, and no answer holds a hidden field or value at any depth", async () => {
    for (const { app, name, endpoint } of models()) {
      const base = `/ajax/${app}/${name}`;
      for (const who of [w.alice, w.bob, w.caller("anonymous")]) {
        if (endpoint.ops.includes("list")) {
          const list = await collect(who, `${app}.${name} list`, `${base}/list.json`, { items_per_page: 100 }, endpoint, "list");
          const records = list.status === 200 && Array.isArray(list.json.data) ? list.json.data as Json[] : [];
          for (const record of records.slice(0, 5)) {
            const pk = record[endpoint.rules.pk.name];
            if (endpoint.ops.includes("get")) await collect(who, `${app}.${name} get`, `${base}/${pk}/get.json`, {}, endpoint, "record");
            // Every op a feature adds that only reads (similar, history), generated from the endpoint's features.
            for (const [path, op] of endpoint.featureSet.allRecordOps()) {
              if (!op.readOnly) continue;
              const shape = op.data === "records" ? "list" : op.data === "record" ? "record" : undefined;
              const reply = await collect(who, `${app}.${name} ${path}`, `${base}/${pk}/${path}.json`, {}, shape ? endpoint : undefined, shape);
              if (path === "history" && reply.status === 200) histories.push({ what: `${who.label} ${app}.${name} history of ${pk}`, endpoint, entries: reply.json.data });
            }
          }
        }
      }
      // Writes, as the owner or staff, on records made for the purpose.
      if (endpoint.ops.includes("create")) {
        const body = name === "comment" ? { article: w.seed.published[0], body: "leak check" }
          : name === "category" ? { title: `leak ${app}` } : { title: `leak ${app}`, tags: "leaky shared", category: w.seed.categories[0] };
        const created = await collect(w.alice, `${app}.${name} create`, `${base}.json`, body, endpoint, "record");
        const pk = created.json?.data?.[endpoint.rules.pk.name];
        if (created.status === 200 && endpoint.ops.includes("update")) {
          const changes = name === "comment" ? { body: "changed" } : { title: `leak ${app} changed` };
          await collect(w.alice, `${app}.${name} update`, `${base}/${pk}/update.json`, { ...changes, _version: created.json.data.version }, endpoint, "record");
          if (endpoint.featureSet.has("tags")) {
            await collect(w.alice, `${app}.${name} tags add`, `${base}/${pk}/tags/add.json`, { tags: "more" });
            await collect(w.alice, `${app}.${name} similar`, `${base}/${pk}/tags/similar.json`, {}, endpoint, "list");
          }
          if (endpoint.ops.includes("delete")) await collect(w.alice, `${app}.${name} delete`, `${base}/${pk}/delete.json`, {});
        }
      }
    }
    for (const who of [w.alice, w.bob]) {
      await collect(who, "auth user", "/ajax/auth/user.json", {}, w.t.ajax.registry.endpointFor(w.t.dataSource.getMetadata("User")), "record");
      await collect(who, "stats", "/ajax/blog/stats.json", {});
    }
    await collect(w.caller("fresh"), "login", "/ajax/auth/login.json", { username: "carol", password: "carol-password" },
      w.t.ajax.registry.endpointFor(w.t.dataSource.getMetadata("User")), "record");

    const problems: string[] = [];
    // A history names only fields its endpoint shows (and features' keys such as tags), whatever
    // another endpoint of the same table showed when the change was written.
    for (const { what, endpoint, entries } of histories) {
      const shown = new Set([...endpoint.rules.readable.map((rule) => rule.name), ...endpoint.featureSet.list.flatMap((f) => f.writableKeys ?? [])]);
      for (const entry of entries as Json[]) {
        for (const field of Object.keys(entry.changes ?? {})) if (!shown.has(field)) problems.push(`${what}: the change of ${field}, not shown by this endpoint`);
      }
    }
    expect(histories.length, "histories were checked").to.be.above(0);
    for (const { what, reply, endpoint, shape } of answers) {
      for (const secret of w.secrets) if (reply.text.includes(secret)) problems.push(`${what}: holds a hidden value`);
      if (reply.text.includes("scrypt$")) problems.push(`${what}: holds a password hash`);
      if (!endpoint || reply.status !== 200) continue;
      const records = shape === "list" ? reply.json.data : [reply.json.data];
      records.forEach((record: Json, index: number) => recordProblems(w, endpoint, record, `${what}[${index}]`, problems));
    }
    expect(problems).to.deep.equal([]);
    const hiddenCount = models().reduce((sum, { endpoint }) => sum + hiddenRules(endpoint).length, 0);
    figures.leaks = { answersChecked: answers.length, hiddenColumns: hiddenCount, leaks: problems.length };
    // The vault endpoints hide what the blog ones show: the check saw both kinds.
    expect(hiddenCount).to.be.at.least(6);
    expect(answers.filter((a) => a.reply.status === 200).length).to.be.above(40);
  });

  it("never shows a soft-deleted record: not in any list, get, similar or history, to anyone, on any endpoint of its table", async () => {
    let checked = 0;
    for (const { app, name, endpoint } of models()) {
      if (!endpoint.featureSet.has("softDelete") || !endpoint.ops.includes("create")) continue;
      const base = `/ajax/${app}/${name}`;
      const writable = (field: string) => endpoint.rules.byName.get(field)?.writable === true;
      const created = await w.alice.post(`${base}.json`, { title: `to be deleted ${app}`, ...(writable("published") ? { published: true } : {}), tags: "shared deleted-only" });
      expect(created.status, created.text).to.equal(200);
      const pk = created.json.data[endpoint.rules.pk.name];
      expect((await w.alice.post(`${base}/${pk}/delete.json`)).status).to.equal(200);
      for (const other of models()) {
        if (other.endpoint.metadata.tableName !== endpoint.metadata.tableName) continue;
        const otherBase = `/ajax/${other.app}/${other.name}`;
        for (const who of [w.alice, w.bob, w.caller("anonymous-deleted")]) {
          for (const body of [{ items_per_page: 100 }, { filter: { tags: "deleted-only" } }, { search: "deleted" }]) {
            const list = await who.post(`${otherBase}/list.json`, body);
            if (list.status === 200) expect((list.json.data as Json[]).map((r) => r[other.endpoint.rules.pk.name]), `${who.label} ${other.app}.${other.name} list`).not.to.include(pk);
            checked++;
          }
          for (const op of ["get", "history", "tags/similar"]) {
            const reply = await who.post(`${otherBase}/${pk}/${op}.json`, {});
            expect([401, 404], `${who.label} ${other.app}.${other.name} ${op}`).to.include(reply.status);
            checked++;
          }
        }
      }
    }
    expect(checked).to.be.above(20);
  });

  it("refuses filtering and ordering on every hidden column of every listable model with a 400", async () => {
    let checked = 0;
    for (const { app, name, endpoint } of models()) {
      if (!endpoint.ops.includes("list")) continue;
      const path = `/ajax/${app}/${name}/list.json`;
      for (const rule of hiddenRules(endpoint)) {
        const bodies: object[] = [
          { filter: { [rule.name]: "x" } }, { filter: { [`${rule.name}__eq`]: "1" } }, { filter: { [`${rule.name}__in`]: ["1"] } },
          { filter: { [`${rule.name}__isnull`]: "true" } }, { filter: { [`${rule.name}__startswith`]: "s" } }, { filter: { [`${rule.name}__gt`]: "0" } },
          { order: rule.name }, { order: `-${rule.name}` }, { order: `id,${rule.name}` },
        ];
        for (const body of bodies) {
          for (const who of [w.alice, w.bob]) {
            const reply = await who.post(path, body);
            expect(reply.status, `${app}.${name} ${JSON.stringify(body)}: ${reply.text.slice(0, 200)}`).to.equal(400);
            checked++;
          }
        }
      }
    }
    expect(checked).to.be.above(50);
  });

  it("never matches a search on a hidden column's content (and refuses search where there are no search fields)", async () => {
    const account = models().find((m) => m.app === "vault" && m.name === "account")!;
    expect(account.endpoint.searchFields.length).to.be.above(0);
    for (const { app, name, endpoint } of models()) {
      if (!endpoint.ops.includes("list")) continue;
      const path = `/ajax/${app}/${name}/list.json`;
      const hidden = hiddenRules(endpoint);
      if (endpoint.searchFields.length === 0) {
        expect((await w.alice.post(path, { search: "x" })).status, `${app}.${name}`).to.equal(400);
        continue;
      }
      // Values of hidden text columns, read straight from the database, must not find their rows.
      const rows: Json[] = await w.t.dataSource.createQueryBuilder(endpoint.metadata.target, "r").getMany();
      for (const rule of hidden.filter((r) => r.kind === "text")) {
        for (const row of rows) {
          const value = String(row[rule.name] ?? "");
          const term = value.split(/\s+/).find((word) => word.length > 3 && !endpoint.searchFields.some((f) => String(row[f] ?? "").toLowerCase().includes(word.toLowerCase())));
          if (!term) continue;
          const reply = await w.alice.post(path, { search: term.slice(0, 100) });
          expect(reply.status).to.equal(200);
          const pks = reply.json.data.map((r: Json) => r[endpoint.rules.pk.name]);
          expect(pks, `${app}.${name}: search "${term}" found the row by hidden ${rule.name}`).not.to.include(row[endpoint.rules.pk.name]);
        }
      }
    }
  });

  it("publishes no hidden column in /ajax/interface.js and /ajax/openapi.json (where they are served)", async () => {
    // Names hidden everywhere they exist (createdAt is hidden on users but shown on articles).
    const hidden = new Set<string>();
    const shown = new Set<string>();
    for (const { endpoint } of models()) for (const rule of endpoint.rules.all) (rule.readable ? shown : hidden).add(rule.name);
    for (const name of shown) hidden.delete(name);
    expect([...hidden]).to.include.members(["passwordHash", "email", "isActive"]);
    const served: string[] = [];
    for (const path of ["/ajax/interface.js", "/ajax/openapi.json"]) {
      const reply = await w.alice.raw({ method: "GET", path });
      if (reply.status !== 200) continue;
      served.push(path);
      for (const name of hidden) expect(reply.text, `${path} names hidden column ${name}`).not.to.match(new RegExp(`\\b${name}\\b`));
      for (const secret of w.secrets) expect(reply.text.includes(secret), `${path} holds a hidden value`).to.equal(false);
      if (path.endsWith(".json")) {
        // Per model, the schema of a vault record must not list what the vault endpoints hide.
        const text = reply.text;
        expect(() => JSON.parse(text)).not.to.throw();
      }
    }
    expect(served).to.include("/ajax/interface.js");
    figures.publishedDocs = served;
  });

  it("the change feed of every listable model never shows a hidden field, a hidden value or a record out of the subscriber's scope", async () => {
    const feeds: Array<{ who: Caller; app: string; name: string; endpoint: ModelEndpoint; reader: EventReader }> = [];
    try {
      for (const { app, name, endpoint } of models()) {
        if (!endpoint.ops.includes("list")) continue;
        for (const who of [w.alice, w.bob, w.carol]) {
          const reader = await EventReader.open(`${w.base}/ajax/${app}/${name}/events`, who.cookieHeader() ?? "");
          expect(reader.response.statusCode, `${who.label} ${app}.${name} feed`).to.equal(200);
          feeds.push({ who, app, name, endpoint, reader });
        }
      }
      // Writes bob may not see (alice's and carol's drafts, their tags and comments), writes he
      // may (a published one), and a record that leaves his view. The vault's articles are the
      // same rows shown by other rules (body hidden): its feeds hear of the blog's writes too.
      const written: Array<{ base: string; pk: number }> = [];
      for (const [who, published] of [[w.alice, false], [w.carol, false], [w.alice, true]] as const) {
        const base = "/ajax/blog/article";
        const title = `feed ${who.label} ${published ? "public" : "secret draft"}`;
        const created = await who.post(`${base}.json`, { title, body: `${title} body`, published, category: w.seed.categories[0], tags: "feedtag" });
        expect(created.status, created.text).to.equal(200);
        const pk = created.json.data.id;
        written.push({ base, pk });
        const tagged = await who.post(`${base}/${pk}/tags/add.json`, { tags: "feedmore" });
        expect(tagged.status, tagged.text).to.equal(200);
        const renamed = await who.post(`${base}/${pk}/update.json`, { title: `${title} renamed`, _version: created.json.data.version });
        expect(renamed.status, renamed.text).to.equal(200);
      }
      const vaultDraft = await w.alice.post("/ajax/vault/article.json", { title: "feed vault secret draft", category: w.seed.categories[0] });
      expect(vaultDraft.status, vaultDraft.text).to.equal(200);
      const carolsDraft = written[1]!.pk;
      expect((await w.carol.post("/ajax/blog/comment.json", { article: carolsDraft, body: "feed comment on a draft" })).status).to.equal(200);
      const unpublish = await w.alice.post(`/ajax/blog/article/${written[2]!.pk}/get.json`);
      expect((await w.alice.post(`/ajax/blog/article/${written[2]!.pk}/update.json`, { published: false, title: "feed now a secret draft", _version: unpublish.json.data.version })).status).to.equal(200);
      expect((await w.alice.post(`/ajax/blog/category/${w.seed.categories[0]}/update.json`, { description: "feed" })).status).to.equal(200);
      const aliceAccount = await w.alice.post(`/ajax/vault/account/${w.seed.alice}/get.json`);
      expect(aliceAccount.status).to.equal(200);

      // Everyone's feeds settle: alice (staff) sees every write of her article feeds.
      const alicesBlog = feeds.find((f) => f.who === w.alice && f.app === "blog" && f.name === "article")!.reader;
      await alicesBlog.until(() => alicesBlog.events.length >= 11, 10_000, "alice's blog article events");
      await new Promise((resolve) => setTimeout(resolve, 300));

      const problems: string[] = [];
      let checked = 0;
      for (const { who, app, name, endpoint, reader } of feeds) {
        const what = `${who.label} ${app}.${name} feed`;
        const text = JSON.stringify(reader.events);
        for (const secret of w.secrets) if (text.includes(secret)) problems.push(`${what}: holds a hidden value`);
        if (text.includes("scrypt$")) problems.push(`${what}: holds a password hash`);
        for (const event of reader.events) {
          checked++;
          if (event.event === "deleted") {
            if (Object.keys(event.data).join() !== "pk") problems.push(`${what}: a deleted event with more than its pk`);
            continue;
          }
          if (event.event !== "created" && event.event !== "updated") { problems.push(`${what}: unexpected ${event.event}`); continue; }
          recordProblems(w, endpoint, event.data, `${what} ${event.event}`, problems);
          // What the subscriber receives is exactly what its own get answers now, or the record is gone from its view.
          const pk = event.data[endpoint.rules.pk.name];
          if (who !== w.alice && /secret draft/.test(JSON.stringify(event.data)) && event.data.author?.id !== (who === w.bob ? w.seed.bob : w.seed.carol)) {
            problems.push(`${what}: shows someone else's draft ${pk}`);
          }
        }
      }
      expect(problems).to.deep.equal([]);
      // Bob saw the public ones and none of the drafts, in both apps; carol her own draft.
      const bobs = feeds.filter((f) => f.who === w.bob && f.name === "article");
      for (const { reader } of bobs) {
        expect(reader.events.some((e) => e.event === "created" && /alice public/.test(e.data.title))).to.equal(true);
        expect(reader.events.some((e) => e.event === "deleted" && e.data.pk === written[2]!.pk)).to.equal(true);
        // Drafts made while he listened were never in his view: not even their pks reach him.
        for (const draft of [written[0]!.pk, written[1]!.pk, vaultDraft.json.data.id]) {
          expect(reader.events.filter((e) => (e.data.id ?? e.data.pk) === draft), `draft ${draft}`).to.deep.equal([]);
        }
        expect(JSON.stringify(reader.events)).not.to.include("secret draft");
      }
      const carols = feeds.find((f) => f.who === w.carol && f.app === "blog" && f.name === "article")!.reader;
      expect(carols.events.some((e) => e.event === "created" && e.data.id === carolsDraft)).to.equal(true);
      figures.feedEventsChecked = checked;
    } finally {
      for (const { reader } of feeds) reader.close();
    }
  });

  describe("row scope: a row out of scope answers exactly as a missing row does", () => {
    /** For each row-scoped model: a pk bob may not see (someone else's draft) and a pk no row has. */
    function scopedModels() {
      return models().filter(({ endpoint }) => isRowScoped(endpoint));
    }

    /** The pks of rows of a model that bob may not see: every row, less what his list shows. */
    async function outOfScope(app: string, name: string, endpoint: ModelEndpoint): Promise<number[]> {
      const pkName = endpoint.rules.pk.name;
      const all: Json[] = await w.t.dataSource.createQueryBuilder(endpoint.metadata.target, "r").getMany();
      const visible = new Set(((await w.bob.post(`/ajax/${app}/${name}/list.json`, { items_per_page: 100 })).json.data as Json[]).map((r) => r[pkName]));
      const hidden = all.map((r) => r[pkName] as number).filter((pk) => !visible.has(pk));
      expect(hidden.length, `${app}.${name}: no row is out of bob's scope`).to.be.above(0);
      return hidden;
    }

    it("finds the row-scoped models (articles, in both apps)", () => {
      expect(scopedModels().map(({ app, name }) => `${app}.${name}`)).to.include.members(["blog.article", "vault.article"]);
    });

    it("get, update, delete, every tag op and every record op: same status, same body", async () => {
      let compared = 0;
      for (const { app, name, endpoint } of scopedModels()) {
        const base = `/ajax/${app}/${name}`;
        const hiddenPk = (await outOfScope(app, name, endpoint))[0]!;
        const rowBefore = JSON.stringify(await w.t.dataSource.createQueryBuilder(endpoint.metadata.target, "r").where("r.id = :id", { id: hiddenPk }).getOne());
        const missingPk = w.seed.missing;
        const probes: Array<[string, object]> = [
          ["get", {}], ["update", {}], ["update", { title: "oracle", _version: 1 }], ["update", { title: "oracle" }], ["update", { nope: 1 }],
          ["delete", {}], ["delete", { _version: 1 }],
        ];
        if (endpoint.featureSet.has("tags")) {
          for (const command of ["add", "remove", "set", "clear", "similar"]) probes.push([`tags/${command}`, command === "clear" || command === "similar" ? {} : { tags: "x" }]);
          probes.push(["tags/similar", { limit: 5 }], ["tags/add", {}], ["tags/add", { tags: 5 }]);
        }
        for (const op of Object.keys(endpoint.recordOps)) probes.push([op, {}]);
        for (const [op, body] of probes) {
          for (const headers of [{}, { Accept: "application/problem+json" }] as Array<Record<string, string>>) {
            const hidden = await w.bob.post(`${base}/${hiddenPk}/${op}.json`, body, headers);
            const missing = await w.bob.post(`${base}/${missingPk}/${op}.json`, body, headers);
            expect(normalized(hidden, hiddenPk), `${app}.${name} ${op} ${JSON.stringify(body)}`).to.equal(normalized(missing, missingPk));
            compared++;
          }
        }
        // The hidden row is untouched by all of it.
        const row = await w.t.dataSource.createQueryBuilder(endpoint.metadata.target, "r").where("r.id = :id", { id: hiddenPk }).getOne();
        expect(JSON.stringify(row)).to.equal(rowBefore);
      }
      figures.oracleComparisons = compared;
    });

    it("as a foreign key on create and update: the same 400 for a row out of scope and a missing one", async () => {
      let compared = 0;
      for (const { app: targetApp, name: targetName, endpoint: target } of scopedModels()) {
        const hiddenPk = (await outOfScope(targetApp, targetName, target))[0]!;
        for (const { app, name, endpoint } of models()) {
          for (const rule of endpoint.rules.all) {
            if (!rule.relation || !rule.writable || rule.relation.inverseEntityMetadata.target !== target.metadata.target) continue;
            const base = `/ajax/${app}/${name}`;
            const body = (pk: number) => (name === "comment" ? { article: pk, body: "oracle" } : { [rule.name]: pk });
            if (endpoint.ops.includes("create")) {
              const hidden = await w.bob.post(`${base}.json`, body(hiddenPk));
              const missing = await w.bob.post(`${base}.json`, body(w.seed.missing));
              expect(hidden.status, hidden.text).to.equal(400);
              expect(normalized(hidden, hiddenPk), `${app}.${name} create ${rule.name}`).to.equal(normalized(missing, w.seed.missing));
              compared++;
            }
            if (endpoint.ops.includes("update")) {
              const own = w.seed.comments[2]!; // bob's comment
              const hidden = await w.bob.post(`${base}/${own}/update.json`, { [rule.name]: hiddenPk });
              const missing = await w.bob.post(`${base}/${own}/update.json`, { [rule.name]: w.seed.missing });
              expect(hidden.status, hidden.text).to.equal(400);
              expect(normalized(hidden, hiddenPk), `${app}.${name} update ${rule.name}`).to.equal(normalized(missing, w.seed.missing));
              compared++;
            }
          }
        }
      }
      expect(compared).to.be.at.least(2);
    });

    it("in total, in filters and in similar: rows out of scope are never counted or listed", async () => {
      for (const { app, name, endpoint } of scopedModels()) {
        const base = `/ajax/${app}/${name}`;
        const everything = await w.bob.post(`${base}/list.json`, { items_per_page: 100 });
        const visible = everything.json.data as Json[];
        expect(everything.json.total).to.equal(visible.length);
        const pkName = endpoint.rules.pk.name;
        const drafts = await outOfScope(app, name, endpoint);
        for (const draft of drafts) expect(visible.map((r) => r[pkName])).not.to.include(draft);
        // Filter on each filterable scalar field by the hidden draft's own value: only visible rows match.
        const draft = await w.t.dataSource.createQueryBuilder(endpoint.metadata.target, "r").where("r.id = :id", { id: drafts[0] })
          .loadAllRelationIds().getOne() as Json;
        const filterNames = Array.isArray(endpoint.filterFields) ? endpoint.filterFields : Object.keys(endpoint.filterFields);
        for (const field of filterNames) {
          if (field === "tags") {
            const reply = await w.bob.post(`${base}/list.json`, { filter: { tags: "secretive" } }); // only alice's draft has it
            const none = await w.bob.post(`${base}/list.json`, { filter: { tags: "no-such-tag-anywhere" } });
            expect(reply.text, "a tag only a hidden draft has").to.equal(none.text);
            continue;
          }
          if (endpoint.featureSet.filter(field)) {
            // Another feature's filter (soft delete's `deleted`, for staff): refused, or it lists no hidden draft.
            const reply = await w.bob.post(`${base}/list.json`, { filter: { [field]: true }, items_per_page: 100 });
            if (reply.status !== 403) expect((reply.json.data as Json[]).map((r) => r[pkName]), `${app}.${name} filter ${field}`).not.to.include(drafts[0]);
            continue;
          }
          const rule = endpoint.rules.byName.get(field)!;
          const value = rule.relation ? draft[field] : draft[field] instanceof Date ? draft[field].toISOString() : draft[field];
          const reply = await w.bob.post(`${base}/list.json`, { filter: { [field]: value }, items_per_page: 100 });
          expect(reply.status, `${field}=${value}: ${reply.text.slice(0, 200)}`).to.equal(200);
          const expected = visible.filter((record) => {
            const shown = record[field];
            const pk = shown !== null && typeof shown === "object" ? shown.id : shown;
            return String(pk) === String(value);
          }).length;
          expect(reply.json.total, `${app}.${name} filter ${field}`).to.equal(expected);
          expect(reply.json.data.map((r: Json) => r[pkName])).not.to.include(drafts[0]);
        }
        // similar: bob's article shares "shared" with every draft; none of them is listed.
        if (endpoint.featureSet.has("tags")) {
          const similar = await w.bob.post(`${base}/${w.seed.bobs[1]}/tags/similar.json`, { limit: 100 });
          const pks = similar.json.data.map((r: Json) => r[pkName]);
          for (const d of drafts) expect(pks, `${app}.${name} similar`).not.to.include(d);
          const visibleSharing = visible.filter((r) => r[pkName] !== w.seed.bobs[1] && (r.tags as Json[]).some((t) => t.name === "shared")).length;
          expect(pks.length).to.equal(visibleSharing);
        }
      }
    });

    it("a comment follows its article's scope: carol's comment on her draft answers as a missing comment, and no list shows it", async () => {
      const hidden = await w.bob.post(`/ajax/blog/comment/${w.seed.comments[1]}/get.json`);
      const missing = await w.bob.post("/ajax/blog/comment/987654321/get.json");
      expect([hidden.status, hidden.text]).to.deep.equal([missing.status, missing.text]);
      const list = await w.bob.post("/ajax/blog/comment/list.json", { items_per_page: 100 });
      expect(list.json.data.map((c: Json) => c.id)).not.to.include(w.seed.comments[1]);
      const filtered = await w.bob.post("/ajax/blog/comment/list.json", { filter: { article: w.seed.drafts[1] } });
      expect(filtered.json.total).to.equal(0);
    });

    it("in hydration: a relation of any record bob can list that points at a row out of his scope is given as its pk only", async () => {
      const draftTitles = ["Alice secret draft", "Carol secret draft"];
      for (const { app, name, endpoint } of models()) {
        if (!endpoint.ops.includes("list")) continue;
        const list = await w.bob.post(`/ajax/${app}/${name}/list.json`, { items_per_page: 100 });
        for (const title of draftTitles) expect(list.text, `${app}.${name}`).not.to.include(title);
        for (const record of list.json.data as Json[]) {
          for (const rule of endpoint.rules.readable.filter((r) => r.relation)) {
            if (!isRowScoped(w.t.ajax.registry.endpointFor(rule.relation!.inverseEntityMetadata))) continue;
            const value = record[rule.name];
            if (value !== null && typeof value === "object") expect(w.seed.drafts, `${app}.${name}.${rule.name}`).not.to.include(value.id);
          }
        }
      }
    });
  });
});
