// Starts the real Lotsen binary on a random port against a fresh database
// loaded with demo data, the browser-side twin of tests/common/mod.rs.
import { spawn, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, "../../..");
const bin = process.env.LOTSEN_BIN ?? path.join(repoRoot, "target/debug/lotsen");
const admin = { host: "127.0.0.1", port: "5432", user: "lotsen", password: "lotsen" };

export const DEMO_PASSWORD = "lotsen-demo-2026";
export const DEMO_USERS = {
  admin: "admin@lotsen.example",
  manager: "chef@lotsen.example",
  staff: "personal@lotsen.example",
};

function psql(sql, database = "lotsen") {
  execFileSync("psql", ["-h", admin.host, "-p", admin.port, "-U", admin.user, "-d", database, "-qc", sql], {
    env: { ...process.env, PGPASSWORD: admin.password },
    stdio: ["ignore", "ignore", "inherit"],
  });
}

const databaseUrl = (database) => `postgres://${admin.user}:${admin.password}@${admin.host}:${admin.port}/${database}`;

// The demo data (three years of history) is loaded once per test file into
// a template database; each app gets a copy of it, made in a moment.
let template = null;
function demoTemplate() {
  if (template) return template;
  const name = `lotsen_browser_demo_${randomBytes(4).toString("hex")}`;
  psql(`CREATE DATABASE ${name}`);
  process.on("exit", () => psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  const env = { ...process.env, DATABASE_URL: databaseUrl(name), LOTSEN_LOG: "warn" };
  execFileSync(bin, ["demo-data"], { env, stdio: ["ignore", "ignore", "inherit"] });
  template = name;
  return template;
}

/** Starts the app; `settings` are extra environment variables (LOTSEN_…). */
export async function startApp(settings = {}) {
  const database = `lotsen_browser_${randomBytes(4).toString("hex")}`;
  psql(`CREATE DATABASE ${database} TEMPLATE ${demoTemplate()}`);
  const env = {
    ...process.env,
    // As in production: the server signs in as the app role (owning nothing),
    // the owner only migrates.
    DATABASE_URL: `postgres://lotsen_app:lotsen_app@${admin.host}:${admin.port}/${database}`,
    DATABASE_OWNER_URL: databaseUrl(database),
    LOTSEN_ADDR: "127.0.0.1:0",
    LOTSEN_LOG: "info,tower_http=warn",
    LOTSEN_STATIC_DIR: path.join(repoRoot, "static"),
    // The demo's managers and admins have no app for codes.
    LOTSEN_REQUIRE_TOTP: "false",
    // The journeys open people outside the demo staff's caseload; the crawler turns it on.
    LOTSEN_REASON_OUTSIDE_CASELOAD: "false",
    ...settings,
  };
  const child = spawn(bin, ["serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
  const baseUrl = await new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`Lotsen did not start:\n${seen}`)), 30_000);
    const read = (chunk) => {
      seen += chunk.toString();
      const match = seen.match(/lyssnar på (http:\/\/[0-9.:]+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.on("exit", (code) => reject(new Error(`Lotsen exited with ${code}:\n${seen}`)));
  });
  return {
    baseUrl,
    /** Runs one SQL statement in this app's database (for what no page does). */
    sql(statement) {
      psql(statement, database);
    },
    async stop() {
      child.kill("SIGTERM");
      await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.on("exit", resolve)));
      psql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    },
  };
}

/** A port nothing listens on now, for a server that must know its address before it starts. */
export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}
