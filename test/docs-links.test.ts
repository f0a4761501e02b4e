/**
 * The documentation holds together: every relative link and image in README.md and docs/**.md
 * points to a file that exists, every #fragment into a Markdown file names one of its headings
 * (GitHub's slugs), the README links every page directly under docs/, and stays short.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { expect, test } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const README = join(ROOT, 'README.md');
const DOCS = join(ROOT, 'docs');
const README_MAX_LINES = 170;

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? markdownFiles(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : []));
}
const files = [README, ...markdownFiles(DOCS)];
const rel = (file: string) => relative(ROOT, file);

/** The lines outside fenced code blocks, inline code spans left out unless keepCode. */
function prose(text: string, keepCode = false): string[] {
  let fenced = false;
  return text.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : keepCode ? line : line.replace(/`[^`]*`/g, '');
  });
}

/** Link and image targets, inline `](target "title")` and reference `[id]: target`. */
function targets(text: string): string[] {
  return prose(text).flatMap((line) => [
    ...[...line.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]),
    ...[...line.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/g)].map((m) => m[1]),
  ]);
}
const external = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target); // http:, https:, mailto:, ...

/** GitHub's anchor for a heading: its text lowercased, punctuation but '-' and '_' dropped, each space a '-'. */
function slug(heading: string): string {
  const text = heading.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]*>/g, '').replace(/[`*]/g, '');
  return text.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}
const anchorCache = new Map<string, Set<string>>();
function anchors(file: string): Set<string> {
  let set = anchorCache.get(file);
  if (!set) {
    set = new Set();
    const counts = new Map<string, number>();
    for (const line of prose(readFileSync(file, 'utf8'), true)) {
      const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
      if (!m) continue;
      const base = slug(m[1]);
      const n = counts.get(base) ?? 0;
      counts.set(base, n + 1);
      set.add(n === 0 ? base : `${base}-${n}`);
    }
    anchorCache.set(file, set);
  }
  return set;
}

test('every relative link and image in README.md and docs/ resolves, fragments included', () => {
  const broken: string[] = [];
  let seen = 0;
  for (const file of files) {
    for (const target of targets(readFileSync(file, 'utf8'))) {
      if (!target || external(target)) continue;
      seen++;
      const [path, fragment] = target.split('#', 2);
      const to = path ? resolve(dirname(file), decodeURIComponent(path)) : file;
      if (!to.startsWith(ROOT + '/') && to !== ROOT) broken.push(`${rel(file)}: ${target} (leaves the repository)`);
      else if (!existsSync(to)) broken.push(`${rel(file)}: ${target} (no such file)`);
      else if (fragment && to.endsWith('.md') && !anchors(to).has(fragment)) broken.push(`${rel(file)}: ${target} (no heading #${fragment} in ${rel(to)})`);
    }
  }
  expect(seen).toBeGreaterThan(40); // the scan read the links
  expect(broken).toEqual([]);
});

test('the README links every page directly under docs/', () => {
  const pages = readdirSync(DOCS).filter((name) => name.endsWith('.md')).map((name) => join(DOCS, name));
  const linked = new Set(targets(readFileSync(README, 'utf8')).filter((t) => !external(t)).map((t) => resolve(ROOT, t.split('#')[0])));
  expect(pages.length).toBeGreaterThan(0);
  expect(pages.filter((page) => !linked.has(page)).map(rel)).toEqual([]);
});

test(`README.md is at most ${README_MAX_LINES} lines`, () => {
  const lines = readFileSync(README, 'utf8').replace(/\n$/, '').split('\n').length;
  expect(lines).toBeLessThanOrEqual(README_MAX_LINES);
});
