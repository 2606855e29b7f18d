// What a person does: sign in and out with the keyboard only, get a form
// wrong and be helped to fix it, and see the start page of each role.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startApp, DEMO_USERS, DEMO_PASSWORD } from "./lib/server.mjs";
import { launch, signIn, watch } from "./lib/browser.mjs";

const artifacts = path.join(path.dirname(fileURLToPath(import.meta.url)), "artifacts");
let app;
let browser;

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  app = await startApp();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

const squash = (text) => text.replace(/\s+/g, " ").trim();

/** Presses Tab until `predicate` holds for the focused element; fails after `max` presses. */
async function tabTo(page, description, predicate, max = 25) {
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(predicate)) return;
  }
  assert.fail(`could not reach ${description} with Tab`);
}

test("keyboard only: sign in and sign out", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = watch(page);
  await page.goto(`${app.baseUrl}/login`);

  await tabTo(page, "the e-mail field", () => document.activeElement?.id === "f-email");
  await page.keyboard.type(DEMO_USERS.staff);
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "f-password");
  await page.keyboard.type(DEMO_PASSWORD);
  await Promise.all([page.waitForURL(`${app.baseUrl}/`), page.keyboard.press("Enter")]);
  assert.match(await page.locator("h1").innerText(), /^Välkommen/);

  await tabTo(page, "the sign-out button", () => document.activeElement?.textContent?.trim() === "Logga ut");
  await Promise.all([page.waitForURL(`${app.baseUrl}/login?signed_out=1`), page.keyboard.press("Enter")]);
  assert.equal(await page.locator(".notice").innerText(), "Du är utloggad.");
  // Signed out for real: the start page sends us back to sign in.
  await page.goto(`${app.baseUrl}/`);
  assert.equal(new URL(page.url()).pathname, "/login");
  assert.deepEqual(problems, []);
  await context.close();
});

test("a refused form explains itself next to the field, keeps what was typed and focuses the first error", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, app.baseUrl, DEMO_USERS.admin, DEMO_PASSWORD);
  await page.goto(`${app.baseUrl}/admin/users/new`);
  await page.getByLabel(/^Namn/).fill("Bo Berg");
  await page.getByLabel("E-postadress").fill("inte-en-adress");
  await page.getByLabel("Titel (t.ex. stödpedagog, arbetsterapeut)").fill("stödassistent");
  await page.getByLabel("Första lösenord (12–128 tecken)").fill("kort");
  await Promise.all([page.waitForLoadState("load"), page.getByRole("button", { name: "Skapa användare" }).click()]);
  await page.waitForFunction(() => document.activeElement?.id === "f-email");

  const emailField = page.locator("#f-email");
  assert.equal(await emailField.getAttribute("aria-invalid"), "true");
  // The message stands in the same field group as the input, and is its description.
  const message = page.locator(".field:has(#f-email) .error-message");
  assert.equal(squash(await message.textContent()), "Fel: Skriv e-postadressen som namn@exempel.se.");
  assert.equal(await emailField.getAttribute("aria-describedby"), "f-email-error");
  assert.equal(squash(await page.locator("#f-password-error").textContent()), "Fel: Lösenordet måste ha minst 12 tecken.");
  // What was typed is still there; the password is not.
  assert.equal(await page.locator("#f-name").inputValue(), "Bo Berg");
  assert.equal(await emailField.inputValue(), "inte-en-adress");
  assert.equal(await page.locator("#f-job_title").inputValue(), "stödassistent");
  assert.equal(await page.locator("#f-password").inputValue(), "");
  await context.close();
});

