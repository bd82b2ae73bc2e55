// Label selector cases shared by the unit test and the cross-check against the real API server.
export const VALID_SELECTORS: readonly string[] = [
  '',
  'sharding.tagguard.dev/key=shard1',
  'sharding.tagguard.dev/key==shard1',
  '!sharding.tagguard.dev/key',
  'sharding.tagguard.dev/key in (shard1, shard2)',
  'sharding.tagguard.dev/key notin (shard1)',
  'a=b,c!=d',
  'a, !b',
  'a=',
  'v>3',
  'v<10',
  'tier in (a,b,), env',
  ' a = b ',
  'in=x',
];

export const INVALID_SELECTORS: readonly string[] = [
  'a=b,',
  ',a',
  'a=b c',
  'a in b',
  'a in (b',
  'Sharding.TagGuard.dev/key=x',
  '-a=b',
  'a=-b',
  'a>b',
  'a=b)',
  `${'k'.repeat(64)}=v`,
  `k=${'v'.repeat(64)}`,
  'a/b/c=d',
  '!a=b',
  'a=b=c',
];

export const LABEL_SETS: readonly Readonly<Record<string, string>>[] = [
  {},
  { 'sharding.tagguard.dev/key': 'shard1' },
  { 'sharding.tagguard.dev/key': 'shard2' },
  { a: 'b', c: 'd' },
  { a: '', b: 'x' },
  { v: '4', w: '9' },
  { v: '2' },
  { tier: 'a', env: 'prod' },
  { tier: '', env: 'dev' },
  { in: 'x' },
];
