// The design and the style guide live in the repository (docs/design.md, CONTRIBUTING.md): no file a user
// clones cites the design notes that once lived beside the checkout. Links to docs/*.md anchors must resolve.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const SCANNED = ['src', 'test', 'docs', 'config', 'crds', 'scripts', 'bench', 'README.md', 'CONTRIBUTING.md'];
const SKIP_DIRS = new Set(['node_modules', '.testbin', 'dist']);

const filesUnder = (relative: string): string[] => {
  const full = path.join(root, relative);
  if (statSync(full).isFile()) return [relative];
  return readdirSync(full)
    .filter((name) => !SKIP_DIRS.has(name))
    .flatMap((name) => filesUnder(path.join(relative, name)));
};

const files = SCANNED.flatMap(filesUnder).filter((f) => /\.(ts|js|md|ya?ml|sh|go|json)$/.test(f));

// Spelled in pieces so that this file does not match itself.
const OUT_OF_TREE = [
  new RegExp('DESIGN' + ' §'),
  new RegExp('DESIGN' + '\\.md'),
  new RegExp('STYLE' + '\\.md'),
];

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, '')
    .replace(/ /g, '-');

const anchorsOf = (doc: string): Set<string> =>
  new Set(
    readFileSync(path.join(root, doc), 'utf8')
      .split('\n')
      .flatMap((line) => /^#+\s+(.*)$/.exec(line)?.[1] ?? [])
      .map(slug),
  );

describe('citations', () => {
  it('scans the files a clone has', () => {
    expect(files).toContain('src/controller/reconciler.ts');
    expect(files).toContain('docs/design.md');
  });

  it('cite no design notes from outside the repository', () => {
    const offending = files.flatMap((file) =>
      readFileSync(path.join(root, file), 'utf8')
        .split('\n')
        .flatMap((line, i) =>
          OUT_OF_TREE.some((p) => p.test(line)) ? [`${file}:${i + 1}: ${line.trim()}`] : [],
        ),
    );
    expect(offending).toEqual([]);
  });

  it('name anchors of docs/*.md that exist', () => {
    const broken = files.flatMap((file) =>
      [...readFileSync(path.join(root, file), 'utf8').matchAll(/docs\/([\w-]+\.md)#([\w-]+)/g)].flatMap(
        ([cited, doc = '', anchor = '']) =>
          anchorsOf(`docs/${doc}`).has(anchor) ? [] : [`${file}: ${cited}`],
      ),
    );
    expect(broken).toEqual([]);
  });
});
