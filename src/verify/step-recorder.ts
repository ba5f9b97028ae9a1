/**
 * The steps of a verification run (`tlsverify`, `checktls`) as they happen:
 * each is one line of text (the SPEC §7 forms) plus a kind and a status, kept
 * in order for `--json` and handed to an `onStep` callback at once, so the CLI
 * can print and the GUI can stream them live.
 */
export type StepKind =
  | 'resolve'
  | 'connecting'
  | 'connected'
  | 'ehlo'
  | 'checking-tls'
  | 'tls-established'
  | 'verifying'
  | 'probe'
  | 'chain-certificate'
  | 'chain'
  | 'name'
  | 'assure'
  | 'completed'
  | 'failed';

export type StepStatus = 'info' | 'ok' | 'fail';

export interface VerifyStep {
  kind: StepKind;
  status: StepStatus;
  text: string;
  /** Milliseconds since the run started. */
  elapsedMs: number;
}

export class StepRecorder {
  readonly steps: VerifyStep[] = [];
  private readonly started = performance.now();

  constructor(private readonly onStep?: (step: VerifyStep) => void) {}

  add(kind: StepKind, text: string, status: StepStatus = 'info'): VerifyStep {
    const step: VerifyStep = { kind, status, text, elapsedMs: Math.round(performance.now() - this.started) };
    this.steps.push(step);
    try {
      this.onStep?.(step);
    } catch {
      // A listener's failure (a closed GUI stream) never stops the run.
    }
    return step;
  }
}
