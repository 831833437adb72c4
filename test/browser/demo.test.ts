import { expect } from "chai";
import { mkdirSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type Browser, type BrowserContext, type Page } from "playwright-core";
import blog from "../../endpoints/blog";
import { Article } from "../../entities";
import { launchChromium, RESULTS } from "./chromium";
import { startTestApp, type TestApp } from "../support/app";
import { createLabApp, labTypes, probe } from "../support/lab";

// The functions given to page.evaluate() run in the page. The project compiles without the DOM
// lib (it is server code), so the few page globals they use are declared here, for this file only.
declare const document: any;
declare const window: any;
declare function getComputedStyle(element: unknown): any;
type HTMLInputElement = { value: string; checked: boolean };
type HTMLProgressElement = { value: number };


describe("the browser side in Chromium: the demo page, client.js and interface.js", function () {
  let t: TestApp;
  let server: Server;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[];

  before(async () => {
    // The example app plus the lab endpoints; the lab's types include the built-in date type.
    t = await startTestApp({ ajax: { apps: [blog, createLabApp()], types: labTypes() } });
    server = t.app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await t?.close();
  });

  beforeEach(async () => {
    probe.reset();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    pageErrors = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      // Chromium reports every 4xx fetch as a console error; those are the tests' own doing.
      if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) pageErrors.push(message.text());
    });
    await page.goto(`${base}/`);
    await page.waitForSelector("body.ready");
  });

  afterEach(async () => {
    await context.close();
    expect(pageErrors, "errors in the page").to.deep.equal([]);
  });

  async function logIn(username: string): Promise<void> {
    await page.click(`[data-user="${username}"]`);
    await page.click("#login-form button[type=submit]");
    await page.waitForSelector(`#whoami:has-text("Logged in as ${username}")`);
  }

  it("logs in on the demo page, creates an article with jQuery's $.post and tags it", async () => {
    const cookieBefore = (await context.cookies()).find((c) => c.name === "csrftoken")?.value;
    await logIn("alice");
    const cookieAfter = (await context.cookies()).find((c) => c.name === "csrftoken")?.value;
    expect(cookieAfter, "login rotates the CSRF cookie").to.be.a("string").and.not.equal(cookieBefore);

    await page.fill("#article-title", "Written by jQuery");
    await page.fill("#article-body", "Posted as a form, like in 2012.");
    await page.fill("#article-tags", "jquery, interop");
    await page.check("#article-published");
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.url().endsWith("/ajax/blog/article.json") && r.method() === "POST"),
      page.click("#article-form button[type=submit]"),
    ]);
    // jQuery's own request: form-encoded, with the header read from the rotated cookie.
    expect(request.headers()["content-type"]).to.match(/^application\/x-www-form-urlencoded/);
    expect(request.headers()["x-csrftoken"]).to.equal(cookieAfter);
    expect(request.headers()["x-requested-with"], "sent by jQuery, not by client.js").to.equal("XMLHttpRequest");
    const item = page.locator("li.article", { hasText: "Written by jQuery" });
    await item.waitFor();
    expect(await item.locator(".tag").allTextContents()).to.have.members(["jquery", "interop"]);
    expect(await item.locator(".badge").textContent()).to.equal("published");

    const saved = await t.dataSource.getRepository(Article).findOne({ where: { title: "Written by jQuery" }, relations: { author: true } });
    expect(saved?.published).to.equal(true);
    expect(saved?.author.username).to.equal("alice");

    await item.locator(".tag-form input").fill("tagged-in-chromium");
    await item.locator(".tag-form button[type=submit]").click();
    await item.locator(".tag", { hasText: "tagged-in-chromium" }).waitFor();
  });

  it("shows an article's history (the audit feature): its creation and its tag change, newest first, as text", async () => {
    // Every test has a fresh browser context; the article is the one the test above wrote.
    await logIn("alice");
    const item = page.locator("li.article", { hasText: "Written by jQuery" });
    await item.locator(".history-button").click();
    const lines = item.locator(".history li");
    await lines.first().waitFor();
    const texts = await lines.allTextContents();
    expect(texts[0]).to.match(/^tags by user #\d+, .* — tags: \["interop","jquery"\] → \["interop","jquery","tagged-in-chromium"\]$/);
    expect(texts[texts.length - 1]).to.match(/^create by user #\d+/);
    expect(texts[texts.length - 1]).to.include('title: null → "Written by jQuery"');
    // Built as text: the history's values never become markup.
    expect(await item.locator(".history li *").count()).to.equal(0);
  });

  it("shows validation errors from a 400: a blank title and a countdown out of range", async () => {
    await logIn("bob");
    await page.fill("#article-body", "No title");
    await page.click("#article-form button[type=submit]");
    await page.waitForSelector('[data-error-for="title"]:has-text("This field is required.")');
    expect(await page.textContent("#article-error")).to.equal("Invalid input. (HTTP 400)");

    await page.fill("#countdown-from", "42");
    await page.click("#countdown-form button[type=submit]");
    const fromError = page.locator('#stream-card [data-error-for="from"]');
    await fromError.waitFor();
    expect(await fromError.textContent()).to.match(/less than or equal to 10/);
  });

  it("applies alert, html, css and call commands from the server", async () => {
    let alerted: string | undefined;
    page.once("dialog", async (dialog) => {
      alerted = `${dialog.type()}: ${dialog.message()}`;
      await dialog.accept();
    });
    await page.click("#say-hi");
    await page.waitForSelector('#activity li:has-text("say_hi answered")');
    expect(alerted).to.equal("alert: Hi there!");

    await page.fill("#greet-name", "<img src=x onerror=alert(1)>");
    await page.click("#greet-form button[type=submit]");
    await page.waitForSelector("#greeting strong");
    expect(await page.textContent("#greeting strong")).to.equal("<img src=x onerror=alert(1)>");
    expect(await page.locator("#greeting img").count(), "escaped on the server").to.equal(0);
    const style = await page.$eval("#greeting", (el) => ({ border: getComputedStyle(el).borderTopColor, flashed: el.classList.contains("flash") }));
    expect(style).to.deep.equal({ border: "rgb(47, 133, 90)", flashed: true });
  });

  it("applies every command type in order, custom ones through AJAX.addCommand, and follows the redirect", async () => {
    let alerted: string | undefined;
    page.once("dialog", async (dialog) => { alerted = dialog.message(); await dialog.accept(); });
    const applied = await page.evaluate(async () => {
      document.body.insertAdjacentHTML("beforeend", `<div id="fixture"><div id="box">old</div><h1 id="title">x</h1>
        <a id="link" class="plain">link</a><input id="check" type="checkbox"><input id="input" value="hey"><p id="gone">bye</p></div>`);
      const calls: unknown[] = [];
      const custom: unknown[] = [];
      const w = window as any;
      w.AJAX.register("greet", (...args: unknown[]) => calls.push(args));
      w.AJAX.addCommand("confetti", (command: unknown) => custom.push(command));
      // The redirect command is the last one; stop the page from leaving so the DOM can be read first.
      w.AJAX.addCommand("redirect", (command: { url: string }) => { w.redirectedTo = command.url; });
      const data = await w.AJAX.call("lab", "commands", {});
      const box = document.getElementById("box")!;
      return {
        data,
        box: box.innerHTML,
        background: box.style.backgroundColor,
        title: document.getElementById("title")!.textContent,
        href: document.getElementById("link")!.getAttribute("href"),
        className: document.getElementById("link")!.className,
        checked: (document.getElementById("check") as HTMLInputElement).checked,
        input: (document.getElementById("input") as HTMLInputElement).value,
        gone: document.getElementById("gone"),
        calls, custom, redirectedTo: w.redirectedTo,
      };
    });
    expect(alerted).to.equal("Saved.");
    expect(applied).to.deep.equal({
      data: "ok",
      box: "<u>before</u><b>new</b><i>after</i>",
      background: "rgb(1, 2, 3)",
      title: "<not html>",
      href: "/next",
      className: "btn plain active",
      checked: true,
      input: "¡hey!",
      gone: null,
      calls: [["Ada", { times: 2 }]],
      custom: [{ type: "confetti", amount: 3 }],
      redirectedTo: "/done",
    });
  });

  it("the built-in redirect command navigates, and refuses javascript: URLs", async () => {
    const refused = await page.evaluate(async () => {
      const w = window as any;
      try {
        await w.AJAX.applyCommands([{ type: "redirect", url: "javascript:alert(1)" }]);
        return "navigated";
      } catch (error) {
        return (error as Error).message;
      }
    });
    expect(refused).to.equal("Refusing to redirect to a javascript: URL.");
    await Promise.all([
      page.waitForURL(`${base}/?redirected=1`),
      page.evaluate(() => (window as any).AJAX.applyCommands([{ type: "redirect", url: "/?redirected=1" }])),
    ]);
  });

  it("an unknown command or an unregistered client function rejects the call", async () => {
    const messages = await page.evaluate(async () => {
      const w = window as any;
      const outcomes: string[] = [];
      for (const commands of [[{ type: "fireworks" }], [{ type: "call", name: "nobody", args: [] }]]) {
        try {
          await w.AJAX.applyCommands(commands);
          outcomes.push("applied");
        } catch (error) {
          outcomes.push(`${(error as Error).name}: ${(error as Error).message}`);
        }
      }
      return outcomes;
    });
    expect(messages).to.deep.equal([
      'AJAXError: Unknown response command "fireworks"; add it with AJAX.addCommand().',
      'AJAXError: No client function "nobody"; register it with AJAX.register().',
    ]);
  });

  it("reads a form with nested names, arrays and multi-selects via AJAX.formValues", async () => {
    await page.click("#read-form");
    const shown = JSON.parse((await page.textContent("#form-values"))!);
    expect(shown).to.deep.equal({
      profile: { name: "Ada Lovelace", address: { city: "London" } },
      interests: ["math", "engines"],
      languages: ["English", "Italian"],
    });

    const edge = await page.evaluate(() => {
      document.body.insertAdjacentHTML("beforeend", `<form id="edge">
        <input name="a[b][c]" value="deep"><input name="a[list][]" value="1"><input name="a[list][]" value="2">
        <input value="unnamed"><input name="off" value="x" disabled>
        <fieldset disabled><input name="in_disabled_fieldset" value="x"></fieldset>
        <input type="radio" name="pick" value="one"><input type="radio" name="pick" value="two" checked>
        <input type="checkbox" name="agree" value="yes"><textarea name="note">multi
line</textarea>
        <select name="single"><option>a</option><option selected>b</option></select>
        <input name="__proto__[polluted]" value="x"><input name="tags[]" value="t1">
        <button name="go" value="button">Go</button><input type="file" name="upload">
      </form>`);
      return (window as any).AJAX.formValues(document.getElementById("edge"));
    });
    expect(edge).to.deep.equal({ a: { b: { c: "deep" }, list: ["1", "2"] }, pick: "two", note: "multi\nline", single: "b", tags: ["t1"] });
    expect(await page.evaluate(() => ({} as any).polluted)).to.equal(undefined);

    // echo needs a login: logged out, the 401 shows; logged in, the values come back.
    await page.click("#echo-form");
    await page.waitForSelector('#form-values:has-text("Authentication credentials were not provided. (HTTP 401)")');
    await logIn("bob");
    await page.click("#echo-form");
    await page.waitForSelector('#activity li:has-text("echo answered")');
    expect(JSON.parse((await page.textContent("#form-values"))!)).to.deep.equal(shown);
  });

  it("streams countdown: each batch's commands apply as it arrives, and the page shows them", async () => {
    const seen = await page.evaluate(async () => {
      const w = window as any;
      const batches: Array<[number, string | null]> = [];
      for await (const n of w.AJAX.apps.blog.countdown.stream({ from: 3, delayMs: 30 })) {
        batches.push([n, document.getElementById("countdown")!.textContent]);
      }
      return batches;
    });
    expect(seen).to.deep.equal([[3, "3"], [2, "2"], [1, "1"]]);

    await page.fill("#countdown-from", "2");
    await page.click("#countdown-form button[type=submit]");
    await page.waitForSelector('#countdown:has-text("Liftoff!")');
    expect(await page.locator("#countdown-log li").allTextContents()).to.deep.equal(["received 2", "received 1"]);
  });

  it("leaving a stream early closes the request and stops the server's generator", async () => {
    const received = await page.evaluate(async () => {
      const numbers: number[] = [];
      for await (const n of (window as any).AJAX.stream("lab", "ticker", {})) {
        numbers.push(n);
        if (numbers.length === 2) break;
      }
      return numbers;
    });
    expect(received).to.deep.equal([1, 2]);
    const deadline = Date.now() + 3000;
    while (!probe.streamFinished && Date.now() < deadline) await sleep(20);
    expect(probe.streamFinished, "the generator's finally ran").to.equal(true);
  });

  it("a stream's error event rejects with the server's error", async () => {
    const outcome = await page.evaluate(async () => {
      const values: unknown[] = [];
      try {
        for await (const value of (window as any).AJAX.stream("lab", "broken_stream", {})) values.push(value);
        return { values, error: null };
      } catch (error) {
        const e = error as { name: string; status: number; code: number; message: string };
        return { values, error: { name: e.name, status: e.status, code: e.code, message: e.message } };
      }
    });
    expect(outcome).to.deep.equal({ values: [1], error: { name: "AJAXError", status: 409, code: 409, message: "The stream hit a conflict." } });
  });

  it("uploads a file from the demo page, with progress", async () => {
    await logIn("bob");
    await page.setInputFiles("#upload-file", { name: "hello.txt", mimeType: "text/plain", buffer: Buffer.from("hello world") });
    await page.click("#upload-form button[type=submit]");
    const line = page.locator("#upload-result li");
    await line.waitFor();
    expect(await line.textContent()).to.equal("hello.txt: 11 bytes, sha256 b94d27b9934d…");
    expect(await page.$eval("#upload-progress", (el) => (el as HTMLProgressElement).value)).to.equal(1);

    const big = await page.evaluate(async () => {
      const form = new FormData();
      form.append("note", "big");
      form.append("file", new Blob([new Uint8Array(3 * 1024 * 1024)]), "big.bin");
      const fractions: number[] = [];
      const data = await (window as any).AJAX.upload(form, "blog", "upload", { onProgress: (p: { fraction: number }) => fractions.push(p.fraction) });
      return { size: data.files[0].size, fields: data.fields, progressEvents: fractions.length, last: fractions[fractions.length - 1] };
    });
    expect(big).to.deep.include({ size: 3 * 1024 * 1024, fields: { note: "big" }, last: 1 });
    expect(big.progressEvents).to.be.greaterThan(0);
  });

  it("an anonymous upload rejects with 401 and the envelope's message", async () => {
    await page.setInputFiles("#upload-file", { name: "a.txt", mimeType: "text/plain", buffer: Buffer.from("a") });
    await page.click("#upload-form button[type=submit]");
    await page.waitForSelector("#upload-error:not(:empty)");
    expect(await page.textContent("#upload-error")).to.equal("Authentication credentials were not provided. (HTTP 401)");
  });

  it("rejects with an AJAXError carrying status, code, message and errors", async () => {
    const error = await page.evaluate(async () => {
      try {
        await (window as any).AJAX.apps.blog.greet({ name: "" });
        return null;
      } catch (e) {
        const err = e as any;
        return { isError: err instanceof Error, isAJAXError: err instanceof (window as any).AJAX.AJAXError, name: err.name, status: err.status, code: err.code, message: err.message, errors: err.errors };
      }
    });
    expect(error).to.deep.equal({
      isError: true, isAJAXError: true, name: "AJAXError", status: 400, code: 400, message: "Invalid input.",
      errors: { name: ["This field is not allowed to be empty"] },
    });
  });

  it("a server that cannot be reached rejects with an AJAXError of status 0", async () => {
    const error = await page.evaluate(async () => {
      const w = window as any;
      w.AJAX.configure({ prefix: "http://127.0.0.1:9/ajax" }); // the discard port: nothing listens
      try {
        await w.AJAX.call("lab", "echo", {});
        return null;
      } catch (e) {
        const err = e as any;
        return { name: err.name, status: err.status, code: err.code, message: err.message };
      } finally {
        w.AJAX.configure({ prefix: "/ajax" });
      }
    });
    expect(error).to.deep.equal({ name: "AJAXError", status: 0, code: 0, message: "Network error: the server could not be reached." });
    // Chromium logs the refused connection itself; that is this test's doing.
    pageErrors = pageErrors.filter((text) => !text.includes("127.0.0.1:9"));
  });

  it("custom types travel both ways; the built-in date type; an unknown __type__ rejects", async () => {
    const result = await page.evaluate(async () => {
      const w = window as any;
      class Money {
        constructor(public cents: number, public currency: string) {}
      }
      w.AJAX.useDateType();
      w.AJAX.registerType("money", Money, (m: Money) => ({ cents: m.cents, currency: m.currency }), (v: any) => new Money(v.cents, v.currency));
      const data = await w.AJAX.call("lab", "typed", { price: new Money(150, "EUR"), when: new Date("2026-11-21T10:00:00.000Z") });
      let unknown: string | null = null;
      try {
        await w.AJAX.call("lab", "echo", { thing: { __type__: "spaceship", warp: 9 } });
      } catch (error) {
        unknown = (error as Error).message;
      }
      return {
        kinds: data.kinds,
        doubledIsMoney: data.doubled instanceof Money, doubledCents: data.doubled.cents,
        whenIsDate: data.when instanceof Date, when: data.when.toISOString(),
        echoedWhen: data.params.when instanceof Date,
        unknown,
      };
    });
    expect(result).to.deep.equal({
      kinds: { price: "money", when: "date" },
      doubledIsMoney: true, doubledCents: 300,
      whenIsDate: true, when: "2026-11-21T10:00:00.000Z", echoedWhen: true,
      unknown: 'Unknown type "spaceship" in the response; register it with AJAX.registerType().',
    });
  });

  it("fetches a CSRF token when the cookie is gone, and renews a stale one", async () => {
    await context.clearCookies({ name: "csrftoken" });
    const first = await page.evaluate(() => (window as any).AJAX.call("lab", "echo", { n: 1 }));
    expect(first).to.deep.equal({ n: 1 });
    // A token the session does not know (as after the session expired): refused once, renewed, sent again.
    await context.addCookies([{ name: "csrftoken", value: "stale-token", url: base }]);
    const second = await page.evaluate(() => (window as any).AJAX.call("lab", "echo", { n: 2 }));
    expect(second).to.deep.equal({ n: 2 });
    expect((await context.cookies()).find((c) => c.name === "csrftoken")?.value).to.not.equal("stale-token");
  });

  it("model helpers from interface.js: create, get, update, list, tags, delete", async () => {
    await logIn("alice");
    const result = await page.evaluate(async () => {
      const articles = (window as any).AJAX.models.blog.article;
      const created = await articles.create({ title: "Via helpers", tags: ["helpers"] });
      const got = await articles.get(created.id);
      const updated = await articles.update(created.id, { title: "Via helpers, edited", _version: got.version });
      const page = await articles.list({ filter: { title__startswith: "Via helpers" } });
      const tags = await articles.tags.set(created.id, ["one", "two"]);
      const deleted = await articles.delete(created.id);
      let missing: number | null = null;
      try {
        await articles.get(created.id);
      } catch (error) {
        missing = (error as { status: number }).status;
      }
      return { title: updated.title, total: page.total, listed: page.data.map((a: { title: string }) => a.title), tags: tags.map((t: { name: string }) => t.name), deleted, same: deleted.pk === created.id, missing };
    });
    expect(result).to.deep.include({ title: "Via helpers, edited", total: 1, listed: ["Via helpers, edited"], tags: ["one", "two"], same: true, missing: 404 });
  });

  it("looks right: a screenshot of the demo page in use", async () => {
    await logIn("alice");
    for (const [title, tags] of [["Hello from ajax-endpoints", "intro, demo"], ["Streaming with generators", "sse"]] as const) {
      await page.fill("#article-title", title);
      await page.fill("#article-body", "Demo text.");
      await page.fill("#article-tags", tags);
      await page.check("#article-published");
      await page.click("#article-form button[type=submit]");
      await page.locator("li.article", { hasText: title }).waitFor();
    }
    await page.click("#greet-form button[type=submit]");
    await page.waitForSelector("#greeting strong");
    await page.fill("#countdown-from", "2");
    await page.click("#countdown-form button[type=submit]");
    await page.waitForSelector('#countdown:has-text("Liftoff!")');
    await page.click("#read-form");
    await page.setInputFiles("#upload-file", { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("notes") });
    await page.click("#upload-form button[type=submit]");
    await page.locator("#upload-result li").waitFor();
    await page.waitForSelector("#stats dd");
    expect(await page.locator("#stats dt").allTextContents()).to.deep.equal(["articles", "comments", "categories", "tags"]);
    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: join(RESULTS, "demo.png"), fullPage: true });
  });
});
