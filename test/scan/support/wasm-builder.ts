// A WebAssembly binary built byte by byte: one function type and the given function imports. Enough to
// exercise compile-and-list-imports without a toolchain.
const leb128 = (n: number): number[] => {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
};

const name = (text: string): number[] => {
  const bytes = [...Buffer.from(text, 'utf8')];
  return [...leb128(bytes.length), ...bytes];
};

const section = (id: number, body: number[]): number[] => [id, ...leb128(body.length), ...body];

/** imports: "module.name" strings (split at the first dot). */
export const wasmModule = (imports: readonly string[]): Buffer => {
  const typeSection = section(1, [1, 0x60, 0, 0]);
  const entries = imports.flatMap((full) => {
    const dot = full.indexOf('.');
    return [...name(full.slice(0, dot)), ...name(full.slice(dot + 1)), 0x00, 0x00];
  });
  const importSection = section(2, [...leb128(imports.length), ...entries]);
  return Buffer.from([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...typeSection, ...importSection]);
};
