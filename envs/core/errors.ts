/** Errors that name what was wrong and what is allowed, so a user can fix the input at once. */

/** A bad input value: names the field, what was received and what is allowed. */
export class FieldError extends Error {
  constructor(
    /** What was being read: `action`, `config`… */
    kind: string,
    /** Dotted path of the offending field, e.g. `priority_mode` or `reallocation_delta.passport`. */
    readonly field: string,
    /** What the field may hold. */
    readonly allowed: string,
    /** What was received, as short text. */
    readonly received: string,
  ) {
    super(`invalid ${kind}: field '${field}' ${received}; allowed: ${allowed}`);
  }
}

/** A malformed action: the env is unchanged and no step is counted. */
export class InvalidActionError extends FieldError {
  override readonly name = 'InvalidActionError';
  constructor(field: string, allowed: string, received: string) {
    super('action', field, allowed, received);
  }
}

/** `step()` after the episode has terminated or been truncated. */
export class EpisodeEndedError extends Error {
  override readonly name = 'EpisodeEndedError';
  constructor(envId: string) {
    super(`${envId}: the episode has ended (terminated or truncated); call reset() before step()`);
  }
}

/** `step()` before the first `reset()`. */
export class NotResetError extends Error {
  override readonly name = 'NotResetError';
  constructor(envId: string) {
    super(`${envId}: call reset() before step()`);
  }
}

/** An id (task, env, agent…) that is not known; the message lists the known ones. */
export class UnknownIdError extends Error {
  override readonly name = 'UnknownIdError';
  constructor(
    readonly kind: string,
    readonly received: string,
    readonly known: readonly string[],
  ) {
    super(`unknown ${kind} '${received}'; known ${kind}s: ${known.join(', ')}`);
  }
}

/** A bad configuration value. */
export class InvalidConfigError extends FieldError {
  override readonly name = 'InvalidConfigError';
  constructor(field: string, allowed: string, received: string) {
    super('config', field, allowed, received);
  }
}

/** An action index that the current mask forbids. */
export class MaskedActionError extends Error {
  override readonly name = 'MaskedActionError';
  constructor(index: number, label: string, allowed: readonly number[]) {
    super(`action ${index} (${label}) is masked out in this state; allowed: ${allowed.join(', ')}`);
  }
}
