// Opens an HTML report in headless Chromium (Playwright's driver for Debian's chromium), and
// prints, per viewport width, whether the page overflows sideways and the figures the page
// shows (from its data- attributes); saves a full-page screenshot per width.
// Usage: node html_check.mjs <node_modules dir> <report.html> <screenshot dir>
import { createRequire } from "node:module";
import path from "node:path";

const [modules, file, shots] = process.argv.slice(2);
const require = createRequire(path.join(modules, "noop.js"));
const { chromium } = require("playwright-core");
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const result = {};
for (const width of [1280, 390]) {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  await page.goto("file://" + path.resolve(file));
  result[width] = await page.evaluate(() => {
    const root = document.documentElement;
    const value = (id) => Number(document.querySelector(id)?.dataset.value);
    const rows = [...document.querySelectorAll("#models tbody tr")].map((tr) => ({
      model: tr.dataset.model,
      provider: tr.dataset.provider,
      requests: Number(tr.dataset.requests),
      usd: Number(tr.dataset.usd),
      shown: tr.cells[7].textContent,
    }));
    const days = [...document.querySelectorAll("g.day")].map((g) => ({
      day: g.dataset.day,
      usd: Number(g.dataset.usd),
    }));
    return {
      overflow: root.scrollWidth > root.clientWidth,
      cost: value("#total-cost"),
      costShown: document.querySelector("#total-cost")?.textContent,
      sessions: value("#total-sessions"),
      requests: value("#total-requests"),
      saved: value("#total-saved"),
      rows,
      days,
      sessionRows: document.querySelectorAll("#sessions tbody tr").length,
    };
  });
  await page.screenshot({ path: path.join(shots, `report-${width}.png`), fullPage: true });
  await page.close();
}
await browser.close();
console.log(JSON.stringify(result));
