// Headless Chromium from Debian's package, driven by playwright-core.
import { chromium } from "playwright-core";

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
      "--no-first-run",
    ],
  });
}

/// Signs in through the form, as a person would (but with the mouse-free API).
export async function signIn(page, baseUrl, email, password) {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel("E-postadress").fill(email);
  await page.getByLabel("Lösenord").fill(password);
  await Promise.all([page.waitForURL(`${baseUrl}/`), page.getByRole("button", { name: "Logga in" }).click()]);
}

/// Collects console errors, failed requests and server errors seen by a page.
export function watch(page) {
  const problems = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("requestfailed", (req) => {
    const error = req.failure()?.errorText ?? "";
    // ERR_ABORTED: the browser itself cancelled the request because the page
    // moved on (a form was sent, a link followed) — not a failure of the app.
    if (error !== "net::ERR_ABORTED") problems.push(`request failed: ${req.url()} ${error}`);
  });
  page.on("response", (res) => {
    if (res.status() >= 500) problems.push(`${res.status()} from ${res.url()}`);
  });
  // Leaving a form with text not yet saved asks first (app.js); a journey
  // that moves on means to leave. Any other dialog is unexpected.
  page.on("dialog", async (dialog) => {
    if (dialog.type() === "beforeunload") {
      page.leftUnsavedText = (page.leftUnsavedText ?? 0) + 1;
      await dialog.accept();
    } else {
      problems.push(`dialog: ${dialog.type()} ${dialog.message()}`);
      await dialog.dismiss();
    }
  });
  return problems;
}
