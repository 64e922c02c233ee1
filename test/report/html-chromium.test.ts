/**
 * The HTML report as a browser shows it: headless Chromium (Debian's `chromium` package) loads the page from a file,
 * then the test reads the DOM it built (`--dump-dom`) and the pixels it painted (`--screenshot`).
 *
 * The browser is `FOGPILOT_CHROMIUM`, else `chromium` / `chromium-browser` on PATH. Without one these tests fail and
 * say how to install it, unless `FOGPILOT_SKIP_BROWSER=1` (then they are skipped with that reason).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { renderReport } from '../../src/report';
import type { RunbookReport } from '../../src/workflows/definitions';
import { dumpDom, lookUpChromium, requireChromium, screenshot } from '../support/chromium';
import { decodePng, longestRun } from '../support/png';
import { drillReport, failedPlannedFailoverReport } from './fixtures';

/** Must match the renderer's colours: the screenshot is searched for them. */
const SUCCEEDED = '#2f855a';
const FAILED = '#c53030';
/** The timeline's axis width in CSS pixels, as drawn (the SVG is not scaled). */
const CHART_WIDTH = 640;

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", nbsp: ' ' };

/** The text a DOM holds outside head, style and SVG, tags dropped and entities decoded, whitespace collapsed. */
function textOf(dom: string): string {
  return dom
    .replace(/<head>[\s\S]*?<\/head>|<svg[\s\S]*?<\/svg>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_, name: string) => ENTITIES[name]!)
    .replace(/\s+/g, ' ');
}

/** The text of the headline figure with this `data-fact`. */
function fact(dom: string, key: string): { value: string; detail: string } {
  const match = new RegExp(
    `<div class="fact[^"]*" data-fact="${key}"><dt>[^<]*</dt><dd class="value">([^<]*)</dd>(?:<dd class="detail">([^<]*)</dd>)?</div>`,
  ).exec(dom);
  assert.ok(match, `the headline shows ${key}`);
  return { value: textOf(match[1]!).trim(), detail: textOf(match[2] ?? '').trim() };
}

interface Rendered {
  report: RunbookReport;
  dom: string;
  png: ReturnType<typeof decodePng>;
}

const lookup = lookUpChromium();

describe('finding the browser', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'fogpilot-no-chromium-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('fails with install instructions when no Chromium is on PATH and FOGPILOT_CHROMIUM is unset', () => {
    const found = lookUpChromium({ PATH: dir });
    assert.ok('missing' in found, JSON.stringify(found));
    assert.match(found.missing, /neither chromium nor chromium-browser is on PATH/);
    assert.match(found.missing, /apt-get update && apt-get install -y chromium/);
    assert.match(found.missing, /FOGPILOT_SKIP_BROWSER=1/);
    assert.throws(() => requireChromium(found), /apt-get install -y chromium/);
  });

  it('skips, saying why, only when FOGPILOT_SKIP_BROWSER=1 and no Chromium is found', () => {
    const skipped = lookUpChromium({ PATH: dir, FOGPILOT_SKIP_BROWSER: '1' });
    assert.ok('skip' in skipped, JSON.stringify(skipped));
    assert.match(skipped.skip, /No Chromium found.*Skipped: FOGPILOT_SKIP_BROWSER=1/);
    const fake = path.join(dir, 'chromium');
    writeFileSync(fake, '#!/bin/sh\n');
    chmodSync(fake, 0o755);
    assert.deepEqual(lookUpChromium({ PATH: dir, FOGPILOT_SKIP_BROWSER: '1' }), { binary: fake });
  });

  it('takes FOGPILOT_CHROMIUM before PATH, and names it when it points at nothing', () => {
    const fake = path.join(dir, 'my-chrome');
    writeFileSync(fake, '#!/bin/sh\n');
    chmodSync(fake, 0o755);
    assert.deepEqual(lookUpChromium({ PATH: '/usr/bin:/bin', FOGPILOT_CHROMIUM: fake }), { binary: fake });
    const wrong = lookUpChromium({ PATH: '/usr/bin:/bin', FOGPILOT_CHROMIUM: path.join(dir, 'nothing') });
    assert.ok('missing' in wrong);
    assert.match(wrong.missing, /^FOGPILOT_CHROMIUM=.*nothing is not an executable file\. Install/);
  });
});

