// The webhook Secret, read through the API server and re-read at most every refreshMs (30 s), so a
// rotated token takes effect within that without a restart. A failed read keeps the last good value; a
// deleted or unusable Secret stops authentication (the receiver answers 503 until it is fixed). Nothing
// of the Secret's content is ever logged.
import type { Logger } from 'pino';
import { parseWebhookSecret, type WebhookSecret } from './auth.ts';
import { WebhookError } from './push-event.ts';

export type SecretReader = () => Promise<Readonly<Record<string, Buffer>> | undefined>;

export class WebhookSecretSource {
  private value: WebhookSecret | undefined;
  private readAt = -Infinity;
  private loading: Promise<WebhookSecret | undefined> | undefined;
  private problem: string | undefined;

  private readonly read: SecretReader;
  private readonly options: { name: string; logger: Logger; refreshMs?: number; now?: () => number };
  private readonly refreshMs: number;

  constructor(
    read: SecretReader,
    options: { name: string; logger: Logger; refreshMs?: number; now?: () => number },
  ) {
    this.read = read;
    this.options = options;
    this.refreshMs = options.refreshMs ?? 30_000;
  }

  get(): Promise<WebhookSecret | undefined> {
    const now = (this.options.now ?? Date.now)();
    if (now - this.readAt < this.refreshMs) return Promise.resolve(this.value);
    this.loading ??= this.load(now).finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(now: number): Promise<WebhookSecret | undefined> {
    let problem: string | undefined;
    try {
      const data = await this.read();
      this.readAt = now;
      if (data === undefined) {
        this.value = undefined;
        problem = 'not found';
      } else {
        this.value = parseWebhookSecret(data);
      }
    } catch (error) {
      if (error instanceof WebhookError) {
        this.readAt = now;
        this.value = undefined;
        problem = error.message;
      } else {
        // The API server is unreachable: keep what we had, and ask again in a few seconds (not at every
        // request, which anyone can send).
        this.readAt = now - this.refreshMs + Math.min(5_000, this.refreshMs);
        const code = (error as { code?: unknown }).code;
        problem = `could not be read (${typeof code === 'number' || typeof code === 'string' ? code : 'error'})`;
      }
    }
    if (problem !== this.problem) {
      if (problem)
        this.options.logger.warn({ secret: this.options.name, problem }, 'webhook Secret unusable');
      else this.options.logger.info({ secret: this.options.name }, 'webhook Secret loaded');
      this.problem = problem;
    }
    return this.value;
  }
}
