// Hostile articles: no planted script may run on any page of the built dossier, the search page
// included. DOSSIER_HOSTILE names the built hostile fixture (scripts/browser-tests builds it).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { chromium } from "playwright-core";

// The hostile fixture built twice: raw HTML escaped (the default) and sanitized.
const sites = [process.env.DOSSIER_HOSTILE, process.env.DOSSIER_HOSTILE_SANITIZED].filter(Boolean);
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const haveBrowser = existsSync(executablePath);
if (!haveBrowser && process.env.CI === "true") throw new Error(`CI=true and no browser at ${executablePath}`);
const skip = !haveBrowser && `no browser at ${executablePath}`;

function pages(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? pages(path) : path.endsWith(".html") ? [path] : [];
  });
}

let browser;
before(async () => {
  if (skip) return;
  assert.ok(sites.length === 2 && sites.every((s) => existsSync(join(s, "index.html"))), "DOSSIER_HOSTILE and DOSSIER_HOSTILE_SANITIZED must hold built dossiers");
  browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
});
after(async () => browser?.close());

async function visit(url) {
  const page = await browser.newPage();
  const dialogs = [];
  page.on("dialog", (d) => { dialogs.push(d.message()); d.dismiss(); });
  await page.goto(url);
  await page.waitForTimeout(150);
  // Click every link whose address is a script URL, to be sure none survived.
  const scripted = await page.$$eval("a[href]", (as) => as.filter((a) => /^\s*(javascript|data|vbscript):/i.test(a.getAttribute("href"))).length);
  const pwned = await page.evaluate(() => window.__pwned);
  const frames = page.frames().length;
  await page.close();
  return { pwned, dialogs, scripted, frames };
}

for (const [n, label] of [[0, "raw HTML escaped"], [1, "raw HTML sanitized"]]) {
test(`${label}: no planted script runs on any page`, { skip }, async () => {
  const site = sites[n];
  const all = pages(site);
  assert.ok(all.length >= 8, `${all.length} pages`);
  for (const path of all) {
    const r = await visit("file://" + encodeURI(path));
    const where = relative(site, path);
    assert.equal(r.pwned, undefined, `${where}: a planted script ran (${r.pwned})`);
    assert.deepEqual(r.dialogs, [], where);
    assert.equal(r.scripted, 0, `${where}: a script URL is still a link`);
    assert.equal(r.frames, 1, `${where}: an iframe was rendered`);
  }
});

test(`${label}: searching for the planted text runs none of it`, { skip }, async () => {
  const site = sites[n];
  for (const q of ["script", "pwned", "onerror", "Hoeryong", "svg onload"]) {
    const page = await browser.newPage();
    await page.goto("file://" + encodeURI(join(site, "search.html")) + "?q=" + encodeURIComponent(q));
    await page.waitForFunction(() => /article|failed|could not/.test(document.getElementById("search-status").textContent));
    await page.waitForTimeout(150);
    assert.equal(await page.evaluate(() => window.__pwned), undefined, `search ${q}`);
    await page.close();
  }
});
}
