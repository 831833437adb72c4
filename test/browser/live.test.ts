import { expect } from "chai";
import { type Browser, type BrowserContext, type Page } from "playwright-core";
import { launchChromium } from "./chromium";
import { startTestApp, type TestApp } from "../support/app";
import { listen } from "../support/http";

declare const window: any;

/** Two browser windows on the demo page: what one writes, the other's list shows without a reload. */
describe("the change feed in Chromium: two windows of the demo page", function () {
  let t: TestApp;
  let server: { url: string; close(): Promise<void> };
  let base: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  async function window_(username: string): Promise<Page> {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(`${base}/`);
    await page.waitForSelector("body.ready");
    await page.click(`[data-user="${username}"]`);
    await page.click("#login-form button[type=submit]");
    await page.waitForSelector(`#whoami:has-text("Logged in as ${username}")`);
    await page.waitForSelector("#live-status:has-text('live')");
    return page;
  }

  before(async () => {
    t = await startTestApp();
    server = await listen(t.app);
    base = server.url;
    browser = await launchChromium();
  });
  after(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await server?.close();
    await t?.close();
    expect(pageErrors, "errors in the pages").to.deep.equal([]);
  });

  it("shows in bob's window the article alice creates and tags in hers, and drops it when she unpublishes it", async () => {
    const alices = await window_("alice");
    const bobs = await window_("bob");
    // Wait until bob's EventSource is connected and subscribed before alice writes.
    await t.ajax.live!.ready;
    const deadline = Date.now() + 5000;
    while (t.ajax.live!.size < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));

    await alices.fill("#article-title", "Seen from the other window");
    await alices.check("#article-published");
    await alices.click("#article-form button[type=submit]");
    const item = bobs.locator("li.article", { hasText: "Seen from the other window" });
    await item.waitFor({ timeout: 5000 });
    const pk = await item.getAttribute("data-pk");

    const alicesItem = alices.locator(`li.article[data-pk="${pk}"]`);
    await alicesItem.locator("input[name=tag]").fill("live");
    await alicesItem.locator("button[type=submit]").click();
    await bobs.locator(`li.article[data-pk="${pk}"] .tag`, { hasText: "live" }).waitFor({ timeout: 5000 });

    // Unpublished, the article leaves bob's view: his window removes it; alice still has it.
    await alices.evaluate(async (id) => {
      const article = await window.AJAX.models.blog.article.get(id);
      await window.AJAX.models.blog.article.update(id, { published: false, _version: article.version });
    }, Number(pk));
    await bobs.locator(`li.article[data-pk="${pk}"]`).waitFor({ state: "detached", timeout: 5000 });
    await alices.locator(`li.article[data-pk="${pk}"] .badge`, { hasText: "draft" }).waitFor({ timeout: 5000 });
  });

  it("gives client.js an async iterator and AJAX.batch", async () => {
    const page = await window_("bob");
    const seen = await page.evaluate(async () => {
      const iterator = window.AJAX.models.blog.article.changes({ filter: { title__startswith: "Iterated" } });
      const first = iterator.next();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const created = await window.AJAX.batch([
        { op: "blog/article", body: { title: "Not this one", published: true } },
        { op: "blog/article", body: { title: "Iterated", published: true } },
      ]);
      const change = (await first).value;
      await iterator.return();
      let failure = null;
      try {
        await window.AJAX.batch([{ op: "blog/article", body: { title: "x" } }, { op: "blog/article/999999/update", body: {} }]);
      } catch (error: any) {
        failure = { status: error.status, index: error.index };
      }
      return { change: { type: change.type, title: change.data.title, id: change.data.id }, createdId: created[1].id, failure };
    });
    expect(seen.change).to.deep.equal({ type: "created", title: "Iterated", id: seen.createdId });
    expect(seen.failure).to.deep.equal({ status: 404, index: 1 });
  });
});
