import { expect } from "chai";
import { mkdirSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type Browser, type Page } from "playwright-core";
import { Category } from "../../entities";
import { launchChromium, RESULTS } from "./chromium";
import { startTestApp, type TestApp } from "../support/app";


describe("the docs page (GET /ajax/docs) in Chromium", function () {
  let t: TestApp;
  let server: Server;
  let base: string;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];
  let outsideRequests: string[];

  before(async () => {
    t = await startTestApp();
    server = t.app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    page = await context.newPage();
    pageErrors = [];
    outsideRequests = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) pageErrors.push(message.text());
    });
    page.on("request", (request) => {
      if (!request.url().startsWith(base) && !request.url().startsWith("data:")) outsideRequests.push(request.url());
    });
  });

  after(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await t?.close();
  });

  /** Opens an operation, turns on try-it-out, sends `body` and answers the status Swagger UI shows. */
  async function tryItOut(path: string, body: object): Promise<string> {
    const operation = page.locator(".opblock-post", { has: page.locator(".opblock-summary-path", { hasText: new RegExp(`^${path.replace(/[.{}]/g, "\\$&")}$`) }) });
    await operation.locator(".opblock-summary").click();
    await operation.locator("button.try-out__btn").click();
    await operation.locator("textarea.body-param__text").fill(JSON.stringify(body));
    await operation.locator("button.execute").click();
    const status = operation.locator(".live-responses-table .response .response-col_status").first();
    await status.waitFor();
    return (await status.textContent())!.trim();
  }

  it("renders every app's operations from the served document, with nothing fetched from outside", async () => {
    await page.goto(`${base}/ajax/docs`);
    await page.waitForSelector(".swagger-ui .info .title");
    expect(await page.textContent(".swagger-ui .info .title")).to.include("ajax-endpoints");
    for (const tag of ["blog", "blog.article", "blog.category", "blog.comment", "blog.user", "auth", "meta"]) {
      await page.waitForSelector(`.opblock-tag[data-tag="${tag}"]`);
    }
    expect(await page.locator(".opblock-post").count()).to.be.greaterThan(25);
    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: join(RESULTS, "docs.png"), fullPage: false });
    expect(outsideRequests).to.deep.equal([]);
    expect(pageErrors).to.deep.equal([]);
  });

  it("tries out login and a create with the session cookie and the CSRF header", async () => {
    expect(await tryItOut("/auth/login.json", { username: "alice", password: "alice-password" })).to.equal("200");
    expect(await tryItOut("/blog/category.json", { title: "Made in the docs" })).to.equal("200");
    await page.screenshot({ path: join(RESULTS, "docs-try-it-out.png"), fullPage: false });
    expect(await t.dataSource.getRepository(Category).countBy({ title: "Made in the docs" })).to.equal(1);
    expect(pageErrors).to.deep.equal([]);
  });

  it("answers every operation's own example (Try it out, then Execute, nothing edited) with no 400 and no 500", async function () {
    this.timeout(240_000);
    await page.goto(`${base}/ajax/docs`);
    await page.waitForSelector(".opblock-tag[data-tag=\"meta\"]");
    // Logged in as staff, so that the examples reach the body checks instead of stopping at 401 or 403.
    await page.evaluate(async () => {
      await fetch("/ajax/csrf.json", { credentials: "same-origin" });
      const { cookie } = (globalThis as unknown as { document: { cookie: string } }).document;
      const token = decodeURIComponent(/(?:^|; )csrftoken=([^;]*)/.exec(cookie)![1]!);
      await fetch("/ajax/auth/login.json", {
        method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json", "X-CSRFToken": token },
        body: JSON.stringify({ username: "alice", password: "alice-password" }),
      });
    });
    const answers: string[] = [];
    const operations = page.locator(".opblock");
    const count = await operations.count();
    // On a fresh database the create examples make the records pk 1 that the other examples name
    // (a comment's article), so deletes run after everything else, and logout last of all.
    const order = [...Array(count).keys()];
    const paths = await Promise.all(order.map((index) => operations.nth(index).locator(".opblock-summary-path").textContent()));
    const rank = (index: number) => (paths[index]!.trim() === "/auth/logout.json" ? 2 : paths[index]!.trim().endsWith("/delete.json") ? 1 : 0);
    order.sort((a, b) => rank(a) - rank(b) || a - b);
    // A change feed (GET .../events) is an event stream that stays open: Swagger UI shows an
    // answer only once the body ends, so it cannot be tried out there (test/live.test.ts drives it).
    const streams = order.filter((index) => paths[index]!.trim().endsWith("/events"));
    for (const index of order) {
      const operation = operations.nth(index);
      const path = paths[index]!.trim();
      if (streams.includes(index)) continue;
      await operation.locator(".opblock-summary").click();
      await operation.locator("button.try-out__btn").click();
      await operation.locator("button.execute").click();
      const status = operation.locator(".live-responses-table .response .response-col_status").first();
      await status.waitFor();
      const answer = (await status.textContent())!.trim();
      answers.push(`${path} ${answer}`);
      await operation.locator(".opblock-summary").click();
    }
    expect(answers.length).to.equal(count - streams.length);
    expect(answers.filter((line) => / (400|5\d\d)\b/.test(line) || !/ \d{3}\b/.test(line))).to.deep.equal([]);
    expect(pageErrors).to.deep.equal([]);
  });
});
