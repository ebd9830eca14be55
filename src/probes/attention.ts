import { OP_SYMBOL, type Problem } from '../data/problem.ts';
import type { Probe, ProbeContext } from './probe.ts';
import { diagonalCells } from './problemSets.ts';
import type { TokenRole } from '../contracts/tokenRoles.ts';
import { captureLayouts, type Role } from './layout.ts';

/**
 * Attention patterns on a few held-out problems, read while the model is fed the correct answer (teacher
 * forcing: every row is the attention the model uses to predict the next true token). Row t of a pattern is
 * the query at token t, which predicts token t+1; so the row that writes answer digit k is the token just
 * before it. The summary asks, per layer and head, whether that row attends most to the operand digits of the
 * same significance k (digit-aligned attention, what a reversed-addition model should learn).
 */

const TOP_KEYS = 3;
const DECIMALS = 1000;

export interface AttendedToken {
  index: number;
  token: string;
  role: Role;
  weight: number;
}

export interface AnswerDigitAttention {
  /** Significance of the digit written (0 = units). */
  digit: number;
  /** The query row: the token before the digit. */
  query: number;
  top: AttendedToken[];
  /** Attention on the operand digits of the same significance (a_k and b_k). */
  alignedWeight: number;
}

export interface HeadAttention {
  head: number;
  /** [query][key], rounded to 3 decimals; entries above the diagonal are 0 (causal). */
  pattern: number[][];
  answerDigits: AnswerDigitAttention[];
}

export interface AttentionPrompt {
  problem: string;
  digits: number;
  inTrainingRange: boolean;
  /** The model's own greedy output for this prompt, and whether it was right. */
  output: string;
  correct: boolean;
  tokens: string[];
  roles: Role[];
  promptLength: number;
  layers: { layer: number; heads: HeadAttention[] }[];
}

export interface HeadSummary {
  layer: number;
  head: number;
  /** Share of answer digits (over all prompts) whose most-attended token is an operand digit of the same significance. */
  alignedTopShare: number | null;
  meanAlignedWeight: number | null;
  /** Where the most-attended token is an operand digit: its significance minus k, counted. */
  topOperandOffsets: Record<string, number>;
}

export interface AttentionResult {
  probe: 'attention';
  description: string;
  convention: string;
  prompts: AttentionPrompt[];
  summary: HeadSummary[];
}

/** A few diagonal problems: half the longest trained length, the longest, and two digits beyond it. */
function attentionProblems(context: ProbeContext): { problem: Problem; digits: number; inTrainingRange: boolean }[] {
  const longest = context.experiment.task.trainDigits[1];
  const lengths = [...new Set([Math.ceil(longest / 2), longest, longest + 2])].filter((n) => n <= context.maxDigits);
  return diagonalCells(context)
    .filter((cell) => lengths.includes(cell.digitsA) && cell.problems.length > 0)
    .map((cell) => ({ problem: cell.problems[0], digits: cell.digitsA, inTrainingRange: cell.inTrainingRange }));
}

/** The significance of an operand digit (a or b), null for every other token. */
const operandSignificance = (role: TokenRole | undefined) => (role && (role.kind === 'a' || role.kind === 'b') ? role.significance : null);

