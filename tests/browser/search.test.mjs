// Search in headless Chromium, from file:// (in a folder whose path has a space) and over HTTP
// under a sub-path. DOSSIER_SITE names a built dossier (scripts/browser-tests builds one).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize } from "node:path";
import { chromium } from "playwright-core";

const site = process.env.DOSSIER_SITE;
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const haveBrowser = existsSync(executablePath);
if (!haveBrowser && process.env.CI === "true") {
  throw new Error(`CI=true and no browser at ${executablePath}: browser tests must run in CI`);
}
const skip = !haveBrowser && `no browser at ${executablePath}`;
const SUB = "/reviews/phones dossier/";

let browser, server, httpBase;
before(async () => {
  if (skip) return;
  assert.ok(site && existsSync(join(site, "search.html")), "DOSSIER_SITE must hold a built dossier");
  browser = await chromium.launch({
    executablePath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".json": "application/json", ".png": "image/png" };
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    if (!path.startsWith(SUB)) { res.writeHead(404).end(); return; }
    const file = normalize(join(site, path.slice(SUB.length)));
    if (!file.startsWith(site) || !existsSync(file) || statSync(file).isDirectory()) { res.writeHead(404).end(); return; }
    res.writeHead(200, { "content-type": types[extname(file)] || "application/octet-stream" }).end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  httpBase = `http://127.0.0.1:${server.address().port}${encodeURI(SUB)}`;
});
after(async () => {
  await browser?.close();
  server?.close();
});

const fileBase = () => "file://" + encodeURI(site.endsWith("/") ? site : site + "/");

// Opens a page and collects every request, so a test can check none leaves the machine.
async function open(url) {
  const page = await browser.newPage();
  const requests = [];
  const errors = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  return { page, requests, errors };
}
async function results(page) {
  await page.waitForFunction(() => /article|Search failed|could not/.test(document.getElementById("search-status").textContent));
  return page.$$eval("#search-results > li", (items) => items.map((li) => ({
    title: li.querySelector("a").textContent,
    href: li.querySelector("a").getAttribute("href"),
    marks: Array.from(li.querySelectorAll("mark")).map((m) => m.textContent),
  })));
}
function local(requests) {
  const outside = requests.filter((u) => !u.startsWith("file://") && !u.startsWith("http://127.0.0.1:") && !u.startsWith("data:"));
  assert.deepEqual(outside, [], "requests left the machine");
}

for (const [where, base] of [["file://", fileBase], ["http sub-path", () => httpBase]]) {
  test(`${where}: WeChat finds the article about arrested phone users, highlighted, linked to its paragraph`, { skip }, async () => {
    const { page, requests, errors } = await open(base() + "search.html?q=WeChat");
    const found = await results(page);
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.match(found[0].title, /security officials use arrested foreign mobile phone users/);
    assert.match(found[0].href, /articles\/003_e45ffaf13237903c\.html#p\d+$/);
    assert.ok(found[0].marks.includes("WeChat"), "the match is highlighted");
    assert.deepEqual(errors, []);
    local(requests);
    await page.close();
  });

  test(`${where}: Hoeryŏng finds the articles that mention Hoeryong, and the place first`, { skip }, async () => {
    const { page, requests } = await open(base() + "search.html?q=" + encodeURIComponent("Hoeryŏng"));
    const found = await results(page);
    const files = found.map((r) => r.href.match(/articles\/(\w+)\.html/)[1]).sort();
    assert.deepEqual(files, ["000_a346e17820330da2", "002_66e9b49dbe3d3721", "004_02f5e66cf518de1b"]);
    const entity = await page.textContent("#search-entities li");
    assert.match(entity, /^Hoeryong: place, 3 articles$/);
    local(requests);
    await page.close();
  });

  test(`${where}: interrog finds articles by prefix; Bowibu finds the Ministry of State Security's`, { skip }, async () => {
    const { page } = await open(base() + "search.html?q=interrog");
    const found = await results(page);
    const files = found.map((r) => r.href.match(/articles\/(\w+)\.html/)[1]).sort();
    assert.deepEqual(files, ["000_a346e17820330da2", "001_fc82cc45bfe7d1f0", "002_66e9b49dbe3d3721", "003_e45ffaf13237903c"]);
    assert.ok(found.some((r) => r.marks.some((m) => /^interrog/i.test(m))));
    await page.goto(base() + "search.html?q=Bowibu");
    assert.equal((await results(page)).length, 5);
    await page.close();
  });

  test(`${where}: facets narrow the results and live in the URL`, { skip }, async () => {
    const { page } = await open(base() + "search.html?q=phones");
    const all = await results(page);
    assert.ok(all.length >= 4, `${all.length} results`);
    await page.check("#facet-place-hoeryong");
    await page.waitForFunction((n) => document.querySelectorAll("#search-results > li").length < n, all.length);
    const narrowed = await results(page);
    assert.ok(narrowed.length >= 1 && narrowed.length < all.length);
    assert.match(page.url(), /[?&]place=hoeryong/);
    // The URL alone restores the same state.
    const again = await open(page.url());
    assert.equal((await results(again.page)).length, narrowed.length);
    assert.ok(await again.page.isChecked("#facet-place-hoeryong"));
    await again.page.close();
    await page.close();
  });
}

test("an index in segments ranks every query exactly as an index in one", { skip }, async () => {
  const segmented = process.env.DOSSIER_SEGMENTED;
  assert.ok(segmented && existsSync(join(segmented, "search.html")), "DOSSIER_SEGMENTED must hold a built dossier");
  const manifest = (dir) => JSON.parse(readFileSync(join(dir, "search/manifest.js"), "utf8").replace(/^dossierSearch\.add\("manifest",/, "").replace(/\);\s*$/, ""));
  assert.equal(manifest(site).segments.length, 1);
  assert.equal(manifest(segmented).segments.length, 3, "five articles, two a segment");
  const segmentedBase = "file://" + encodeURI(segmented.endsWith("/") ? segmented : segmented + "/");
  for (const q of ["phones", "Hoeryong", "interrog", "state security", '"provincial state security bureau"', "WeChat smuggling", "2021"]) {
    const ranked = [];
    for (const base of [fileBase(), segmentedBase]) {
      const { page, errors } = await open(base + "search.html?q=" + encodeURIComponent(q));
      const found = await results(page);
      ranked.push(found.map((r) => r.href.replace(/^.*\/articles\//, "articles/") + " " + r.marks.join("|")));
      assert.deepEqual(errors, []);
      await page.close();
    }
    assert.ok(ranked[0].length > 0 || q === "WeChat smuggling", `${q} finds something`);
    assert.deepEqual(ranked[1], ranked[0], q);
  }
});

test("a quoted phrase matches only the words together", { skip }, async () => {
  const { page } = await open(fileBase() + "search.html?q=" + encodeURIComponent('"provincial state security bureau"'));
  const files = (await results(page)).map((r) => r.href.match(/articles\/(\w+)\.html/)[1]).sort();
  assert.deepEqual(files, ["001_fc82cc45bfe7d1f0"]);
  await page.close();
});

test("every page has a search box that / focuses, and pages that do not search load under 10 KB of search code", { skip }, async () => {
  const { page, requests } = await open(fileBase() + "articles/001_fc82cc45bfe7d1f0.html");
  await page.keyboard.press("/");
  assert.equal(await page.evaluate(() => document.activeElement.id), "site-q");
  const scripts = requests.filter((u) => u.endsWith(".js"));
  const bytes = scripts.reduce((n, u) => n + statSync(decodeURI(u.replace("file://", ""))).size, 0);
  assert.ok(bytes <= 10 * 1024, `${bytes} bytes of script`);
  await page.keyboard.type("WeChat");
  await page.keyboard.press("Enter");
  await page.waitForURL(/search\.html\?q=WeChat/);
  assert.equal((await results(page)).length, 1);
  await page.close();
});

test("a search page whose code reads another index format says so instead of failing quietly", { skip }, async () => {
  const manifest = readFileSync(join(site, "search/manifest.js"), "utf8");
  const older = manifest.replace(/"format":"[^"]*"/, '"format":"dossier search index, segments 1"');
  assert.notEqual(older, manifest, "the manifest names its format");
  const page = await browser.newPage();
  await page.route("**/search/manifest.js", (route) => route.fulfill({ contentType: "text/javascript", body: older }));
  await page.goto(httpBase + "search.html?q=Hoeryong");
  await page.waitForFunction(() => /different versions of dossier/.test(document.getElementById("search-status").textContent));
  assert.equal(await page.$$eval("#search-results > li", (items) => items.length), 0);
  await page.close();
});
