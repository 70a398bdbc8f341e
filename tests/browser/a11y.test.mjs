// Accessibility: axe-core in headless Chromium finds no serious or critical violation on the
// home, article, entity, year and search pages of the seed dossier (DOSSIER_SITE).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const site = process.env.DOSSIER_SITE;
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const haveBrowser = existsSync(executablePath);
if (!haveBrowser && process.env.CI === "true") throw new Error(`CI=true and no browser at ${executablePath}`);
const skip = !haveBrowser && `no browser at ${executablePath}`;

let browser, context;
before(async () => {
  if (skip) return;
  browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
  // axe is injected as an inline script, which the pages' own policy rightly forbids.
  context = await browser.newContext({ bypassCSP: true });
});
after(async () => browser?.close());

const pages = [
  "index.html",
  "articles/001_fc82cc45bfe7d1f0.html",
  "places/hoeryong.html",
  "places/north-hamgyong-province.html",
  "agencies/ministry-of-state-security.html",
  "people/index.html",
  "years/2020.html",
  "years/index.html",
  "search.html?q=Hoeryong",
];

for (const path of pages) {
  test(`axe finds no serious or critical violation on ${path}`, { skip }, async () => {
    const page = await context.newPage();
    await page.goto("file://" + encodeURI(site.replace(/\/$/, "")) + "/" + path);
    if (path.startsWith("search.html")) {
      await page.waitForFunction(() => /article/.test(document.getElementById("search-status").textContent));
    }
    await page.addScriptTag({ path: require.resolve("axe-core/axe.min.js") });
    const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
    const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    assert.deepEqual(bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`), []);
    await page.close();
  });
}
