import { expect } from "chai";
import blog from "../endpoints/blog";
import { AJAXError, type RequestContext } from "../src";
import { Client, startTestApp, type TestApp } from "./support/app";
import { createLabApp } from "./support/lab";

describe("response commands and call hooks (CONTRACT.md §9)", () => {
  let t: TestApp;
  let client: Client;
  const hookLog: string[] = [];
  const reported: unknown[] = [];
  before(async () => {
    t = await startTestApp({
      ajax: {
        apps: [blog, createLabApp()],
        onError: (error) => reported.push(error),
        hooks: {
          before(ctx: RequestContext) {
            hookLog.push(`before ${ctx.app}.${ctx.name}:${ctx.op}`);
            if (ctx.app === "lab" && ctx.name === "deny") throw new AJAXError(403, "Closed for the night.");
            if (ctx.app === "lab" && ctx.name === "echo") ctx.commands.custom("hooked", { by: "before" });
          },
          after(ctx: RequestContext, outcome) {
            hookLog.push(`after ${ctx.app}.${ctx.name} ${outcome.error ? `error ${outcome.error.code}` : `data ${JSON.stringify(outcome.data)}`}`);
            if (ctx.app === "lab" && ctx.name === "echo" && !outcome.error) ctx.commands.alert("after hook");
          },
        },
      },
    });
    client = new Client(t.app);
  });
  after(() => t.close());
  beforeEach(() => { hookLog.length = 0; });

  it("sends every command type in the order the endpoint queued them", async () => {
    const response = await client.post("/ajax/lab/commands.json");
    expect(response.status).to.equal(200);
    expect(response.body.data).to.equal("ok");
    expect(response.body.commands).to.deep.equal([
      { type: "alert", message: "Saved." },
      { type: "html", selector: "#box", html: "<b>new</b>", mode: "replace" },
      { type: "html", selector: "#box", html: "<i>after</i>", mode: "append" },
      { type: "html", selector: "#box", html: "<u>before</u>", mode: "prepend" },
      { type: "text", selector: "#title", text: "<not html>" },
      { type: "attr", selector: "#link", name: "href", value: "/next", mode: "replace" },
      { type: "attr", selector: "#link", name: "class", value: " active", mode: "append" },
      { type: "attr", selector: "#link", name: "class", value: "btn ", mode: "prepend" },
      { type: "prop", selector: "#check", name: "checked", value: true, mode: "replace" },
      { type: "prop", selector: "#input", name: "value", value: "!", mode: "append" },
      { type: "prop", selector: "#input", name: "value", value: "¡", mode: "prepend" },
      { type: "css", selector: "#box", name: "backgroundColor", value: "rgb(1, 2, 3)" },
      { type: "remove", selector: "#gone" },
      { type: "call", name: "greet", args: ["Ada", { times: 2 }] },
      { type: "confetti", amount: 3 },
      { type: "redirect", url: "/done" },
    ]);
  });

  it("refuses the script command unless the router enables it", async () => {
    const refused = await client.post("/ajax/lab/script.json");
    expect(refused.status).to.equal(500);
    expect(refused.body).to.deep.equal({ success: false, data: { code: 500, message: "Internal server error." } });
    expect(String(reported.pop())).to.match(/script commands are disabled/);

    const enabled = await startTestApp({ ajax: { apps: [createLabApp()], allowScriptCommands: true } });
    try {
      const response = await new Client(enabled.app).post("/ajax/lab/script.json");
      expect(response.body.commands).to.deep.equal([{ type: "script", code: "window.scriptRan = true;" }]);
    } finally {
      await enabled.close();
    }
  });

  it("sends no commands member when nothing was queued", async () => {
    const response = await client.post("/ajax/lab/typed.json", {});
    expect(response.body).to.not.have.property("commands");
  });

  it("runs the before and after hooks around a call; their commands join the response", async () => {
    const response = await client.post("/ajax/lab/echo.json", { a: 1 });
    expect(response.body).to.deep.equal({
      success: true, data: { a: 1 }, commands: [{ type: "hooked", by: "before" }, { type: "alert", message: "after hook" }],
    });
    expect(hookLog).to.deep.equal(["before lab.echo:call", 'after lab.echo data {"a":1}']);
  });

  it("runs the hooks around model ops and tells the after hook about errors", async () => {
    const anonymous = new Client(t.app);
    const response = await anonymous.post("/ajax/blog/article/list.json");
    expect(response.status).to.equal(401);
    expect(hookLog).to.deep.equal(["before blog.article:list", "after blog.article error 401"]);
  });

  it("a before hook that throws stops the call with its error", async () => {
    const response = await client.post("/ajax/lab/deny.json");
    expect(response.status).to.equal(403);
    expect(response.body).to.deep.equal({ success: false, data: { code: 403, message: "Closed for the night." } });
    expect(hookLog).to.deep.equal(["before lab.deny:call"]);
  });
});
