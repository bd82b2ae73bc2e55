// What an archive and every nested subchart archive in it may use together: entries and uncompressed bytes.
export interface ArchiveBudget {
  entries: number;
  bytes: number;
}

export const newArchiveBudget = (): ArchiveBudget => ({ entries: 0, bytes: 0 });
