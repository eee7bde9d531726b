import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesignPlan } from '../remediation/design/design-types.js';
import { renderHtml } from '../remediation/design/render-html.js';
import { runCli } from './support/cli.js';
import { loadDesignFixture, USERNAME_VARIABLE } from './support/design-fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
// Without the background-networking flags Chromium keeps dialling out, and this machine's closed network
// refuses it many times a second; the page itself must need no network at all.
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const payments = loadDesignFixture('payments');
const hostile = loadDesignFixture('hostile');

let profile: string;
let context: BrowserContext;
/** Every request a page tried to make; all are refused. */
const requests: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: the HTML design report is checked in a real browser. ` +
        'Install it with `apt-get install -y chromium` (as .ci/run does), then run the tests again.',
    );
  }
  profile = mkdtempSync(join(tmpdir(), 'design-html-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
  });
  await context.route('**/*', async (route) => {
    requests.push(route.request().url());
    await route.abort();
  });
});

afterAll(async () => {
  await context?.close();
  if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
});

async function open(html: string): Promise<Page> {
  const page = await context.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.setContent(html, { waitUntil: 'load' });
  expect(dialogs).toEqual([]);
  return page;
}

describe('the HTML design report in headless Chromium', () => {
  it('shows the summary, every group with its policies, and every member of every group', async () => {
    const page = await open(renderHtml(payments));
    expect(await page.title()).toBe('IAM group design for account 111122223333');
    const summary = await page.locator('table.summary').innerText();
    expect(summary).toMatch(/Groups\s+12\s+14/);
    expect(summary).toMatch(/Policies attached directly to users\s+23\s+3/);
    for (const group of payments.groups) {
      const section = page.locator('section.group').filter({
        has: page.locator('.group-name', { hasText: group.name }),
      });
      await expect.poll(() => section.count()).toBe(1);
      expect(await section.locator('ul.members li').allInnerTexts()).toEqual(group.members);
      expect(await section.locator('ul.policies li').count()).toBe(group.policies.length);
    }
    // A policy's ARN is in the title of its name.
    const deploy = page.locator('[title="arn:aws:iam::111122223333:policy/payments-deploy"]').first();
    expect(await deploy.innerText()).toBe('payments-deploy');
    await page.close();
  });

  it('the matrix has one row per member, one column per group and one mark per membership', async () => {
    const page = await open(renderHtml(payments));
    const memberships = payments.groups.reduce((sum, g) => sum + g.members.length, 0);
    expect(await page.locator('table.matrix td.mark').count()).toBe(memberships);
    expect(await page.locator('table.matrix thead th.col').allInnerTexts()).toEqual(
      payments.groups.map((g) => g.name),
    );
    const users = [...new Set(payments.groups.flatMap((g) => g.members))].sort();
    expect(await page.locator('table.matrix tbody th').allInnerTexts()).toEqual(users);
    // li.wei joins three groups and was already in none of them; mei.tanaka keeps two and joins none.
    const row = (user: string) => page.locator('table.matrix tbody tr').filter({ hasText: user });
    expect(await row('li.wei').locator('td.mark.joins').count()).toBe(3);
    expect(await row('mei.tanaka').locator('td.mark.kept').count()).toBe(2);
    expect(await row('mei.tanaka').locator('td.mark.joins').count()).toBe(0);
    await page.close();
  });

  it(`shows the ${USERNAME_VARIABLE} rewrite, the users left out with why, and new documents pretty-printed in <details>`, async () => {
    const page = await open(renderHtml(payments));
    const rewrites = await page.locator('table.rewrites').innerText();
    expect(rewrites).toContain('inline-3f9a1c07');
    expect(rewrites).toContain('li.wei: inline home');
    const changes = page.locator('table.changes tbody tr').filter({ hasText: 'sofia.rossi' });
    expect(await changes.innerText()).toMatch(
      /home-directory-access[\s\S]*ReadOnlyAccess \(managed\)[\s\S]*home-bucket \(inline\)/,
    );
    expect(await page.locator('table.changes tbody tr').count()).toBe(payments.users.length);
    const skipped = await page.locator('table.skipped').innerText();
    expect(skipped).toContain('breakglass-admin');
    expect(skipped).toContain('GroupsPerUserQuota 10');
    const details = page.locator('details#doc-inline-3f9a1c07');
    expect(await details.getAttribute('open')).toBeNull();
    await details.locator('summary').click();
    const pre = await details.locator('pre').innerText();
    expect(pre).toContain('\n  "Statement": [');
    expect(pre).toContain(`arn:aws:s3:::home/${USERNAME_VARIABLE}/*`);
    expect(JSON.parse(pre)).toEqual(
      JSON.parse((payments.policies['inline-3f9a1c07'] as { document: string }).document),
    );
    await page.close();
  });

  it('hostile names render as text: no script runs, no element is injected, nothing is fetched', async () => {
    const page = await open(renderHtml(hostile));
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('b, i, u').count()).toBe(0);
    const text = await page.locator('body').innerText();
    expect(text).toContain("<script>window.__pwned='policy'</script>");
    expect(text).toContain(`"><img src=x onerror="window.__pwned='group'">`);
    expect(text).toContain("</td><script>window.__pwned='member'</script>");
    expect(text).toContain("<script>window.__pwned='skipped'</script> & more");
    await page.locator('details summary').first().click();
    expect(await page.locator('details pre').first().innerText()).toContain(
      "x/</pre><script>window.__pwned='doc'</script>",
    );
    // The hostile member still has exactly its one mark.
    expect(await page.locator('table.matrix td.mark').count()).toBe(2);
    expect(requests).toEqual([]);
    await page.close();
  });

  it('the page `plan --input <fixture> --format html` prints shows every group of the plan file, with its members', async () => {
    const fixture = join(import.meta.dirname, 'fixtures', 'design', 'authorization-details.json');
    const out = join(profile, 'cli-plan.json');
    const run = await runCli(['plan', '--input', fixture, '--format', 'html', '--out', out]);
    expect(run.code).toBe(0);
    const plan = JSON.parse(readFileSync(out, 'utf8')) as DesignPlan;
    const page = await open(run.stdout);
    expect(await page.title()).toBe(`IAM group design for account ${plan.accountId}`);
    expect(plan.groups.length).toBeGreaterThan(0);
    for (const group of plan.groups) {
      // Exact: one generated name can be a prefix of another (search_a+b and search_a+b+c).
      const exact = new RegExp(`^${group.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
      const section = page.locator('section.group').filter({
        has: page.locator('.group-name', { hasText: exact }),
      });
      await expect.poll(() => section.count()).toBe(1);
      expect(await section.locator('ul.members li').allInnerTexts()).toEqual(group.members);
    }
    expect(await page.locator('table.changes tbody tr').count()).toBe(plan.users.length);
    await page.close();
  });

  it('the same plan renders to the same bytes', () => {
    expect(renderHtml(payments)).toBe(renderHtml(structuredClone(payments)));
  });
});
