import { defineConfig } from '@playwright/test';
import base from './playwright.config.ts';

// `npm run screenshots`: the README's pictures of the page (docs/screenshots), not a test run.
export default defineConfig({ ...base, testDir: 'e2e/screenshots', testIgnore: [] });
