import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { expect } from "chai";
import { AJAX_ENDPOINTS_PATHS, ROOT as root, scratchApp, tsc } from "./support/tsc";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { extractExample, writeExample } = require(join(root, "scripts", "readme-example.js")) as {
  extractExample(markdown: string): { files: Map<string, string>; tscInitAdditions?: { compilerOptions: object } };
  writeExample(markdown: string, directory: string): { paths: string[] };
};
const readme = readFileSync(join(root, "README.md"), "utf8");

describe("the README's complete example compiles (against this repository's build)", function () {
  this.timeout(60_000);
  let app: string;

  before(() => {
    app = scratchApp("readme-example");
    writeExample(readme, app);
  });

  it("has the files a new app needs, and the additions to tsc --init's tsconfig", () => {
    const { files, tscInitAdditions } = extractExample(readme);
    expect([...files.keys()]).to.include.members(["tsconfig.json", "src/entities.ts", "src/data-source.ts", "src/endpoints.ts", "src/server.ts"]);
    expect(tscInitAdditions?.compilerOptions).to.include({ experimentalDecorators: true, emitDecoratorMetadata: true });
    expect(files.get("src/data-source.ts"), "the framework's session entity is in the DataSource").to.include("AjaxSession");
  });

  it("with the README's tsconfig.json (strict, exactOptionalPropertyTypes, verbatimModuleSyntax)", () => {
    const config = JSON.parse(readFileSync(join(app, "tsconfig.json"), "utf8"));
    config.compilerOptions.paths = AJAX_ENDPOINTS_PATHS;
    writeFileSync(join(app, "tsconfig.test.json"), JSON.stringify(config));
    const { status, output } = tsc(["-p", join(app, "tsconfig.test.json"), "--noEmit"]);
    expect(output).to.equal("");
    expect(status).to.equal(0);
  });

  it("with tsc --init's defaults and the README's additions", () => {
    const init = join(app, "init");
    mkdirSync(init, { recursive: true });
    // `tsc --init` writes into the working directory: run it there.
    const created = tsc(["--init"], init);
    expect(created.status, created.output).to.equal(0);
    const { tscInitAdditions } = extractExample(readme);
    const config = { extends: "./init/tsconfig.json", ...tscInitAdditions, compilerOptions: {
      ...tscInitAdditions!.compilerOptions, paths: AJAX_ENDPOINTS_PATHS,
    } };
    writeFileSync(join(app, "tsconfig.init.json"), JSON.stringify(config));
    const { status, output } = tsc(["-p", join(app, "tsconfig.init.json"), "--noEmit"]);
    expect(output).to.equal("");
    expect(status).to.equal(0);
  });
});

describe("documentation links", () => {
  const documents = ["README.md", ...readdirSync(join(root, "docs")).filter((name) => name.endsWith(".md")).map((name) => `docs/${name}`)];

  for (const document of documents) {
    it(`every relative link of ${document} resolves`, () => {
      const text = readFileSync(join(root, document), "utf8");
      const broken: string[] = [];
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target!) || target!.startsWith("#")) continue;
        const path = resolve(root, dirname(document), target!.split("#")[0]!);
        if (!existsSync(path)) broken.push(target!);
      }
      expect(broken).to.deep.equal([]);
    });
  }
});
