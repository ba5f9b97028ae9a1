/**
 * The confidence score of `checktls` (SPEC §7), pure: each MX scores
 * 100 × (stages passed / stages), where a stage that was never reached
 * (an earlier one failed) counts as not passed; the domain score is the mean
 * of the MX scores weighted by 1/rank, rank 1 being the most preferred MX
 * (lowest preference value) and MX hosts of equal preference sharing a rank
 * (dense ranking: preferences 10, 10, 20 rank 1, 1, 2).
 *
 * Scores are exact here; callers round for display.
 */

export type StageStatus = 'pass' | 'fail' | 'not-run';

/** 100 × passed / all; 0 for no stages. */
export function mxScore(stages: readonly { status: StageStatus }[]): number {
  if (stages.length === 0) return 0;
  return (100 * stages.filter((s) => s.status === 'pass').length) / stages.length;
}

/** Dense rank of each preference (1 = most preferred), in input order. */
export function preferenceRanks(preferences: readonly number[]): number[] {
  const distinct = [...new Set(preferences)].sort((a, b) => a - b);
  return preferences.map((p) => distinct.indexOf(p) + 1);
}

/** Σ(score / rank) / Σ(1 / rank) over the MX hosts; 0 when there are none. */
export function domainScore(mx: readonly { preference: number; score: number }[]): number {
  if (mx.length === 0) return 0;
  const ranks = preferenceRanks(mx.map((m) => m.preference));
  let weighted = 0;
  let weights = 0;
  mx.forEach((m, i) => {
    const w = 1 / ranks[i]!;
    weighted += w * m.score;
    weights += w;
  });
  return weighted / weights;
}