for (const role of ["admin", "manager", "staff"]) {
  test(`start page of ${role}: a screenshot, and no sideways scrolling on a phone`, async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await signIn(page, app.baseUrl, DEMO_USERS[role], DEMO_PASSWORD);
    await page.screenshot({ path: path.join(artifacts, `start-${role}.png`), fullPage: true });
    await page.setViewportSize({ width: 320, height: 640 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.equal(overflow, 0, "no horizontal scrolling at 320px");
    await page.screenshot({ path: path.join(artifacts, `start-${role}-320.png`), fullPage: true });
    await context.close();
  });
}

test("registering a participant: a missing reason is explained, fixed, and the personakt opens", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = watch(page);
  await signIn(page, app.baseUrl, DEMO_USERS.staff, DEMO_PASSWORD);
  await page.goto(`${app.baseUrl}/participants/new`);
  await page.getByLabel(/^Förnamn/).fill("Vera");
  await page.getByLabel(/^Efternamn/).fill("Testsson");
  await page.getByLabel(/^Typ av nummer/).selectOption("none");
  await page.getByLabel(/^Födelsedatum/).fill("1990-05-17");
  await page.getByLabel(/^Kön/).selectOption("woman");
  await page.locator("#f-resident-no").check();
  await page.getByLabel(/^Kontaktväg/).selectOption("primary_care");
  await page.locator("#f-first_contact_on").fill("2026-01-05");
  await Promise.all([page.waitForLoadState("load"), page.getByRole("button", { name: "Registrera" }).click()]);
  await page.waitForFunction(() => document.activeElement?.id === "f-non_resident_reason");
  assert.match(squash(await page.locator("#f-non_resident_reason-error").textContent()), /folkbokförd i kommunen/);
  assert.equal(await page.locator("#f-first_name").inputValue(), "Vera");
  assert.equal(await page.locator("#f-birth_date").inputValue(), "1990-05-17");

  await page.locator("#f-non_resident_reason").fill("Skriven i grannkommunen, undantag enligt beslut");
  await Promise.all([page.waitForURL(/\/participants\/\d+$/), page.getByRole("button", { name: "Registrera" }).click()]);
  assert.equal(await page.locator("h1").innerText(), "Vera Testsson");
  await page.screenshot({ path: path.join(artifacts, "personakt-staff.png"), fullPage: true });
  // The refused form is answered 422 on purpose; Chromium notes that in the console.
  assert.deepEqual(problems.filter((p) => !p.includes("status of 422")), []);
  await context.close();
});

