// A fresh clone stands alone: no tracked file reads or cites a path outside the repository (the directory
// beside the checkout that held third-party CRDs and the design notes, or the machine it was written on).
// Scans the files git tracks, as a clone has them; this file is left out, since it names the patterns.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../env/paths.ts';

const SELF = 'test/repository/no-outside-paths.test.ts';

const tracked = (): string[] =>
  execFileSync('git', ['ls-files', '-z'], { cwd: projectRoot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    .split('\0')
    .filter((f) => f !== '' && f !== SELF);

/** `file:line: text` for every line of a tracked file that matches. */
const occurrences = (pattern: RegExp, except: readonly string[] = []): string[] =>
  tracked()
    .filter((file) => !except.includes(file))
    .flatMap((file) => {
      let text: string;
      try {
        text = readFileSync(join(projectRoot, file), 'utf8');
      } catch {
        return []; // deleted in the work tree but still in the index
      }
      return text
        .split('\n')
        .flatMap((line, i) => (pattern.test(line) ? [`${file}:${i + 1}: ${line.trim().slice(0, 160)}`] : []));
    });

describe('the repository needs nothing outside itself', () => {
  it('scans the tracked files', () => {
    expect(tracked()).toEqual(
      expect.arrayContaining(['package.json', 'scripts/testbin.sh', 'test/env/paths.ts']),
    );
  });

  it('no tracked file names the directory beside the checkout or this machine’s paths', () => {
    expect(occurrences(/\.\.\/shared|shared\/crds|shared\/DESIGN|shared\/STYLE|\/work\//)).toEqual([]);
  });

  it('the design and style notes are cited as docs/design.md and CONTRIBUTING.md, not as the old out-of-tree files', () => {
    expect(occurrences(/\b(DESIGN|STYLE)\.md\b/, ['docs/design.md', 'CONTRIBUTING.md'])).toEqual([]);
  });
});
