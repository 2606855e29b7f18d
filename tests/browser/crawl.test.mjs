// For each role: sign in, follow every same-origin link from the navigation
// and the pages it leads to (GET only, bounded depth), and check every page:
// axe-core WCAG 2.1 A/AA, no console errors or failed requests or 5xx,
// lang="sv", a title, one h1, a working skip link, no horizontal scrolling
// at 320 px, and — after the crawl — valid HTML by the W3C Nu checker.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, readdirSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import AxeBuilder from "@axe-core/playwright";
import { startApp, DEMO_USERS, DEMO_PASSWORD } from "./lib/server.mjs";
import { launch, signIn, watch } from "./lib/browser.mjs";

const MAX_DEPTH = 4;
const MAX_PAGES_PER_ROLE = 300;
// Pages of one kind (the same route with another id or page number) are
// checked at most this many times: every kind is covered, the crawl stays short.
const MAX_PER_ROUTE = 2;

/** "/participants/17/edit?page=3" -> "/participants/{n}/edit?page" */
function routeOf(url) {
  const u = new URL(url, "http://x");
  const keys = [...u.searchParams.keys()].sort().join("&");
  return u.pathname.replace(/\/\d+(?=\/|$)/g, "/{n}") + (keys ? `?${keys}` : "");
}
const WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
const htmlDir = mkdtempSync(path.join(tmpdir(), "lotsen-html-"));
const sources = new Map(); // saved file -> "role url"
let app;
let browser;
let pagesChecked = 0;

before(async () => {
  // As in production: staff give a reason before a personakt outside their caseload.
  app = await startApp({ LOTSEN_REASON_OUTSIDE_CASELOAD: "true" });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await app?.stop();
  console.log(`Crawler: ${pagesChecked} pages checked in headless Chromium.`);
});

/** Pages anyone can reach, and how each role starts. */
const START = {
  anonymous: ["/login", "/survey", "/sidan-finns-inte"],
  admin: ["/"],
  manager: ["/"],
  staff: ["/"],
};

async function checkPage(page, url, role) {
  const where = `${role} ${url}`;
  const problems = [];

  assert.equal(await page.getAttribute("html", "lang"), "sv", `${where}: lang="sv"`);
  const title = (await page.title()).trim();
  assert.ok(title.length > 0, `${where}: has a <title>`);
  assert.equal(await page.locator("h1").count(), 1, `${where}: exactly one <h1>`);

  const axe = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
  for (const v of axe.violations) {
    problems.push(`axe ${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  }

  // The skip link is the first stop for the keyboard, and moves focus to <main>.
  // From the top of the page: a page may open with focus in a field (autofocus
  // at the reception desk), and Tab would continue from there.
  await page.evaluate(() => {
    document.activeElement?.blur();
    document.body.setAttribute("tabindex", "-1");
    document.body.focus();
    document.body.removeAttribute("tabindex");
  });
  await page.keyboard.press("Tab");
  const first = await page.evaluate(() => ({ cls: document.activeElement?.className, href: document.activeElement?.getAttribute("href") }));
  if (first.cls !== "skip-link" || first.href !== "#main") problems.push(`first Tab stop is not the skip link: ${JSON.stringify(first)}`);
  await page.keyboard.press("Enter");
  const focused = await page.evaluate(() => document.activeElement?.id);
  if (focused !== "main") problems.push(`skip link moved focus to ${JSON.stringify(focused)}, not #main`);

  // Reflow (WCAG 1.4.10): no horizontal scrolling at 320 CSS pixels.
  await page.setViewportSize({ width: 320, height: 640 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  if (overflow > 0) problems.push(`scrolls sideways by ${overflow}px at 320px width`);
  await page.setViewportSize({ width: 1280, height: 800 });

  assert.deepEqual(problems, [], `${where}`);
}

function sameOriginPages(links, baseUrl) {
  const out = [];
  for (const href of links) {
    let u;
    try {
      u = new URL(href, baseUrl);
    } catch {
      continue;
    }
    if (u.origin !== new URL(baseUrl).origin) continue;
    if (u.pathname.startsWith("/static/")) continue;
    out.push(u.pathname + u.search);
  }
  return out;
}

for (const role of Object.keys(START)) {
  test(`every page reachable as ${role} passes the checks`, async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const problems = watch(page);
    if (role !== "anonymous") await signIn(page, app.baseUrl, DEMO_USERS[role], DEMO_PASSWORD);

    const seen = new Set(START[role]);
    const perRoute = new Map();
    const queue = START[role].map((url) => ({ url, depth: 0 }));
    let count = 0;
    while (queue.length > 0 && count < MAX_PAGES_PER_ROLE) {
      const { url, depth } = queue.shift();
      problems.length = 0;
      const response = await page.goto(app.baseUrl + url, { waitUntil: "load" });
      const expected = url === "/sidan-finns-inte" ? 404 : 200;
      assert.equal(response.status(), expected, `${role} ${url}: status`);
      const file = path.join(htmlDir, `${role}-${String(count).padStart(3, "0")}.html`);
      writeFileSync(file, await response.text());
      sources.set(path.basename(file), `${role} ${url}`);

      await checkPage(page, url, role);
      // Console errors about the 404 document itself are expected for the 404 page.
      const real = problems.filter((p) => !(expected === 404 && p.includes("404")));
      assert.deepEqual(real, [], `${role} ${url}: console errors, failed requests or 5xx`);
      count += 1;
      pagesChecked += 1;

      if (depth < MAX_DEPTH) {
        // Downloads (CSV, workbooks) are files, not pages.
        const links = await page.$$eval("a[href]:not([download])", (as) => as.map((a) => a.getAttribute("href")));
        for (const next of sameOriginPages(links, app.baseUrl + url)) {
          const route = routeOf(next);
          if (!seen.has(next) && (perRoute.get(route) ?? 0) < MAX_PER_ROUTE) {
            seen.add(next);
            perRoute.set(route, (perRoute.get(route) ?? 0) + 1);
            queue.push({ url: next, depth: depth + 1 });
          }
        }
      }
    }
    console.log(`${role}: ${count} pages`);
    assert.ok(count >= (role === "anonymous" ? 2 : 2), `${role}: the crawl found pages`);
    await context.close();
  });
}

test("every crawled page is valid HTML (W3C Nu checker)", () => {
  const require = createRequire(import.meta.url);
  const jar = require.resolve("vnu-jar/build/dist/vnu.jar");
  const files = readdirSync(htmlDir).map((f) => path.join(htmlDir, f));
  assert.ok(files.length > 0, "pages were saved");
  let output;
  try {
    output = execFileSync("java", ["-jar", jar, "--errors-only", "--format", "json", "--stdout", ...files], { encoding: "utf8" });
  } catch (err) {
    // vnu exits 1 when it found errors; its report is still on stdout.
    output = err.stdout;
  }
  const messages = JSON.parse(output).messages.filter((m) => m.type === "error" || m.subType === "fatal");
  const report = messages.map((m) => `${sources.get(path.basename(new URL(m.url).pathname))} line ${m.lastLine}: ${m.message}`);
  assert.deepEqual(report, [], "HTML validation errors");
  console.log(`W3C Nu checker: ${files.length} documents valid.`);
});
