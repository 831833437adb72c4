import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import request from "supertest";
import { startTestApp, type TestApp } from "./support/app";
import { ROOT, scratchApp } from "./support/tsc";

describe("OpenAPI: @redocly/cli lint, recommended rules", function () {
  this.timeout(60_000);
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it("finds no error and no warning in the example app's served document", async () => {
    const document = (await request(t.app).get("/ajax/openapi.json").expect(200)).body;
    const path = join(scratchApp("openapi-lint"), "openapi.json");
    writeFileSync(path, JSON.stringify(document, null, 2));
    const result = spawnSync(process.execPath, [join(ROOT, "node_modules", "@redocly", "cli", "bin", "cli.js"), "lint", path, "--format=json"], {
      encoding: "utf8", env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
    });
    const report = JSON.parse(result.stdout) as { totals: { errors: number; warnings: number }; problems: Array<{ ruleId: string; message: string }> };
    expect(report.problems.map((problem) => `${problem.ruleId}: ${problem.message}`)).to.deep.equal([]);
    expect(report.totals).to.include({ errors: 0, warnings: 0 });
    expect(result.status).to.equal(0);
  });
});
