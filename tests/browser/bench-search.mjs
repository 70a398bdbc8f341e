// Bytes a search loads and how long it takes, in headless Chromium from file://, on the dossier
// in DOSSIER_SITE. Run by scripts/bench; prints one line per query.
import { statSync } from "node:fs";
import { chromium } from "playwright-core";

const site = process.env.DOSSIER_SITE.replace(/\/$/, "");
const queries = ["Hoeryong", "phone users", "interrog", "state security", "\"remittance brokers\"", "Chongjin 2019"];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
for (const q of queries) {
  const page = await browser.newPage();
  const files = new Set();
  page.on("request", (r) => files.add(r.url()));
  await page.goto(`file://${encodeURI(site)}/search.html?q=${encodeURIComponent(q)}`);
  await page.waitForFunction(() => /\(\d+ ms\)|failed/.test(document.getElementById("search-status").textContent));
  await page.waitForLoadState("networkidle");
  const status = await page.textContent("#search-status");
  // Typing the query again, with every shard loaded: the time of the search alone. The empty
  // box's status comes first, so that a second result with the very same status text (same
  // count, same milliseconds) is not waited for in vain.
  await page.fill("#q", "");
  await page.waitForFunction(() => !/\(\d+ ms\)/.test(document.getElementById("search-status").textContent));
  await page.fill("#q", q);
  await page.waitForFunction(() => /\(\d+ ms\)/.test(document.getElementById("search-status").textContent));
  const warm = (await page.textContent("#search-status")).match(/\((\d+) ms\)/)[1];
  const bytes = [...files].filter((u) => u.startsWith("file://")).reduce((n, u) => n + statSync(decodeURI(u.slice(7).replace(/[?#].*$/, ""))).size, 0);
  console.log(`search ${JSON.stringify(q)}: ${(bytes / 1024).toFixed(0)} KB loaded in ${files.size} files (facets shown), ${status.replace(/\s+/g, " ")}; again with shards loaded: ${warm} ms`);
  await page.close();
}
await browser.close();