test("a plan: refused hours fixed, a new employer added inline, queued when Team ISA is full, then a follow-up from Att göra", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = watch(page);
  await signIn(page, app.baseUrl, DEMO_USERS.staff, DEMO_PASSWORD);

  // A new person, with this staff member as kontaktman.
  await page.goto(`${app.baseUrl}/participants/new`);
  await page.getByLabel(/^Förnamn/).fill("Plan");
  await page.getByLabel(/^Efternamn/).fill("Testsson");
  await page.getByLabel(/^Typ av nummer/).selectOption("none");
  await page.getByLabel(/^Födelsedatum/).fill("1998-05-17");
  await page.getByLabel(/^Kön/).selectOption("man");
  await page.locator("#f-resident").check();
  await page.getByLabel(/^Kontaktväg/).selectOption("self");
  await page.locator("#f-first_contact_on").fill("2026-01-05");
  await Promise.all([page.waitForURL(/\/participants\/\d+$/), page.getByRole("button", { name: "Registrera" }).click()]);
  await page.locator("#key-worker summary").click();
  await page.locator("#f-key_worker_id").selectOption({ label: "Sami Stödpedagog (stödpedagog)" });
  await Promise.all([page.waitForURL(/#key-worker$/), page.getByRole("button", { name: "Utse" }).click()]);

  // The Team ISA plan: 3 hours are refused beside the field, with what was typed kept.
  await Promise.all([page.waitForURL(/\/plans\/new/), page.getByRole("link", { name: "Ny Team ISA-plan" }).click()]);
  await page.getByLabel(/^Timmar per vecka/).fill("3");
  await page.getByLabel("Skriftlig sammanfattning").fill("Vill arbeta med händerna.");
  await page.getByLabel("Ny arbetsgivare: namn").fill("Snickeriet i Ryd");
  await Promise.all([page.waitForLoadState("load"), page.getByRole("button", { name: "Spara som utkast" }).click()]);
  await page.waitForFunction(() => document.activeElement?.id === "f-weekly_hours");
  assert.equal(squash(await page.locator("#f-weekly_hours-error").textContent()), "Fel: Minst 4 timmar per vecka.");
  assert.equal(await page.getByLabel("Skriftlig sammanfattning").inputValue(), "Vill arbeta med händerna.");
  await page.getByLabel(/^Timmar per vecka/).fill("4,5");
  await Promise.all([page.waitForURL(/\/plans\/\d+$/), page.getByRole("button", { name: "Spara som utkast" }).click()]);
  assert.match(await page.locator("h1").innerText(), /^Team ISA-plan: Plan Testsson/);
  assert.match(await page.locator("#overview").innerText(), /Snickeriet i Ryd/);

  // A goal, then set and activate: the demo unit's six places are taken, so it waits in the queue.
  await page.locator("#goals summary").first().click();
  await page.getByLabel("Mål eller delmål").fill("Arbeta två dagar i veckan på snickeriet");
  await Promise.all([page.waitForURL(/\/plans\/\d+$/), page.getByRole("button", { name: "Lägg till" }).first().click()]);
  assert.match(await page.locator("ol.goals").innerText(), /Arbeta två dagar/);
  // The samordnad plan comes before the activation: made from the personakt.
  const planUrl = page.url();
  await Promise.all([page.waitForURL(/\/participants\/\d+#plans$/), page.locator(".breadcrumb a").first().click()]);
  await Promise.all([page.waitForURL(/joint-plan\/edit$/), page.getByRole("link", { name: "gör den samordnade planen" }).click()]);
  await page.getByLabel("Mål och vad personen själv vill").fill("Arbeta med händerna; på sikt en anställning på snickeriet.");
  const review = new Date(Date.now() + 90 * 24 * 3600 * 1000).toISOString().slice(0, 10);
  await page.getByLabel("Nästa översyn").fill(review);
  await Promise.all([page.waitForURL(/joint-plan$/), page.getByRole("button", { name: "Spara den samordnade planen" }).click()]);
  assert.match(await page.locator(".flash").innerText(), /samordnade planen är sparad/);
  await page.screenshot({ path: path.join(artifacts, "joint-plan.png"), fullPage: true });
  await page.goto(planUrl);
  await Promise.all([page.waitForURL(/\/plans\/\d+$/), page.getByRole("button", { name: "Fastställ och aktivera" }).click()]);
  assert.match(await page.locator(".flash").innerText(), /står i kö/);
  assert.match(await page.locator(".lead").innerText(), /I kö sedan/);
  await page.screenshot({ path: path.join(artifacts, "plan-queued.png"), fullPage: true });

  // Att göra lists the kontaktman's due follow-ups; holding one clears it.
  await Promise.all([page.waitForURL(/\/todo$/), page.getByRole("link", { name: "Att göra" }).click()]);
  await page.screenshot({ path: path.join(artifacts, "todo-staff.png"), fullPage: true });
  const mine = page.locator("#mine-h ~ .table-wrap tbody tr");
  const before = await mine.count();
  assert.ok(before > 0, "the demo data gives the kontaktman something to do");
  const row = mine.filter({ hasText: "Uppföljning" }).first();
  await Promise.all([page.waitForURL(/\/plans\/\d+$/), row.getByRole("link").click()]);
  await Promise.all([page.waitForURL(/follow-ups\/new$/), page.getByRole("link", { name: "Registrera uppföljning" }).click()]);
  await page.getByLabel("Sammanfattning: vad som gjorts och vad som ändras").fill("Går bra, vill öka till fler timmar efter jul.");
  await Promise.all([page.waitForURL(/\/plans\/\d+#follow-ups$/), page.getByRole("button", { name: "Registrera uppföljningen" }).click()]);
  assert.match(await page.locator(".flash").innerText(), /Uppföljningen är registrerad/);
  await page.goto(`${app.baseUrl}/todo`);
  assert.equal(await mine.count(), before - 1, "the held follow-up's reminder is gone");
  assert.deepEqual(problems.filter((p) => !p.includes("status of 422")), []);
  await context.close();
});

/** Opens Dagens besök; on a weekend or holiday a manager first opens the day
 * in the unit's calendar (only managers change the calendar). */
async function openReception(page) {
  await page.goto(`${app.baseUrl}/visits`);
  if ((await page.locator(".notice").count()) > 0) {
    const today = await page.evaluate(() => new Date().toLocaleDateString("sv-SE", { timeZone: "Europe/Stockholm" }));
    const context = await browser.newContext();
    const manager = await context.newPage();
    await signIn(manager, app.baseUrl, DEMO_USERS.manager, DEMO_PASSWORD);
    await manager.goto(`${app.baseUrl}/calendar`);
    await manager.locator("#exceptions-h ~ details summary").click();
    await manager.locator("#f-day").fill(today);
    await manager.locator("#f-kind-open").check();
    await Promise.all([manager.waitForURL(/\/calendar\?/), manager.getByRole("button", { name: "Spara" }).click()]);
    await context.close();
    await page.goto(`${app.baseUrl}/visits`);
  }
}

test("reception is keyboard-first: the name field has focus, and a chosen hit among several is name + Enter + 2 keys", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = watch(page);
  await signIn(page, app.baseUrl, DEMO_USERS.staff, DEMO_PASSWORD);
  await openReception(page);
  // No Tab needed: the page opens with the cursor in the name field.
  await page.waitForFunction(() => document.activeElement?.id === "f-q");
  let keys = 0;
  const press = async (key) => {
    keys += 1;
    await page.keyboard.press(key);
  };
  await page.keyboard.type("ce");
  // Enter lists the hits (several Cecilias) and focus moves to the first Checka in.
  await Promise.all([page.waitForLoadState("load"), press("Enter")]);
  await page.waitForFunction(() => document.activeElement?.closest("#hits") !== null);
  const open = page.locator("#hits ul.hits li button");
  assert.ok((await open.count()) >= 2, "the demo has several people whose names start so");
  assert.match(await page.evaluate(() => document.activeElement?.textContent ?? ""), /^Checka in/);
  // The second of them: one Tab, one Enter.
  const chosen = squash(await open.nth(1).locator(".visually-hidden").innerText());
  await press("Tab");
  await Promise.all([page.waitForURL(/\/visits\?unit=\d+/), press("Enter")]);
  assert.match(await page.locator(".flash").innerText(), new RegExp(`${chosen} är incheckad`));
  assert.ok(keys <= 3, `name + Enter + at most 2 keys, was name + ${keys}`);
  // Ready for the next visitor at once.
  await page.waitForFunction(() => document.activeElement?.id === "f-q");
  assert.deepEqual(problems, []);
  await context.close();
});

test("reception: typing a name shows the matches, one press checks in, and undo takes it back", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = watch(page);
  await signIn(page, app.baseUrl, DEMO_USERS.manager, DEMO_PASSWORD);
  await openReception(page);
  // Type and the matches appear without pressing Enter.
  await page.locator("#f-q").focus();
  await page.keyboard.type("aina");
  await page.locator("#hits ul.hits li").first().waitFor();
  const name = squash(await page.locator("#hits ul.hits li span").first().innerText()).replace(/ \(\d+ år\)$/, "");
  await Promise.all([page.waitForURL(/\/visits\?unit=\d+/), page.locator("#hits ul.hits li button").first().click()]);
  assert.match(await page.locator(".flash").innerText(), new RegExp(`${name} är incheckad kl\\. \\d\\d:\\d\\d\\.`));
  // After a check-in the search field has focus again, for the next visitor.
  await page.waitForFunction(() => document.activeElement?.id === "f-q");
  assert.match(await page.locator("#today-h ~ .table-wrap tbody").innerText(), new RegExp(name));
  await page.screenshot({ path: path.join(artifacts, "visits-manager.png"), fullPage: true });
  const row = page.locator("#today-h ~ .table-wrap tbody tr", { hasText: name });
  await Promise.all([page.waitForURL(/\/visits\?unit=\d+$/), row.getByRole("button", { name: /^Ångra/ }).click()]);
  assert.match(await page.locator(".flash").innerText(), /är ångrad/);
  assert.deepEqual(problems, []);
  await context.close();
});

test("a malformed id opens the Swedish error page, not the browser's own", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, app.baseUrl, DEMO_USERS.staff, DEMO_PASSWORD);
  for (const url of ["/participants/abc", "/plans/11%20"]) {
    const response = await page.goto(`${app.baseUrl}${url}`);
    assert.equal(response.status(), 400, url);
    assert.equal(await page.locator("html").getAttribute("lang"), "sv");
    assert.match(await page.title(), /Lotsen/, `${url}: a page of ours`);
    assert.ok((await page.locator("main h1").innerText()).length > 0, `${url}: with a heading`);
  }
  await context.close();
});

test("a name search survives Back and reload, and its URL holds no name", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = watch(page);
  await signIn(page, app.baseUrl, DEMO_USERS.staff, DEMO_PASSWORD);
  await page.goto(`${app.baseUrl}/participants`);
  const [lastName] = (await page.locator("main table tbody a").first().innerText()).split(",");
  await page.getByLabel("Sök på namn eller personnummer").fill(lastName);
  await Promise.all([page.waitForURL(/\/participants\?search=/), page.keyboard.press("Enter")]);
  const results = page.url();
  assert.ok(!decodeURIComponent(results).toLowerCase().includes(lastName.toLowerCase()), results);
  const rows = await page.locator("main table tbody tr").count();
  assert.ok(rows >= 1);

  await Promise.all([page.waitForURL(/\/participants\/\d+$/), page.locator("main table tbody a").first().click()]);
  await page.goBack();
  assert.equal(page.url(), results);
  assert.equal(await page.locator("main table tbody tr").count(), rows);
  assert.equal(await page.getByLabel("Sök på namn eller personnummer").inputValue(), lastName);
  await page.reload();
  assert.equal(await page.locator("main table tbody tr").count(), rows);
  assert.deepEqual(problems, []);
  await context.close();
});

test("the survey on the tablet: a code from the manager, the questions, thanks, and the code spent", async () => {
  const { default: AxeBuilder } = await import("@axe-core/playwright");
  const tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
  const manager = await browser.newContext();
  const page = await manager.newPage();
  await signIn(page, app.baseUrl, DEMO_USERS.manager, DEMO_PASSWORD);
  await page.goto(`${app.baseUrl}/surveys`);
  await Promise.all([page.waitForURL(/\/surveys\/\d+$/), page.getByRole("link", { name: /Brukarundersökning \d{4}/ }).first().click()]);
  await page.getByLabel("Antal koder").fill("1");
  await Promise.all([page.waitForLoadState("load"), page.getByRole("button", { name: "Skapa koder" }).click()]);
  const code = (await page.locator("ul.codes code").first().innerText()).trim();
  assert.match(code, /^[a-z0-9x]{4}-[a-z0-9x]{4}-[a-z0-9x]{4}$/);
  await manager.close();

  const tablet = await browser.newContext();
  const t = await tablet.newPage();
  await t.goto(`${app.baseUrl}/survey`);
  await t.getByLabel("Kod").fill(code);
  await Promise.all([t.waitForLoadState("load"), t.getByRole("button", { name: "Börja" }).click()]);
  const axe = await new AxeBuilder({ page: t }).withTags(tags).analyze();
  assert.deepEqual(axe.violations.map((v) => v.id), [], "the questions pass axe");
  await t.getByLabel("Kvinna").check();
  await t.locator("#f-satisfaction-5").check();
  await t.getByRole("group", { name: /vart jag ska vända mig/ }).getByLabel("Ja").check();
  await t.screenshot({ path: path.join(artifacts, "survey-tablet.png"), fullPage: true });
  await Promise.all([t.waitForLoadState("load"), t.getByRole("button", { name: "Skicka mitt svar" }).click()]);
  assert.match(await t.locator("main").innerText(), /Tack för ditt svar/);
  // The code is spent.
  await t.goto(`${app.baseUrl}/survey`);
  await t.getByLabel("Kod").fill(code);
  await Promise.all([t.waitForLoadState("load"), t.getByRole("button", { name: "Börja" }).click()]);
  assert.match(await t.locator("#f-code-error").innerText(), /redan använd/);
  await tablet.close();
});
