import { expect } from "chai";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import request from "supertest";
import blog from "../endpoints/blog";
import type { RequestContext } from "../src";
import { Client, startTestApp, type TestApp } from "./support/app";
import { createLabApp, probe } from "./support/lab";

/** Splits a Server-Sent Events body into its events. */
function parseEvents(text: string): Array<{ event: string; data: any }> {
  return text.trim().split("\n\n").map((block) => {
    const lines = block.split("\n");
    const event = lines.find((line) => line.startsWith("event: "))!.slice("event: ".length);
    const data = lines.filter((line) => line.startsWith("data: ")).map((line) => line.slice("data: ".length)).join("\n");
    return { event, data: JSON.parse(data) };
  });
}

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await sleep(10);
  }
}

describe("streaming endpoints (Server-Sent Events)", () => {
  let t: TestApp;
  let client: Client;
  before(async () => {
    t = await startTestApp({
      ajax: {
        apps: [blog, createLabApp()],
        hooks: {
          before: (ctx: RequestContext) => { if (ctx.app === "lab") probe.events.push(`before ${ctx.name}`); },
          after: (ctx: RequestContext, outcome) => {
            if (ctx.app === "lab") probe.events.push(`after ${ctx.name}${outcome.error ? ` ${outcome.error.code}` : ""}`);
          },
        },
      },
    });
    client = new Client(t.app);
    await client.csrf();
  });
  after(() => t.close());
  beforeEach(() => probe.reset());

  const streamRequest = (name: string, body: object) =>
    client.agent.post(`/ajax/lab/${name}.json`).set("X-CSRFToken", client.token!).set("Accept", "text/event-stream").send(body);

  it("sends each batch as a message event with its own commands, then end; the hooks run before and after", async () => {
    const response = await streamRequest("steps", { count: 3 });
    expect(response.status).to.equal(200);
    expect(response.headers["content-type"]).to.equal("text/event-stream; charset=utf-8");
    expect(response.headers["cache-control"]).to.equal("no-store");
    const events = parseEvents(response.text);
    expect(events.map((e) => e.event)).to.deep.equal(["message", "message", "message", "end"]);
    expect(events.slice(0, 3).map((e) => e.data.data.step)).to.deep.equal([1, 2, 3]);
    expect(events[0]!.data.commands).to.deep.equal([]);
    // A command queued after the last yield travels with the end event.
    expect(events[3]!.data).to.deep.equal({ success: true, commands: [{ type: "alert", message: "done" }] });
    expect(probe.events).to.deep.equal(["before steps", "yield 1", "yield 2", "yield 3", "after steps"]);
  });

  it("validates the parameters before the stream starts: a 400 in JSON, no events", async () => {
    const response = await streamRequest("steps", { count: 99 });
    expect(response.status).to.equal(400);
    expect(response.headers["content-type"]).to.equal("application/json; charset=utf-8");
    expect(response.body.errors).to.have.key("count");
    expect(probe.events).to.deep.equal(["before steps", "after steps 400"]);
  });

  it("an error inside the stream becomes an error event with the error envelope", async () => {
    const response = await streamRequest("broken_stream", {});
    const events = parseEvents(response.text);
    expect(events.map((e) => e.event)).to.deep.equal(["message", "error"]);
    expect(events[0]!.data).to.deep.equal({ data: 1, commands: [] });
    expect(events[1]!.data).to.deep.equal({ success: false, data: { code: 409, message: "The stream hit a conflict." } });
  });

  it("a client that goes away stops the generator (its finally runs)", async () => {
    const server = t.app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      // A session of its own: the token and the cookies it was issued with.
      const issued = await request(t.app).get("/ajax/csrf.json").expect(200);
      const token = issued.body.data.token as string;
      const cookie = ([] as string[]).concat(issued.headers["set-cookie"] ?? []).map((c) => c.split(";")[0]).join("; ");
      await new Promise<void>((resolve, reject) => {
        const req = http.request({
          host: "127.0.0.1", port, path: "/ajax/lab/ticker.json", method: "POST",
          headers: { "Content-Type": "application/json", Accept: "text/event-stream", "X-CSRFToken": token, Cookie: cookie },
        }, (res) => {
          expect(res.statusCode).to.equal(200);
          res.once("data", () => {
            req.destroy();
            resolve();
          });
        });
        req.on("error", (error) => ((error as NodeJS.ErrnoException).code === "ECONNRESET" ? undefined : reject(error)));
        req.end("{}");
      });
      await waitFor(() => probe.streamFinished);
      const yieldsAtStop = probe.streamYields;
      await sleep(100);
      expect(probe.streamYields, "no more batches after the client left").to.equal(yieldsAtStop);
      await waitFor(() => probe.events.includes("after ticker"));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("without Accept: text/event-stream a stream answers once with all its values", async () => {
    const response = await client.post("/ajax/lab/steps.json", { count: 2 });
    expect(response.body.data.map((value: { step: number }) => value.step)).to.deep.equal([1, 2]);
    expect(response.body.commands).to.deep.equal([{ type: "alert", message: "done" }]);
  });
});
