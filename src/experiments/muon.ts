import * as tf from '@tensorflow/tfjs';
import { AdamW, type AdamWOptions, type Optimizer } from './adamw.ts';

export interface MuonOptions {
  /** Decay of the momentum buffer (Nesterov momentum, as in Jordan et al.'s Muon). */
  momentum: number;
  /** Newton-Schulz iterations that orthogonalize each update. */
  nsSteps: number;
}

/** The weights Muon updates: the blocks' linear maps. Embeddings, heads, norms, biases and PE tables stay with AdamW. */
export const MUON_PARAMETER = /^blocks\.\d+\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_gate|mlp\.c_proj)\.weight$/;

/** The fused query-key-value weight is three maps; each is orthogonalized on its own, as modded-nanoGPT does. */
const piecesOf = (name: string): number => (name.endsWith('.attn.c_attn.weight') ? 3 : 1);

// Keller Jordan's quintic Newton-Schulz coefficients (github.com/KellerJordan/Muon): they push every singular
// value of the normalized matrix into about [0.7, 1.2] in five steps, which is as good as exact for training.
const NS_COEFFICIENTS = [3.4445, -4.775, 2.0315] as const;

/**
 * Newton-Schulz orthogonalization of a stack of matrices [n, rows, cols] with rows <= cols: each comes back with
 * its singular vectors kept and its singular values near 1 (the polar factor U Vᵀ of G = U S Vᵀ, approximately).
 */
export function orthogonalize(stack: tf.Tensor3D, steps: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [a, b, c] = NS_COEFFICIENTS;
    // Scaled to Frobenius norm 1 so that every singular value starts at or below 1, where the iteration converges.
    const norm = tf.sqrt(tf.sum(tf.square(stack), [1, 2], true));
    let x = tf.div(stack, tf.add(norm, 1e-7)) as tf.Tensor3D;
    for (let i = 0; i < steps; i++) {
      const gram = tf.matMul(x, x, false, true);
      const poly = tf.add(tf.mul(gram, b), tf.mul(tf.matMul(gram, gram), c));
      x = tf.add(tf.mul(x, a), tf.matMul(poly, x)) as tf.Tensor3D;
    }
    return x;
  });
}

/**
 * Muon (Jordan et al. 2024, "Muon: An optimizer for hidden layers in neural networks"): Nesterov momentum whose
 * update is replaced by its nearest semi-orthogonal matrix, for the blocks' weight matrices; AdamW for every other
 * parameter. Each orthogonal update is scaled by 0.2·sqrt(max(rows, cols)), Liu et al. 2025's (Moonlight) match
 * of AdamW's update size, so `train.lr` and its schedule serve both. Weight decay is decoupled, as in AdamW.
 * Matrices of one shape are orthogonalized together as one batched matrix product.
 */
export class Muon implements Optimizer {
  readonly adamw: AdamW;
  readonly momenta: Record<string, tf.Variable> = {};
  private readonly matrices: Record<string, tf.Variable> = {};

  constructor(
    params: Record<string, tf.Variable>,
    adamw: AdamWOptions,
    private readonly options: MuonOptions,
  ) {
    const rest: Record<string, tf.Variable> = {};
    for (const [name, param] of Object.entries(params)) {
      // The same rule as the checkpoint layout (optimizerShapes): the name alone decides.
      if (MUON_PARAMETER.test(name)) {
        this.matrices[name] = param;
        this.momenta[name] = tf.tidy(() => tf.variable(tf.zerosLike(param), false));
      } else rest[name] = param;
    }
    this.adamw = new AdamW(rest, adamw);
  }

  /** Steps taken; AdamW's bias correction counts them. */
  get step(): number {
    return this.adamw.step;
  }

  set step(value: number) {
    this.adamw.step = value;
  }

  apply(grads: Record<string, tf.Tensor>, learningRate: number): void {
    this.adamw.apply(grads, learningRate);
    const { momentum, nsSteps } = this.options;
    const decay = 1 - learningRate * this.adamw.options.weightDecay;
    tf.tidy(() => {
      // Each matrix's Nesterov direction, cut into its maps and turned so that rows <= cols, grouped by shape.
      const groups = new Map<string, { name: string; piece: number; transposed: boolean; matrix: tf.Tensor2D }[]>();
      for (const name of Object.keys(this.matrices)) {
        const grad = grads[name];
        if (!grad) continue;
        const buffer = this.momenta[name];
        const next = tf.add(tf.mul(buffer, momentum), grad);
        buffer.assign(next);
        const direction = tf.add(grad, tf.mul(next, momentum)) as tf.Tensor2D;
        const pieces = tf.split(direction, piecesOf(name), 1) as tf.Tensor2D[];
        pieces.forEach((piece, index) => {
          const [rows, cols] = piece.shape;
          const transposed = rows > cols;
          const matrix = transposed ? tf.transpose(piece) : piece;
          const key = matrix.shape.join('x');
          if (!groups.has(key)) groups.set(key, []);
          groups.get(key)!.push({ name, piece: index, transposed, matrix });
        });
      }
      const updates: Record<string, tf.Tensor2D[]> = {};
      for (const members of groups.values()) {
        const orthogonal = tf.unstack(orthogonalize(tf.stack(members.map((m) => m.matrix)) as tf.Tensor3D, nsSteps));
        members.forEach((member, i) => {
          const [rows, cols] = member.matrix.shape;
          const scaled = tf.mul(orthogonal[i], 0.2 * Math.sqrt(Math.max(rows, cols)));
          (updates[member.name] ??= [])[member.piece] = (member.transposed ? tf.transpose(scaled) : scaled) as tf.Tensor2D;
        });
      }
      for (const [name, pieces] of Object.entries(updates)) {
        const param = this.matrices[name];
        const update = pieces.length === 1 ? pieces[0] : tf.concat(pieces, 1);
        param.assign(tf.sub(tf.mul(param, decay), tf.mul(update, learningRate)));
      }
    });
  }

  /** AdamW's moments for its parameters, and a momentum buffer `muon.m.<name>` for each matrix. */
  state(): [string, tf.Variable][] {
    return [...this.adamw.state(), ...Object.entries(this.momenta).map(([name, m]): [string, tf.Variable] => [`muon.m.${name}`, m])];
  }

  dispose(): void {
    this.adamw.dispose();
    for (const v of Object.values(this.momenta)) v.dispose();
  }
}
