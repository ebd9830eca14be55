import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// Every relative link in README.md and docs/*.md names a file of the repository. The docs use no anchors, so a
// link is a path; one with `#` is refused, since nothing here checks headings.

const DOCS = [
  'README.md',
  ...fs
    .readdirSync('docs')
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** Targets of Markdown links `[text](target)` and reference definitions `[label]: target`, outside code. */
function linkTargets(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  const inline = [...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => match[1]);
  const references = [...prose.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/gm)].map((match) => match[1]);
  return [...inline, ...references];
}

function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target);
}

describe('links in the docs', () => {
  it('finds the docs', () => {
    expect(DOCS).toContain('README.md');
    expect(DOCS).toEqual(expect.arrayContaining(['docs/formats.md', 'docs/papers.md', 'docs/results.md']));
  });

  it('reads links and skips code', () => {
    expect(linkTargets('see [a](docs/a.md) and [b](https://x.y) `[c](nope.md)`\n```\n[d](no.md)\n```\n[e]: ./e.md')).toEqual([
      'docs/a.md',
      'https://x.y',
      './e.md',
    ]);
  });

  for (const file of DOCS) {
    it(`${file}: every relative link resolves to a file in the repository`, () => {
      const root = path.resolve('.');
      for (const target of linkTargets(fs.readFileSync(file, 'utf8')).filter((t) => !isExternal(t))) {
        expect(target, `${file}: ${target}: anchors are not checked; link the file`).not.toContain('#');
        const resolved = path.resolve(path.dirname(file), decodeURIComponent(target));
        expect(resolved.startsWith(root + path.sep), `${file}: ${target} points outside the repository`).toBe(true);
        expect(fs.existsSync(resolved), `${file}: ${target} does not exist`).toBe(true);
      }
    });
  }
});
