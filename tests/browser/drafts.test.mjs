// Typed text is never lost: a journal note is copied to the server while it
// is written, leaving the page asks first, the text is back after a reload,
// and a note sent after the session timed out is back in its form once the
// writer has signed in again. The idle timeout is shortened to make it so.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startApp, DEMO_USERS, DEMO_PASSWORD } from "./lib/server.mjs";
import { launch, signIn, watch } from "./lib/browser.mjs";

const IDLE_SECONDS = 12;
let app;
let browser;

before(async () => {
  app = await startApp({ LOTSEN_SESSION_IDLE_SECONDS: String(IDLE_SECONDS) });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

const NOTE = "Pratade om praktik på biblioteket.\nVill börja med två förmiddagar i veckan.";

test("a journal note survives a reload and a timed-out session", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = watch(page);
  await signIn(page, app.baseUrl, DEMO_USERS.staff, DEMO_PASSWORD);
  await page.goto(`${app.baseUrl}/participants`);
  await page.locator("main table tbody a").first().click();
  await page.waitForURL(/\/participants\/\d+$/);
  const personakt = page.url();

  const form = page.locator("form[data-draft][action$='/journal']");
  await page.getByText("Ny journalanteckning").click();
  await form.getByLabel(/^Typ/).selectOption({ index: 1 });
  await form.getByLabel(/^Anteckning/).fill(NOTE);
  // A few seconds after the last key the text is on the server.
  await form.locator(".draft-status").filter({ hasText: "sparad som utkast" }).waitFor({ timeout: 10_000 });

  // Leaving asks first; after the reload the text is back, with a notice.
  await page.reload();
  assert.equal(page.leftUnsavedText, 1, "leaving a page with text not saved asks first");
  assert.equal(await form.getByLabel(/^Anteckning/).inputValue(), NOTE);
  assert.match(await page.locator(".draft-notice").innerText(), /Ej sparad text återställd/);

  // Away from the desk until the session has timed out, then Spara.
  await page.waitForTimeout((IDLE_SECONDS + 3) * 1000);
  await Promise.all([page.waitForURL(/\/login\?/), form.getByRole("button", { name: "Spara anteckning" }).click()]);
  assert.match(await page.locator(".notice").innerText(), /Det du skrev är inte förlorat/);
  await page.getByLabel("E-postadress").fill(DEMO_USERS.staff);
  await page.getByLabel("Lösenord").fill(DEMO_PASSWORD);
  await Promise.all([page.waitForURL(personakt), page.getByRole("button", { name: "Logga in" }).click()]);
  assert.equal(await form.getByLabel(/^Anteckning/).inputValue(), NOTE);
  assert.ok(await form.getByLabel(/^Anteckning/).isVisible(), "the form is open, not folded away");

  await Promise.all([page.waitForURL(personakt), form.getByRole("button", { name: "Spara anteckning" }).click()]);
  assert.equal(await page.locator(".draft-notice").count(), 0);
  assert.ok((await page.locator("#journal").innerText()).includes("Vill börja med två förmiddagar i veckan."));
  // Saved: Att göra lists no text left unsaved.
  await page.goto(`${app.baseUrl}/todo`);
  assert.equal(await page.locator("#drafts-h").count(), 0);
  assert.deepEqual(problems, []);
  await context.close();
});
