// The tasks of issue 4, done in a real browser against `warden demo`:
// sign in with TOTP, run a leaver through the checklist, report a lost
// device as a councillor, publish a policy version and accept it, assess a
// breach. axe-core checks every page visited.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { audit, audited, launch, reflowed, root, shot, signIn, startDemo } from "./support.mjs";

let demo;
let browser;

before(async () => {
  demo = await startDemo();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

test("an ICT officer signs in with TOTP and sees the dashboard", async () => {
  const page = await signIn(browser, demo, "ict_admin");
  await page.waitForURL(`${demo.url}/c/${demo.council}`);
  await assert.doesNotReject(page.getByRole("heading", { name: "Dashboard" }).waitFor());
  // At 1280 px the menu, sign-out included, is one row.
  const tops = await page.locator("#navigation > li").evaluateAll((items) => items.map((li) => li.getBoundingClientRect().top));
  assert.equal(new Set(tops).size, 1, `menu rows at ${JSON.stringify(tops)}`);
  const overdue = Number(await page.locator('[data-status="overdue"]').innerText());
  const met = Number(await page.locator('[data-status="met"]').innerText());
  assert.ok(met > 0, "the demo council has met findings");
  assert.ok(overdue > 0, "and overdue ones");
  await audit(page);
  await shot(page, "dashboard");
  for (const name of ["People", "Devices", "Policies", "Incidents", "Findings", "My Warden"]) {
    await page.getByRole("link", { name, exact: true }).first().click();
    await page.getByRole("heading", { level: 1 }).first().waitFor();
    await audit(page);
  }
  await page.close();
});

test("a wrong TOTP code is refused with the reason next to the field", async () => {
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  const a = demo.account("manager");
  await page.goto(`${demo.url}/sign-in`);
  await audit(page);
  await page.getByLabel("Person id or email address").fill(a.person);
  await page.getByLabel("Password").fill(a.password);
  await page.getByRole("button", { name: "Continue" }).click();
  await page.waitForURL(/\/sign-in\/code/);
  await page.getByLabel("Six-digit code").fill("000000");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator(".govuk-error-summary").waitFor();
  assert.match(await page.locator("#code-error").innerText(), /six-digit code/);
  await audit(page);
  await context.close();
});

test("a leaver is run through the checklist the pack's rules create", async () => {
  assert.ok(demo.leaver, "the demo names a person to try the leaver checklist on");
  const page = await signIn(browser, demo, "ict_admin");
  await page.goto(`${demo.url}/c/${demo.council}/people?q=${demo.leaver}`);
  await page.locator("#people-results").getByRole("link").first().click();
  await page.waitForURL(new RegExp(`/people/${demo.leaver}$`));
  await audit(page);
  await shot(page, "person");
  await page.getByRole("link", { name: "Record this person leaving" }).click();
  await page.getByLabel("Reason").fill("resigned");
  await audit(page);
  await page.getByRole("button", { name: "Record leaving" }).click();
  await page.waitForURL(/\/leave\?recorded=person_left/);
  const items = page.locator("#checklist > li");
  const before = await items.count();
  assert.ok(before >= 2, `a device to return and access to revoke, found ${before} items`);
  assert.match(await page.locator("#checklist").innerText(), /Due .* Council devices are returned within 48 hours of ceasing to be a councillor/);
  await audit(page);
  await shot(page, "leaver-checklist");
  // Each item's button records its discharging event; the item goes.
  for (let left = before; left > 0; left--) {
    await page.locator("#checklist").getByRole("button").first().click();
    await page.waitForFunction((n) => document.querySelectorAll("#checklist > li").length === n, left - 1);
  }
  await page.locator("#checklist-complete").waitFor();
  // The banner says what was done, in words, not the event's type.
  assert.match(await page.locator(".govuk-notification-banner--success").innerText(), /Access is taken away|return is recorded/);
  await page.close();
});

test("a councillor reports a lost device, which starts its clock", async () => {
  const page = await signIn(browser, demo, "member");
  await page.waitForURL(`${demo.url}/c/${demo.council}/me`);
  await audit(page);
  // Devices held; those reported lost or stolen are listed apart and not offered again.
  const held = await page.locator("#my-devices li").evaluateAll((items) => items.map((li) => li.dataset.device));
  assert.ok(held.length > 0, "the demo councillor holds a device");
  await page.getByRole("link", { name: "Report a lost or stolen device" }).click();
  await audit(page);
  await page.getByLabel("Which device").selectOption(held[0]);
  await page.getByRole("button", { name: "Report the loss" }).click();
  await page.waitForURL(/recorded=device_lost/);
  await page.locator(".govuk-notification-banner--success").waitFor();
  // No longer held: listed as reported lost or stolen.
  await page.goto(`${demo.url}/c/${demo.council}/me`);
  assert.equal(await page.locator(`#my-devices li[data-device="${held[0]}"]`).count(), 0);
  assert.match(await page.locator(`#my-lost-devices li[data-device="${held[0]}"]`).innerText(), /reported (lost|stolen)/);
  await audit(page);
  // A member may not see the registers.
  const res = await page.goto(`${demo.url}/c/${demo.council}/devices`);
  assert.equal(res.status(), 403);
  await page.close();
});

test("a new policy version is published with its own text, and a councillor accepts that text by its SHA-256", async () => {
  const ig = await signIn(browser, demo, "information_governance");
  await ig.goto(`${demo.url}/c/${demo.council}/policies/councillor-ict`);
  await audit(ig);
  const text = "# Councillor ICT Policy 1.1\n\nReturn council devices within **24 hours** of ceasing to be a councillor.";
  await ig.getByLabel("New version", { exact: true }).fill("1.1");
  await ig.getByLabel("Approved by").fill("cabinet");
  await ig.getByLabel("The text of this version").fill(text);
  // Councillors accepted 1.0: publishing asks first, keeping what was typed.
  await ig.getByRole("button", { name: "Publish" }).click();
  await ig.locator("#confirm-error").waitFor();
  assert.equal(await ig.getByLabel("The text of this version").inputValue(), text);
  await ig.getByLabel(/will need to accept the new version/).check();
  await ig.getByRole("button", { name: "Publish" }).click();
  await ig.waitForURL(/recorded=policy_approved/);
  assert.equal(await ig.locator("#current-version").innerText(), "1.1");
  assert.match(await ig.locator("#accepted").innerText(), /No one\./);
  assert.match(await ig.locator("#versions").innerText(), /1\.1/);
  await audit(ig);

  const member = await signIn(browser, demo, "member");
  await member.getByRole("link", { name: /Read and accept Councillor ICT Policy version 1\.1/ }).click();
  await audit(member);
  // The words of 1.1, not the pack's 1.0, and their own fingerprint.
  assert.match(await member.locator("#policy-text").innerText(), /within 24 hours/);
  const sha = crypto.createHash("sha256").update(text).digest("hex");
  assert.equal(await member.locator("#text-sha256").innerText(), sha);
  await member.getByRole("button", { name: "Accept" }).click();
  await member.locator(".govuk-error-summary").waitFor();
  assert.match(await member.locator("#confirm-error").innerText(), /Tick the box/);
  await member.getByLabel("I have read this policy and I accept it").check();
  await member.getByRole("button", { name: "Accept" }).click();
  await member.waitForURL(/recorded=policy_accepted/);
  // The page says what was accepted, and when, instead of the form again.
  assert.match(await member.locator("#accepted").innerText(), /You have accepted version 1\.1/);
  assert.equal(await member.getByRole("button", { name: "Accept" }).count(), 0);
  await member.goto(`${demo.url}/c/${demo.council}/me`);
  assert.equal(await member.locator("#to-accept").count(), 0);

  await ig.reload();
  assert.match(await ig.locator("#accepted").innerText(), new RegExp(demo.account("member").person));
  await ig.close();
  await member.close();
});

test("the SIRO assesses a breach against the 72-hour clock", async () => {
  const page = await signIn(browser, demo, "siro");
  await page.goto(`${demo.url}/c/${demo.council}/incidents/new`);
  await audit(page);
  await page.getByLabel("What happened").fill("Email with case notes sent to the wrong person");
  await page.getByLabel("Yes").check();
  await page.getByLabel("Description").fill("Case notes for one family emailed to another team.");
  await page.getByLabel("Severity").selectOption("high");
  await page.getByLabel("People affected").fill("4");
  await page.getByRole("button", { name: "Report" }).click();
  await page.waitForURL(/recorded=incident_reported/);
  assert.match(await page.locator("#clock").innerText(), /regulator must be told by/);
  await audit(page);
  await shot(page, "incident");
  await page.getByLabel("Yes, it is notifiable").check();
  await page.getByRole("button", { name: "Record the assessment" }).click();
  await page.waitForURL(/recorded=incident_assessed/);
  assert.equal(await page.locator("#notifiable-state").innerText(), "Yes");
  await page.getByLabel("The regulator's reference").fill("IC-123456-A1B2");
  await page.getByRole("button", { name: "Record the regulator told" }).click();
  await page.waitForURL(/recorded=incident_regulator_notified/);
  const summary = await page.locator("dl").innerText();
  assert.match(summary, /Case notes for one family/);
  assert.match(summary, /high/);
  assert.match(summary, /reference IC-123456-A1B2/);
  assert.match(await page.locator("#clock").innerText(), /met/);
  await page.getByRole("button", { name: "Close the incident" }).click();
  await page.waitForURL(/recorded=incident_closed/);
  await page.close();
});

test("ICT records a starter with their job, department and manager, then their MFA and training", async () => {
  const page = await signIn(browser, demo, "ict_admin");
  await page.goto(`${demo.url}/c/${demo.council}/starters`);
  await audit(page);
  await page.getByLabel("Person id", { exact: true }).fill("e-browser-1");
  await page.getByLabel("Full name").fill("Brenda Browser");
  await page.getByLabel("Kind").selectOption("employee");
  await page.getByLabel("Job title").fill("Planning officer");
  await page.getByLabel("Department").fill("Planning");
  await page.getByLabel("Manager's person id").fill(demo.account("manager").person);
  await page.getByRole("button", { name: "Record the starter" }).click();
  await page.waitForURL(/\/people\/e-browser-1\?recorded=person_joined/);
  const summary = await page.locator("dl").innerText();
  assert.match(summary, /Planning officer/);
  assert.match(summary, new RegExp(demo.account("manager").person));
  await page.getByText("Record a second factor (MFA) set up").click();
  await page.getByRole("button", { name: "Record the second factor" }).click();
  await page.waitForURL(/recorded=mfa_enrolled/);
  await page.getByText("Record training completed").click();
  await page.getByLabel("Course").fill("data_protection");
  await page.getByRole("button", { name: "Record the training" }).click();
  await page.waitForURL(/recorded=training_completed/);
  assert.match(await page.locator("dl").innerText(), /data_protection/);
  await audit(page);
  await page.close();
});

test("ICT registers a device with its make, model and serial number", async () => {
  const page = await signIn(browser, demo, "ict_admin");
  await page.goto(`${demo.url}/c/${demo.council}/devices`);
  // The register's own form, not the filters above it.
  const form = page.locator("form", { has: page.getByRole("button", { name: "Register the device" }) });
  await form.getByLabel("Device id").fill("LAP-BROWSER-1");
  await form.getByLabel("Kind").fill("laptop");
  await form.getByLabel("Owner").selectOption("council");
  await form.getByLabel("Make").fill("Dell");
  await form.getByLabel("Model").fill("Latitude 5440");
  await form.getByLabel("Serial number").fill("5CD1234XYZ");
  await form.getByRole("button", { name: "Register the device" }).click();
  await page.waitForURL(/\/devices\/LAP-BROWSER-1\?recorded=device_registered/);
  const summary = await page.locator("dl").innerText();
  assert.match(summary, /Dell/);
  assert.match(summary, /Latitude 5440/);
  assert.match(summary, /5CD1234XYZ/);
  await audit(page);
  await page.close();
});

test("ICT uploads an HR export, checks what it would record, and records it", async () => {
  const page = await signIn(browser, demo, "ict_admin");
  await page.getByRole("link", { name: "People", exact: true }).first().click();
  await page.getByRole("link", { name: "Import from a file" }).click();
  await page.getByRole("heading", { name: "Import an export" }).waitFor();
  await audit(page);
  await page.locator("#file").setInputFiles(path.join(root, "examples/imports/hr-people.csv"));
  await page.getByRole("button", { name: "Check the file" }).click();
  await page.getByRole("heading", { name: "What it would record" }).waitFor();
  assert.match(await page.locator("#import-read").innerText(), /read as hr-people, 4 rows/);
  await audit(page);
  await shot(page, "import-plan");
  await page.getByRole("button", { name: "Record these 5 events" }).click();
  await page.locator("#import-recorded").waitFor();
  assert.match(await page.locator("#import-recorded").innerText(), /Recorded 5 events/);
  await audit(page);
  await page.close();
});

test("with JavaScript off, a manager finds their team and records a move, and sees no one else", async () => {
  const page = await signIn(browser, demo, "manager", { javaScriptEnabled: false });
  // A manager's reach is their team, not the council's registers.
  const register = await page.goto(`${demo.url}/c/${demo.council}/people`);
  assert.equal(register.status(), 403);
  await page.goto(`${demo.url}/c/${demo.council}/me`);
  await page.getByRole("link", { name: /people you manage/ }).click();
  await page.waitForURL(/\/team$/);
  const member = page.locator("#my-team").getByRole("link").first();
  const name = await member.innerText();
  await member.click();
  await page.waitForURL(/\/people\/[^/?]+$/);
  const person = new URL(page.url()).pathname.split("/").pop();
  await page.getByText("Record a move (new department or job)").click();
  await page.getByLabel("New job title").fill("Director of Resources");
  await page.getByRole("button", { name: "Record the move" }).click();
  await page.waitForURL(new RegExp(`/people/${person}\\?recorded=person_moved$`));
  assert.match(await page.locator(".govuk-notification-banner--success").innerText(), /The move is recorded/);
  assert.match(await page.locator("dl").innerText(), /Director of Resources/);
  assert.ok(name.length > 0);
  // Someone outside the team is out of reach.
  const other = await page.goto(`${demo.url}/c/${demo.council}/people/${demo.account("siro").person}`);
  assert.equal(other.status(), 403);
  await page.close();
});

test("an entry is corrected: voided, struck through in the history, and recorded again", async () => {
  assert.ok(demo.leaver, "the leaver test ran first");
  const page = await signIn(browser, demo, "ict_admin");
  await page.goto(`${demo.url}/c/${demo.council}/people/${demo.leaver}`);
  const row = page.locator("table.warden-history tr", { hasText: "left (resigned)" });
  await row.getByRole("link").click();
  await page.waitForURL(/\/events\/\d+$/);
  await audit(page);
  await page.getByLabel("Why is it being corrected?").fill("the reason was recorded wrongly");
  await page.getByLabel("Reason", { exact: true }).fill("not re-elected");
  await page.getByRole("button", { name: "Void and record the corrected entry" }).click();
  await page.waitForURL(/recorded=corrected/);
  assert.match(await page.locator(".govuk-notification-banner--success").innerText(), /corrected/);
  await page.goto(`${demo.url}/c/${demo.council}/people/${demo.leaver}`);
  const history = page.locator("table.warden-history");
  assert.match(await history.locator("del").allInnerTexts().then((t) => t.join("\n")), /left \(resigned\)/);
  assert.match(await history.innerText(), /left \(not re-elected\)/);
  assert.match(await history.innerText(), /the reason was recorded wrongly/);
  await audit(page);
  await shot(page, "history");
  // The dashboard as an earlier day ended.
  await page.goto(`${demo.url}/c/${demo.council}`);
  await page.getByText("See an earlier day").click();
  const yesterday = new Date(Date.now() - 24 * 3600 * 1000).toISOString().slice(0, 10);
  await page.getByLabel("As of the end of").fill(yesterday);
  await page.getByRole("button", { name: "Show" }).click();
  await page.waitForURL(/date=/);
  assert.match(await page.locator("main").innerText(), /As of /);
  await audit(page);
  await page.close();
});

test("an information governance officer reads the rules in words, compares councils, and asks what if", async () => {
  const ig = await signIn(browser, demo, "information_governance");
  await ig.goto(`${demo.url}/c/${demo.council}/policies`);
  await ig.getByRole("link", { name: "The rules in words" }).click();
  await ig.waitForURL(/\/pack$/);
  assert.match(await ig.locator("main").innerText(), /within 48 hours/);
  assert.match(await ig.locator("main").innerText(), /Against published guidance/);
  await audit(ig);
  await ig.getByRole("link", { name: "Compare with the other councils" }).click();
  await ig.waitForURL(/\/pack\/compare$/);
  assert.match(await ig.locator("table").innerText(), /5 working days/);
  await audit(ig);
  await ig.goto(`${demo.url}/c/${demo.council}/what-if`);
  await ig.getByLabel("Change a rule").selectOption("southend.devices-returned-48h");
  await ig.getByLabel("Field").fill("within");
  await ig.getByLabel("New value").fill("1h");
  await ig.getByRole("button", { name: "Compare" }).click();
  await ig.waitForURL(/what-if\?/);
  assert.match(await ig.locator("main h2").first().innerText(), /Under southend with within set to 1h/);
  await audit(ig);
  await ig.getByLabel("Field").fill("every");
  await ig.getByRole("button", { name: "Compare" }).click();
  await ig.locator(".govuk-error-summary").waitFor();
  assert.match(await ig.locator(".govuk-error-summary").innerText(), /not a field of southend\.devices-returned-48h/);
  await ig.close();
});

test("no page visited has a WCAG 2.2 A or AA violation", () => {
  assert.ok(audited.size >= 10, `audited ${audited.size} pages`);
  const failures = [...audited].filter(([, v]) => v.length > 0);
  assert.deepEqual(failures, []);
});

test("no page visited scrolls sideways at 320 CSS px", () => {
  assert.ok(reflowed.size >= 10, `measured ${reflowed.size} pages`);
  const wide = [...reflowed].filter(([, width]) => width > 320);
  assert.deepEqual(wide, []);
});
