import { describe, expect, it } from 'vitest';
import { checkWasmModule, matchesAnyGlob } from '../../../src/scan/wasm/check-wasm.ts';
import { wasmModule } from '../support/wasm-builder.ts';

describe('checkWasmModule', () => {
  const bytes = wasmModule(['wasi_snapshot_preview1.fd_write', 'env.system']);

  it('lists imports as module.name and reports those no glob allows', async () => {
    const result = await checkWasmModule('sha256:x', bytes, ['wasi_snapshot_preview1.*']);
    expect(result.valid).toBe(true);
    expect(result.imports).toEqual(['wasi_snapshot_preview1.fd_write', 'env.system']);
    expect(result.disallowed).toEqual(['env.system']);
  });

  it('allows everything when allowedImports is not set, nothing when it is empty', async () => {
    expect((await checkWasmModule('sha256:x', bytes, undefined)).disallowed).toEqual([]);
    expect((await checkWasmModule('sha256:x', bytes, [])).disallowed).toHaveLength(2);
  });

  it('reports bytes that are not a WASM module as invalid, without throwing', async () => {
    const result = await checkWasmModule('sha256:x', Buffer.from('\0asm\x01\0\0\0garbage'), ['*']);
    expect(result.valid).toBe(false);
    expect(result.reason).toMatch(/not a valid WASM module/);
  });

  it('matches globs over the whole "module.name" string', () => {
    expect(matchesAnyGlob('wasi_snapshot_preview1.fd_write', ['wasi_snapshot_preview1.*'])).toBe(true);
    expect(matchesAnyGlob('wasi_snapshot_preview1x.fd_write', ['wasi_snapshot_preview1.*'])).toBe(false);
    expect(matchesAnyGlob('env.abort', ['env.abor?'])).toBe(true);
    expect(matchesAnyGlob('env.abort', ['env.(a|b)*'])).toBe(false);
  });
});
