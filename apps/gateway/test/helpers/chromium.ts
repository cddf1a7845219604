/**
 * Test helper: the headless Chromium the browser tests drive through playwright-core
 * (`CHROMIUM_PATH`, default /usr/bin/chromium). Tests skip themselves when it is missing.
 */
import * as fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Path of the Chromium binary. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** True when the Chromium binary exists on this machine. */
export const haveChromium = fs.existsSync(CHROMIUM_PATH);

/** Launches Chromium headless, sandbox off (root in CI), without GPU, sync or background traffic. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
