// Sign-in through the municipality's identity provider (issue 17, point 6),
// end to end: Lotsen and a real OpenID Connect provider (oidc-provider), a
// person in Chromium signing in at the provider and coming back signed in.
// The provider's sign-in is the strong one, so a manager gets no TOTP step;
// the same manager signing in with the password still needs the code.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import AxeBuilder from "@axe-core/playwright";
import { startApp, freePort, DEMO_USERS, DEMO_PASSWORD } from "./lib/server.mjs";
import { startProvider } from "./lib/provider.mjs";
import { launch } from "./lib/browser.mjs";

const LABEL = "Testkommunens inloggning";
const WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
let app;
let provider;
let browser;

before(async () => {
  const appPort = await freePort();
  const appUrl = `http://127.0.0.1:${appPort}`;
  const clientSecret = "en-hemlighet-bara-for-testerna-0123456789";
  provider = await startProvider({
    port: await freePort(),
    clientId: "lotsen",
    clientSecret,
    redirectUri: `${appUrl}/login/oidc/callback`,
  });
  app = await startApp({
    LOTSEN_ADDR: `127.0.0.1:${appPort}`,
    LOTSEN_PUBLIC_URL: appUrl,
    LOTSEN_OIDC_ISSUER: provider.issuer,
    LOTSEN_OIDC_CLIENT_ID: "lotsen",
    LOTSEN_OIDC_CLIENT_SECRET: clientSecret,
    LOTSEN_OIDC_LABEL: LABEL,
    // Managers and admins must have a second factor for their password.
    LOTSEN_REQUIRE_TOTP: "true",
  });
  // The administrator links two accounts to their ids at the provider (the
  // form for it is tested in tests/oidc.rs and checked below).
  app.sql(`UPDATE users SET oidc_subject = 'chef-1' WHERE email = '${DEMO_USERS.manager}'`);
  app.sql(`UPDATE users SET oidc_subject = 'admin-1' WHERE email = '${DEMO_USERS.admin}'`);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await app?.stop();
  await provider?.stop();
});

/** A fresh browser whose requests leave this machine for nowhere (the
 * provider's pages ask for a web font). */
async function freshPage() {
  const context = await browser.newContext();
  await context.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort());
  const page = await context.newPage();
  const serverErrors = [];
  page.on("response", (res) => {
    if (res.status() >= 500) serverErrors.push(`${res.status()} from ${res.url()}`);
  });
  return { context, page, serverErrors };
}

async function axe(page) {
  const result = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
  assert.deepEqual(
    result.violations.map((v) => `${v.id}: ${v.nodes.length}`),
    [],
    `axe on ${page.url()}`,
  );
}

/** From Lotsen's sign-in page through the provider's pages as `login`. */
async function signInAtProvider(page, login, next = "") {
  await page.goto(`${app.baseUrl}/login${next ? `?next=${encodeURIComponent(next)}` : ""}`);
  await page.getByRole("link", { name: `Logga in med ${LABEL}` }).click();
  await page.waitForURL((url) => url.href.startsWith(provider.issuer));
  await page.locator("input[name=login]").fill(login);
  await page.locator("input[name=password]").fill("vad-som-helst");
  await page.getByRole("button", { name: "Sign-in" }).click();
  // The provider asks once whether Lotsen may have the sign-in.
  await page.waitForURL((url) => url.href.startsWith(app.baseUrl) || /\/interaction\//.test(url.pathname));
  if (!page.url().startsWith(app.baseUrl)) {
    await page.getByRole("button", { name: "Continue" }).click();
    await page.waitForURL((url) => url.href.startsWith(app.baseUrl));
  }
}

test("the sign-in page offers the provider above the password, and passes axe", async () => {
  const { context, page } = await freshPage();
  await page.goto(`${app.baseUrl}/login`);
  await axe(page);
  // First the provider, then the password form.
  const order = await page.locator("main a.button, main button").allInnerTexts();
  assert.deepEqual(order, [`Logga in med ${LABEL}`, "Logga in"]);
  await context.close();
});

test("a manager signs in at the provider and comes back signed in, with no code asked", async () => {
  const { context, page, serverErrors } = await freshPage();
  await signInAtProvider(page, "chef-1", "/participants");
  assert.equal(new URL(page.url()).pathname, "/participants", "back where the person was going");
  assert.match(await page.locator("h1").innerText(), /Deltagare/);
  // Signed in for real: the start page opens, not the second-factor page.
  await page.goto(`${app.baseUrl}/`);
  assert.equal(new URL(page.url()).pathname, "/");
  assert.match(await page.locator("h1").innerText(), /^Välkommen/);
  await page.getByRole("button", { name: "Logga ut" }).click();
  await page.waitForURL(`${app.baseUrl}/login?signed_out=1`);
  assert.deepEqual(serverErrors, []);
  await context.close();
});

test("the same manager signing in with the password must add a second factor first", async () => {
  const { context, page } = await freshPage();
  await page.goto(`${app.baseUrl}/login`);
  await page.getByLabel("E-postadress").fill(DEMO_USERS.manager);
  await page.getByLabel("Lösenord").fill(DEMO_PASSWORD);
  await page.getByRole("button", { name: "Logga in", exact: true }).click();
  await page.waitForURL(`${app.baseUrl}/account/two-factor`);
  await context.close();
});

test("someone the provider knows but Lotsen does not is told so and stays signed out", async () => {
  const { context, page, serverErrors } = await freshPage();
  await signInAtProvider(page, "okand-7");
  assert.equal(new URL(page.url()).pathname, "/login/oidc/callback");
  const message = await page.locator(".error-summary").innerText();
  assert.match(message, /inget aktivt konto i Lotsen/);
  assert.match(message, /okand-7/, "the id to give the administrator");
  await axe(page);
  await page.goto(`${app.baseUrl}/participants`);
  assert.equal(new URL(page.url()).pathname, "/login", "not signed in");
  assert.deepEqual(serverErrors, []);
  await context.close();
});

test("an administrator signed in at the provider sees the linked id on the user's page", async () => {
  const { context, page } = await freshPage();
  await signInAtProvider(page, "admin-1", "/admin/users");
  await page.getByRole("link", { name: "Maja Enhetschef" }).click();
  const field = page.getByLabel(`Id hos ${LABEL}`);
  assert.equal(await field.inputValue(), "chef-1");
  await axe(page);
  await context.close();
});