describe('the HTML report in headless Chromium', { skip: 'skip' in lookup ? lookup.skip : false }, () => {
  let dir: string;
  let drill: Rendered;
  let failed: Rendered;

  before(async () => {
    if (!('binary' in lookup)) return; // each test fails with the install instructions
    const browser = lookup.binary;
    dir = mkdtempSync(path.join(tmpdir(), 'fogpilot-report-'));
    const hostile = failedPlannedFailoverReport();
    hostile.steps[1]!.title = '<script>document.title="pwned"</script>';
    const render = async (name: string, report: RunbookReport): Promise<Rendered> => {
      const page = path.join(dir, `${name}.html`);
      const png = path.join(dir, `${name}.png`);
      writeFileSync(page, renderReport(report, 'html'));
      const [dom] = await Promise.all([dumpDom(browser, page), screenshot(browser, page, png)]);
      return { report, dom, png: decodePng(readFileSync(png)) };
    };
    [drill, failed] = await Promise.all([render('drill', drillReport()), render('failed', hostile)]);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the drill headline: outcome, RTO each way, downtime seen by the workload and the zero-loss verdict', () => {
    requireChromium(lookup);
    assert.match(drill.dom, /<h1>DR drill of fog-sales: succeeded<\/h1>/);
    assert.equal(fact(drill.dom, 'outcome').value, 'succeeded');
    assert.equal(fact(drill.dom, 'rto-failover').value, '40.5 s');
    assert.equal(fact(drill.dom, 'rto-failback').value, '39.2 s');
    assert.equal(fact(drill.dom, 'downtime').value, '72.6 s');
    assert.match(fact(drill.dom, 'downtime').detail, /^2 windows without a successful write/);
    assert.equal(fact(drill.dom, 'data-loss').value, 'none (zero-loss verdict)');
    assert.match(fact(drill.dom, 'data-loss').detail, /all 128 acknowledged writes read back/);
    const text = textOf(drill.dom);
    for (const expected of [
      'Roles',
      'Steps',
      'Legs',
      'Write probe through the listener',
      'Smoke checks',
      'ARM calls',
    ]) {
      assert.ok(text.includes(` ${expected} `), `the page has a ${expected} section`);
    }
  });

  it('builds the SVG timeline with one bar per step and both legs marked', () => {
    requireChromium(lookup);
    const svg = /<svg[^>]*class="timeline"[\s\S]*?<\/svg>/.exec(drill.dom)?.[0];
    assert.ok(svg, 'the DOM has the timeline as SVG');
    const steps = [...svg.matchAll(/<rect class="bar [^"]*" data-step="([^"]*)"/g)].map((match) => match[1]);
    assert.deepEqual(
      steps,
      drill.report.steps.map((step) => step.name),
    );
    assert.match(svg, /<g class="leg leg-failover"[\s\S]*?failover eastus → westus · RTO 40\.5 s/);
    assert.match(svg, /<g class="leg leg-failback"[\s\S]*?failback westus → eastus · RTO 39\.2 s/);
  });

  it('paints the bars to scale: the soak is the longest green bar, its length in proportion to the run', () => {
    requireChromium(lookup);
    const { report } = drill;
    const span = (Date.parse(report.steps.at(-1)!.endedAt!) - Date.parse(report.steps[0]!.startedAt!)) / 1000;
    const soak = longestRun(drill.png, SUCCEEDED);
    const expected = (CHART_WIDTH * 120.03) / span;
    assert.ok(Math.abs(soak.length - expected) <= 2, `the soak bar is ${soak.length}px, expected ≈${expected}px`);
    assert.equal(longestRun(drill.png, FAILED).length, 0, 'nothing failed, nothing is painted red');
  });

  it('shows the failed planned failover: outcome, the RTO not reached, data loss unknown, and the red failed step', () => {
    requireChromium(lookup);
    assert.equal(fact(failed.dom, 'outcome').value, 'failed');
    assert.match(fact(failed.dom, 'outcome').detail, /^RoleSwitchTimeout, took 17 min 30 s$/);
    assert.equal(fact(failed.dom, 'rto-failover').value, 'not reached');
    assert.equal(fact(failed.dom, 'data-loss').value, 'unknown');
    assert.doesNotMatch(failed.dom, /data-fact="(rto-failback|downtime)"/);
    assert.match(textOf(failed.dom), /RoleSwitchTimeout: The failover to westus was requested at/);
    const { report } = failed;
    const span = (Date.parse(report.steps.at(-1)!.endedAt!) - Date.parse(report.steps[0]!.startedAt!)) / 1000;
    const red = longestRun(failed.png, FAILED);
    const expected = (CHART_WIDTH * 900) / span;
    assert.ok(
      Math.abs(red.length - expected) <= 2,
      `the failed await-roles bar is ${red.length}px, expected ≈${expected}px`,
    );
  });

  it('shows a step title carrying a script as text, and runs nothing', () => {
    requireChromium(lookup);
    assert.doesNotMatch(failed.dom, /<script/i);
    assert.ok(
      textOf(failed.dom).includes('<script>document.title="pwned"</script>'),
      'the title is on the page as text',
    );
    assert.doesNotMatch(failed.dom, /<title>pwned<\/title>/);
  });
});
