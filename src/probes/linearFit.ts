/**
 * Linear probes fitted in plain JavaScript (deterministic, the same on every backend): ridge regression for
 * numbers, multinomial logistic regression for classes, both on features standardized with the training rows'
 * mean and deviation. Rows are Float32Array feature vectors.
 */

interface Standardizer {
  mean: Float64Array;
  scale: Float64Array;
}

function standardizer(rows: readonly Float32Array[]): Standardizer {
  const d = rows[0].length;
  const mean = new Float64Array(d);
  const scale = new Float64Array(d);
  for (const row of rows) for (let j = 0; j < d; j++) mean[j] += row[j] / rows.length;
  for (const row of rows) for (let j = 0; j < d; j++) scale[j] += (row[j] - mean[j]) ** 2 / rows.length;
  for (let j = 0; j < d; j++) scale[j] = Math.sqrt(scale[j]) || 1;
  return { mean, scale };
}

const standardize = (rows: readonly Float32Array[], s: Standardizer): Float64Array[] =>
  rows.map((row) => Float64Array.from(row, (x, j) => (x - s.mean[j]) / s.scale[j]));

/** Solves A x = b for symmetric positive definite A (d × d, row-major) by Cholesky. */
function solveSpd(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * d + j];
      for (let k = 0; k < j; k++) sum -= l[i * d + k] * l[j * d + k];
      l[i * d + j] = i === j ? Math.sqrt(Math.max(sum, 1e-12)) : sum / l[j * d + j];
    }
  }
  const y = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let sum = b[i];
    for (let k = 0; k < i; k++) sum -= l[i * d + k] * y[k];
    y[i] = sum / l[i * d + i];
  }
  const x = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let sum = y[i];
    for (let k = i + 1; k < d; k++) sum -= l[k * d + i] * x[k];
    x[i] = sum / l[i * d + i];
  }
  return x;
}

/** Ridge regression (L2 `lambda`) fitted on standardized rows: a function from a row to its predicted target. */
export function ridgeModel(train: { x: Float32Array[]; y: number[] }, lambda = 1): (row: Float32Array) => number {
  const s = standardizer(train.x);
  const x = standardize(train.x, s);
  const d = x[0].length;
  const yMean = train.y.reduce((sum, v) => sum + v, 0) / train.y.length;
  const gram = new Float64Array(d * d);
  const xty = new Float64Array(d);
  x.forEach((row, r) => {
    for (let i = 0; i < d; i++) {
      xty[i] += row[i] * (train.y[r] - yMean);
      for (let j = 0; j <= i; j++) gram[i * d + j] += row[i] * row[j];
    }
  });
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < i; j++) gram[j * d + i] = gram[i * d + j];
    gram[i * d + i] += lambda;
  }
  const w = solveSpd(gram, xty, d);
  return (row) => {
    let predicted = yMean;
    for (let j = 0; j < d; j++) predicted += ((row[j] - s.mean[j]) / s.scale[j]) * w[j];
    return predicted;
  };
}

/**
 * Ridge regression fitted on the training rows, scored on the test rows: R² (1 − SSE / SST; null when the test
 * target is constant, e.g. the carry into the units column) and the root mean squared error in the target's own
 * units. Both, because a high R² can still leave an error of several units: ĉ_k at R² 0.99 is known to a few
 * units, not to the digit its last place needs.
 */
export function ridgeFit(
  train: { x: Float32Array[]; y: number[] },
  test: { x: Float32Array[]; y: number[] },
  lambda = 1,
): { r2: number | null; rmse: number } {
  const predict = ridgeModel(train, lambda);
  const testMean = test.y.reduce((sum, v) => sum + v, 0) / test.y.length;
  let sse = 0;
  let sst = 0;
  test.x.forEach((row, r) => {
    sse += (test.y[r] - predict(row)) ** 2;
    sst += (test.y[r] - testMean) ** 2;
  });
  return { r2: sst === 0 ? null : 1 - sse / sst, rmse: Math.sqrt(sse / test.y.length) };
}

/**
 * Multinomial logistic regression (softmax, L2 `lambda`) by full-batch gradient descent; accuracy of its most
 * likely class on the test rows. Classes are 0 .. classes−1.
 */
export function logisticAccuracy(
  train: { x: Float32Array[]; y: number[] },
  test: { x: Float32Array[]; y: number[] },
  classes: number,
  { iterations = 200, rate = 0.5, lambda = 1e-3 } = {},
): number {
  const s = standardizer(train.x);
  const x = standardize(train.x, s);
  const d = x[0].length;
  const w = new Float64Array(classes * (d + 1));
  const logits = (row: Float64Array) =>
    Array.from({ length: classes }, (_, c) => {
      let z = w[c * (d + 1) + d];
      for (let j = 0; j < d; j++) z += w[c * (d + 1) + j] * row[j];
      return z;
    });
  for (let step = 0; step < iterations; step++) {
    const grad = new Float64Array(w.length);
    x.forEach((row, r) => {
      const z = logits(row);
      const max = Math.max(...z);
      const e = z.map((v) => Math.exp(v - max));
      const total = e.reduce((sum, v) => sum + v, 0);
      for (let c = 0; c < classes; c++) {
        const g = e[c] / total - (train.y[r] === c ? 1 : 0);
        for (let j = 0; j < d; j++) grad[c * (d + 1) + j] += (g * row[j]) / x.length;
        grad[c * (d + 1) + d] += g / x.length;
      }
    });
    for (let i = 0; i < w.length; i++) w[i] -= rate * (grad[i] + lambda * w[i]);
  }
  const predicted = standardize(test.x, s).map((row) => {
    const z = logits(row);
    return z.indexOf(Math.max(...z));
  });
  return predicted.filter((p, r) => p === test.y[r]).length / Math.max(test.y.length, 1);
}
