/**
 * Progress for long jobs, on stderr: a redrawn bar on a TTY, plain periodic lines otherwise (CI logs).
 * Never writes to stdout, so machine-readable output stays clean.
 */
export class Progress {
  private done = 0;
  private lastLine = 0;
  private readonly start = Date.now();
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly enabled = true,
  ) {}

  tick(n = 1): void {
    this.done += n;
    if (!this.enabled) return;
    const now = Date.now();
    const finished = this.done >= this.total;
    if (this.tty) {
      const width = 30;
      const filled = Math.round((this.done / this.total) * width);
      process.stderr.write(
        `\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` +
          `${this.done}/${this.total}${finished ? '\n' : ''}`,
      );
    } else if (finished || now - this.lastLine >= 5000) {
      this.lastLine = now;
      process.stderr.write(`${this.label}: ${this.done}/${this.total} (${((now - this.start) / 1000).toFixed(1)} s)\n`);
    }
  }
}