export const attentionProbe: Probe<AttentionResult> = {
  name: 'attention',
  description: 'attention patterns per layer and head on a few prompts, and which tokens each answer digit reads',
  problems: (context) => attentionProblems(context).map((p) => p.problem),
  activations: (layers) => Array.from({ length: layers }, (_, i) => `blocks.${i}.attn.pattern`),
  async run(context, { predictions, capture }) {
    if (!capture) throw new Error('the attention probe needs a model to capture activations from');
    const layers = context.experiment.model.layers;
    const names = attentionProbe.activations!(layers);
    const chosen = attentionProblems(context);
    // One forward pass per sequence either way; the capture reads the activations asynchronously.
    const { layouts, captured: capturedAll } = await captureLayouts(
      context.experiment,
      capture,
      chosen.map(({ problem }) => problem),
      names,
    );
    const prompts = chosen.map(({ problem, digits, inTrainingRange }, i): AttentionPrompt => {
      const layout = layouts[i];
      const captured = capturedAll[i];
      return {
        problem: `${problem.a}${OP_SYMBOL[problem.op]}${problem.b}`,
        digits,
        inTrainingRange,
        output: predictions[i].output,
        correct: predictions[i].correct,
        tokens: layout.tokens,
        roles: layout.roles,
        promptLength: layout.promptLength,
        layers: names.map((name, layer) => {
          const { shape, values } = captured.get(name)!;
          const [heads, queries, keys] = shape;
          return {
            layer,
            heads: Array.from({ length: heads }, (_, head): HeadAttention => {
              const row = (q: number) => Array.from(values.subarray((head * queries + q) * keys, (head * queries + q + 1) * keys));
              const answerDigits = layout.answerTokens.map((tokenIndex, digit): AnswerDigitAttention => {
                const weights = row(tokenIndex - 1);
                const top = weights
                  .map((weight, index) => ({
                    index,
                    token: layout.tokens[index],
                    role: layout.roles[index],
                    weight: Math.round(weight * DECIMALS) / DECIMALS,
                  }))
                  .sort((x, y) => y.weight - x.weight || x.index - y.index)
                  .slice(0, TOP_KEYS);
                const alignedWeight = weights.reduce(
                  (sum, w, index) => (operandSignificance(layout.tokenRoles[index]) === digit ? sum + w : sum),
                  0,
                );
                return { digit, query: tokenIndex - 1, top, alignedWeight: Math.round(alignedWeight * DECIMALS) / DECIMALS };
              });
              const pattern = Array.from({ length: queries }, (_, q) => row(q).map((w) => Math.round(w * DECIMALS) / DECIMALS));
              return { head, pattern, answerDigits };
            }),
          };
        }),
      };
    });
    const summary: HeadSummary[] = [];
    for (let layer = 0; layer < layers; layer++) {
      const heads = prompts[0]?.layers[layer].heads.length ?? 0;
      for (let head = 0; head < heads; head++) {
        const digits = prompts.flatMap((p, i) =>
          p.layers[layer].heads[head].answerDigits.map((d) => ({ ...d, topRole: layouts[i].tokenRoles[d.top[0]?.index ?? -1] })),
        );
        const offsets: Record<string, number> = {};
        let aligned = 0;
        for (const d of digits) {
          const k = operandSignificance(d.topRole);
          if (k === null) continue;
          if (k === d.digit) aligned += 1;
          const offset = String(k - d.digit);
          offsets[offset] = (offsets[offset] ?? 0) + 1;
        }
        summary.push({
          layer,
          head,
          alignedTopShare: digits.length ? aligned / digits.length : null,
          meanAlignedWeight: digits.length ? digits.reduce((s, d) => s + d.alignedWeight, 0) / digits.length : null,
          topOperandOffsets: offsets,
        });
      }
    }
    return {
      probe: 'attention',
      description: attentionProbe.description,
      convention:
        'teacher-forced <bos> prompt target; pattern[q][k] = attention of query token q on key token k; answer digit k is written by the query just before its token',
      prompts,
      summary,
    };
  },
  table(result) {
    const pct = (x: number | null) => (x === null ? '   -' : `${Math.round(100 * x)}`.padStart(4));
    const lines = [
      `attention on ${result.prompts.map((p) => `${p.problem}${p.correct ? '' : ' (wrong)'}`).join(', ')}`,
      'layer head  top=a_k/b_k%  weight on a_k,b_k%  most-attended operand digit (significance - k: count)',
    ];
    for (const s of result.summary) {
      const offsets = Object.entries(s.topOperandOffsets)
        .sort(([x], [y]) => Number(x) - Number(y))
        .map(([k, v]) => `${Number(k) > 0 ? '+' : ''}${k}:${v}`)
        .join(' ');
      lines.push(
        `${String(s.layer).padStart(5)} ${String(s.head).padStart(4)}  ${pct(s.alignedTopShare).padStart(12)}  ${pct(s.meanAlignedWeight).padStart(18)}  ${offsets || '-'}`,
      );
    }
    return lines.join('\n');
  },
};
