// Shared by the browser tests: start `warden demo` for real on loopback,
// drive Debian's Chromium with playwright-core, sign in with TOTP, run
// axe-core on every page, and keep screenshots.
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, "..");
export const shots = path.join(root, "target", "web-tests");
const binary = process.env.WARDEN_BIN ?? path.join(root, "target", "debug", "warden");
const axeSource = fs.readFileSync(path.join(here, "node_modules", "axe-core", "axe.min.js"), "utf8");

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s), as authenticator apps compute it. */
export function totp(secret, at = Date.now()) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/=+$/, "")) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = crypto.createHmac("sha1", Buffer.from(bytes)).update(counter).digest();
  const offset = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1e6).padStart(6, "0");
}

/** Starts `warden demo` on a free loopback port; resolves once it serves. */
export async function startDemo() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warden-web-tests-"));
  const accountsFile = path.join(dir, "accounts.json");
  const child = spawn(binary, ["demo", "--listen", "127.0.0.1:0", "--accounts-json", accountsFile], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const url = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`warden demo did not start:\n${out}\n${stderr}`)), 60000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/Open (http:\/\/[^ ]+\/)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/$/, ""));
      }
    });
    child.on("exit", (code) => reject(new Error(`warden demo exited ${code}:\n${stderr}`)));
  });
  const demo = JSON.parse(fs.readFileSync(accountsFile, "utf8"));
  const account = (role) => demo.accounts.find((a) => a.role === role);
  return {
    url,
    council: demo.council,
    leaver: demo.leaver,
    account,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => child.on("exit", r));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

const signedIn = new Map();

/** A page signed in as the demo's `role`, via the real forms. One sign-in
 *  per role: Warden accepts each TOTP code once, so a second sign-in in the
 *  same 30 seconds would (rightly) be refused. Later calls open a new page
 *  in the same session. */
export async function signIn(browser, demo, role, options = {}) {
  if (signedIn.has(role)) {
    const page = await signedIn.get(role).newPage();
    await page.goto(`${demo.url}/`);
    return page;
  }
  // axe is injected as a script, which Warden's content security policy
  // forbids; the tests bypass it for that alone.
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  const a = demo.account(role);
  await page.goto(`${demo.url}/sign-in`);
  // The demo serves five councils: the sign-in asks which.
  await page.getByLabel("Council").selectOption(demo.council);
  await page.getByLabel("Person id or email address").fill(a.person);
  await page.getByLabel("Password").fill(a.password);
  await page.getByRole("button", { name: "Continue" }).click();
  await page.waitForURL(/\/sign-in\/code/);
  await page.getByLabel("Six-digit code").fill(totp(a.totp_secret));
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((u) => !u.pathname.startsWith("/sign-in"));
  signedIn.set(role, context);
  return page;
}

/** axe-core on the current page: WCAG 2.2 A and AA. Returns the violations. */
export async function axe(page) {
  await page.addScriptTag({ content: axeSource });
  return page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"] },
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
    }));
  });
}

/** Every page visited, with its axe violations, for the report at the end. */
export const audited = new Map();

/** Every page visited, with how wide it is at 320 CSS px (WCAG 2.2 SC
 *  1.4.10 Reflow: it must not scroll sideways). */
export const reflowed = new Map();

export async function audit(page) {
  const key = new URL(page.url()).pathname;
  audited.set(key, await axe(page));
  const size = page.viewportSize();
  await page.setViewportSize({ width: 320, height: 800 });
  reflowed.set(key, await page.evaluate(() => document.documentElement.scrollWidth));
  if (size) await page.setViewportSize(size);
}

export async function shot(page, name) {
  fs.mkdirSync(shots, { recursive: true });
  const file = path.join(shots, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  if (process.env.UPDATE_SCREENSHOTS) {
    const docs = path.join(root, "docs", "screenshots");
    fs.mkdirSync(docs, { recursive: true });
    fs.copyFileSync(file, path.join(docs, `${name}.png`));
  }
}
